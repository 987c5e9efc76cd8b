package commands_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/csbot/csbot/store"
	"github.com/slack-go/slack"
)

// auditEntries returns the audit entries of action, newest first.
func auditEntries(ctx context.Context, t *testing.T, s *store.Store, action string) []csbot.AuditEntry {
	t.Helper()
	all, err := s.Audit(ctx, csbot.AuditFilter{Limit: csbot.MaxAuditLimit})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	var out []csbot.AuditEntry
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// oneAuditEntry returns the one audit entry of action, failing unless
// there is exactly one.
func oneAuditEntry(ctx context.Context, t *testing.T, s *store.Store, action string) csbot.AuditEntry {
	t.Helper()
	got := auditEntries(ctx, t, s, action)
	if len(got) != 1 {
		t.Fatalf("%d audit entries of %s, want 1: %+v", len(got), action, got)
	}
	return got[0]
}

func TestAuditedLookupButtonAndSubmission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	acme := e.accountID(ctx, t, "ACME-001")

	// A lookup by an e-mail address on the account's domain: the entry
	// has the account, and not the address.
	rep, err := e.reg.commands["/health"](ctx, bot.CommandRequest{Request: e.request(ctx, t, "U0CSM2", "C0ELSE1"),
		Command: "/health", Text: "rr@acme.com"})
	if err != nil || healthHeader(rep) != "Acme Corp" {
		t.Fatalf("/health rr@acme.com = %q, %v; want Acme's card", healthHeader(rep), err)
	}
	cmd := oneAuditEntry(ctx, t, e.store, "command:/health")
	if cmd.Actor != "U0CSM2" || cmd.AccountID != acme || cmd.AccountName != "Acme Corp" || cmd.Channel != "C0ELSE1" ||
		cmd.Details["text"] != "***@acme.com" || !cmd.At.Equal(healthNow()) {
		t.Errorf("/health entry = %+v, want U0CSM2 on Acme from C0ELSE1 at %v, the address masked", cmd, healthNow())
	}

	// A button.
	e.click(ctx, t, "U0CSM1", "C0ACME1", "health_actions", "pick:renewals", strconv.FormatInt(acme, 10))
	btn := oneAuditEntry(ctx, t, e.store, "action:pick:")
	if btn.Actor != "U0CSM1" || btn.AccountID != acme || btn.Channel != "C0ACME1" ||
		btn.Details["action_id"] != "pick:renewals" || btn.Details["value"] != strconv.FormatInt(acme, 10) {
		t.Errorf("button entry = %+v, want U0CSM1 on Acme from C0ACME1 with the action id and value", btn)
	}

	// A submission: the entry of the form, and the store's own record of
	// the override.
	if _, err := e.reg.views[commands.OverrideCallbackTest].Submit(ctx,
		e.overrideRequest(ctx, t, "U0CSM1", acme, "yellow", "", "Renewal confirmed by jo@acme.com", "30")); err != nil {
		t.Fatalf("override Submit: %v", err)
	}
	view := oneAuditEntry(ctx, t, e.store, "view:"+commands.OverrideCallbackTest)
	if view.Actor != "U0CSM1" || view.AccountID != acme || view.Details["failed"] != nil {
		t.Errorf("submission entry = %+v, want U0CSM1 on Acme", view)
	}
	if o := oneAuditEntry(ctx, t, e.store, "health_overridden"); o.AccountID != acme || o.Actor != "U0CSM1" {
		t.Errorf("override entry = %+v, want U0CSM1 on Acme", o)
	}

	// A lookup that finds no one account records no account.
	if _, err := e.reg.commands["/health"](ctx, bot.CommandRequest{Request: e.request(ctx, t, "U0CSM1", "D0DM"),
		Command: "/health", Text: "initech"}); err != nil {
		t.Fatal(err)
	}
	if got := auditEntries(ctx, t, e.store, "command:/health"); len(got) != 2 || got[0].AccountID != 0 || got[0].Details["text"] != "initech" {
		t.Errorf("pick-list entry = %+v, want one without an account", got[0])
	}
}

func TestAuditedFailureIsRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	// A button whose handler fails: the database goes away under it.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := e.reg.action(t, "pick:health")(cctx, bot.ActionRequest{Request: e.request(ctx, t, "U0CSM1", "C0ELSE1"),
		Action: slack.BlockAction{ActionID: "pick:health", Value: "1"}})
	if err == nil {
		t.Fatal("pick with a cancelled context = nil error, want the database's")
	}
	if got := oneAuditEntry(ctx, t, e.store, "action:pick:"); got.Details["failed"] != true {
		t.Errorf("entry of a failed handler = %+v, want it marked failed", got)
	}
}

// brokenAudit is a store whose audit log cannot be written.
type brokenAudit struct{ *store.Store }

func (brokenAudit) RecordAudit(context.Context, csbot.AuditEntry) error {
	return errors.New("audit_log: disk full")
}

func TestAuditFailureNeverFailsTheRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	reg := newHealthRegistrar()
	var logs strings.Builder
	commands.New(commands.Config{Store: brokenAudit{e.store}, Policy: csbot.DefaultPolicy(), Now: healthNow,
		Logger: testLogger(&logs)}).Register(reg)
	rep, err := reg.commands["/health"](ctx, bot.CommandRequest{Request: e.request(ctx, t, "U0CSM1", "C0ELSE1"), Command: "/health", Text: "acme"})
	if err != nil || healthHeader(rep) != "Acme Corp" {
		t.Fatalf("/health acme with a broken audit log = %q, %v; want the card", healthHeader(rep), err)
	}
	if !strings.Contains(logs.String(), "audit log: entry not written") || !strings.Contains(logs.String(), "disk full") {
		t.Errorf("log = %q, want a warning naming the failure", logs.String())
	}
}

func TestAuditedShortcuts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	fn := e.shortcuts["new_handoff"]
	if fn == nil {
		t.Fatal("the audited registrar lost the shortcuts")
	}
	rep, err := fn(ctx, bot.ShortcutRequest{Request: e.request(ctx, t, "U0SALES", "C0ACME1"), CallbackID: "new_handoff"})
	if err != nil {
		t.Fatal(err)
	}
	// The form opens before the entry is written (Slack's trigger lasts
	// 3 s): the runtime runs the reply's Then once it has opened.
	if rep.OpenView == nil || rep.Then == nil {
		t.Fatalf("new_handoff = %+v, want a form and its follow-up", rep)
	}
	if n := len(auditEntries(ctx, t, e.store, "shortcut:new_handoff")); n != 0 {
		t.Errorf("%d entries written before the form opened, want 0", n)
	}
	if _, err := rep.Then(ctx, "V0FORM"); err != nil {
		t.Fatal(err)
	}
	got := oneAuditEntry(ctx, t, e.store, "shortcut:new_handoff")
	if got.Actor != "U0SALES" || got.AccountID != e.accountID(ctx, t, "ACME-001") || got.Channel != "C0ACME1" {
		t.Errorf("shortcut entry = %+v, want U0SALES on Acme (the channel's account) from C0ACME1", got)
	}
}

// testLogger logs to w as text.
func testLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
