package slacktest_test

import (
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/csbot/csbot/bot/slacktest"
)

// TestRevisionCountsByWhatChanged checks that each change moves the
// counters of what it touches, and those alone.
func TestRevisionCountsByWhatChanged(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddChannel(slacktest.Channel{ID: "C2", Name: "globex", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	srv.AddUser(slacktest.User{ID: "U2", Name: "bo"})
	api := newAPI(srv)

	step := func(what string, do func(), channel, views, workspace bool) {
		t.Helper()
		before := srv.Revision("C1", "U1")
		do()
		after := srv.Revision("C1", "U1")
		for _, c := range []struct {
			name          string
			before, after uint64
			want          bool
		}{{"channel", before.Channel, after.Channel, channel}, {"views", before.Views, after.Views, views},
			{"workspace", before.Workspace, after.Workspace, workspace}} {
			if moved := c.after > c.before; moved != c.want {
				t.Errorf("%s: %s counter %d -> %d, want moved %v", what, c.name, c.before, c.after, c.want)
			}
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var ts string
	step("a message in another channel", func() {
		_, _, err := api.PostMessageContext(ctx, "C2", slack.MsgOptionText("hi", false))
		must(err)
	}, false, false, true)
	step("a message in the channel", func() {
		var err error
		_, ts, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
		must(err)
	}, true, false, true)
	step("a thread reply", func() {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("re", false), slack.MsgOptionTS(ts))
		must(err)
	}, true, false, true)
	step("an ephemeral message", func() {
		_, err := api.PostEphemeralContext(ctx, "C1", "U2", slack.MsgOptionText("psst", false))
		must(err)
	}, true, false, false)
	step("a Web API call that changes nothing", func() {
		_, err := api.AuthTestContext(ctx)
		must(err)
	}, false, false, false)
	step("a modal of another user", func() {
		_, err := api.OpenViewContext(ctx, srv.IssueTriggerID("U2"), slack.ModalViewRequest{Type: slack.VTModal,
			Title: slack.NewTextBlockObject(slack.PlainTextType, "Hi", false, false)})
		must(err)
	}, false, false, false)
	step("a modal of the user", func() {
		_, err := api.OpenViewContext(ctx, srv.IssueTriggerID("U1"), slack.ModalViewRequest{Type: slack.VTModal,
			Title: slack.NewTextBlockObject(slack.PlainTextType, "Hi", false, false)})
		must(err)
	}, false, true, false)
	step("a channel added", func() { srv.AddChannel(slacktest.Channel{ID: "C3", Name: "initech"}) }, false, false, true)

	client := startSocketClient(ctx, t, srv)
	var env slacktest.Envelope
	step("a slash command sent from the channel", func() {
		var err error
		env, err = srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/health", UserID: "U1", ChannelID: "C1"})
		must(err)
	}, true, false, false)
	evt := nextEvent(ctx, t, client, socketmode.EventTypeSlashCommand)
	step("its ack", func() {
		must(client.Ack(*evt.Request))
		_, err := srv.WaitForAck(ctx, env.ID)
		must(err)
	}, true, false, false)

	posts := func(want map[string]int) {
		t.Helper()
		for _, c := range srv.Conversations() {
			if c.Posts != want[c.ID] {
				t.Errorf("%s counts %d posts, want %d", c.ID, c.Posts, want[c.ID])
			}
		}
	}
	posts(map[string]int{"C1": 1, "C2": 1}) // a thread reply is not one
	step("a message deleted", func() {
		_, _, err := api.DeleteMessageContext(ctx, "C1", ts)
		must(err)
	}, true, false, true)
	posts(map[string]int{"C2": 1})
}

// TestAckForKeepsToItsSnapshot looks acks up by envelope: an ack that
// came after a snapshot is not in it, and a dropped one does not count.
func TestAckForKeepsToItsSnapshot(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t, slacktest.WithMaxRetries(0))
	client := startSocketClient(ctx, t, srv)
	env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", UserID: "U1", ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	evt := nextEvent(ctx, t, client, socketmode.EventTypeSlashCommand)
	before := srv.Snapshot()
	if err := client.Ack(*evt.Request, map[string]string{"text": "ok"}); err != nil {
		t.Fatal(err)
	}
	ack, err := srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := before.AckFor(env.ID); ok {
		t.Errorf("a snapshot taken before the ack holds it: %+v", a)
	}
	if a, ok := srv.Snapshot().AckFor(env.ID); !ok || a.EnvelopeID != evt.Request.EnvelopeID || a.At != ack.At {
		t.Errorf("AckFor = %+v, %v; want the ack", a, ok)
	}
	if _, ok := srv.Snapshot().AckFor("no-such-envelope"); ok {
		t.Error("an unknown envelope has an ack")
	}
}
