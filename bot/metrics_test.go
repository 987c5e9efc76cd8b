package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/csbot/csbot/bot/slacktest"
)

// newTestMetrics returns metrics on a registry of their own.
func newTestMetrics(t testing.TB) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("NewMetrics: %v", err)
	}
	return m, reg
}

// sample returns the value of the series of name with exactly labels (a
// counter's or gauge's value, a histogram's sample count), and whether it
// exists.
func sample(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !sameLabels(m.GetLabel(), labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func sameLabels(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
			return false
		}
	}
	return true
}

// series lists the label sets of name, for failure messages.
func series(t testing.TB, reg prometheus.Gatherer, name string) []string {
	t.Helper()
	mfs, _ := reg.Gather()
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			out = append(out, strings.Join(ls, ","))
		}
	}
	sort.Strings(out)
	return out
}

func TestAPIMethod(t *testing.T) {
	for path, want := range map[string]string{
		"/api/chat.postMessage":                 "chat.postMessage",
		"/api/apps.connections.open":            "apps.connections.open",
		"/api/files.getUploadURLExternal":       "files.getUploadURLExternal",
		"/api/admin.conversations.ekm.listInfo": "admin.conversations.ekm.listInfo",
		"/upload/v1/CwABAAAAXwoAAZnKg3":         "other", // a file upload URL
		"/commands/T0001/1234/abcdef":           "other", // a response_url
		"/api/":                                 "other",
		"/api/chat..postMessage":                "other",
		"/api/Chat.postMessage":                 "other",
		"/api/chat.post-message":                "other",
		"/api/" + strings.Repeat("a.", 40):      "other",
	} {
		if got := apiMethod(path); got != want {
			t.Errorf("apiMethod(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestRoundTripperClassifies runs calls through the RoundTripper to a
// server answering as Slack does, and checks how each is counted, and
// that the caller still reads the whole answer.
func TestRoundTripperClassifies(t *testing.T) {
	t.Parallel()
	long := `{"ok":true,"messages":[` + strings.Repeat(`{"text":"filler filler filler"},`, 4000) + `{}]}`
	for _, tt := range []struct {
		name    string
		status  int
		ctype   string
		body    string
		cancel  bool // the caller gives up before the answer
		drop    bool // the server hangs up without answering
		want    string
		limited bool
	}{
		{name: "ok", status: 200, body: `{"ok":true,"channel":"C1","ts":"1.2"}`, want: "ok"},
		{name: "ok after other keys", status: 200, body: `{"channel":"C1","message":{"text":"{\"ok\":false}"},"ok":true}`, want: "ok"},
		{name: "ok in a long answer", status: 200, body: long, want: "ok"},
		{name: "not in channel", status: 200, body: `{"ok":false,"error":"not_in_channel"}`, want: "error_access"},
		{name: "error before ok", status: 200, body: `{"error":"channel_not_found","ok":false}`, want: "error_not_found"},
		{name: "token revoked", status: 200, body: `{"ok":false,"error":"token_revoked"}`, want: "error_auth"},
		{name: "invalid blocks", status: 200, body: `{"ok":false,"error":"invalid_blocks","response_metadata":{"messages":["x"]}}`, want: "error_invalid"},
		{name: "internal error", status: 200, body: `{"ok":false,"error":"internal_error"}`, want: "error_server"},
		{name: "unknown code", status: 200, body: `{"ok":false,"error":"something_new"}`, want: "error_other"},
		{name: "ratelimited in the body", status: 200, body: `{"ok":false,"error":"ratelimited"}`, want: "rate_limited", limited: true},
		{name: "429", status: 429, body: `{"ok":false,"error":"ratelimited"}`, want: "rate_limited", limited: true},
		{name: "503", status: 503, ctype: "text/html", body: `<html>down</html>`, want: "http_5xx"},
		{name: "500 json", status: 500, body: `{"ok":false,"error":"fatal_error"}`, want: "http_5xx"},
		{name: "404", status: 404, ctype: "text/plain", body: `not found`, want: "http_4xx"},
		{name: "redirect", status: 302, ctype: "text/plain", body: ``, want: "http_302"},
		{name: "plain ok (a response_url)", status: 200, ctype: "text/plain", body: `ok`, want: "ok"},
		{name: "json that is not Slack's", status: 200, body: `[1,2,3]`, want: "ok"},
		{name: "truncated json", status: 200, body: `{"channel":"C1","ok":fa`, want: "ok"},
		{name: "network", drop: true, want: "network"},
		{name: "canceled", cancel: true, want: "canceled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			block := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case tt.drop:
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				case tt.cancel:
					<-block
					return
				}
				ct := tt.ctype
				if ct == "" {
					ct = "application/json; charset=utf-8"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			defer close(block)
			m, reg := newTestMetrics(t)
			hc := &http.Client{
				Transport:     m.RoundTripper(nil),
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/chat.postMessage", strings.NewReader("token=xoxb-secret"))
			resp, err := hc.Do(req)
			if err == nil {
				got, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr != nil || string(got) != tt.body {
					t.Errorf("caller read %d bytes (%v), want the whole answer of %d", len(got), rerr, len(tt.body))
				}
			} else if !tt.drop && !tt.cancel {
				t.Fatalf("call: %v", err)
			}
			calls := map[string]string{"method": "chat.postMessage", "outcome": tt.want}
			if n, _ := sample(t, reg, "csbot_slack_api_calls_total", calls); n != 1 {
				t.Errorf("csbot_slack_api_calls_total%v = %v; series: %v", calls, n, series(t, reg, "csbot_slack_api_calls_total"))
			}
			if n, _ := sample(t, reg, "csbot_slack_api_call_seconds", map[string]string{"method": "chat.postMessage"}); n != 1 {
				t.Errorf("csbot_slack_api_call_seconds count = %v, want 1", n)
			}
			limited, _ := sample(t, reg, "csbot_slack_api_rate_limited_total", map[string]string{"method": "chat.postMessage"})
			if want := map[bool]float64{true: 1}[tt.limited]; limited != want {
				t.Errorf("csbot_slack_api_rate_limited_total = %v, want %v", limited, want)
			}
		})
	}
}

// TestRoundTripperBodyReadError: an answer cut short while its head is
// read is counted as a network failure, and the caller still gets the
// error from the body.
func TestRoundTripperBodyReadError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		io.WriteString(w, `{"ok":true,`)
	}))
	defer srv.Close()
	m, reg := newTestMetrics(t)
	hc := &http.Client{Transport: m.RoundTripper(nil)}
	resp, err := hc.Get(srv.URL + "/api/users.info")
	if err != nil {
		t.Fatal(err)
	}
	_, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(rerr, io.ErrUnexpectedEOF) {
		t.Errorf("caller's read error = %v, want unexpected EOF", rerr)
	}
	if n, _ := sample(t, reg, "csbot_slack_api_calls_total", map[string]string{"method": "users.info", "outcome": "network"}); n != 1 {
		t.Errorf("series: %v, want one network failure of users.info", series(t, reg, "csbot_slack_api_calls_total"))
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	tr := http.DefaultTransport
	if got := m.RoundTripper(tr); got != tr {
		t.Errorf("nil Metrics' RoundTripper wrapped the transport")
	}
	fn := CommandFunc(func(context.Context, CommandRequest) (Reply, error) { return Reply{}, nil })
	if got := observed(m, kindCommand, "/x", fn); got == nil {
		t.Error("observed with nil Metrics lost the handler")
	}
	m.envelope("hello")
	m.acked("slash_commands", time.Second)
	m.link(true)
}

// TestMetricsEndToEnd runs the runtime with metrics against the fake
// Slack: two /csbot pings, the second meeting a 429 on users.info, a
// failing handler, and a dropped link; then checks the series.
func TestMetricsEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	m, reg := newTestMetrics(t)
	rt := h.startWithMetrics(ctx, t, m, func(rt *Runtime) {
		rt.HandleCommand("/health", func(context.Context, CommandRequest) (Reply, error) {
			return Reply{}, errors.New("broken on purpose")
		})
	})
	if up, _ := sample(t, reg, "csbot_socket_mode_connected", nil); up != 1 {
		t.Errorf("csbot_socket_mode_connected = %v after the link came up, want 1", up)
	}

	env := h.command(ctx, t, "/csbot", "ping", csm, acme)
	h.response(ctx, t, env)
	h.waitDone(ctx, t, 1)

	// Slack rate-limits the user check: the user gets an apology, the
	// handler does not run. Asked again, it runs and fails.
	h.srv.FailNext("users.info", 1, slacktest.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	for range 2 {
		env = h.command(ctx, t, "/health", "acme", member, acme)
		h.response(ctx, t, env)
		h.waitDone(ctx, t, 1)
	}

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"csbot_socket_mode_envelopes_total", map[string]string{"type": "slash_commands"}, 3},
		{"csbot_socket_mode_ack_seconds", map[string]string{"type": "slash_commands"}, 3},
		{"csbot_socket_mode_connections_total", nil, 1},
		{"csbot_handler_seconds", map[string]string{"kind": "command", "handler": "/csbot", "outcome": "ok"}, 1},
		{"csbot_handler_seconds", map[string]string{"kind": "command", "handler": "/health", "outcome": "error"}, 1},
		{"csbot_slack_api_calls_total", map[string]string{"method": "auth.test", "outcome": "ok"}, 1},
		{"csbot_slack_api_calls_total", map[string]string{"method": "users.info", "outcome": "ok"}, 2},
		{"csbot_slack_api_calls_total", map[string]string{"method": "users.info", "outcome": "rate_limited"}, 1},
		{"csbot_slack_api_rate_limited_total", map[string]string{"method": "users.info"}, 1},
		{"csbot_slack_api_calls_total", map[string]string{"method": "response_url", "outcome": "ok"}, 3},
	} {
		if got, _ := sample(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v; series: %v", c.name, c.labels, got, c.want, series(t, reg, c.name))
		}
	}
	if n, _ := sample(t, reg, "csbot_socket_mode_envelopes_total", map[string]string{"type": "hello"}); n < 1 {
		t.Errorf("no hello counted; series: %v", series(t, reg, "csbot_socket_mode_envelopes_total"))
	}

	// The link drops: the gauge goes to 0 while it is reopened, and the
	// new link counts.
	h.srv.FailNext("apps.connections.open", -1, slacktest.Fault{Status: http.StatusServiceUnavailable})
	if err := h.srv.DropConnection(); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the link to be seen down", func() bool {
		up, _ := rt.Connected()
		v, _ := sample(t, reg, "csbot_socket_mode_connected", nil)
		return !up && v == 0
	})
	h.srv.ClearFaults("apps.connections.open")
	waitFor(ctx, t, "the link to be up again", func() bool {
		up, _ := rt.Connected()
		return up
	})
	if n, _ := sample(t, reg, "csbot_socket_mode_connections_total", nil); n != 2 {
		t.Errorf("csbot_socket_mode_connections_total = %v after a reconnection, want 2", n)
	}
}

