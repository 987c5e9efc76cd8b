package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store/pgtest"
)

// channelsBook imports a few users and accounts for csbot channels and
// csbot doctor, and returns the database's URL.
func channelsBook(t *testing.T) string {
	t.Helper()
	db := pgtest.NewDatabase(context.Background(), t)
	users := writeFile(t, "users.csv", "slack_id,role,name,timezone\nU0CSM1,csm,Dana,Europe/Berlin\nU0SALES,sales,Sam,Europe/Berlin\nU0CSM2,csm,Fox,\n")
	accounts := writeFile(t, "accounts.csv", "external_id,name,tier,arr,csm,ae,channel,stage\n"+
		"ACME-001,Acme Corp,high,120000,U0CSM1,U0SALES,,adopting\n"+
		"GLX-042,Globex,low,30000,U0CSM2,,,adopting\n"+
		"INI-1,Initech,tech,4800,,,C0INITECH,onboarding\n"+
		"OLD-1,Gone Inc,low,1000,U0CSM1,,,churned\n")
	contacts := writeFile(t, "contacts.csv", "account_external_id,name,role\nACME-001,Road Runner,renewal\n")
	for _, f := range [][2]string{{"users", users}, {"accounts", accounts}, {"contacts", contacts}} {
		if code, _, errOut := runCLI(t, db, "import", f[0], f[1], "--no-score"); code != exitOK {
			t.Fatalf("import %s: exit %d: %s", f[0], code, errOut)
		}
	}
	return db
}

// fakeSlackEnv starts a fake Slack with the book's people and points
// csbot at it.
func fakeSlackEnv(t *testing.T, opts ...slacktest.Option) *slacktest.Server {
	t.Helper()
	srv := slacktest.New(t, opts...)
	for _, u := range []string{"U0CSM1", "U0CSM2", "U0SALES"} {
		srv.AddUser(slacktest.User{ID: u, Name: strings.ToLower(u), TZ: "Europe/Berlin"})
	}
	t.Setenv("SLACK_BOT_TOKEN", srv.BotToken())
	t.Setenv("SLACK_APP_TOKEN", srv.AppToken())
	t.Setenv("SLACK_API_URL", srv.URL())
	return srv
}

func TestChannelsSync(t *testing.T) {
	db := channelsBook(t)
	srv := fakeSlackEnv(t)
	// Globex's channel exists already, by the name the pattern gives.
	srv.AddChannel(slacktest.Channel{ID: "C0GLOBEX", Name: "acct-globex"})

	code, out, errOut := runCLI(t, db, "channels", "sync", "--dry-run")
	if code != exitOK {
		t.Fatalf("channels sync --dry-run exit %d: %s", code, errOut)
	}
	for _, want := range []string{"would create #acct-acme-corp for Acme Corp", "would link #acct-globex (C0GLOBEX), which exists, for Globex",
		"2 accounts without a channel: 1 would be created, 1 existing would be linked, 0 can't be (dry run: nothing was changed)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	for _, call := range srv.Calls("") {
		if call.Method != "conversations.list" {
			t.Errorf("the dry run called %s", call.Method)
		}
	}

	code, out, errOut = runCLI(t, db, "channels", "sync", "--private")
	if code != exitOK {
		t.Fatalf("channels sync exit %d: %s\n%s", code, errOut, out)
	}
	created := srv.Calls("conversations.create")
	if len(created) != 1 {
		t.Fatalf("%d channels created, want only Acme's (Globex's exists)", len(created))
	}
	if ch, _ := srv.Channel("C0GLOBEX"); !ch.Member {
		t.Error("csbot did not join Globex's channel")
	}
	for _, want := range []string{"created #acct-acme-corp (", "for Acme Corp: invited U0CSM1, U0SALES; summary pinned",
		"linked #acct-globex (C0GLOBEX) for Globex: the channel existed; invited U0CSM2; summary pinned",
		"2 accounts without a channel: 1 created, 1 existing linked, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("sync output lacks %q:\n%s", want, out)
		}
	}
	s := openTestStore(context.Background(), t, db)
	a, err := s.AccountByExternalID(context.Background(), "ACME-001")
	if err != nil {
		t.Fatal(err)
	}
	acme, _ := srv.Channel(a.SlackChannelID)
	if acme.Name != "acct-acme-corp" || !acme.Private {
		t.Errorf("Acme linked to %+v, want the new private acct-acme-corp", acme)
	}
	if got := srv.Members(acme.ID); !slices.Equal(got, []string{"U0CSM1", "U0SALES"}) {
		t.Errorf("Acme's channel members %v, want its CSM and AE", got)
	}
	if len(srv.Pins(acme.ID)) != 1 || len(srv.Pins("C0GLOBEX")) != 1 {
		t.Errorf("pins: Acme %v, Globex %v; want one summary each", srv.Pins(acme.ID), srv.Pins("C0GLOBEX"))
	}
	if g, _ := s.AccountByExternalID(context.Background(), "GLX-042"); g.SlackChannelID != "C0GLOBEX" {
		t.Errorf("Globex linked to %q, want C0GLOBEX", g.SlackChannelID)
	}
	// The links are in the audit log, by the command line.
	code, out, _ = runCLI(t, db, "audit", "--actor", "cli")
	if code != exitOK || strings.Count(out, "channel_linked") != 2 {
		t.Errorf("audit after the sync = exit %d:\n%s\nwant 2 channel_linked entries by cli", code, out)
	}

	code, out, _ = runCLI(t, db, "channels", "sync")
	if code != exitOK || !strings.Contains(out, "every account has a channel: nothing to do") {
		t.Errorf("second sync = exit %d:\n%s", code, out)
	}
}

