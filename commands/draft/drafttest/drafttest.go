// Package drafttest is a fake OpenAI-compatible chat completions server
// for the tests of the EBR draft client. It listens on 127.0.0.1, records
// every request and answers with what the test queued, in the shape the
// OpenAI API uses for answers and errors.
package drafttest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one recorded POST /v1/chat/completions.
type Request struct {
	Model    string
	Messages []Message
	// ResponseFormat is the response_format object as sent, nil without
	// one; ResponseFormatType is its "type" ("json_schema", "json_object").
	ResponseFormat     json.RawMessage
	ResponseFormatType string
	// MaxTokens and MaxCompletionTokens are 0 when absent.
	MaxTokens           int
	MaxCompletionTokens int
	// HasMaxTokens and HasMaxCompletionTokens say whether the keys were
	// present at all.
	HasMaxTokens           bool
	HasMaxCompletionTokens bool
	// Body is the raw request body.
	Body []byte
}

// Message is one chat message of a request.
type Message struct {
	Role    string
	Content string
}

// Reply is what the server answers to one request. The zero Reply is an
// answer of 200 with empty content.
type Reply struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Content is the assistant message's content for a 200.
	Content string
	// ErrMessage, ErrType and ErrParam fill the OpenAI error object of a
	// non-200 answer.
	ErrMessage, ErrType, ErrParam string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Delay holds the answer back; the handler gives up early when the
	// client goes away.
	Delay time.Duration
	// PromptTokens and CompletionTokens go into the usage object.
	PromptTokens, CompletionTokens int
}

// Sections returns a 200 reply whose content is sections as a JSON object.
func Sections(sections map[string]string) Reply {
	b, _ := json.Marshal(sections) // a map of strings always marshals
	return Reply{Content: string(b), PromptTokens: 100, CompletionTokens: 50}
}

// Text returns a 200 reply with content as given: bad JSON, JSON inside
// prose or a code fence, a poem.
func Text(content string) Reply {
	return Reply{Content: content, PromptTokens: 100, CompletionTokens: 50}
}

// RateLimited returns a 429 with the given Retry-After header (none when
// empty).
func RateLimited(retryAfter string) Reply {
	return Reply{Status: http.StatusTooManyRequests, RetryAfter: retryAfter,
		ErrMessage: "Rate limit reached", ErrType: "rate_limit_error"}
}

// ServerError returns a 500.
func ServerError() Reply {
	return Reply{Status: http.StatusInternalServerError,
		ErrMessage: "The server had an error while processing your request", ErrType: "server_error"}
}

// Slow returns r held back by d.
func Slow(d time.Duration, r Reply) Reply {
	r.Delay = d
	return r
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu               sync.Mutex
	queue            []Reply
	fallback         Reply
	rejectJSONSchema bool
	requests         []Request
	calls            int
}

// New starts a server on 127.0.0.1 and closes it when t ends. Without
// queued replies it answers a draft with every section filled.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{fallback: Sections(map[string]string{
		"executive_summary": "A steady period.",
		"outcomes":          "Goals on track.",
		"adoption":          "Usage held.",
		"support":           "Few tickets.",
		"satisfaction":      "Customers are content.",
		"risks_and_asks":    "None.",
		"next":              "Keep going.",
	})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the base URL of the API, ending in /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Enqueue adds replies to be given, one per request, in order.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// SetFallback sets the reply given when the queue is empty.
func (s *Server) SetFallback(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = r
}

// RejectJSONSchema makes the server answer every request whose
// response_format is json_schema with a 400 naming response_format, as
// servers without structured output do.
func (s *Server) RejectJSONSchema(reject bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectJSONSchema = reject
}

// Requests returns a copy of the requests recorded so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns how many chat completion requests came in.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

type wireRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	ResponseFormat      json.RawMessage `json:"response_format"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeError(w, http.StatusNotFound, "", Reply{ErrMessage: "unknown path " + r.URL.Path, ErrType: "invalid_request_error"})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "", Reply{ErrMessage: "read body: " + err.Error(), ErrType: "invalid_request_error"})
		return
	}
	var wr wireRequest
	if err := json.Unmarshal(body, &wr); err != nil {
		writeError(w, http.StatusBadRequest, "", Reply{ErrMessage: "bad JSON: " + err.Error(), ErrType: "invalid_request_error"})
		return
	}
	rec := Request{Model: wr.Model, Body: body}
	for _, m := range wr.Messages {
		var text string
		if err := json.Unmarshal(m.Content, &text); err != nil {
			text = string(m.Content) // multi-part content, kept raw
		}
		rec.Messages = append(rec.Messages, Message{Role: m.Role, Content: text})
	}
	if len(wr.ResponseFormat) > 0 && string(wr.ResponseFormat) != "null" {
		rec.ResponseFormat = wr.ResponseFormat
		var rf struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(wr.ResponseFormat, &rf) // a malformed format is recorded raw with no type
		rec.ResponseFormatType = rf.Type
	}
	if wr.MaxTokens != nil {
		rec.MaxTokens, rec.HasMaxTokens = *wr.MaxTokens, true
	}
	if wr.MaxCompletionTokens != nil {
		rec.MaxCompletionTokens, rec.HasMaxCompletionTokens = *wr.MaxCompletionTokens, true
	}

	s.mu.Lock()
	s.calls++
	s.requests = append(s.requests, rec)
	var reply Reply
	switch {
	case s.rejectJSONSchema && rec.ResponseFormatType == "json_schema":
		reply = Reply{Status: http.StatusBadRequest, ErrType: "invalid_request_error", ErrParam: "response_format",
			ErrMessage: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model."}
	case len(s.queue) > 0:
		reply = s.queue[0]
		s.queue = s.queue[1:]
	default:
		reply = s.fallback
	}
	s.mu.Unlock()

	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if reply.RetryAfter != "" {
		w.Header().Set("Retry-After", reply.RetryAfter)
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		writeError(w, reply.Status, reply.ErrParam, reply)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      "chatcmpl-fake",
		"object":  "chat.completion",
		"created": 1700000000,
		"model":   wr.Model,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": reply.Content},
			"finish_reason": "stop",
		}},
		"usage": map[string]any{
			"prompt_tokens":     reply.PromptTokens,
			"completion_tokens": reply.CompletionTokens,
			"total_tokens":      reply.PromptTokens + reply.CompletionTokens,
		},
	})
}

func writeError(w http.ResponseWriter, status int, param string, r Reply) {
	e := map[string]any{"message": r.ErrMessage, "type": r.ErrType, "code": nil}
	if param != "" {
		e["param"] = param
	} else {
		e["param"] = nil
	}
	if r.ErrMessage == "" {
		e["message"] = strings.ToLower(http.StatusText(status))
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do then
}
