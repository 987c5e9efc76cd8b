package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/commands/draft"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
)

// opsLog is what csbot logs while it runs in a test; it is safe for
// concurrent use.
type opsLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *opsLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *opsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// opsBot is csbot running as `csbot` runs it on Slack, against the fake
// Slack and a database of its own.
type opsBot struct {
	srv  *slacktest.Server
	db   string // the database's URL
	logs *opsLog
	// addr is the ops listener's address (CSBOT_HTTP_ADDR=127.0.0.1:0).
	addr string
	stop func() int
}

// startOpsBot imports csv (kind, text pairs) into a fresh database, then
// runs csbot on srv with the ops listener on a free port of 127.0.0.1
// and env set, until the test ends or stop is called. It returns once the
// listener serves.
func startOpsBot(ctx context.Context, t *testing.T, srv *slacktest.Server, env map[string]string, csv ...string) *opsBot {
	t.Helper()
	db := pgtest.NewDatabase(ctx, t)
	for i := 0; i+1 < len(csv); i += 2 {
		code, out, errOut := runCLI(t, db, "import", csv[i], writeFile(t, csv[i]+".csv", csv[i+1]), "--no-score")
		if code != exitOK {
			t.Fatalf("csbot import %s: exit %d\nstdout:\n%s\nstderr:\n%s", csv[i], code, out, errOut)
		}
	}
	t.Setenv("SLACK_BOT_TOKEN", srv.BotToken())
	t.Setenv("SLACK_APP_TOKEN", srv.AppToken())
	t.Setenv("SLACK_API_URL", srv.URL())
	t.Setenv("DATABASE_URL", db)
	t.Setenv("CSBOT_HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("CSBOT_LOG_LEVEL", "info")
	t.Setenv("CSBOT_LOG_FORMAT", "")
	for k, v := range env {
		t.Setenv(k, v)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	b := &opsBot{srv: srv, db: db, logs: &opsLog{}}
	go func() { done <- run(runCtx, nil, io.Discard, b.logs) }()
	var once sync.Once
	code := -1
	b.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Error("csbot did not stop within 20 s of its context ending")
			}
		})
		return code
	}
	t.Cleanup(func() { // before srv.Close, which was registered earlier
		b.stop()
		if t.Failed() {
			t.Logf("csbot logs:\n%s", b.logs.String())
		}
	})
	for b.addr == "" {
		for line := range strings.SplitSeq(b.logs.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving /healthz, /readyz and /metrics" {
				b.addr = rec.Addr
			}
		}
		select {
		case code := <-done:
			t.Fatalf("csbot exited with %d before serving; logs:\n%s", code, b.logs.String())
		case <-ctx.Done():
			t.Fatalf("the ops listener never served: %v", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return b
}

// get fetches path from the ops listener.
func (b *opsBot) get(ctx context.Context, t *testing.T, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// waitReadyz polls /readyz until its status is want, and returns the
// body.
func (b *opsBot) waitReadyz(ctx context.Context, t *testing.T, want int, why string) string {
	t.Helper()
	for {
		code, body := b.get(ctx, t, "/readyz")
		if code == want {
			return body
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: /readyz stayed %d, want %d:\n%s", why, code, want, body)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// psql runs statements on the bot's database behind its back.
func (b *opsBot) psql(ctx context.Context, t *testing.T, sql ...string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, b.db)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range sql {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestReadyz runs csbot with CSBOT_HTTP_ADDR and checks /healthz and
// /readyz: not ready while the Socket Mode link is not up yet, ready once
// it is; not ready, saying why, while the link is down, while the schema
// lacks a migration and while the database refuses connections; ready
// again each time it comes back; and the listener closes with the bot.
func TestReadyz(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv := slacktest.New(t)
	// Hold the token check's apps.connections.open and the link's, so the
	// link is certainly not up while /readyz is first asked.
	// Three seconds each leaves room for a loaded machine between the
	// listener coming up and the first /readyz.
	srv.FailNext("apps.connections.open", 2, slacktest.Fault{Delay: 3 * time.Second})
	b := startOpsBot(ctx, t, srv, nil)

	if code, body := b.get(ctx, t, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	code, body := b.get(ctx, t, "/readyz")
	if linksUp(srv.Snapshot()) > 0 {
		t.Fatal("the link came up despite the held apps.connections.open; the test cannot see /readyz before it")
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "fail slack: socket mode link down") ||
		!strings.Contains(body, "ok database") || !strings.Contains(body, "ok schema: csbot ") {
		t.Errorf("/readyz before the link is up = %d:\n%s\nwant 503, the link down, the database and schema ok", code, body)
	}

	body = b.waitReadyz(ctx, t, http.StatusOK, "once the link is up")
	if linksUp(srv.Snapshot()) == 0 {
		t.Errorf("/readyz said ready before any Socket Mode link was up")
	}
	if !strings.Contains(body, "ok slack: socket mode link up since ") {
		t.Errorf("/readyz when ready:\n%s\nwant the link's line", body)
	}

	// The link drops and cannot be reopened for a while.
	srv.FailNext("apps.connections.open", -1, slacktest.Fault{Status: http.StatusServiceUnavailable})
	if err := srv.DropConnection(); err != nil {
		t.Fatal(err)
	}
	body = b.waitReadyz(ctx, t, http.StatusServiceUnavailable, "with the link down")
	if !strings.Contains(body, "fail slack: socket mode link down") || !strings.Contains(body, "ok database") {
		t.Errorf("/readyz with the link down:\n%s\nwant the link named, the database ok", body)
	}
	srv.ClearFaults("apps.connections.open")
	b.waitReadyz(ctx, t, http.StatusOK, "once the link is back")

	// The schema lacks this build's newest migration.
	b.psql(ctx, t, `UPDATE schema_version SET version = version - 1`)
	body = b.waitReadyz(ctx, t, http.StatusServiceUnavailable, "with a migration missing")
	if !strings.Contains(body, "fail schema: migrations missing") || !strings.Contains(body, "csbot migrate") {
		t.Errorf("/readyz with a migration missing:\n%s\nwant the schema named, and what to do", body)
	}
	b.psql(ctx, t, `UPDATE schema_version SET version = version + 1`)
	b.waitReadyz(ctx, t, http.StatusOK, "once the schema is current")

	// The database goes away: it refuses new connections and drops the
	// bot's. (Told so from the server's maintenance database: a database
	// cannot refuse its own session.)
	cfg, err := pgx.ParseConfig(b.db)
	if err != nil {
		t.Fatal(err)
	}
	dbName := cfg.Database
	ident := pgx.Identifier{dbName}.Sanitize()
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+ident+` WITH ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `ALTER DATABASE `+ident+` WITH ALLOW_CONNECTIONS true`) //nolint:errcheck // on an early failure
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, dbName); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	body = b.waitReadyz(ctx, t, http.StatusServiceUnavailable, "with the database gone")
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("/readyz took %v to see the database gone", took)
	}
	if !strings.Contains(body, "fail database: ") || !strings.Contains(body, "ok slack") {
		t.Errorf("/readyz with the database gone:\n%s\nwant the database named, the link ok", body)
	}
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+ident+` WITH ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	b.waitReadyz(ctx, t, http.StatusOK, "once the database is back")

	// The listener stops with the bot.
	if code := b.stop(); code != exitOK {
		t.Errorf("csbot exit code = %d, want 0", code)
	}
	if resp, err := http.Get("http://" + b.addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("/healthz answered %d after csbot stopped", resp.StatusCode)
	}
}

// linksUp counts the Socket Mode links that said hello.
func linksUp(s slacktest.Snapshot) int {
	n := 0
	for _, c := range s.Connections() {
		if !c.ConnectedAt.IsZero() {
			n++
		}
	}
	return n
}

// scrape fetches /metrics and returns its samples by series
// (`name{label="value",...}` as exposed).
func (b *opsBot) scrape(ctx context.Context, t *testing.T) map[string]float64 {
	t.Helper()
	code, body := b.get(ctx, t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d:\n%s", code, body)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsEndpoint runs csbot with CSBOT_HTTP_ADDR through a short
// script (two pings, the second meeting a 429 on users.info; notifications
// waiting in the queue) and checks what /metrics says.
func TestMetricsEndpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := slacktest.New(t)
	srv.AddUser(slacktest.User{ID: "U0CSM", Name: "cass"})
	srv.AddChannel(slacktest.Channel{ID: "C0ACME", Name: "acct-acme", Member: true})
	// Cass has a time zone on file, so the scheduler's due pass, which
	// asks Slack for missing ones, makes no users.info call of its own to
	// take the 429 meant for the second ping.
	b := startOpsBot(ctx, t, srv, nil,
		"users", "slack_id,role,name,timezone\nU0CSM,csm,Cass Success,America/New_York\n")
	b.waitReadyz(ctx, t, http.StatusOK, "at start")

	ping := func() {
		env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "ping", UserID: "U0CSM", ChannelID: "C0ACME"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.WaitForResponse(ctx, env.ID); err != nil {
			t.Fatalf("no reply to /csbot ping: %v", err)
		}
	}
	ping()
	// The guard's cache would spare the second ping its users.info call.
	srv.AddUser(slacktest.User{ID: "U0OTHER", Name: "olga"})
	srv.FailNext("users.info", 1, slacktest.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "ping", UserID: "U0OTHER", ChannelID: "C0ACME"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitForResponse(ctx, env.ID); err != nil {
		t.Fatalf("no apology for the rate-limited ping: %v", err)
	}
	// Two notifications due (one for 10 minutes), one for later; no
	// delivery job, so they stay put.
	b.psql(ctx, t, `
INSERT INTO notifications (dedupe_key, kind, target_user, payload, next_attempt_at)
VALUES ('m1', 'digest', 'U0CSM', '{}', now() - interval '10 minutes'),
       ('m2', 'digest', 'U0CSM', '{}', now() - interval '1 minute'),
       ('m3', 'digest', 'U0CSM', '{}', now() + interval '1 hour')`)

	var m map[string]float64
	for {
		m = b.scrape(ctx, t)
		// The scheduled jobs run at start; wait for the first runs.
		if m[`csbot_job_runs_total{job="scores"}`] >= 1 && m[`csbot_job_runs_total{job="due"}`] >= 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the scheduled jobs never ran: %v", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// want > 0: that value; 0: absent or 0; -1: present.
	for series, want := range map[string]float64{
		`csbot_socket_mode_envelopes_total{type="slash_commands"}`:                  2,
		`csbot_socket_mode_envelopes_total{type="hello"}`:                           1,
		`csbot_socket_mode_ack_seconds_count{type="slash_commands"}`:                2,
		`csbot_socket_mode_connected`:                                               1,
		`csbot_socket_mode_connections_total`:                                       1,
		`csbot_handler_seconds_count{handler="/csbot",kind="command",outcome="ok"}`: 1,
		`csbot_slack_api_calls_total{method="auth.test",outcome="ok"}`:              1,
		`csbot_slack_api_calls_total{method="apps.connections.open",outcome="ok"}`:  2,
		`csbot_slack_api_calls_total{method="users.info",outcome="rate_limited"}`:   1,
		`csbot_slack_api_rate_limited_total{method="users.info"}`:                   1,
		`csbot_slack_api_calls_total{method="response_url",outcome="ok"}`:           2,
		`csbot_delivery_queue_due`:                                                  2,
		`csbot_delivery_queue_scheduled`:                                            1,
		`csbot_delivery_queue_oldest_due_seconds`:                                   -1,
		`csbot_delivery_queue_read_errors_total`:                                    0,
		`csbot_job_failures_total{job="scores"}`:                                    0,
		`csbot_job_last_success_timestamp_seconds{job="scores"}`:                    -1,
		`csbot_delivery_attempts_total{kind="digest",outcome="sent"}`:               0,
		`go_goroutines`:              -1,
		`process_start_time_seconds`: -1,
	} {
		got, ok := m[series]
		switch {
		case want < 0 && !ok:
			t.Errorf("/metrics has no %s", series)
		case want == 0 && got != 0:
			t.Errorf("/metrics %s = %v, want none or 0", series, got)
		case want > 0 && got != want:
			t.Errorf("/metrics %s = %v, want %v", series, got, want)
		}
	}
	if age := m[`csbot_delivery_queue_oldest_due_seconds`]; age < 590 || age > 900 {
		t.Errorf("csbot_delivery_queue_oldest_due_seconds = %v, want about 600 (the oldest was due 10 minutes ago)", age)
	}
	if t.Failed() {
		for s, v := range m {
			if strings.HasPrefix(s, "csbot_") {
				t.Logf("%s %v", s, v)
			}
		}
	}
}

// TestLogsHoldNoSecrets runs csbot at debug level on the fake Slack with
// real tokens, through commands that read contacts with e-mail addresses
// and a Web API call that fails, and checks that the logs never show a
// token, an e-mail address or a response_url.
func TestLogsHoldNoSecrets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := slacktest.New(t)
	for _, u := range []slacktest.User{
		{ID: "U0CSM", Name: "cass", RealName: "Cass Success", Email: "cass@vendor.example"},
		{ID: "U0AE", Name: "sam", RealName: "Sam Seller", Email: "sam@vendor.example"},
	} {
		srv.AddUser(u)
	}
	srv.AddChannel(slacktest.Channel{ID: "C0ACME", Name: "acct-acme", Member: true})
	b := startOpsBot(ctx, t, srv, map[string]string{"CSBOT_LOG_LEVEL": "debug"},
		// Time zones on file: the due pass asks Slack for no one's, so
		// the failing users.info below meets the user check it is for.
		"users", "slack_id,role,name,email,timezone\nU0CSM,csm,Cass Success,cass@vendor.example,America/New_York\nU0AE,sales,Sam Seller,sam@vendor.example,America/New_York\n",
		"accounts", "external_id,name,tier,arr,domain,csm,ae,channel\nACME-1,Acme Corp,high,120000,acme.example,U0CSM,U0AE,C0ACME\n",
		"contacts", "account_external_id,name,role,email,title\nACME-1,Rita Renewals,renewal,rita@acme.example,VP Ops\nACME-1,Chad Champion,champion,chad@acme.example,Lead\n",
		"renewals", "external_id,account_external_id,renewal_date,arr\nR-1,ACME-1,"+time.Now().AddDate(0, 2, 0).Format("2006-01-02")+",120000\n",
	)
	b.waitReadyz(ctx, t, http.StatusOK, "at start")

	var envs []slacktest.Envelope
	for _, c := range []slacktest.SlashCommand{
		{Command: "/csbot", Text: "ping", UserID: "U0CSM", ChannelID: "C0ACME"},
		{Command: "/health", Text: "acme", UserID: "U0CSM", ChannelID: "C0ACME"},
		{Command: "/renewals", Text: "all", UserID: "U0CSM", ChannelID: "C0ACME"},
		{Command: "/handoff", Text: "acme", UserID: "U0AE", ChannelID: "C0ACME"}, // its form fails to open
	} {
		if c.Command == "/handoff" {
			srv.FailNext("views.open", 1, slacktest.Fault{Error: "invalid_auth"})
		}
		env, err := srv.SendSlashCommand(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	// The reply to the last one waits for its failed views.open.
	if _, err := srv.WaitForResponse(ctx, envs[len(envs)-1].ID); err != nil {
		t.Fatalf("no reply to /handoff: %v", err)
	}
	for _, env := range envs[:len(envs)-1] {
		if _, err := srv.WaitForResponse(ctx, env.ID); err != nil {
			t.Fatalf("no reply to %s: %v", env.ID, err)
		}
	}
	// And a user check that fails: the error is logged, the user gets an
	// apology.
	srv.FailNext("users.info", 1, slacktest.Fault{Error: "fatal_error"})
	if env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "ping", UserID: "U0NEW", ChannelID: "C0ACME"}); err != nil {
		t.Fatal(err)
	} else if _, err := srv.WaitForResponse(ctx, env.ID); err != nil {
		t.Fatalf("no apology for the failed user check: %v", err)
	}
	// The renewal reminder the due pass raised at start is delivered.
	if _, err := srv.WaitForCall(ctx, "chat.postMessage", func(c slacktest.Call) bool { return c.Param("channel") == "C0ACME" }); err != nil {
		t.Fatalf("the renewal reminder was not posted: %v", err)
	}
	var m map[string]float64
	for m = b.scrape(ctx, t); m[`csbot_delivery_attempts_total{kind="renewal_reminder",outcome="sent"}`] != 1; m = b.scrape(ctx, t) {
		select {
		case <-ctx.Done():
			t.Fatalf("csbot_delivery_attempts_total never counted the reminder sent: %v", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if code := b.stop(); code != exitOK {
		t.Errorf("csbot exit code = %d, want 0", code)
	}

	logs := b.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, "views.open") || !strings.Contains(logs, "invalid_auth") ||
		!strings.Contains(logs, "fatal_error") {
		t.Fatalf("the logs do not show the debug lines and the failed calls the test means to check:\n%s", logs)
	}
	for what, secret := range map[string]string{"bot token": srv.BotToken(), "app token": srv.AppToken()} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold the %s", what)
		}
	}
	emailPattern := regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	if found := emailPattern.FindAllString(logs, 5); len(found) > 0 {
		t.Errorf("the logs hold e-mail addresses: %q", found)
	}
	for _, p := range srv.ResponsePosts() {
		if strings.Contains(logs, p.URL) {
			t.Errorf("the logs hold a response_url")
			break
		}
	}
	// Every line about an envelope carries its request id.
	for line := range strings.SplitSeq(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if _, ok := rec["user"]; ok && rec["component"] == "bot" && rec["request_id"] == nil {
			t.Errorf("a line about a user's request has no request_id: %s", line)
		}
	}
}

// fakeOpsStore is the database as ops sees it, for tests of the
// counters and the queue's cache.
type fakeOpsStore struct {
	mu    sync.Mutex
	reads int
	q     store.QueueStats
	err   error
}

func (f *fakeOpsStore) Ping(context.Context) error { return nil }

func (f *fakeOpsStore) SchemaStatus(context.Context) (store.SchemaStatus, error) {
	return store.SchemaStatus{}, nil
}

func (f *fakeOpsStore) QueueStats(context.Context, time.Time) (store.QueueStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.q, f.err
}

// TestOpsCounters checks the metrics ops measures itself: job runs, the
// delivery wrapper, EBR drafts, and the delivery queue read through its
// cache.
func TestOpsCounters(t *testing.T) {
	db := &fakeOpsStore{q: store.QueueStats{Due: 3, Scheduled: 1, OldestDue: 90 * time.Second}}
	o, err := newOps(config{HTTPAddr: "127.0.0.1:0"}, slog.New(slog.DiscardHandler), db)
	if err != nil {
		t.Fatal(err)
	}
	if none, err := newOps(config{}, slog.New(slog.DiscardHandler), db); none != nil || err != nil {
		t.Errorf("newOps without CSBOT_HTTP_ADDR = %v, %v; want nil", none, err)
	}

	hook := o.jobHook()
	hook(notifier.JobScores, time.Now().Add(-2*time.Second), nil)
	hook(notifier.JobScores, time.Now(), errors.New("database down"))
	hook(notifier.JobDue, time.Now(), context.Canceled) // shutdown: a run, no failure

	deliver := o.delivery(func(_ context.Context, d csbot.Delivery) csbot.DeliveryResult {
		if d.Attempt > 1 {
			return csbot.DeliveryResult{Status: csbot.DeliverySent}
		}
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: "rate limited"}
	})
	n := csbot.Notification{Kind: csbot.NotifyAlert}
	if res := deliver(context.Background(), csbot.Delivery{Notification: n, Attempt: 1}); res.Status != csbot.DeliveryRetry {
		t.Errorf("the wrapped handler's result = %v, want the handler's", res.Status)
	}
	deliver(context.Background(), csbot.Delivery{Notification: n, Attempt: 2})

	o.observeDraft(draft.Usage{PromptTokens: 900, CompletionTokens: 300, Latency: 4 * time.Second}, nil)
	o.observeDraft(draft.Usage{Latency: time.Minute}, fmt.Errorf("draft ebr: %w", context.DeadlineExceeded))
	o.observeDraft(draft.Usage{PromptTokens: 800, CompletionTokens: 10, Latency: time.Second}, fmt.Errorf("draft ebr: %w", draft.ErrBadAnswer))
	o.observeDraft(draft.Usage{}, errors.New("401 Incorrect API key"))

	for _, c := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{o.jobRuns.WithLabelValues("scores"), 2},
		{o.jobFailures.WithLabelValues("scores"), 1},
		{o.jobRuns.WithLabelValues("due"), 1},
		{o.jobFailures.WithLabelValues("due"), 0},
		{o.deliveries.WithLabelValues("alert", "retry"), 1},
		{o.deliveries.WithLabelValues("alert", "sent"), 1},
		{o.llmCalls.WithLabelValues("ok"), 1},
		{o.llmCalls.WithLabelValues("timeout"), 1},
		{o.llmCalls.WithLabelValues("bad_answer"), 1},
		{o.llmCalls.WithLabelValues("error"), 1},
		{o.llmTokens.WithLabelValues("prompt"), 1700},
		{o.llmTokens.WithLabelValues("completion"), 310},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			desc := make(chan *prometheus.Desc, 1)
			c.c.Describe(desc)
			t.Errorf("%v = %v, want %v", <-desc, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(o.llmSeconds); n != 1 {
		t.Errorf("csbot_llm_call_seconds has %d series, want 1", n)
	}

	// The queue is read once per TTL, and its gauges are left out of a
	// scrape whose read fails.
	srv := httptest.NewServer(o.handler(linkDown{}))
	defer srv.Close()
	metrics := func() string {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for range 3 {
		if m := metrics(); !strings.Contains(m, "\ncsbot_delivery_queue_due 3\n") || !strings.Contains(m, "\ncsbot_delivery_queue_oldest_due_seconds 90\n") {
			t.Fatalf("/metrics lacks the queue's gauges:\n%s", m)
		}
	}
	db.mu.Lock()
	reads := db.reads
	db.mu.Unlock()
	if reads != 1 {
		t.Errorf("3 scrapes within the TTL read the queue %d times, want 1", reads)
	}
	o.queueTTL = 0
	db.mu.Lock()
	db.err = errors.New("database down")
	db.mu.Unlock()
	if m := metrics(); strings.Contains(m, "csbot_delivery_queue_due ") || !strings.Contains(m, "\ncsbot_delivery_queue_read_errors_total 1\n") {
		t.Errorf("/metrics with the queue unreadable: want no queue gauges and one read error:\n%s", m)
	}
	if code, body := getBody(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "fail slack: socket mode link down") {
		t.Errorf("/readyz with the link down = %d %q", code, body)
	}
}

// linkDown is a Socket Mode link that is never up.
type linkDown struct{}

func (linkDown) Connected() (bool, time.Time) { return false, time.Time{} }

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
