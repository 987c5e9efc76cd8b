package slacktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiRequest is a parsed Web API request.
type apiRequest struct {
	method string
	token  string
	form   url.Values                 // form body and query parameters
	body   json.RawMessage            // JSON body
	obj    map[string]json.RawMessage // top-level fields of the JSON body
}

// str returns a parameter as a string: form value or JSON string field.
func (r *apiRequest) str(name string) string {
	if v, ok := r.form[name]; ok && len(v) > 0 {
		return v[0]
	}
	raw, ok := r.obj[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b)
	}
	return ""
}

// has reports whether the parameter was sent at all.
func (r *apiRequest) has(name string) bool {
	if _, ok := r.form[name]; ok {
		return true
	}
	_, ok := r.obj[name]
	return ok
}

// raw returns a parameter holding JSON: the JSON body's field, or the form
// value (a JSON document encoded as a string). JSON strings inside a JSON
// body are unwrapped, as Slack accepts both.
func (r *apiRequest) raw(name string) (json.RawMessage, bool) {
	if v, ok := r.form[name]; ok && len(v) > 0 {
		if strings.TrimSpace(v[0]) == "" {
			return nil, false
		}
		return json.RawMessage(v[0]), true
	}
	raw, ok := r.obj[name]
	if !ok || string(raw) == "null" {
		return nil, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.TrimSpace(s) == "" {
			return nil, false
		}
		return json.RawMessage(s), true
	}
	return raw, true
}

// boolean reads a boolean parameter ("true", "1").
func (r *apiRequest) boolean(name string) bool {
	v := r.str(name)
	return v == "true" || v == "1"
}

// answer is a method's result: fields of an ok answer, or an error code with
// optional response_metadata messages.
type answer struct {
	fields   map[string]any
	err      string
	messages []string
	warning  string
	header   http.Header // extra response headers (auth.test's x-oauth-scopes)
}

func success(fields map[string]any) answer { return answer{fields: fields} }

func fail(code string, messages ...string) answer { return answer{err: code, messages: messages} }

func (a answer) body() map[string]any {
	out := map[string]any{}
	if a.err != "" {
		out["ok"] = false
		out["error"] = a.err
		if len(a.messages) > 0 {
			msgs := make([]string, len(a.messages))
			for i, m := range a.messages {
				msgs[i] = "[ERROR] " + m
			}
			out["response_metadata"] = map[string]any{"messages": msgs}
		}
		return out
	}
	for k, v := range a.fields {
		out[k] = v
	}
	out["ok"] = true
	if a.warning != "" {
		out["warning"] = a.warning
		out["response_metadata"] = map[string]any{"warnings": []string{a.warning}}
	}
	return out
}

// parseAPIRequest reads the token and parameters of a Web API request.
func parseAPIRequest(r *http.Request, method string) (*apiRequest, error) {
	req := &apiRequest{method: method, form: url.Values{}}
	for k, v := range r.URL.Query() {
		req.form[k] = v
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return req, fmt.Errorf("read body: %w", err)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json":
		req.body = body
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &req.obj); err != nil {
				return req, fmt.Errorf("decode json body: %w", err)
			}
		}
	case len(body) > 0:
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return req, fmt.Errorf("decode form body: %w", err)
		}
		for k, v := range vals {
			req.form[k] = append(req.form[k], v...)
		}
	}
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		req.token = strings.TrimPrefix(auth, "Bearer ")
	} else {
		req.token = req.str("token")
	}
	return req, nil
}

// authLocked checks a token for a method and returns the error code, or "".
func (s *Server) authLocked(method, token string) string {
	switch {
	case token == "":
		return "not_authed"
	case method == "apps.connections.open":
		switch token {
		case s.cfg.appToken:
			return ""
		case s.cfg.botToken:
			return "not_allowed_token_type"
		}
		return "invalid_auth"
	case token == s.cfg.botToken:
		return s.tokenErr
	case token == s.cfg.appToken:
		return "not_allowed_token_type"
	}
	return "invalid_auth"
}

