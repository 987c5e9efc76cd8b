package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
)

// lineWatch is csbot's stdout in a test: it keeps what was printed and
// hands over the URL of the first "csbot playground: URL" line.
type lineWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	once sync.Once
	url  chan string
}

func newLineWatch() *lineWatch { return &lineWatch{url: make(chan string, 1)} }

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for line := range strings.SplitSeq(w.buf.String(), "\n") {
		if u, ok := strings.CutPrefix(line, "csbot playground: "); ok && strings.HasSuffix(u, "/") {
			w.once.Do(func() { w.url <- u })
		}
	}
	return len(p), nil
}

func (w *lineWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// playgroundRun is the playground running in a test, on a small demo
// book.
type playgroundRun struct {
	url string
	// account has a channel and a CSM in users; csm is that CSM.
	account csbot.Account
	csm     csbot.User
	out     *lineWatch
	logs    *hoLog
	stop    func() error // stops the playground and returns what it returned
}

// startPlayground loads a demo book of 30 accounts into a fresh database,
// scores a week of it, and runs the playground on it as csbot does on its
// embedded database without Slack tokens (runPlayground).
func startPlayground(ctx context.Context, t *testing.T) *playgroundRun {
	t.Helper()
	dbURL := pgtest.NewDatabase(ctx, t)
	p := &playgroundRun{out: newLineWatch(), logs: &hoLog{}}
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("SLACK_BOT_TOKEN", "")
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("CSBOT_PLAYGROUND_ADDR", "127.0.0.1:0")
	var cfg config
	if err := envconfig.Process("", &cfg); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.close)
	now := time.Now().UTC()
	if err := loadDemo(ctx, db.Store, csbot.DemoOptions{Accounts: 30, Seed: 1, Now: now}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := scoreDays(ctx, db.Store, csbot.DefaultPolicy(), now, 7, io.Discard); err != nil {
		t.Fatal(err)
	}
	accounts, err := db.AccountsWithChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if a.CSMUserID == "" || a.Stage == csbot.StageChurned {
			continue
		}
		if u, err := db.UserBySlackID(ctx, a.CSMUserID); err == nil && u.Role == csbot.UserCSM {
			p.account, p.csm = a, u
			break
		}
	}
	if p.account.ID == 0 {
		t.Fatal("the demo book has no account with a channel and a CSM")
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- servePlayground(runCtx, cfg, log, db, dbURL, csbot.DefaultPolicy(), p.out) }()
	stopped := false
	var result error
	p.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				t.Error("the playground did not stop within 30 s of its context ending")
			}
		}
		return result
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("the playground stopped with %v", err)
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nlogs:\n%s", p.out, p.logs)
		}
	})
	select {
	case p.url = <-p.out.url:
	case err := <-done:
		stopped, result = true, err
		t.Fatalf("the playground stopped before it served its page: %v", err)
	case <-ctx.Done():
		t.Fatal("the playground never printed its URL")
	}
	return p
}

// postJSON posts body to the playground's API and decodes the answer.
func postJSON(ctx context.Context, t *testing.T, endpoint string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func getPage(ctx context.Context, t *testing.T, u string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", u, res.StatusCode)
	}
	return string(b)
}

