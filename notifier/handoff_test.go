package notifier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot/slacktest"
)

// handoffFixture is the delivery fixture with an onboarding lead, their
// channel, and a handoff builder.
func handoffFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, fixtureOptions{})
	f.mustImport("users", "slack_id,role,name,manager_slack_id,timezone\nU0ONB,onboarding,Olga Onboarding,U0MGR,Europe/Berlin\nU0AE,sales,Al Sales,,\n")
	f.srv.AddUser(slacktest.User{ID: "U0ONB", Name: "olga"})
	f.srv.AddUser(slacktest.User{ID: "U0AE", Name: "al"})
	f.srv.AddChannel(slacktest.Channel{ID: "C0ONB", Name: "onboarding", Member: true})
	return f
}

func (f *fixture) handoff(ext, owner string) csbot.Handoff {
	f.t.Helper()
	h, err := f.db.CreateHandoff(f.ctx, csbot.Handoff{
		AccountID: f.ids[ext], Author: "U0AE", Owner: owner,
		Goals: "Cut onboarding time in half <!channel>", SuccessCriteria: "80% of seats active by week 6",
		Products: "Core + SSO", Seats: 200,
		Stakeholders: []csbot.Stakeholder{{Role: csbot.RoleChampion, Name: "Bea Champion", Title: "VP Ops"}},
	}, "C0ONB", f.clock.Now())
	if err != nil {
		f.t.Fatalf("CreateHandoff: %v", err)
	}
	return h
}

func TestHandoffIsPostedAcknowledgedAndTheAuthorTold(t *testing.T) {
	f := handoffFixture(t)
	h := f.handoff("A-OPEN", "U0ONB")
	f.waitDelivered()

	for _, ch := range []string{"C0OPEN", "C0ONB"} {
		msgs := f.srv.Messages(ch)
		if len(msgs) != 1 {
			t.Fatalf("%s has %d messages, want the handoff", ch, len(msgs))
		}
		b := blocksText(msgs[0].Blocks)
		for _, want := range []string{"Handoff: Open Channel Co", "Cut onboarding time", "Bea Champion", "no exec sponsor named",
			"handoff_ack", "handoff_question", "handoff_reassign", "Waiting for onboarding"} {
			if !strings.Contains(b, want) {
				t.Errorf("%s: the handoff lacks %q", ch, want)
			}
		}
		if strings.Contains(b, "<!channel>") {
			t.Errorf("%s: the handoff re-posts a live <!channel>", ch)
		}
	}

	if _, ok, err := f.db.AckHandoff(f.ctx, h.ID, "U0ONB", f.clock.Now()); err != nil || !ok {
		t.Fatalf("AckHandoff = %v, %v", ok, err)
	}
	f.waitDelivered()
	for _, ch := range []string{"C0OPEN", "C0ONB"} {
		m := f.srv.Messages(ch)[0]
		if b := blocksText(m.Blocks); m.Edits != 1 || !strings.Contains(b, "Acknowledged by <@U0ONB>") || strings.Contains(b, `"handoff_ack"`) {
			t.Errorf("%s: after the acknowledgement the message has %d edits: %s", ch, m.Edits, b)
		}
	}
	dm := f.srv.Messages(f.dmOf("U0AE"))
	if len(dm) != 1 || !strings.Contains(dm[0].Text, "acknowledged your handoff") {
		t.Fatalf("the author's DM has %d messages, want one saying it was acknowledged", len(dm))
	}
}

func TestUnacknowledgedHandoffNudgesThenEscalates(t *testing.T) {
	f := handoffFixture(t)
	// Start on a Monday at 10:00 in the owner's zone.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := f.clock.Now().In(berlin)
	days := int(8-now.Weekday()) % 7
	if days == 0 {
		days = 7 // next Monday, never earlier today
	}
	monday := time.Date(now.Year(), now.Month(), now.Day()+days, 10, 0, 0, 0, berlin)
	f.clock.Advance(monday.Sub(f.clock.Now()))
	h := f.handoff("A-OPEN", "U0ONB")
	f.waitDelivered()

	due := func() {
		t.Helper()
		if _, err := f.n.DuePass(f.ctx, f.clock.Now(), false); err != nil {
			t.Fatal(err)
		}
		f.waitDelivered()
	}
	owner, manager := f.dmOf("U0ONB"), f.dmOf("U0MGR")
	// The manager gets a weekly digest too: count the handoff's messages.
	about := func(ch string) []slacktest.Message {
		var out []slacktest.Message
		for _, m := range f.srv.Messages(ch) {
			if strings.Contains(m.Text, "Handoff for") {
				out = append(out, m)
			}
		}
		return out
	}
	f.clock.Advance(23 * time.Hour)
	due()
	if n := len(about(owner)); n != 0 {
		t.Fatalf("a nudge before one business day: %d", n)
	}
	f.clock.Advance(time.Hour + time.Minute) // Tuesday 10:01
	due()
	due()
	if msgs := about(owner); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "waiting 1 business day") {
		t.Fatalf("the owner has %d messages after one business day, want one nudge", len(msgs))
	}
	if n := len(about(manager)); n != 0 {
		t.Fatalf("the manager was told after one business day")
	}
	f.clock.Advance(48 * time.Hour) // Thursday 10:01: three business days
	due()
	due()
	if msgs := about(manager); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "waiting 3 business days") {
		t.Fatalf("the manager has %d messages after three business days, want one escalation", len(msgs))
	}

	// Once taken, no more.
	if _, _, err := f.db.AckHandoff(f.ctx, h.ID, "U0ONB", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(7 * 24 * time.Hour)
	due()
	if n := len(about(owner)) + len(about(manager)); n != 2 {
		t.Errorf("%d nudges in all after the acknowledgement, want still 2", n)
	}
}

func TestHandoffStaysOutOfASharedOnboardingChannel(t *testing.T) {
	f := handoffFixture(t)
	f.srv.AddChannel(slacktest.Channel{ID: "C0ONB", Name: "onboarding", Member: true, ExtShared: true, Shared: true})
	f.handoff("A-OPEN", "U0ONB")
	f.waitDelivered()
	if n := len(f.srv.Messages("C0ONB")); n != 0 {
		t.Fatalf("the shared onboarding channel got %d messages", n)
	}
	if n := len(f.srv.Messages("C0OPEN")); n != 1 {
		t.Fatalf("the account channel got %d messages, want the handoff", n)
	}
	dm := f.srv.Messages(f.dmOf("U0AE"))
	if len(dm) != 1 || !strings.Contains(blocksText(dm[0].Blocks), "shared with people outside the company") {
		t.Fatalf("the author got %d DMs, want the handoff with the reason", len(dm))
	}
}