func TestChannelsSyncFailuresExitOne(t *testing.T) {
	db := channelsBook(t)
	srv := fakeSlackEnv(t)
	srv.AddChannel(slacktest.Channel{ID: "C0OLDACME", Name: "acct-acme-corp", Archived: true})
	code, out, errOut := runCLI(t, db, "channels", "sync")
	if code != exitFailure || !strings.Contains(out, "failed Acme Corp (#acct-acme-corp): #acct-acme-corp exists but is archived") ||
		!strings.Contains(errOut, "1 of 2 accounts got no channel") {
		t.Errorf("sync with an archived namesake = exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestChannelsUsageErrors(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", "")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"channels"}, "usage: csbot channels sync"},
		{[]string{"channels", "create"}, "usage: csbot channels sync"},
		{[]string{"channels", "sync", "--pattern", "acct"}, "--pattern: channel pattern \"acct\" names no account"},
		{[]string{"channels", "sync", "--pattern", "{name}"}, "--pattern: channel pattern \"{name}\" needs at least 2 letters or digits of its own"},
		{[]string{"channels", "sync", "--frobnicate"}, "flag provided but not defined"},
		{[]string{"channels", "sync"}, "channels sync talks to Slack: set SLACK_BOT_TOKEN"},
	} {
		code, _, errOut := runCLI(t, "postgres://unused.invalid/x", tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("csbot %v = exit %d, stderr %q; want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	t.Setenv("CSBOT_CHANNEL_PATTERN", "{nom}")
	if code, _, errOut := runCLI(t, "postgres://unused.invalid/x", "channels", "sync"); code != exitUsage || !strings.Contains(errOut, "unknown placeholder {nom}") {
		t.Errorf("a bad CSBOT_CHANNEL_PATTERN = exit %d, %q; want exit 2 naming the placeholder", code, errOut)
	}
	t.Setenv("CSBOT_CHANNEL_PATTERN", "{name}-")
	if code, _, errOut := runCLI(t, "postgres://unused.invalid/x", "channels", "sync"); code != exitUsage ||
		!strings.Contains(errOut, "channel pattern \"{name}-\" needs at least 2 letters or digits of its own") {
		t.Errorf("CSBOT_CHANNEL_PATTERN={name}- = exit %d, %q; want exit 2 asking for text of its own", code, errOut)
	}
}

func TestChannelsSyncKeepsALinkMadeMeanwhile(t *testing.T) {
	ctx := context.Background()
	db := channelsBook(t)
	srv := fakeSlackEnv(t)
	s := openTestStore(ctx, t, db)
	acme, err := s.AccountByExternalID(ctx, "ACME-001")
	if err != nil {
		t.Fatal(err)
	}
	// Between the sync's list of accounts and its link, someone types
	// `/health link acme` in C0BYHAND: csbot's calls go through a proxy
	// that does it as Acme's channel is being created.
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	var once sync.Once
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/conversations.create") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte("acct-acme-corp")) {
				once.Do(func() {
					if _, err := s.LinkChannel(r.Context(), acme.ID, "C0BYHAND", "U0CSM1"); err != nil {
						t.Errorf("LinkChannel meanwhile: %v", err)
					}
				})
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	t.Setenv("SLACK_API_URL", front.URL+"/api/")

	code, out, errOut := runCLI(t, db, "channels", "sync")
	if code != exitOK {
		t.Fatalf("channels sync exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{"skipped Acme Corp (#acct-acme-corp): the account got a channel meanwhile (C0BYHAND), which it keeps",
		"  ! csbot had created #acct-acme-corp (", "created #acct-globex (",
		"2 accounts without a channel: 1 created, 0 existing linked, 0 failed, 1 got a channel meanwhile"} {
		if !strings.Contains(out, want) {
			t.Errorf("sync output lacks %q:\n%s", want, out)
		}
	}
	if a, _ := s.AccountByExternalID(ctx, "ACME-001"); a.SlackChannelID != "C0BYHAND" {
		t.Errorf("Acme linked to %q, want the C0BYHAND linked meanwhile kept", a.SlackChannelID)
	}
	found := false
	for _, c := range srv.Conversations() {
		if c.Name != "acct-acme-corp" {
			continue
		}
		found = true
		if msgs, pins, members := srv.Messages(c.ID), srv.Pins(c.ID), srv.Members(c.ID); len(msgs) != 0 || len(pins) != 0 || len(members) != 0 {
			t.Errorf("the channel Acme no longer needs got messages %+v, pins %v, members %v; want none", msgs, pins, members)
		}
	}
	if !found {
		t.Error("the sync created no channel for Acme: the link came before it")
	}
}
