// Package draft writes EBR drafts with a chat model reached over the
// OpenAI chat completions API (OpenAI itself or any compatible server).
//
// The model sees one account's fact sheet (csbot.EBRFacts) and nothing
// else, and answers the sections of the draft as a JSON object. The caller
// checks the figures of the draft against the sheet and falls back to the
// template draft when Draft fails.
package draft

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/csbot/csbot"
)

// Defaults for the zero values of Config.
const (
	DefaultModel               = "gpt-4o-mini"
	DefaultTimeout             = 60 * time.Second
	DefaultMaxAttempts         = 3
	DefaultMaxCompletionTokens = 2000
)

// maxRetryAfter caps how long a Retry-After header may make Draft wait.
const maxRetryAfter = 20 * time.Second

// ErrBadAnswer is returned (wrapped) when the model's answer holds no
// draft: no JSON object, or none of the section keys.
var ErrBadAnswer = errors.New("model answer holds no draft")

// Config configures a Client. Only APIKey or BaseURL is required.
type Config struct {
	// APIKey is sent as the bearer token; servers without keys accept
	// any.
	APIKey string
	// BaseURL is the API's base URL ending in /v1; empty means OpenAI's.
	BaseURL string
	// Model defaults to DefaultModel.
	Model string
	// Timeout bounds a whole Draft call, retries included; default 60s.
	Timeout time.Duration
	// MaxAttempts is how many times a call is tried on 429 and 5xx;
	// default 3.
	MaxAttempts int
	// MaxCompletionTokens caps the answer's length; default 2000.
	MaxCompletionTokens int
	// Logger defaults to one that discards.
	Logger *slog.Logger
	// Observe, when set, is called once at the end of every Draft with
	// what the call cost (as far as it got) and its error, e.g. to count
	// calls, tokens and failures. It must not block.
	Observe func(Usage, error)
}

// Usage is what one Draft call cost and which prompt it sent.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	// Latency is the time the whole call took, retries included.
	Latency time.Duration
	// Model is the model that answered, as the server names it.
	Model string
	// PromptHash is the hex SHA-256 of the prompt (system message, a
	// blank line, user message), to tell drafts of the same sheet apart
	// from drafts of changed data without storing the prompt.
	PromptHash string
}