// startWithMetrics runs a runtime with m, on a Web API client made
// WithMetrics(m) as csbot makes it, until the test ends; it returns once
// the Socket Mode link is up.
func (h *harness) startWithMetrics(ctx context.Context, t testing.TB, m *Metrics, setup func(*Runtime)) *Runtime {
	t.Helper()
	api := NewClient(h.srv.BotToken(), h.srv.AppToken(), h.srv.URL(), WithMetrics(m))
	rt, err := New(api, Config{
		BotToken: h.srv.BotToken(), AppToken: h.srv.AppToken(),
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sender: directSender{api: api}, Deliveries: h.store, Users: h.store,
		Metrics: m, ShutdownTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rt.hooks.done = func(in *inbound) { h.dones <- in }
	if setup != nil {
		setup(rt)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Run did not return within 15 s of its context ending")
		}
	})
	waitFor(ctx, t, "the Socket Mode link", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run: %v", err)
		default:
		}
		up, _ := rt.Connected()
		return up
	})
	return rt
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// TestRequestIDInLogs: every line the runtime logs about an envelope, and
// what its handler logs with the context it was given, carries the
// envelope id as request_id.
func TestRequestIDInLogs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	handlerLog := slog.New(NewContextHandler(slog.NewJSONHandler(h.logs, nil)))
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/health", func(ctx context.Context, req CommandRequest) (Reply, error) {
			handlerLog.InfoContext(ctx, "handler at work")
			return Reply{}, errors.New("broken on purpose")
		})
	})
	env := h.command(ctx, t, "/health", "acme", csm, acme)
	h.response(ctx, t, env)
	h.waitDone(ctx, t, 1)

	seen := map[string]string{}
	for line := range strings.SplitSeq(h.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		msg, _ := rec["msg"].(string)
		if msg == "handler at work" || msg == "handler failed" {
			seen[msg], _ = rec[RequestIDAttr].(string)
		}
	}
	for _, msg := range []string{"handler at work", "handler failed"} {
		if seen[msg] != env.ID {
			t.Errorf("log line %q has request_id %q, want the envelope id %q\nlogs:\n%s", msg, seen[msg], env.ID, h.logs.String())
		}
	}
}

