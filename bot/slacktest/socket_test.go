package slacktest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/csbot/csbot/bot/slacktest"
)

func TestHelloAndSlashCommandAcks(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	client := startSocketClient(ctx, t, srv)

	hello := nextEvent(ctx, t, client, socketmode.EventTypeHello)
	if hello.Request.NumConnections != 1 || hello.Request.ConnectionInfo.AppID != slacktest.DefaultAppID || hello.Request.DebugInfo.Host == "" {
		t.Errorf("hello = %+v, want num_connections 1, app_id %s and a debug host", *hello.Request, slacktest.DefaultAppID)
	}
	open := srv.Calls("apps.connections.open")
	if len(open) != 1 || open[0].Token != srv.AppToken() {
		t.Fatalf("apps.connections.open calls = %+v, want one with the app token", open)
	}

	// An ack without payload.
	env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "ping", UserID: "U1", ChannelID: "C1"})
	if err != nil {
		t.Fatalf("SendSlashCommand: %v", err)
	}
	evt := nextEvent(ctx, t, client, socketmode.EventTypeSlashCommand)
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		t.Fatalf("event data is %T, want slack.SlashCommand", evt.Data)
	}
	want := slack.SlashCommand{
		Token: cmd.Token, TeamID: srv.TeamID(), TeamDomain: slacktest.DefaultTeamDomain,
		ChannelID: "C1", ChannelName: "acme", UserID: "U1", UserName: "ana",
		Command: "/csbot", Text: "ping", ResponseURL: env.ResponseURL, TriggerID: env.TriggerID,
		APIAppID: slacktest.DefaultAppID,
	}
	if cmd != want {
		t.Errorf("slash command = %+v, want %+v", cmd, want)
	}
	if evt.Request.EnvelopeID != env.ID || !evt.Request.AcceptsResponsePayload || evt.Request.RetryAttempt != 0 {
		t.Errorf("request = %+v, want envelope %s accepting a payload, first attempt", *evt.Request, env.ID)
	}
	if err := client.Ack(*evt.Request); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	ack, err := srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Payload != nil || ack.Latency <= 0 || ack.Connection != 1 || ack.Duplicate || ack.Unknown {
		t.Errorf("ack = %+v, want no payload, a latency, connection 1", ack)
	}

	// An ack with a payload.
	env2, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "help", UserID: "U1", ChannelID: "C1"})
	if err != nil {
		t.Fatalf("SendSlashCommand: %v", err)
	}
	evt = nextEvent(ctx, t, client, socketmode.EventTypeSlashCommand)
	if err := client.Ack(*evt.Request, map[string]any{"response_type": "ephemeral", "text": "pong"}); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	ack, err = srv.WaitForAck(ctx, env2.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := ack.DecodePayload(&reply); err != nil {
		t.Fatal(err)
	}
	if reply.Text != "pong" || reply.ResponseType != "ephemeral" {
		t.Errorf("ack payload = %+v, want ephemeral pong", reply)
	}
	if d := srv.Deliveries(); len(d) != 2 {
		t.Errorf("deliveries = %d, want 2", len(d))
	}
}

