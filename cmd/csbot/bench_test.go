package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/jackc/pgx/v5"
)

// benchChannel is the channel the benchmark's commands are typed in.
const benchChannel = "C0BENCH"

// BenchmarkBotProcess runs the csbot binary as its own process against
// the fake Slack server on loopback and a real database holding the demo
// portfolio (CSBOT_BENCH_ACCOUNTS accounts, default 2000), and reports:
//
//   - the process's resident memory once connected and idle, and its peak
//     under load;
//
//   - for /csbot ping, /health <account>, /health (the caller's
//     portfolio), /renewals (the busiest CSM's next 90 days) and
//     /renewals team (a team lead's): the ack latency and the time from
//     sending the envelope to the reply reaching the response_url, p50
//     and p99, over CSBOT_BENCH_COMMANDS commands each (default 200), one
//     after another;
//
//   - sustained /health commands per second with 8 senders for 10 s.
//
//     CSBOT_BENCH_ACCOUNTS=100000 go test -run '^$' -bench BotProcess -benchtime 1x -timeout 60m ./cmd/csbot/
func BenchmarkBotProcess(b *testing.B) {
	ctx := context.Background()
	accounts := benchEnvInt(b, "CSBOT_BENCH_ACCOUNTS", 2000)
	perScenario := benchEnvInt(b, "CSBOT_BENCH_COMMANDS", 200)

	url := pgtest.NewDatabase(ctx, b)
	facts := loadBenchBook(ctx, b, url, accounts)
	bin := buildCSBot(b)
	srv := slacktest.New(b)
	srv.AddChannel(slacktest.Channel{ID: benchChannel, Name: "cs-bench", Member: true})
	for _, u := range facts.users {
		srv.AddUser(slacktest.User{ID: u, Name: strings.ToLower(u)})
	}
	proc := startCSBot(ctx, b, bin, url, srv)
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	_, err := srv.WaitFor(cctx, func(snap slacktest.Snapshot) bool {
		return slices.ContainsFunc(snap.Connections(), func(c slacktest.Connection) bool { return !c.ConnectedAt.IsZero() })
	})
	cancel()
	if err != nil {
		b.Fatalf("csbot never connected: %v; its stderr:\n%s", err, proc.stderr.String())
	}
	time.Sleep(3 * time.Second) // let start-up garbage settle
	idle, err := proc.rss()
	if err != nil {
		b.Fatal(err)
	}

	scenarios := []struct {
		name, command, user string
		text                func(i int) string
	}{
		{"ping", "/csbot", facts.busiestCSM, func(int) string { return "ping" }},
		{"health", "/health", facts.busiestCSM, func(i int) string { return facts.queries[i%len(facts.queries)] }},
		{"portfolio", "/health", facts.busiestCSM, func(int) string { return "" }},
		{"renewals-csm", "/renewals", facts.busiestCSM, func(int) string { return "" }},
		{"renewals-team", "/renewals", facts.lead, func(int) string { return "team" }},
	}
	var peak atomic.Int64
	stopSampling := proc.sample(&peak)
	defer stopSampling()
	for b.Loop() {
		for _, sc := range scenarios {
			var acks, replies []time.Duration
			for i := range perScenario {
				ack, reply, err := sendAndWait(ctx, srv, slacktest.SlashCommand{
					Command: sc.command, Text: sc.text(i), UserID: sc.user, ChannelID: benchChannel})
				if err != nil {
					b.Fatal(err)
				}
				acks, replies = append(acks, ack), append(replies, reply)
			}
			reportPercentiles(b, sc.name+"-ack", acks)
			reportPercentiles(b, sc.name+"-reply", replies)
		}
		perSecond := sustained(ctx, b, srv, facts, 8, 10*time.Second)
		b.ReportMetric(perSecond, "health-cmds/s")
	}
	stopSampling()
	b.ReportMetric(float64(idle)/(1<<20), "idle-RSS-MB")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(accounts), "accounts")
	b.ReportMetric(float64(facts.busiestCount), "busiest-CSM-accounts")
	b.ReportMetric(float64(facts.teamCount), "team-accounts")
}

// benchBook is what the benchmark knows of the loaded book.
type benchBook struct {
	users        []string // every user's Slack id
	busiestCSM   string   // the CSM with the most accounts
	busiestCount int
	lead         string // the manager whose team has the most accounts
	teamCount    int
	queries      []string // what people type to /health: names, as typed, cut, misspelt
}

