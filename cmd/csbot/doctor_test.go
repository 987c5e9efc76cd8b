package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/store/pgtest"
)

// doctorBook imports a complete book: every user has a time zone, every
// account a CSM, a renewal contact and a channel; channels maps each
// account's CRM id to its channel. It returns the database's URL.
func doctorBook(t *testing.T, channels map[string]string) string {
	t.Helper()
	db := pgtest.NewDatabase(context.Background(), t)
	var accounts, contacts strings.Builder
	accounts.WriteString("external_id,name,tier,arr,csm,channel\n")
	contacts.WriteString("account_external_id,name,role\n")
	ids := make([]string, 0, len(channels))
	for id := range channels {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(&accounts, "%s,Account %s,low,1000,U0CSM1,%s\n", id, id, channels[id])
		fmt.Fprintf(&contacts, "%s,Renee Newal,renewal\n", id)
	}
	for _, f := range [][2]string{
		{"users", "slack_id,role,name,timezone\nU0CSM1,csm,Dana,Europe/Berlin\n"},
		{"accounts", accounts.String()},
		{"contacts", contacts.String()},
	} {
		if code, _, errOut := runCLI(t, db, "import", f[0], writeFile(t, f[0]+".csv", f[1]), "--no-score"); code != exitOK {
			t.Fatalf("import %s: exit %d: %s", f[0], code, errOut)
		}
	}
	return db
}

func TestDoctorWithoutSlackChecksTheData(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", "")
	t.Setenv("SLACK_APP_TOKEN", "")
	db := channelsBook(t)
	var many strings.Builder
	many.WriteString("external_id,name,tier,arr\n")
	for i := range 12 {
		fmt.Fprintf(&many, "NOCSM-%02d,Orphan %02d,tech,%d\n", i, i, 100-i)
	}
	if code, _, errOut := runCLI(t, db, "import", "accounts", writeFile(t, "orphans.csv", many.String()), "--no-score"); code != exitOK {
		t.Fatalf("import: %s", errOut)
	}
	code, out, errOut := runCLI(t, db, "doctor")
	if code != exitFailure || !strings.Contains(errOut, "doctor found 13 problems") {
		t.Errorf("doctor = exit %d, stderr %q; want exit 1 and 13 problems", code, errOut)
	}
	for _, want := range []string{
		"--    Slack checks skipped: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set",
		"FAIL  Initech (INI-1) has no CSM: its alerts and reminders reach nobody; fix: give INI-1 a csm (Slack id or e-mail) in the accounts import",
		"FAIL  Orphan 00 (NOCSM-00) has no CSM",
		"FAIL  ...and 3 more accounts without a CSM (csbot doctor --all lists them)",
		"WARN  Globex (GLX-042) has no renewal contact: nobody on file signs its renewal; fix: add a contact with role renewal for GLX-042 in the contacts import",
		"WARN  U0CSM2 (Fox, csm) has no time zone: their reminders and digests follow CSBOT_TIMEZONE; fix: give U0CSM2 a timezone (e.g. Europe/Berlin) in the users import",
		"WARN  14 accounts have no channel: their alerts go to the CSM's direct messages; fix: csbot channels sync",
		"13 problems, ",
		"(Slack checks skipped).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Gone Inc") {
		t.Errorf("doctor reports a churned account:\n%s", out)
	}
	_, all, _ := runCLI(t, db, "doctor", "--all")
	if !strings.Contains(all, "Orphan 11 (NOCSM-11) has no CSM") || strings.Contains(all, "more accounts without a CSM") {
		t.Errorf("doctor --all does not list every account:\n%s", all)
	}
}