// serveAPI answers POST (or GET) /api/<method>.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	req, perr := parseAPIRequest(r, method)

	s.mu.Lock()
	fault := s.takeFaultLocked(method)
	s.mu.Unlock()
	if fault != nil && fault.Delay > 0 && !s.pause(r, fault.Delay) {
		abortAnswer()
	}
	// A fault with DelayAfter lets the call take effect first.
	after := fault != nil && fault.DelayAfter > 0
	faulty := fault != nil && (fault.Status != 0 || fault.Error != "")

	status, header, body, errCode := http.StatusOK, http.Header{}, []byte(nil), ""
	s.mu.Lock()
	switch {
	case faulty && !after:
		status, header, body, errCode = faultAnswer(*fault)
	case perr != nil:
		errCode = "invalid_form_data"
		if req.body != nil {
			errCode = "invalid_json"
		}
		body, _ = json.Marshal(fail(errCode).body())
	default:
		a := answer{err: s.authLocked(method, req.token)}
		if a.err == "" {
			a = s.dispatchLocked(req)
		}
		errCode = a.err
		for k, v := range a.header {
			header[k] = v
		}
		b := a.body()
		if a.err == "unknown_method" {
			b["req_method"] = method
		}
		body, _ = json.Marshal(b)
		if faulty && after {
			status, header, body, errCode = faultAnswer(*fault)
		}
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json; charset=utf-8")
	}
	s.calls = append(s.calls, Call{
		Method:   method,
		At:       s.now(),
		Token:    req.token,
		Params:   req.form,
		JSON:     req.body,
		Status:   status,
		Response: body,
		Error:    errCode,
		Fault:    fault,
	})
	s.notifyLocked()
	s.mu.Unlock()

	if after && !s.pause(r, fault.DelayAfter) {
		abortAnswer()
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// pause waits d, or until the request or the server ends; it reports
// whether to go on.
func (s *Server) pause(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// abortAnswer ends the handler without answering: net/http closes the
// connection instead of sending the empty 200 a returning handler gets, so
// the client sees a broken call, not an answer.
func abortAnswer() {
	panic(http.ErrAbortHandler)
}

// faultAnswer renders an injected fault.
func faultAnswer(f Fault) (status int, header http.Header, body []byte, errCode string) {
	header = http.Header{}
	status = f.Status
	if status == 0 {
		status = http.StatusOK
	}
	errCode = f.Error
	switch {
	case status == http.StatusTooManyRequests:
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		header.Set("Retry-After", strconv.FormatInt(secs, 10))
		if errCode == "" {
			errCode = "ratelimited"
		}
	case status >= 500 && errCode == "":
		// Slack's 5xx pages are HTML; slack-go does not parse them.
		header.Set("Content-Type", "text/html; charset=utf-8")
		return status, header, []byte("<html><body><h1>" + http.StatusText(status) + "</h1></body></html>"), ""
	}
	body, _ = json.Marshal(map[string]any{"ok": false, "error": errCode})
	return status, header, body, errCode
}

// dispatchLocked runs a Web API method. s.mu must be held.
func (s *Server) dispatchLocked(r *apiRequest) answer {
	switch r.method {
	case "auth.test":
		return s.authTestLocked()
	case "apps.connections.open":
		return success(map[string]any{"url": s.openConnectionLocked()})
	case "chat.postMessage":
		return s.chatPostMessageLocked(r)
	case "chat.postEphemeral":
		return s.chatPostEphemeralLocked(r)
	case "chat.update":
		return s.chatUpdateLocked(r)
	case "chat.delete":
		return s.chatDeleteLocked(r)
	case "views.open":
		return s.viewsOpenLocked(r, false)
	case "views.push":
		return s.viewsOpenLocked(r, true)
	case "views.update":
		return s.viewsUpdateLocked(r)
	case "views.publish":
		return s.viewsPublishLocked(r)
	case "conversations.info":
		return s.conversationsInfoLocked(r)
	case "conversations.open":
		return s.conversationsOpenLocked(r)
	case "conversations.join":
		return s.conversationsJoinLocked(r)
	case "conversations.history":
		return s.conversationsHistoryLocked(r)
	case "users.info":
		return s.usersInfoLocked(r)
	case "files.getUploadURLExternal":
		return s.filesGetUploadURLExternalLocked(r)
	case "files.completeUploadExternal":
		return s.filesCompleteUploadExternalLocked(r)
	case "conversations.create":
		return s.conversationsCreateLocked(r)
	case "conversations.list":
		return s.conversationsListLocked(r)
	case "conversations.invite":
		return s.conversationsInviteLocked(r)
	case "pins.add":
		return s.pinsAddLocked(r)
	}
	return fail("unknown_method")
}