func TestContextHandler(t *testing.T) {
	var buf logBuffer
	log := slog.New(NewContextHandler(slog.NewJSONHandler(&buf, nil)))
	ctx := WithRequestID(context.Background(), "E1")
	log.InfoContext(ctx, "from ctx")
	log.Info("no ctx")
	log.With(RequestIDAttr, "E2").InfoContext(ctx, "own id")
	log.InfoContext(ctx, "in record", RequestIDAttr, "E3")
	log.WithGroup("g").InfoContext(ctx, "grouped")

	want := []struct{ msg, has string }{
		{"from ctx", `"request_id":"E1"`},
		{"no ctx", ""},
		{"own id", `"request_id":"E2"`},
		{"in record", `"request_id":"E3"`},
		{"grouped", `"g":{"request_id":"E1"}`},
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		l := lines[i]
		if !strings.Contains(l, `"msg":"`+w.msg+`"`) {
			t.Errorf("line %d = %s, want %q", i, l, w.msg)
		}
		if n := strings.Count(l, "request_id"); (w.has == "" && n != 0) || (w.has != "" && (n != 1 || !strings.Contains(l, w.has))) {
			t.Errorf("line %q: want exactly %s", l, cmp.Or(w.has, "no request_id"))
		}
	}
	if id := newRequestID(""); !strings.HasPrefix(id, "gen-") || id == newRequestID("") {
		t.Errorf("generated request ids %q: want gen- and a new one each time", id)
	}
}