// loadBenchBook loads and scores the demo portfolio into url and reads
// back what the commands will ask for.
func loadBenchBook(ctx context.Context, b *testing.B, url string, accounts int) benchBook {
	b.Helper()
	s, err := store.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	began := time.Now()
	if err := s.ImportDemo(ctx, csbot.NewDemo(csbot.DemoOptions{Accounts: accounts, Seed: 7, Now: now}), nil); err != nil {
		b.Fatal(err)
	}
	if err := scoreDays(ctx, s, csbot.DefaultPolicy(), now, 0, io.Discard); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded and scored %d demo accounts in %v", accounts, time.Since(began).Round(time.Second))

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var book benchBook
	rows, _ := conn.Query(ctx, `SELECT slack_id FROM users ORDER BY slack_id`)
	if book.users, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		b.Fatal(err)
	}
	err = conn.QueryRow(ctx, `SELECT csm_slack_id, count(*) FROM accounts WHERE csm_slack_id IS NOT NULL
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`).Scan(&book.busiestCSM, &book.busiestCount)
	if err != nil {
		b.Fatal(err)
	}
	err = conn.QueryRow(ctx, `SELECT u.manager_slack_id, count(*) FROM accounts a JOIN users u ON u.slack_id = a.csm_slack_id
		WHERE u.manager_slack_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`).Scan(&book.lead, &book.teamCount)
	if err != nil {
		b.Fatal(err)
	}
	rows, _ = conn.Query(ctx, `SELECT name FROM accounts ORDER BY md5(external_id) LIMIT 250`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	for i, n := range names {
		switch i % 5 {
		case 0, 1:
			book.queries = append(book.queries, n)
		case 2:
			book.queries = append(book.queries, strings.ToLower(n))
		case 3:
			book.queries = append(book.queries, strings.Fields(n)[0]) // a first word: often several matches
		case 4:
			if r := []rune(n); len(r) > 4 {
				n = string(r[:2]) + string(r[3:]) // a letter missing
			}
			book.queries = append(book.queries, n)
		}
	}
	return book
}

// buildCSBot builds the csbot binary into a temporary directory.
func buildCSBot(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "csbot")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// botProcess is csbot running as a child process.
type botProcess struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

// startCSBot runs bin against the database and the fake Slack server
// until the benchmark ends.
func startCSBot(ctx context.Context, b *testing.B, bin, url string, srv *slacktest.Server) *botProcess {
	b.Helper()
	p := &botProcess{stderr: &bytes.Buffer{}}
	p.cmd = exec.CommandContext(ctx, bin)
	p.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+url,
		"SLACK_BOT_TOKEN="+srv.BotToken(),
		"SLACK_APP_TOKEN="+srv.AppToken(),
		"SLACK_API_URL="+srv.URL(),
		"CSBOT_LOG_LEVEL=warn",
	)
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
		if p.stderr.Len() > 0 {
			b.Logf("csbot stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// rss returns the process's resident set size in bytes.
func (p *botProcess) rss() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read the bot's memory: %w", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", p.cmd.Process.Pid)
}

// sample records the process's peak resident memory in peak every 50 ms
// until the returned function is called.
func (p *botProcess) sample(peak *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if r, err := p.rss(); err == nil && r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// sendAndWait sends a command and waits for its reply; it returns the ack
// latency and the time from sending to the reply's arrival.
func sendAndWait(ctx context.Context, srv *slacktest.Server, cmd slacktest.SlashCommand) (ack, reply time.Duration, err error) {
	sent := time.Now()
	env, err := srv.SendSlashCommand(ctx, cmd)
	if err != nil {
		return 0, 0, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	post, err := srv.WaitForResponse(wctx, env.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("%s %q: no reply: %w", cmd.Command, cmd.Text, err)
	}
	if post.Status != 200 {
		return 0, 0, fmt.Errorf("%s %q: reply refused with %d %s", cmd.Command, cmd.Text, post.Status, post.Error)
	}
	a, err := srv.WaitForAck(wctx, env.ID)
	if err != nil {
		return 0, 0, err
	}
	return a.Latency, post.At.Sub(sent), nil
}

// sustained runs /health from senders goroutines for d and returns the
// replies per second.
func sustained(ctx context.Context, b *testing.B, srv *slacktest.Server, book benchBook, senders int, d time.Duration) float64 {
	var done atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := g; time.Now().Before(deadline); i += senders {
				_, _, err := sendAndWait(ctx, srv, slacktest.SlashCommand{Command: "/health",
					Text: book.queries[i%len(book.queries)], UserID: book.busiestCSM, ChannelID: benchChannel})
				if err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / d.Seconds()
}

// reportPercentiles reports p50 and p99 of ds in milliseconds.
func reportPercentiles(b *testing.B, name string, ds []time.Duration) {
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(ds[len(ds)/2]), name+"-p50-ms")
	b.ReportMetric(ms(ds[len(ds)*99/100]), name+"-p99-ms")
}

func benchEnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
