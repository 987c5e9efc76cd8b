package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the Slack runtime and of the Web
// API client it, the poster and the notifier share. Make them once per
// process with NewMetrics, then hand them to NewClient (WithMetrics) and
// to the runtime (Config.Metrics). A nil *Metrics records nothing.
//
// Labels hold only bounded values: envelope types, handler keys as
// registered (the slash command, the action_id prefix, the callback id,
// the event type), Web API method names and outcome classes; never user
// or channel ids.
type Metrics struct {
	envelopes   *prometheus.CounterVec   // type
	ack         *prometheus.HistogramVec // type
	connected   prometheus.Gauge
	connections prometheus.Counter
	handlers    *prometheus.HistogramVec // kind, handler, outcome
	apiCalls    *prometheus.CounterVec   // method, outcome
	apiSeconds  *prometheus.HistogramVec // method
	rateLimited *prometheus.CounterVec   // method
}

// NewMetrics returns the runtime's metrics, registered with reg. It fails
// when reg has metrics of the same names already.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csbot_socket_mode_envelopes_total",
			Help: "Socket Mode messages received, by type: slash_commands, interactive, events_api, hello, bad_message.",
		}, []string{"type"}),
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "csbot_socket_mode_ack_seconds",
			Help:    "Time from reading an envelope to acknowledging it, by envelope type (Slack wants it within 3 s).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3},
		}, []string{"type"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "csbot_socket_mode_connected",
			Help: "1 while the Socket Mode link is up, else 0.",
		}),
		connections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "csbot_socket_mode_connections_total",
			Help: "Socket Mode links opened (the first one and every reconnection).",
		}),
		handlers: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "csbot_handler_seconds",
			Help: "Time a handler took, by kind (command, action, view_submission, view_validation, view_closed, " +
				"shortcut, suggestion, event, then), handler key as registered, and outcome (ok, error, panic).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"kind", "handler", "outcome"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csbot_slack_api_calls_total",
			Help: "Slack Web API calls, by method and outcome: ok, rate_limited, error_<class> for Slack's " +
				"{\"ok\":false} answers (auth, not_found, access, invalid, server, other), http_4xx, http_5xx, network, canceled.",
		}, []string{"method", "outcome"}),
		apiSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "csbot_slack_api_call_seconds",
			Help:    "Time of a Slack Web API call, answer read, by method.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csbot_slack_api_rate_limited_total",
			Help: "Slack Web API calls answered with a rate limit (HTTP 429 or \"ratelimited\"), by method.",
		}, []string{"method"}),
	}
	for _, c := range []prometheus.Collector{m.envelopes, m.ack, m.connected, m.connections, m.handlers, m.apiCalls, m.apiSeconds, m.rateLimited} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// envelope counts a Socket Mode message of type typ.
func (m *Metrics) envelope(typ string) {
	if m != nil {
		m.envelopes.WithLabelValues(typ).Inc()
	}
}

// acked records the time an envelope of type typ waited for its ack.
func (m *Metrics) acked(typ string, d time.Duration) {
	if m != nil {
		m.ack.WithLabelValues(typ).Observe(d.Seconds())
	}
}

// link records the Socket Mode link going up or down.
func (m *Metrics) link(up bool) {
	if m == nil {
		return
	}
	if up {
		m.connected.Set(1)
		m.connections.Inc()
		return
	}
	m.connected.Set(0)
}

// The kinds of handlers, for csbot_handler_seconds.
const (
	kindCommand        = "command"
	kindAction         = "action"
	kindViewSubmission = "view_submission"
	kindViewValidation = "view_validation"
	kindViewClosed     = "view_closed"
	kindShortcut       = "shortcut"
	kindSuggestion     = "suggestion"
	kindEvent          = "event"
	kindThen           = "then"
)

// handled records one run of a handler.
func (m *Metrics) handled(kind, key, outcome string, d time.Duration) {
	m.handlers.WithLabelValues(kind, key, outcome).Observe(d.Seconds())
}

// observed returns fn timed into m under kind and key (the handler's
// registered key). A Reply's Then is timed too, as kind "then" under the
// same key. With a nil m it returns fn.
func observed[Req, Out any](m *Metrics, kind, key string, fn func(context.Context, Req) (Out, error)) func(context.Context, Req) (Out, error) {
	if m == nil || fn == nil {
		return fn
	}
	return func(ctx context.Context, req Req) (out Out, err error) {
		start := time.Now()
		outcome := "panic" // unless fn returns
		defer func() { m.handled(kind, key, outcome, time.Since(start)) }()
		out, err = fn(ctx, req)
		outcome = handlerOutcome(err)
		if rep, ok := any(&out).(*Reply); ok && rep.Then != nil {
			rep.Then = observed(m, kindThen, key, rep.Then)
		}
		return out, err
	}
}

// observedView returns h with each of its functions timed into m.
func observedView(m *Metrics, callbackID string, h ViewHandler) ViewHandler {
	if m == nil {
		return h
	}
	h.Validate = observed(m, kindViewValidation, callbackID, h.Validate)
	h.Submit = observed(m, kindViewSubmission, callbackID, h.Submit)
	if closed := h.Closed; closed != nil {
		h.Closed = func(ctx context.Context, req ViewRequest) (err error) {
			start := time.Now()
			outcome := "panic"
			defer func() { m.handled(kindViewClosed, callbackID, outcome, time.Since(start)) }()
			err = closed(ctx, req)
			outcome = handlerOutcome(err)
			return err
		}
	}
	return h
}