// Client drafts EBRs with a chat model. It is safe for concurrent use.
type Client struct {
	api         *openai.Client
	model       string
	timeout     time.Duration
	maxAttempts int
	maxTokens   int
	log         *slog.Logger
	observe     func(Usage, error)

	// noSchema is set once the server refused a json_schema response
	// format; later calls ask for json_object straight away.
	noSchema atomic.Bool

	// backoff is the wait before the first retry of a 5xx; it doubles
	// with each further attempt.
	backoff time.Duration
	// sleep waits for d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a client for cfg, and false when neither cfg.APIKey nor
// cfg.BaseURL is set: no model is configured and the caller uses the
// template draft.
func New(cfg Config) (*Client, bool) {
	if cfg.APIKey == "" && cfg.BaseURL == "" {
		return nil, false
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	oc.HTTPClient = retryAfterDoer{hc: &http.Client{}}
	c := &Client{
		api:         openai.NewClientWithConfig(oc),
		model:       orDefault(cfg.Model, DefaultModel),
		timeout:     orDefault(cfg.Timeout, DefaultTimeout),
		maxAttempts: orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		maxTokens:   orDefault(cfg.MaxCompletionTokens, DefaultMaxCompletionTokens),
		log:         cfg.Logger,
		observe:     cfg.Observe,
		backoff:     500 * time.Millisecond,
		sleep:       sleepCtx,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "draft")
	return c, true
}

// Model returns the model the client asks for.
func (c *Client) Model() string { return c.model }

// Draft asks the model for the sections of an EBR of the account f
// describes. The returned draft has Source "llm", the model and every
// section of csbot.EBRSections (empty where the model wrote none);
// Flagged is left to the caller. Usage is filled as far as the call got,
// also on error.
//
// Draft retries 429s (after Retry-After, capped) and 5xx answers up to
// MaxAttempts, within Timeout. Errors wrap ErrBadAnswer when the answer
// holds no draft, context.DeadlineExceeded when time ran out, and the
// client's *openai.APIError or *openai.RequestError when the server
// refused. Config.Observe, if set, sees every call's Usage and error.
func (c *Client) Draft(ctx context.Context, f csbot.EBRFacts) (csbot.EBRDraft, Usage, error) {
	d, u, err := c.draft(ctx, f)
	if c.observe != nil {
		c.observe(u, err)
	}
	return d, u, err
}

// draft is Draft without the Observe hook.
func (c *Client) draft(ctx context.Context, f csbot.EBRFacts) (csbot.EBRDraft, Usage, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	system := systemPrompt()
	user, err := factSheet(f)
	if err != nil {
		return csbot.EBRDraft{}, Usage{Model: c.model}, fmt.Errorf("draft ebr of %q: %w", f.Account.Name, err)
	}
	u := Usage{Model: c.model, PromptHash: promptHash(system, user)}
	req := openai.ChatCompletionRequest{
		Model: c.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
	}
	// go-openai refuses MaxTokens for reasoning models, and many
	// compatible servers read only max_tokens.
	if isReasoningModel(c.model) {
		req.MaxCompletionTokens = c.maxTokens
	} else {
		req.MaxTokens = c.maxTokens
	}

	resp, err := c.complete(ctx, req)
	u.Latency = time.Since(start)
	if err != nil {
		return csbot.EBRDraft{}, u, fmt.Errorf("draft ebr of %q: %w", f.Account.Name, err)
	}
	u.PromptTokens = resp.Usage.PromptTokens
	u.CompletionTokens = resp.Usage.CompletionTokens
	if resp.Model != "" {
		u.Model = resp.Model
	}
	if len(resp.Choices) == 0 {
		return csbot.EBRDraft{}, u, fmt.Errorf("draft ebr of %q: answer has no choices: %w", f.Account.Name, ErrBadAnswer)
	}
	sections, err := parseSections(resp.Choices[0].Message.Content)
	if err != nil {
		return csbot.EBRDraft{}, u, fmt.Errorf("draft ebr of %q: %w", f.Account.Name, err)
	}
	c.log.InfoContext(ctx, "ebr drafted", "account", f.Account.ExternalID, "model", u.Model,
		"prompt_tokens", u.PromptTokens, "completion_tokens", u.CompletionTokens, "latency", u.Latency)
	return csbot.EBRDraft{Sections: sections, Source: "llm", Model: u.Model}, u, nil
}

// complete sends req asking for structured output, and once more asking
// for a plain JSON object when the server refuses json_schema.
func (c *Client) complete(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	if !c.noSchema.Load() {
		req.ResponseFormat = schemaFormat()
		resp, err := c.send(ctx, req)
		if err == nil || !refusesResponseFormat(err) {
			return resp, err
		}
		c.noSchema.Store(true)
		c.log.InfoContext(ctx, "server refused json_schema; asking for json_object", "model", c.model, "err", err)
	}
	req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	return c.send(ctx, req)
}

// send makes the call, retrying 429s and 5xx up to maxAttempts.
func (c *Client) send(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	for attempt := 1; ; attempt++ {
		var retryAfter atomic.Int64
		resp, err := c.api.CreateChatCompletion(context.WithValue(ctx, retryAfterKey{}, &retryAfter), req)
		if err == nil {
			return resp, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			if errors.Is(err, ctxErr) {
				return resp, fmt.Errorf("chat completion: %w", err)
			}
			return resp, fmt.Errorf("chat completion (%v): %w", err, ctxErr)
		}
		if !retryable(err) || attempt >= c.maxAttempts {
			return resp, fmt.Errorf("chat completion, attempt %d: %w", attempt, err)
		}
		wait := c.backoff << (attempt - 1)
		wait += rand.N(wait/4 + 1)
		if ra := time.Duration(retryAfter.Load()); ra > 0 {
			wait = min(ra, maxRetryAfter)
		}
		c.log.WarnContext(ctx, "chat completion failed; retrying", "attempt", attempt, "wait", wait, "err", err)
		if err := c.sleep(ctx, wait); err != nil {
			return resp, fmt.Errorf("wait to retry chat completion: %w", err)
		}
	}
}

// schemaFormat asks for an object with exactly the section keys, each a
// string.
func schemaFormat() *openai.ChatCompletionResponseFormat {
	props := make([]string, 0, len(csbot.EBRSections()))
	for _, s := range csbot.EBRSections() {
		props = append(props, strconv.Quote(s)+`:{"type":"string"}`)
	}
	required := make([]string, 0, len(csbot.EBRSections()))
	for _, s := range csbot.EBRSections() {
		required = append(required, strconv.Quote(s))
	}
	schema := `{"type":"object","properties":{` + strings.Join(props, ",") +
		`},"required":[` + strings.Join(required, ",") + `],"additionalProperties":false}`
	return &openai.ChatCompletionResponseFormat{
		Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
		JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
			Name:   "ebr_draft",
			Schema: rawJSON(schema),
			Strict: true,
		},
	}
}

// rawJSON is JSON text that marshals as itself.
type rawJSON string

// MarshalJSON returns r.
func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// isReasoningModel reports whether go-openai treats model as a reasoning
// model (o1, o3, o4, gpt-5 and later names), which takes
// max_completion_tokens and refuses max_tokens. A provider prefix
// ("openai/o3") is ignored.
func isReasoningModel(model string) bool {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// statusOf returns the HTTP status of an API error, or 0.
func statusOf(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// retryable reports whether err is worth another attempt: a 429, a 5xx
// or a failed connection.
func retryable(err error) bool {
	switch code := statusOf(err); {
	case code == http.StatusTooManyRequests || code >= 500:
		return true
	case code != 0:
		return false
	}
	var urlErr *url.Error
	return errors.As(err, &urlErr)
}

// refusesResponseFormat reports whether err is a 400 about the response
// format.
func refusesResponseFormat(err error) bool {
	if statusOf(err) != http.StatusBadRequest {
		return false
	}
	var text string
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		text = apiErr.Message
		if apiErr.Param != nil {
			text += " " + *apiErr.Param
		}
	case errors.As(err, &reqErr):
		text = string(reqErr.Body)
	}
	text = strings.ToLower(text)
	return strings.Contains(text, "response_format") || strings.Contains(text, "json_schema")
}

// retryAfterKey carries, in a request's context, where retryAfterDoer
// stores the Retry-After of a 429: go-openai's errors do not keep headers.
type retryAfterKey struct{}

// retryAfterDoer is the HTTP client go-openai calls through.
type retryAfterDoer struct{ hc *http.Client }

// Do sends req and, for a 429, records its Retry-After.
func (d retryAfterDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	if slot, ok := req.Context().Value(retryAfterKey{}).(*atomic.Int64); ok {
		slot.Store(int64(parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())))
	}
	return resp, nil
}

// parseRetryAfter reads a Retry-After value, seconds or an HTTP date; 0
// when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleepCtx waits for d or until ctx is done, returning ctx's error then.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func promptHash(system, user string) string {
	sum := sha256.Sum256([]byte(system + "\n\n" + user))
	return hex.EncodeToString(sum[:])
}

// orDefault returns v, or def when v is the zero value (or negative).
func orDefault[T int | time.Duration | string](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	if n, ok := any(v).(int); ok && n < 0 {
		return def
	}
	if n, ok := any(v).(time.Duration); ok && n < 0 {
		return def
	}
	return v
}