func TestInteractionsDecode(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	api := newAPI(srv)
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("Acme is at risk", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("alert", slack.NewButtonBlockElement("ack", "alert-1",
			slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false)))))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	view, err := api.OpenViewContext(ctx, srv.IssueTriggerID("U1"), slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Override", false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Save", false, false),
		CallbackID:      "override",
		PrivateMetadata: "acct-42",
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("score",
			slack.NewTextBlockObject(slack.PlainTextType, "Score", false, false), nil,
			slack.NewPlainTextInputBlockElement(nil, "value"))}},
	})
	if err != nil {
		t.Fatalf("OpenView: %v", err)
	}
	client := startSocketClient(ctx, t, srv)

	tests := []struct {
		name  string
		in    slacktest.Interaction
		check func(t *testing.T, cb slack.InteractionCallback, env slacktest.Envelope)
		ack   any
	}{
		{
			name: "block_actions on a message",
			in: slacktest.Interaction{Type: "block_actions", UserID: "U1", ChannelID: "C1", MessageTS: ts,
				Actions: []slacktest.Action{{ActionID: "ack", BlockID: "alert", Value: "alert-1", Text: "Acknowledge"}}},
			check: func(t *testing.T, cb slack.InteractionCallback, env slacktest.Envelope) {
				if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 {
					t.Fatalf("callback = %+v, want one block action", cb)
				}
				a := cb.ActionCallback.BlockActions[0]
				if a.ActionID != "ack" || a.BlockID != "alert" || a.Value != "alert-1" {
					t.Errorf("action = %+v", a)
				}
				if cb.Container.MessageTs != ts || cb.Channel.ID != "C1" || cb.Message.Text != "Acme is at risk" || cb.User.ID != "U1" {
					t.Errorf("container %+v, channel %q, message %q, user %q", cb.Container, cb.Channel.ID, cb.Message.Text, cb.User.ID)
				}
				if cb.ResponseURL != env.ResponseURL || cb.TriggerID != env.TriggerID || env.ResponseURL == "" {
					t.Errorf("response_url %q trigger %q, want %q %q", cb.ResponseURL, cb.TriggerID, env.ResponseURL, env.TriggerID)
				}
			},
		},
		{
			name: "view_submission with validation errors",
			in: slacktest.Interaction{Type: "view_submission", UserID: "U1", ViewID: view.ID,
				Values: map[string]map[string]any{"score": {"value": map[string]any{"type": "plain_text_input", "value": "120"}}}},
			check: func(t *testing.T, cb slack.InteractionCallback, _ slacktest.Envelope) {
				if cb.Type != slack.InteractionTypeViewSubmission || cb.View.ID != view.ID || cb.View.CallbackID != "override" || cb.View.PrivateMetadata != "acct-42" {
					t.Errorf("view = %+v", cb.View)
				}
				if got := cb.View.State.Values["score"]["value"].Value; got != "120" {
					t.Errorf("state value = %q, want 120", got)
				}
			},
			ack: slack.NewErrorsViewSubmissionResponse(map[string]string{"score": "between 0 and 100"}),
		},
		{
			name: "global shortcut",
			in:   slacktest.Interaction{Type: "shortcut", UserID: "U1", CallbackID: "new_handoff"},
			check: func(t *testing.T, cb slack.InteractionCallback, env slacktest.Envelope) {
				if cb.Type != slack.InteractionTypeShortcut || cb.CallbackID != "new_handoff" || cb.TriggerID != env.TriggerID {
					t.Errorf("callback = %+v", cb)
				}
			},
		},
		{
			name: "message action",
			in:   slacktest.Interaction{Type: "message_action", UserID: "U1", ChannelID: "C1", MessageTS: ts, CallbackID: "log_touchpoint"},
			check: func(t *testing.T, cb slack.InteractionCallback, env slacktest.Envelope) {
				if cb.Type != slack.InteractionTypeMessageAction || cb.CallbackID != "log_touchpoint" || cb.MessageTs != ts || cb.Message.Timestamp != ts || cb.ResponseURL != env.ResponseURL {
					t.Errorf("callback = %+v", cb)
				}
			},
		},
		{
			name: "block_suggestion answered with options",
			in:   slacktest.Interaction{Type: "block_suggestion", UserID: "U1", ViewID: view.ID, ActionID: "account", BlockID: "acct", Value: "acm"},
			check: func(t *testing.T, cb slack.InteractionCallback, _ slacktest.Envelope) {
				if cb.Type != slack.InteractionTypeBlockSuggestion || cb.ActionID != "account" || cb.BlockID != "acct" || cb.Value != "acm" || cb.View.ID != view.ID {
					t.Errorf("callback = %+v", cb)
				}
			},
			ack: slack.OptionsResponse{Options: []*slack.OptionBlockObject{
				slack.NewOptionBlockObject("acme", slack.NewTextBlockObject(slack.PlainTextType, "Acme", false, false), nil),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := srv.SendInteraction(ctx, tt.in)
			if err != nil {
				t.Fatalf("SendInteraction: %v", err)
			}
			evt := nextEvent(ctx, t, client, socketmode.EventTypeInteractive)
			cb, ok := evt.Data.(slack.InteractionCallback)
			if !ok {
				t.Fatalf("event data is %T, want slack.InteractionCallback", evt.Data)
			}
			tt.check(t, cb, env)
			if tt.ack != nil {
				err = client.Ack(*evt.Request, tt.ack)
			} else {
				err = client.Ack(*evt.Request)
			}
			if err != nil {
				t.Fatalf("Ack: %v", err)
			}
			ack, err := srv.WaitForAck(ctx, env.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.ack == nil {
				if ack.Payload != nil {
					t.Errorf("ack payload = %s, want none", ack.Payload)
				}
				return
			}
			wantJSON, _ := json.Marshal(tt.ack)
			if string(ack.Payload) != string(wantJSON) {
				t.Errorf("ack payload = %s, want %s", ack.Payload, wantJSON)
			}
		})
	}

	var errs slack.ViewSubmissionResponse
	a, _ := srv.Snapshot().AckFor(srv.Deliveries()[1].EnvelopeID)
	if err := a.DecodePayload(&errs); err != nil || errs.ResponseAction != slack.RAErrors || errs.Errors["score"] == "" {
		t.Errorf("view_submission ack = %+v (%v), want response_action errors on score", errs, err)
	}
}

func TestEventsDecode(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true, ExtShared: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	api := newAPI(srv)
	if _, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{
		Type:   slack.VTHomeTab,
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	}}); err != nil {
		t.Fatalf("PublishView: %v", err)
	}
	client := startSocketClient(ctx, t, srv)

	tests := []struct {
		ev    slacktest.Event
		check func(t *testing.T, inner any)
	}{
		{slacktest.AppHomeOpened("U1"), func(t *testing.T, inner any) {
			e, ok := inner.(*slackevents.AppHomeOpenedEvent)
			if !ok || e.User != "U1" || e.Tab != "home" || !strings.HasPrefix(e.Channel, "D") || e.View == nil || e.View.Type != slack.VTHomeTab {
				t.Errorf("inner = %#v", inner)
			}
		}},
		{slacktest.MemberJoinedChannel("U1", "C1"), func(t *testing.T, inner any) {
			e, ok := inner.(*slackevents.MemberJoinedChannelEvent)
			if !ok || e.User != "U1" || e.Channel != "C1" || e.ChannelType != "C" || e.Team != srv.TeamID() {
				t.Errorf("inner = %#v", inner)
			}
		}},
		{slacktest.ChannelShared("C1", "T0OTHER"), func(t *testing.T, inner any) {
			e, ok := inner.(*slackevents.ChannelSharedEvent)
			if !ok || e.Channel != "C1" || e.ConnectedTeamID != "T0OTHER" {
				t.Errorf("inner = %#v", inner)
			}
		}},
		{slacktest.ChannelUnshared("C1", "T0OTHER", false), func(t *testing.T, inner any) {
			e, ok := inner.(*slackevents.ChannelUnsharedEvent)
			if !ok || e.Channel != "C1" || e.PreviouslyConnectedTeamID != "T0OTHER" || e.IsExtShared {
				t.Errorf("inner = %#v", inner)
			}
		}},
		{slacktest.ChannelIDChanged("C1", "C2"), func(t *testing.T, inner any) {
			e, ok := inner.(*slackevents.ChannelIDChangedEvent)
			if !ok || e.OldChannelID != "C1" || e.NewChannelID != "C2" {
				t.Errorf("inner = %#v", inner)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.ev.Type, func(t *testing.T) {
			env, err := srv.SendEvent(ctx, tt.ev)
			if err != nil {
				t.Fatalf("SendEvent: %v", err)
			}
			evt := nextEvent(ctx, t, client, socketmode.EventTypeEventsAPI)
			outer, ok := evt.Data.(slackevents.EventsAPIEvent)
			if !ok || outer.Type != slackevents.CallbackEvent {
				t.Fatalf("event data = %#v, want an event_callback", evt.Data)
			}
			cb, ok := outer.Data.(*slackevents.EventsAPICallbackEvent)
			if !ok || cb.EventID != env.EventID || !strings.HasPrefix(cb.EventID, "Ev") || cb.TeamID != srv.TeamID() || len(cb.Authorizations) != 1 {
				t.Errorf("callback = %#v, want event_id %s", outer.Data, env.EventID)
			}
			if evt.Request.AcceptsResponsePayload {
				t.Errorf("events_api envelope accepts a response payload")
			}
			tt.check(t, outer.InnerEvent.Data)
			if err := client.Ack(*evt.Request); err != nil {
				t.Fatalf("Ack: %v", err)
			}
			if _, err := srv.WaitForAck(ctx, env.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUnackedEnvelopeIsRedelivered(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t, slacktest.WithAckTimeout(100*time.Millisecond), slacktest.WithMaxRetries(1))
	client := startSocketClient(ctx, t, srv)

	env, err := srv.SendEvent(ctx, slacktest.MemberJoinedChannel("U1", "C1"))
	if err != nil {
		t.Fatalf("SendEvent: %v", err)
	}
	first := nextEvent(ctx, t, client, socketmode.EventTypeEventsAPI)
	// Not acked: Slack tries again.
	second := nextEvent(ctx, t, client, socketmode.EventTypeEventsAPI)
	if second.Request.RetryAttempt != 1 || second.Request.RetryReason != "timeout" {
		t.Errorf("redelivery retry_attempt %d reason %q, want 1 timeout", second.Request.RetryAttempt, second.Request.RetryReason)
	}
	if second.Request.EnvelopeID == first.Request.EnvelopeID {
		t.Errorf("redelivery reused envelope_id %s", first.Request.EnvelopeID)
	}
	id1 := first.Data.(slackevents.EventsAPIEvent).Data.(*slackevents.EventsAPICallbackEvent).EventID
	id2 := second.Data.(slackevents.EventsAPIEvent).Data.(*slackevents.EventsAPICallbackEvent).EventID
	if id1 != env.EventID || id2 != env.EventID {
		t.Errorf("event ids %s, %s, want %s twice", id1, id2, env.EventID)
	}
	if err := client.Ack(*second.Request); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	ack, err := srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.RetryAttempt != 1 || ack.EnvelopeID != second.Request.EnvelopeID {
		t.Errorf("ack = %+v, want the retry's", ack)
	}
	// A late ack of the first delivery is a duplicate.
	if err := client.Ack(*first.Request); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	snap, err := srv.WaitFor(ctx, func(s slacktest.Snapshot) bool { return len(s.Acks()) == 2 })
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Acks()[1].Duplicate {
		t.Errorf("late ack = %+v, want a duplicate", snap.Acks()[1])
	}
	if n := len(snap.Deliveries()); n != 2 {
		t.Errorf("deliveries = %d, want 2 (max retries 1)", n)
	}
}

func TestOversizedAckIsDropped(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t, slacktest.WithMaxRetries(0))
	client := startSocketClient(ctx, t, srv)
	env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", UserID: "U1", ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	evt := nextEvent(ctx, t, client, socketmode.EventTypeSlashCommand)
	// slack-go refuses acks of 20 KB or more itself, so write one raw.
	if err := client.Send(socketmode.Response{EnvelopeID: evt.Request.EnvelopeID, Payload: strings.Repeat("x", 21000)}); err == nil {
		t.Errorf("slack-go sent a 21 KB ack")
	}
	if err := client.Ack(*evt.Request, map[string]string{"text": strings.Repeat("x", 19000)}); err != nil {
		t.Fatalf("Ack of 19 KB: %v", err)
	}
	ack, err := srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Dropped || ack.Size < 19000 {
		t.Errorf("ack = size %d dropped %v, want a kept 19 KB ack", ack.Size, ack.Dropped)
	}
}

func TestDisconnectRefreshRequestedReconnects(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	client := startSocketClient(ctx, t, srv)

	if err := srv.Disconnect("refresh_requested"); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	second, err := srv.WaitForConnection(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	first := srv.Connections()[0]
	if first.CloseReason != "refresh_requested" || first.Live() || !second.Live() {
		t.Errorf("connections = %+v, %+v", first, second)
	}
	if n := len(srv.Calls("apps.connections.open")); n != 2 {
		t.Errorf("apps.connections.open calls = %d, want 2", n)
	}
	t.Logf("reconnect after refresh_requested: %v", second.ConnectedAt.Sub(first.ClosedAt))

	// The new link carries envelopes.
	env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", UserID: "U1", ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	evt := nextEvent(ctx, t, client, socketmode.EventTypeSlashCommand)
	if err := client.Ack(*evt.Request); err != nil {
		t.Fatal(err)
	}
	ack, err := srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Connection != 2 {
		t.Errorf("ack on connection %d, want 2", ack.Connection)
	}
}

func TestDroppedLinkRedeliversOnTheNewOne(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t, slacktest.WithAckTimeout(200*time.Millisecond))
	client := startSocketClient(ctx, t, srv)

	env, err := srv.SendEvent(ctx, slacktest.ChannelShared("C1", "T0OTHER"))
	if err != nil {
		t.Fatal(err)
	}
	nextEvent(ctx, t, client, socketmode.EventTypeEventsAPI) // lost with the link
	if err := srv.DropConnection(); err != nil {
		t.Fatalf("DropConnection: %v", err)
	}
	if _, err := srv.WaitForConnection(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := srv.Connections()[0].CloseReason; got != "dropped" {
		t.Errorf("close reason = %q, want dropped", got)
	}
	evt := nextEvent(ctx, t, client, socketmode.EventTypeEventsAPI)
	if evt.Request.RetryAttempt != 1 {
		t.Errorf("retry_attempt = %d, want 1", evt.Request.RetryAttempt)
	}
	if err := client.Ack(*evt.Request); err != nil {
		t.Fatal(err)
	}
	ack, err := srv.WaitForAck(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Connection != 2 {
		t.Errorf("ack on connection %d, want 2", ack.Connection)
	}
}

func TestSocketModeRejectsBadAppToken(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	api := slack.New(srv.BotToken(), slack.OptionAPIURL(srv.URL()), slack.OptionAppLevelToken("xapp-1-wrong"))
	client := socketmode.New(api, socketmode.OptionLog(discardLogger()))
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-client.Events:
			}
		}
	}()
	err := client.RunContext(ctx)
	if slackError(err) != "invalid_auth" {
		t.Errorf("RunContext with a wrong app token: %v, want invalid_auth", err)
	}
}

func TestReconnectBacksOffOnServerErrors(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	startSocketClient(ctx, t, srv)

	srv.FailNext("apps.connections.open", 2, slacktest.Fault{Status: http.StatusInternalServerError})
	if err := srv.DropConnection(); err != nil {
		t.Fatal(err)
	}
	second, err := srv.WaitForConnection(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	opens := srv.Calls("apps.connections.open")
	if len(opens) != 4 || opens[1].Status != 500 || opens[2].Status != 500 || !opens[3].OK() {
		t.Fatalf("apps.connections.open calls: %d", len(opens))
	}
	// slack-go waits 100 ms, then 200 ms, between failed attempts.
	if gap := opens[3].At.Sub(opens[1].At); gap < 250*time.Millisecond {
		t.Errorf("retries %v apart, want slack-go's backoff", gap)
	}
	t.Logf("reconnect through two 500s: %v", second.ConnectedAt.Sub(srv.Connections()[0].ClosedAt))
}