func TestDoctorFindsSlackProblems(t *testing.T) {
	scopes := slices.DeleteFunc(slices.Clone(bot.Manifest().BotScopes), func(s string) bool { return s == "pins:write" })
	srv := fakeSlackEnv(t, slacktest.WithScopes(append(scopes, "admin")...))
	srv.AddChannel(slacktest.Channel{ID: "C0ACME", Name: "acct-acme", Member: true})
	srv.AddChannel(slacktest.Channel{ID: "C0GLX", Name: "acct-globex"})
	srv.AddChannel(slacktest.Channel{ID: "C0SHARED", Name: "acct-initech", Member: true, ExtShared: true, Shared: true})
	srv.AddChannel(slacktest.Channel{ID: "C0OLD", Name: "acct-old", Member: true, Archived: true})
	srv.AddChannel(slacktest.Channel{ID: "C0SECRET", Name: "acct-secret", Private: true})
	db := doctorBook(t, map[string]string{"ACME": "C0ACME", "GLX": "C0GLX", "INI": "C0SHARED", "OLD": "C0OLD", "GONE": "C0GONE", "SEC": "C0SECRET"})

	code, out, errOut := runCLI(t, db, "doctor")
	if code != exitFailure || !strings.Contains(errOut, "doctor found 5 problems") {
		t.Errorf("doctor = exit %d, stderr %q; want exit 1 and 5 problems\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"ok    bot token: @csbot (U0CSBOT) in csbot-test (T0CSBOT)",
		"ok    app token: Socket Mode connections open",
		"FAIL  the bot token lacks scope pins:write that csbot uses; fix: update the app from manifest.yml",
		"WARN  the bot token has a scope csbot does not use: admin",
		"FAIL  #acct-globex (C0GLX), the channel of Account GLX, doesn't have csbot in it; fix: invite @csbot to #acct-globex: /invite @csbot",
		"FAIL  #acct-old (C0OLD), the channel of Account OLD, is archived",
		"FAIL  C0GONE, the channel of Account GONE, doesn't exist or csbot can't see it (conversations.info: channel_not_found)",
		"FAIL  #acct-secret (C0SECRET), the channel of Account SEC, doesn't have csbot in it",
		"WARN  #acct-initech (C0SHARED), the channel of Account INI, is shared with another organisation",
		"ok    account channels: 1 of 6 exist, have csbot in them and are internal",
		"5 problems, 2 warnings (Slack checks done).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if n := len(srv.Calls("conversations.info")); n != 2 {
		t.Errorf("conversations.info called %d times, want only for the 2 channels the listing lacks", n)
	}
}

func TestDoctorAllIsWell(t *testing.T) {
	srv := fakeSlackEnv(t, slacktest.WithScopes(bot.Manifest().BotScopes...))
	srv.AddChannel(slacktest.Channel{ID: "C0ACME", Name: "acct-acme", Member: true})
	srv.AddChannel(slacktest.Channel{ID: "C0PRIV", Name: "acct-private", Member: true, Private: true})
	db := doctorBook(t, map[string]string{"ACME": "C0ACME", "PRIV": "C0PRIV"})
	code, out, errOut := runCLI(t, db, "doctor")
	if code != exitOK || !strings.Contains(out, "All is well (Slack checks done).") || errOut != "" {
		t.Errorf("doctor = exit %d, stderr %q:\n%s\nwant exit 0 and all well", code, errOut, out)
	}
	for _, want := range []string{"ok    bot token scopes: the", "ok    account channels: 2 of 2", "ok    data: every account has a CSM"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}

func TestDoctorBadTokens(t *testing.T) {
	srv := fakeSlackEnv(t)
	db := doctorBook(t, map[string]string{"ACME": ""})
	srv.SetTokenError("invalid_auth")
	t.Setenv("SLACK_APP_TOKEN", "xapp-1-not-the-one")
	code, out, _ := runCLI(t, db, "doctor")
	for _, want := range []string{
		"FAIL  Slack refuses SLACK_BOT_TOKEN (auth.test: invalid_auth)",
		"FAIL  Slack refuses SLACK_APP_TOKEN (apps.connections.open: invalid_auth)",
		"--    account channel checks skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if code != exitFailure {
		t.Errorf("doctor with bad tokens = exit %d, want 1", code)
	}
	t.Setenv("SLACK_APP_TOKEN", "")
	srv.SetTokenError("")
	if _, out, _ := runCLI(t, db, "doctor"); !strings.Contains(out, "FAIL  SLACK_APP_TOKEN is not set") || !strings.Contains(out, "WARN  Slack did not say which scopes") {
		t.Errorf("doctor without an app token:\n%s", out)
	}
}

func TestDoctorUsage(t *testing.T) {
	for _, args := range [][]string{{"doctor", "now"}, {"doctor", "--frobnicate"}} {
		if code, _, errOut := runCLI(t, "postgres://unused.invalid/x", args...); code != exitUsage || errOut == "" {
			t.Errorf("csbot %v = exit %d, stderr %q; want exit 2 and a message", args, code, errOut)
		}
	}
}
