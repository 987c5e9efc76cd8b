package main

import (
	"context"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/jackc/pgx/v5"
)

// demoPeople returns the Slack ids of the users and account channels in
// the database at url, and one manager.
func demoPeople(ctx context.Context, t *testing.T, url string) (users, channels []string, manager string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT slack_id, role FROM users ORDER BY slack_id`)
	var id, role string
	if _, err := pgx.ForEachRow(rows, []any{&id, &role}, func() error {
		users = append(users, id)
		if role == "manager" && manager == "" {
			manager = id
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rows, _ = conn.Query(ctx, `SELECT DISTINCT slack_channel_id FROM accounts WHERE slack_channel_id IS NOT NULL`)
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		channels = append(channels, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return users, channels, manager
}

func TestNotifyOnceDryRunThenDeliverThenNothing(t *testing.T) {
	ctx := t.Context()
	db := pgtest.NewDatabase(ctx, t)
	if code, _, errOut := runCLI(t, db, "demo", "--accounts", "60", "--backfill", "0d"); code != exitOK {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}

	// A dry run prints what would go out, and records nothing: a second
	// dry run prints the same.
	code, dry, errOut := runCLI(t, db, "notify", "--once", "--dry-run")
	if code != exitOK {
		t.Fatalf("notify --once --dry-run: exit %d: %s", code, errOut)
	}
	if !strings.Contains(dry, "scores pass") || !strings.Contains(dry, string(csbot.NotifyBaseline)) ||
		!strings.Contains(dry, "dry run: nothing was recorded or sent") {
		t.Fatalf("dry run printed:\n%s\nwant the passes, baseline summaries and the dry-run note", dry)
	}
	if _, again, _ := runCLI(t, db, "notify", "--once", "--dry-run"); strings.Count(again, "baseline:") != strings.Count(dry, "baseline:") {
		t.Fatalf("a second dry run differs: the first recorded something\nfirst:\n%s\nsecond:\n%s", dry, again)
	}

	srv, err := slacktest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	users, channels, manager := demoPeople(ctx, t, db)
	for _, u := range users {
		srv.AddUser(slacktest.User{ID: u, Name: strings.ToLower(u)})
	}
	for _, c := range channels {
		srv.AddChannel(slacktest.Channel{ID: c, Name: strings.ToLower(c), Member: true})
	}
	t.Setenv("SLACK_BOT_TOKEN", srv.BotToken())
	t.Setenv("SLACK_APP_TOKEN", srv.AppToken())
	t.Setenv("SLACK_API_URL", srv.URL())

	code, out, errOut := runCLI(t, db, "notify", "--once")
	if code != exitOK || !strings.Contains(out, "delivered: every notification due is posted or recorded as failed") {
		t.Fatalf("notify --once: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	posts := srv.Calls("chat.postMessage")
	baselines := strings.Count(dry, "baseline:")
	if len(posts) < baselines || baselines == 0 {
		t.Fatalf("notify --once made %d posts, want at least the %d baseline summaries of the dry run", len(posts), baselines)
	}
	for _, c := range posts {
		if !c.OK() {
			t.Errorf("a post failed: %s", c.Error)
		}
	}

	// Everything due was sent: the next pass sends nothing.
	code, out, errOut = runCLI(t, db, "notify", "--once")
	if code != exitOK {
		t.Fatalf("second notify --once: exit %d: %s", code, errOut)
	}
	if got := len(srv.Calls("chat.postMessage")); got != len(posts) {
		t.Errorf("the second pass posted %d more messages, want none\n%s", got-len(posts), out)
	}

	code, out, errOut = runCLI(t, db, "digest", "--preview", "@"+manager)
	if code != exitOK || !strings.Contains(out, "Weekly at-risk digest") || !strings.Contains(out, "preview, not sent") {
		t.Errorf("digest --preview @%s: exit %d\n%s\n%s", manager, code, out, errOut)
	}
	if got := len(srv.Calls("chat.postMessage")); got != len(posts) {
		t.Errorf("digest --preview posted %d messages, want none", got-len(posts))
	}
}

func TestNotifyAndDigestUsageErrors(t *testing.T) {
	db := pgtest.NewDatabase(t.Context(), t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"notify"}, "only --once"},
		{[]string{"notify", "--once", "--at", "someday"}, `--at "someday"`},
		{[]string{"notify", "--once"}, "SLACK_BOT_TOKEN"},
		{[]string{"notify", "--once", "extra"}, `unexpected argument "extra"`},
		{[]string{"digest", "--preview"}, "name the manager"},
		{[]string{"digest", "@U0NOBODY"}, "only --preview"},
		{[]string{"digest", "--preview", "@U0NOBODY"}, "is not a manager"},
	} {
		code, _, errOut := runCLI(t, db, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("csbot %v = exit %d, stderr %q; want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}
