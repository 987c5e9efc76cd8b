package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// runCLI runs csbot with args against the database at dbURL and returns
// the exit code and what it printed.
func runCLI(t *testing.T, dbURL string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("CSBOT_LOG_LEVEL", "warn")
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHelpListsCommandsAndEnvironment(t *testing.T) {
	code, out, _ := runCLI(t, "", "--help")
	if code != exitOK {
		t.Fatalf("csbot --help exit code = %d, want 0", code)
	}
	for _, want := range []string{"migrate", "import KIND FILE.csv", "demo", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_API_URL",
		"DATABASE_URL", "CSBOT_DATA_DIR (default .csbot)", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "CSBOT_TIMEZONE (default UTC)",
		"CSBOT_POLICY_FILE", "CSBOT_ONBOARDING_CHANNEL", "CSBOT_HTTP_ADDR", "CSBOT_FISCAL_YEAR_START (default 1)"} {
		if !strings.Contains(out, want) {
			t.Errorf("csbot --help does not mention %q:\n%s", want, out)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"import"}, "usage: csbot import KIND FILE.csv"},
		{[]string{"import", "acounts", "x.csv"}, `did you mean "accounts"?`},
		{[]string{"import", "accounts", "/nonexistent/x.csv"}, "cannot open /nonexistent/x.csv"},
		{[]string{"demo", "--accounts", "0"}, "--accounts must be between 1 and 100000"},
		{[]string{"migrate", "now"}, "migrate takes no arguments"},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, "postgres://unused.invalid/x", tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("csbot %v = exit %d, stderr %q; want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestImportCommand(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDatabase(ctx, t)
	accounts := writeFile(t, "accounts.csv", "external_id,name,tier,arr,color\nA-1,ACME Corp.,high,\"$125,000\",red\nA-2,Globex,low,9000,blue\n")

	code, out, errOut := runCLI(t, db, "import", "accounts", accounts)
	if code != exitOK {
		t.Fatalf("import exit code = %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"warning: accounts: ignored unknown column(s): color", "2 rows: 2 inserted, 0 updated, 0 unchanged, 1 warnings"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}

	bad := writeFile(t, "bad.csv", "external_id,name,tier,arr\nA-3,New,low,100\nA-4,Broken,gold,abc\n")
	code, _, errOut = runCLI(t, db, "import", "accounts", bad)
	if code != exitUsage {
		t.Errorf("import of a bad file exit code = %d, want 2", code)
	}
	for _, want := range []string{
		"bad.csv: row 3, column tier: must be one of high, low, tech",
		"bad.csv: row 3, column arr: not an amount",
		"bad.csv: 1 bad row; nothing was imported",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("import of a bad file: stderr lacks %q:\n%s", want, errOut)
		}
	}
	code, out, _ = runCLI(t, db, "summary")
	if code != exitOK || !strings.Contains(out, "Book: 2 accounts, $134,000 ARR") {
		t.Errorf("summary after a refused file = exit %d:\n%s\nwant the 2 accounts of the first file only", code, out)
	}
}

func TestBadPolicyFileStopsTheBotAtStart(t *testing.T) {
	policy := writeFile(t, "policy.yaml", "tiers:\n  high:\n    weights:\n      usage: -5\n")
	t.Setenv("CSBOT_POLICY_FILE", policy)
	code, _, errOut := runCLI(t, "postgres://unused.invalid/x")
	if code != exitUsage || !strings.Contains(errOut, "tiers.high.weights.usage") {
		t.Errorf("csbot with a bad policy file = exit %d, stderr %q; want exit 2 naming the key", code, errOut)
	}
}

func TestRunsOnSlackWhenTokensAreSet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C0CS", Name: "cs-team", Member: true})
	srv.AddUser(slacktest.User{ID: "U0CSM1", Name: "sam"})
	t.Setenv("SLACK_BOT_TOKEN", srv.BotToken())
	t.Setenv("SLACK_APP_TOKEN", srv.AppToken())
	t.Setenv("SLACK_API_URL", srv.URL())
	t.Setenv("DATABASE_URL", pgtest.NewDatabase(ctx, t))
	t.Setenv("CSBOT_LOG_LEVEL", "warn")

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	var out, errOut bytes.Buffer
	go func() { done <- run(runCtx, nil, &out, &errOut) }()

	env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "ping", UserID: "U0CSM1", ChannelID: "C0CS"})
	if err != nil {
		t.Fatalf("SendSlashCommand: %v", err)
	}
	post, err := srv.WaitForResponse(ctx, env.ID)
	if err != nil {
		t.Fatalf("no answer to /csbot ping: %v", err)
	}
	if !strings.Contains(strings.ToLower(post.Text), "pong") {
		t.Errorf("/csbot ping answered %q, want pong", post.Text)
	}
	stop()
	if code := <-done; code != exitOK {
		t.Errorf("csbot exit code after shutdown = %d, want 0; stderr:\n%s", code, errOut.String())
	}
}

func TestOneSlackTokenIsAUsageError(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-1")
	t.Setenv("SLACK_APP_TOKEN", "")
	code, _, errOut := runCLI(t, pgtest.NewDatabase(context.Background(), t))
	if code != exitUsage || !strings.Contains(errOut, "SLACK_APP_TOKEN is not set") {
		t.Errorf("csbot with only a bot token = exit %d, stderr %q; want exit 2 naming SLACK_APP_TOKEN", code, errOut)
	}
}