// TestPlaygroundRunsTheBot runs the playground as `csbot` does without
// Slack tokens: it says so, prints the page's URL, answers /health typed
// on the page through the real bot, and stops cleanly.
func TestPlaygroundRunsTheBot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := startPlayground(ctx, t)

	page := getPage(ctx, t, p.url+"?"+url.Values{"as": {p.csm.SlackID}, "in": {p.account.SlackChannelID}}.Encode())
	for _, want := range []string{p.csm.Name + " (csm)", "partner-shared", "cs-onboarding", `data-fill="/health "`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	code, answer := postJSON(ctx, t, p.url+"api/command", map[string]string{
		"as": p.csm.SlackID, "in": p.account.SlackChannelID, "text": "/health " + p.account.Name})
	if code != http.StatusOK {
		t.Fatalf("/health through the page = %d %v", code, answer)
	}
	// The reply comes over the page's event stream.
	page = waitForPage(ctx, t, p.url, p.csm.SlackID, p.account.SlackChannelID, `<h2 class="block header">`)
	if !strings.Contains(page, "Only visible to you") || !strings.Contains(page, "Override health") {
		t.Error("the health card is not the ephemeral card with its buttons")
	}

	if err := p.stop(); err != nil {
		t.Errorf("the playground stopped with %v", err)
	}
	logs := p.logs.String()
	for _, want := range []string{`mode=playground`, `msg="playground page ready" url=` + p.url, `msg="playground stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s", want)
		}
	}
	if !strings.Contains(p.out.String(), "\ncsbot playground: "+p.url+"\n") {
		t.Errorf("stdout lacks the playground's URL:\n%s", p.out)
	}
}

// pageUpdate is the page as its event stream made it: the main pane
// (with the feed's items sent since it came whole) and the clock.
type pageUpdate struct {
	Main  string
	Clock string
}

// pageEvent is an event of the page's stream: the parts that changed.
type pageEvent struct {
	Main *string `json:"main"`
	Feed *struct {
		Keys []string          `json:"keys"`
		HTML map[string]string `json:"html"`
	} `json:"feed"`
	Clock *string `json:"clock"`
}

// waitForUpdate follows the page's event stream as as in channel in,
// applying its updates as the page's script does, until the page
// satisfies done, and returns it; it fails the test when that takes over
// 30 s.
func waitForUpdate(ctx context.Context, t *testing.T, base, as, in string, done func(pageUpdate) bool) pageUpdate {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"events?"+url.Values{"as": {as}, "in": {in}}.Encode(), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	var main, clock string
	var keys []string
	items := map[string]string{}
	var last pageUpdate
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev pageEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		if ev.Main != nil {
			main, keys, items = *ev.Main, nil, map[string]string{}
		}
		if ev.Feed != nil {
			next := map[string]string{}
			for _, k := range ev.Feed.Keys {
				if html, ok := ev.Feed.HTML[k]; ok {
					next[k] = html
				} else {
					next[k] = items[k] // "" for an item of the main pane
				}
			}
			keys, items = ev.Feed.Keys, next
		}
		if ev.Clock != nil {
			clock = *ev.Clock
		}
		var b strings.Builder
		b.WriteString(main)
		for _, k := range keys {
			b.WriteString(items[k])
		}
		last = pageUpdate{Main: b.String(), Clock: clock}
		if done(last) {
			return last
		}
	}
	t.Fatalf("the page never showed what was awaited: %v\nlast update: %+v", errors.Join(sc.Err(), ctx.Err()), last)
	return last
}

// waitForPage waits until the main pane holds want, and returns it.
func waitForPage(ctx context.Context, t *testing.T, base, as, in, want string) string {
	t.Helper()
	return waitForUpdate(ctx, t, base, as, in, func(u pageUpdate) bool { return strings.Contains(u.Main, want) }).Main
}

// TestPlaygroundClockRunsTheSchedules moves the playground's clock to the
// next Monday 09:00 of a manager: the schedules run there, and the
// manager's weekly digest arrives in their DM.
func TestPlaygroundClockRunsTheSchedules(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := startPlayground(ctx, t)
	manager := p.csm.ManagerSlackID
	if manager == "" {
		t.Fatal("the CSM has no manager")
	}
	dm := regexp.MustCompile(`data-in="(D[0-9A-Z]+)"`).FindStringSubmatch(getPage(ctx, t, p.url+"?as="+manager))
	if dm == nil {
		t.Fatal("no DM with csbot for the manager")
	}
	// The schedules' first run, at start, is over before the clock moves.
	waitForUpdate(ctx, t, p.url, manager, dm[1], func(u pageUpdate) bool { return strings.Contains(u.Clock, "Ran the schedules at") })

	code, answer := postJSON(ctx, t, p.url+"api/clock", map[string]string{"as": manager, "step": "monday"})
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(answer["summary"]), "digest") {
		t.Fatalf("next Monday 09:00 = %d %v, want the weekly digest delivered", code, answer)
	}
	main := waitForPage(ctx, t, p.url, manager, dm[1], "Weekly at-risk digest")
	if !strings.Contains(main, "09:00") {
		t.Errorf("the digest is not stamped Monday 09:00 in the manager's zone:\n%s", main)
	}
	u := waitForUpdate(ctx, t, p.url, manager, dm[1], func(pageUpdate) bool { return true })
	if !strings.Contains(u.Clock, "ahead") || !strings.Contains(u.Clock, "Mon ") {
		t.Errorf("the clock reads %s, want next Monday, ahead of the wall clock", u.Clock)
	}
}

// TestNoPlaygroundOnAnotherDatabase runs `csbot` without tokens on a
// DATABASE_URL: it prints the book and stops, saying why, rather than
// deliver that database's notifications into a simulated Slack.
func TestNoPlaygroundOnAnotherDatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.NewDatabase(context.Background(), t))
	t.Setenv("SLACK_BOT_TOKEN", "")
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("CSBOT_LOG_LEVEL", "info")
	t.Setenv("CSBOT_LOG_FORMAT", "text")
	var out, errOut bytes.Buffer
	code := run(context.Background(), nil, &out, &errOut)
	if code != exitOK || !strings.Contains(out.String(), "Book: 0 accounts") || strings.Contains(out.String(), "csbot playground:") {
		t.Errorf("csbot without tokens on DATABASE_URL = exit %d, stdout:\n%s", code, out.String())
	}
	if !strings.Contains(errOut.String(), "runs on the embedded database only") || !strings.Contains(errOut.String(), "mode=none") {
		t.Errorf("the logs do not say why there is no playground:\n%s", errOut.String())
	}
}

// TestPlaygroundNeedsADatabaseOfItsOwn checks that the playground does
// not start while another csbot holds the scheduler's lock.
func TestPlaygroundNeedsADatabaseOfItsOwn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dbURL := pgtest.NewDatabase(ctx, t)
	st, err := store.Open(ctx, dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other := st.NewElector(schedulerLockKey, store.ElectorOptions{})
	defer other.Close(context.Background()) //nolint:errcheck
	if err := other.IsLeader(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config{Timezone: "UTC", FiscalStart: 1, PlaygroundAddr: "127.0.0.1:0"}
	var out bytes.Buffer
	err = servePlayground(ctx, cfg, slog.New(slog.DiscardHandler), &database{Store: st}, dbURL, csbot.DefaultPolicy(), &out)
	if err == nil || !strings.Contains(err.Error(), "another csbot runs on this database") {
		t.Errorf("servePlayground with the lock taken = %v, want a refusal", err)
	}
	if strings.Contains(out.String(), "csbot playground:") {
		t.Error("a page was served")
	}
}

func TestListenPlaygroundTakesAFreePortWhenTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ln, err := listenPlayground(taken.Addr().String(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("listenPlayground on a taken port: %v", err)
	}
	defer ln.Close()
	if ln.Addr().String() == taken.Addr().String() || !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
		t.Errorf("listening on %s, want another port of 127.0.0.1", ln.Addr())
	}
	if _, err := listenPlayground("256.0.0.1:80", slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a bad address was accepted")
	}
}

func TestHandlesAndNames(t *testing.T) {
	taken := map[string]bool{}
	if got := uniqueName(taken, handleOf(csbot.User{SlackID: "U1", Name: "Dana Smith", Email: "Dana.Smith@vendor.example"})); got != "dana.smith" {
		t.Errorf("handle = %q", got)
	}
	if got := uniqueName(taken, handleOf(csbot.User{SlackID: "U2", Name: "Dana Smith"})); got != "dana.smith-2" {
		t.Errorf("second handle = %q", got)
	}
	if got := handleOf(csbot.User{SlackID: "U3"}); got != "u3" {
		t.Errorf("handle of a nameless user = %q", got)
	}
}

// TestPlaygroundSlackKeepsOtherSitesOut checks the playground's Slack
// simulator: tokens of its own for each run, not the built-in ones a web
// page could post, and requests for another host name or from another
// origin refused.
func TestPlaygroundSlackKeepsOtherSitesOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sim, err := startPlaygroundSlack(ctx, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	other, err := startPlaygroundSlack(ctx, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if sim.BotToken() == slacktest.DefaultBotToken || sim.AppToken() == slacktest.DefaultAppToken ||
		sim.BotToken() == other.BotToken() || sim.AppToken() == other.AppToken() ||
		!strings.HasPrefix(sim.BotToken(), "xoxb-") || !strings.HasPrefix(sim.AppToken(), "xapp-") || len(sim.BotToken()) < 25 {
		t.Errorf("tokens %q and %q, then %q and %q: want random ones of Slack's kinds, each run its own",
			sim.BotToken(), sim.AppToken(), other.BotToken(), other.AppToken())
	}

	call := func(token, host, origin string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sim.URL()+"auth.test",
			strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out.Error
	}
	if code, e := call(sim.BotToken(), "", ""); code != http.StatusOK || e != "" {
		t.Errorf("auth.test with the run's token = %d %q", code, e)
	}
	if code, e := call(slacktest.DefaultBotToken, "", ""); e != "invalid_auth" {
		t.Errorf("auth.test with the built-in token = %d %q, want invalid_auth", code, e)
	}
	if code, _ := call(sim.BotToken(), "rebound.example:80", ""); code != http.StatusForbidden {
		t.Errorf("a request for another host name = %d, want 403", code)
	}
	if code, _ := call(sim.BotToken(), "", "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("a request from another origin = %d, want 403", code)
	}
}