func handlerOutcome(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// RoundTripper returns next (http.DefaultTransport when nil) wrapped so
// that every Slack Web API call through it is counted by method and
// outcome and timed (see NewMetrics). A nil m returns next.
func (m *Metrics) RoundTripper(next http.RoundTripper) http.RoundTripper {
	return m.transport(next, "")
}

// transport is RoundTripper; a method that is not empty names every call
// (e.g. "response_url") instead of the URL's last path segment.
func (m *Metrics) transport(next http.RoundTripper, method string) http.RoundTripper {
	if m == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &apiTransport{m: m, next: next, method: method}
}

// apiTransport is the RoundTripper of Metrics.RoundTripper.
type apiTransport struct {
	m      *Metrics
	next   http.RoundTripper
	method string
}

// peekLimit bounds how much of an answer is read to find its "ok" and
// "error" (Slack writes them first); the rest streams on untouched.
const peekLimit = 64 << 10

// RoundTrip makes the call and records it. The answer's body is read up
// to peekLimit to classify it, and handed on whole.
func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	method := t.method
	if method == "" {
		method = apiMethod(req.URL.Path)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	var head []byte
	if err == nil && resp.StatusCode == http.StatusOK && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		var rerr error
		head, rerr = io.ReadAll(io.LimitReader(resp.Body, peekLimit))
		resp.Body = peekedBody{Reader: io.MultiReader(bytes.NewReader(head), errReader{rerr}, resp.Body), Closer: resp.Body}
		if rerr != nil {
			err = rerr // for the outcome only; the caller reads it from the body
		}
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	outcome := apiOutcome(req.Context(), status, head, err)
	t.m.apiCalls.WithLabelValues(method, outcome).Inc()
	t.m.apiSeconds.WithLabelValues(method).Observe(time.Since(start).Seconds())
	if outcome == outcomeRateLimited {
		t.m.rateLimited.WithLabelValues(method).Inc()
	}
	if resp != nil {
		return resp, nil
	}
	return nil, err
}

// peekedBody is an answer's body after its head was read.
type peekedBody struct {
	io.Reader
	io.Closer
}

// errReader returns err once the bytes before it are read, or EOF when
// err is nil.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

// apiMethod returns the Web API method a URL path names ("chat.postMessage"
// in /api/chat.postMessage), or "other" for a path that names none (a file
// upload URL), so that the label stays bounded.
func apiMethod(p string) string {
	m := path.Base(p)
	if len(m) > 64 || !strings.Contains(m, ".") {
		return "other"
	}
	for i, part := range strings.Split(m, ".") {
		if part == "" || (i == 0 && (part[0] < 'a' || part[0] > 'z')) {
			return "other"
		}
		for _, c := range part {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
				return "other"
			}
		}
	}
	return m
}

const outcomeRateLimited = "rate_limited"

// apiOutcome classifies a Web API call by its HTTP status, the head of its
// answer and its transport error.
func apiOutcome(ctx context.Context, status int, head []byte, err error) string {
	switch {
	case err != nil && (ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return "canceled"
	case err != nil:
		return "network"
	case status == http.StatusTooManyRequests:
		return outcomeRateLimited
	case status >= 500:
		return "http_5xx"
	case status >= 400:
		return "http_4xx"
	case status != http.StatusOK:
		return "http_" + strconv.Itoa(status)
	}
	ok, code, found := okAndError(head)
	if !found || ok {
		return "ok" // not a Web API answer (a response_url's "ok", an upload's)
	}
	return errorClass(code)
}

// okAndError reads the top-level "ok" and "error" of a JSON object from
// its head, which may be cut short. found says whether "ok" was there.
func okAndError(head []byte) (ok bool, code string, found bool) {
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false, "", false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			break
		}
		switch key {
		case "ok":
			found = json.Unmarshal(v, &ok) == nil
		case "error":
			_ = json.Unmarshal(v, &code)
		}
		if found && (ok || code != "") {
			break
		}
	}
	return ok, code, found
}

// errorClass groups Slack's error codes into a few classes, the outcome
// label of an {"ok":false} answer.
func errorClass(code string) string {
	switch code {
	case "ratelimited", "rate_limited":
		return outcomeRateLimited
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
		"app_uninstalled", "team_disabled", "not_allowed_token_type", "missing_scope",
		"no_permission", "access_denied", "ekm_access_denied":
		return "error_auth"
	case "channel_not_found", "user_not_found", "users_not_found", "message_not_found",
		"thread_not_found", "file_not_found", "not_found", "view_not_found":
		return "error_not_found"
	case "not_in_channel", "is_archived", "user_not_in_channel", "cant_update_message",
		"restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
		"restricted_action_non_threadable_channel", "method_not_supported_for_channel_type",
		"cannot_dm_bot", "messages_tab_disabled", "is_inactive", "not_allowed":
		return "error_access"
	case "invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long", "no_text",
		"invalid_arguments", "invalid_arg_name", "invalid_array_arg", "invalid_charset",
		"invalid_form_data", "invalid_post_type", "missing_post_type", "invalid_json",
		"json_not_object", "too_many_attachments", "invalid_metadata_format",
		"invalid_metadata_schema", "metadata_too_large", "metadata_must_be_sent_from_app",
		"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id", "trigger_exchanged",
		"hash_conflict", "duplicate_external_id", "view_too_large", "invalid_cursor", "invalid_ts_latest",
		"invalid_ts_oldest", "too_many_users":
		return "error_invalid"
	case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
		return "error_server"
	}
	return "error_other"
}
