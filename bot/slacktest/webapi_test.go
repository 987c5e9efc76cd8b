package slacktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
)

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

// slackError returns the Slack error code of err, or "" when err is not a
// slack.SlackErrorResponse.
func slackError(err error) string {
	var e slack.SlackErrorResponse
	if errors.As(err, &e) {
		return e.Err
	}
	return ""
}

func TestAuthTest(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	api := newAPI(srv)
	resp, err := api.AuthTestContext(ctx)
	if err != nil {
		t.Fatalf("AuthTest: %v", err)
	}
	if resp.UserID != srv.BotUserID() || resp.TeamID != srv.TeamID() || resp.BotID != slacktest.DefaultBotID || resp.URL == "" {
		t.Errorf("AuthTest = %+v", resp)
	}

	tests := []struct {
		token string
		want  string
	}{
		{srv.AppToken(), "not_allowed_token_type"},
		{"xoxb-wrong", "invalid_auth"},
		{"", "not_authed"},
	}
	for _, tt := range tests {
		_, err := slack.New(tt.token, slack.OptionAPIURL(srv.URL())).AuthTestContext(ctx)
		if got := slackError(err); got != tt.want {
			t.Errorf("AuthTest with %q: error %v, want %s", tt.token, err, tt.want)
		}
	}
	// The bot token cannot open a socket.
	_, _, err = slack.New(srv.BotToken(), slack.OptionAPIURL(srv.URL()), slack.OptionAppLevelToken(srv.BotToken())).StartSocketModeContext(ctx)
	if got := slackError(err); got != "not_allowed_token_type" {
		t.Errorf("apps.connections.open with the bot token: %v, want not_allowed_token_type", err)
	}

	srv.RevokeToken()
	if _, err := api.AuthTestContext(ctx); slackError(err) != "token_revoked" {
		t.Errorf("AuthTest after RevokeToken: %v, want token_revoked", err)
	}
	srv.SetTokenError("")
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Errorf("AuthTest after the token is restored: %v", err)
	}
}

func TestMessages(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddChannel(slacktest.Channel{ID: "C2", Name: "outsider"})
	srv.AddChannel(slacktest.Channel{ID: "C3", Name: "old", Member: true, Archived: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	api := newAPI(srv)

	meta := slack.SlackMetadata{EventType: "csbot_notification", EventPayload: map[string]any{"dedupe_key": "risk:acme:2024-05-01"}}
	ch, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("Acme is at risk", false),
		slack.MsgOptionBlocks(section("*Acme* is at risk")), slack.MsgOptionMetadata(meta))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if ch != "C1" || !strings.Contains(ts, ".") {
		t.Errorf("PostMessage = %q, %q", ch, ts)
	}
	_, ts2, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("second", false))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if ts2 <= ts {
		t.Errorf("ts %s not after %s", ts2, ts)
	}
	msgs := srv.Messages("C1")
	if len(msgs) != 2 || msgs[0].Metadata == nil || msgs[0].Metadata.EventPayload["dedupe_key"] != "risk:acme:2024-05-01" || msgs[0].Blocks == nil {
		t.Fatalf("messages = %+v", msgs)
	}

	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", IncludeAllMetadata: true, Limit: 1})
	if err != nil {
		t.Fatalf("GetConversationHistory: %v", err)
	}
	if len(hist.Messages) != 1 || hist.Messages[0].Timestamp != ts2 || !hist.HasMore || hist.ResponseMetaData.NextCursor == "" {
		t.Fatalf("history page 1 = %+v", hist)
	}
	hist, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", IncludeAllMetadata: true, Cursor: hist.ResponseMetaData.NextCursor})
	if err != nil {
		t.Fatalf("GetConversationHistory: %v", err)
	}
	if len(hist.Messages) != 1 || hist.HasMore {
		t.Fatalf("history page 2 = %+v", hist)
	}
	got := hist.Messages[0]
	if got.Timestamp != ts || got.Metadata.EventType != "csbot_notification" || got.Metadata.EventPayload["dedupe_key"] != "risk:acme:2024-05-01" || len(got.Blocks.BlockSet) != 1 || got.BotID != slacktest.DefaultBotID {
		t.Errorf("history message = %+v", got)
	}

	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("Acme recovered", false)); err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	if _, _, err := api.DeleteMessageContext(ctx, "C1", ts2); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	msgs = srv.Messages("C1")
	if len(msgs) != 1 || msgs[0].Text != "Acme recovered" || msgs[0].Edits != 1 || msgs[0].Blocks == nil {
		t.Errorf("after update and delete: %+v", msgs)
	}

	ets, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("only you", false))
	if err != nil || ets == "" {
		t.Fatalf("PostEphemeral = %q, %v", ets, err)
	}
	if e := srv.Ephemerals(); len(e) != 1 || e[0].User != "U1" || e[0].Text != "only you" {
		t.Errorf("ephemerals = %+v", e)
	}

	errTests := []struct {
		name string
		call func() error
		want string
	}{
		{"not in channel", func() error {
			_, _, err := api.PostMessageContext(ctx, "C2", slack.MsgOptionText("x", false))
			return err
		}, "not_in_channel"},
		{"unknown channel", func() error {
			_, _, err := api.PostMessageContext(ctx, "C404", slack.MsgOptionText("x", false))
			return err
		}, "channel_not_found"},
		{"archived", func() error {
			_, _, err := api.PostMessageContext(ctx, "C3", slack.MsgOptionText("x", false))
			return err
		}, "is_archived"},
		{"no text", func() error { _, _, err := api.PostMessageContext(ctx, "C1"); return err }, "no_text"},
		{"update missing", func() error {
			_, _, _, err := api.UpdateMessageContext(ctx, "C1", "1.000001", slack.MsgOptionText("x", false))
			return err
		}, "message_not_found"},
		{"delete missing", func() error { _, _, err := api.DeleteMessageContext(ctx, "C1", "1.000001"); return err }, "message_not_found"},
		{"ephemeral unknown user", func() error {
			_, err := api.PostEphemeralContext(ctx, "C1", "U404", slack.MsgOptionText("x", false))
			return err
		}, "user_not_found"},
		{"history not member", func() error {
			_, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C2"})
			return err
		}, "not_in_channel"},
		{"section too long", func() error {
			_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionBlocks(section(strings.Repeat("x", 3001))))
			return err
		}, "invalid_blocks"},
		{"too many blocks", func() error {
			blocks := make([]slack.Block, 51)
			for i := range blocks {
				blocks[i] = slack.NewDividerBlock()
			}
			_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionBlocks(blocks...))
			return err
		}, "invalid_blocks"},
	}
	for _, tt := range errTests {
		if got := slackError(tt.call()); got != tt.want {
			t.Errorf("%s: error %q, want %q", tt.name, got, tt.want)
		}
	}
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionBlocks(section(strings.Repeat("x", 3001))))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || len(se.ResponseMetadata.Messages) == 0 || !strings.Contains(se.ResponseMetadata.Messages[0], "/blocks/0/text/text") {
		t.Errorf("invalid_blocks detail = %+v", se)
	}
}

func TestConversationsAndUsers(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme-shared", Member: true, Shared: true, ExtShared: true, ConnectedTeamIDs: []string{"T0ACME"}})
	srv.AddChannel(slacktest.Channel{ID: "C2", Name: "pending", PendingExtShared: true, ConnectedTeamIDs: []string{"T0ACME"}})
	srv.AddChannel(slacktest.Channel{ID: "C3", Name: "grid", Shared: true, OrgShared: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana", RealName: "Ana Lima", TZ: "Europe/Paris", Email: "ana@example.com"})
	srv.AddUser(slacktest.User{ID: "U2", Name: "gus", Restricted: true})
	srv.AddUser(slacktest.User{ID: "U3", Name: "sam", UltraRestricted: true})
	srv.AddUser(slacktest.User{ID: "U4", Name: "ext", Stranger: true, TeamID: "T0ACME"})
	api := newAPI(srv)

	for _, tt := range []struct {
		id                                       string
		shared, extShared, pendingExt, orgShared bool
		member                                   bool
	}{
		{"C1", true, true, false, false, true},
		{"C2", false, false, true, false, false},
		{"C3", true, false, false, true, false},
	} {
		ch, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: tt.id})
		if err != nil {
			t.Fatalf("GetConversationInfo(%s): %v", tt.id, err)
		}
		if ch.ID != tt.id || ch.IsShared != tt.shared || ch.IsExtShared != tt.extShared || ch.IsPendingExtShared != tt.pendingExt ||
			ch.IsOrgShared != tt.orgShared || ch.IsMember != tt.member || !ch.IsChannel || ch.Name == "" {
			t.Errorf("GetConversationInfo(%s) = %+v", tt.id, ch)
		}
	}
	if _, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C404"}); slackError(err) != "channel_not_found" {
		t.Errorf("GetConversationInfo(C404): %v", err)
	}

	dm, noOp, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil || !strings.HasPrefix(dm.ID, "D") || noOp || already {
		t.Fatalf("OpenConversation = %+v %v %v %v", dm, noOp, already, err)
	}
	dm2, _, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}, ReturnIM: true})
	if err != nil || dm2.ID != dm.ID || !already || !dm2.IsIM || dm2.User != "U1" {
		t.Errorf("second OpenConversation = %+v %v %v", dm2, already, err)
	}
	if _, _, err := api.PostMessageContext(ctx, dm.ID, slack.MsgOptionText("hi", false)); err != nil {
		t.Errorf("PostMessage to the DM: %v", err)
	}

	ch, warning, _, err := api.JoinConversationContext(ctx, "C2")
	if err != nil || !ch.IsMember || warning != "" {
		t.Fatalf("JoinConversation = %+v %q %v", ch, warning, err)
	}
	if c, _ := srv.Channel("C2"); !c.Member {
		t.Errorf("C2 not joined")
	}
	_, warning, warnings, err := api.JoinConversationContext(ctx, "C2")
	if err != nil || warning != "already_in_channel" || !slices.Contains(warnings, "already_in_channel") {
		t.Errorf("second JoinConversation warning %q %v %v", warning, warnings, err)
	}

	u, err := api.GetUserInfoContext(ctx, "U1")
	if err != nil {
		t.Fatalf("GetUserInfo: %v", err)
	}
	if u.TZ != "Europe/Paris" || u.TeamID != srv.TeamID() || u.Profile.Email != "ana@example.com" || u.RealName != "Ana Lima" || u.IsRestricted || u.IsBot {
		t.Errorf("GetUserInfo(U1) = %+v", u)
	}
	for _, tt := range []struct {
		id                          string
		restricted, ultra, stranger bool
	}{
		{"U2", true, false, false},
		{"U3", true, true, false},
		{"U4", false, false, true},
	} {
		u, err := api.GetUserInfoContext(ctx, tt.id)
		if err != nil {
			t.Fatalf("GetUserInfo(%s): %v", tt.id, err)
		}
		if u.IsRestricted != tt.restricted || u.IsUltraRestricted != tt.ultra || u.IsStranger != tt.stranger {
			t.Errorf("GetUserInfo(%s) = restricted %v ultra %v stranger %v", tt.id, u.IsRestricted, u.IsUltraRestricted, u.IsStranger)
		}
	}
	bot, err := api.GetUserInfoContext(ctx, srv.BotUserID())
	if err != nil || !bot.IsBot {
		t.Errorf("GetUserInfo(bot) = %+v, %v", bot, err)
	}
	if _, err := api.GetUserInfoContext(ctx, "U404"); slackError(err) != "user_not_found" {
		t.Errorf("GetUserInfo(U404): %v", err)
	}
}

func TestViews(t *testing.T) {
	ctx := testContext(t)
	clock := newFakeClock()
	srv := slacktest.New(t, slacktest.WithClock(clock.Now))
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	api := newAPI(srv)
	modal := func(title string) slack.ModalViewRequest {
		return slack.ModalViewRequest{
			Type:       slack.VTModal,
			Title:      slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
			Close:      slack.NewTextBlockObject(slack.PlainTextType, "Close", false, false),
			CallbackID: "handoff",
			Blocks:     slack.Blocks{BlockSet: []slack.Block{section("Hand off *Acme*")}},
		}
	}

	trigger := srv.IssueTriggerID("U1")
	v, err := api.OpenViewContext(ctx, trigger, modal("Handoff"))
	if err != nil {
		t.Fatalf("OpenView: %v", err)
	}
	if !strings.HasPrefix(v.ID, "V") || v.Hash == "" || v.CallbackID != "handoff" || v.Title.Text != "Handoff" || len(v.Blocks.BlockSet) != 1 || v.RootViewID != v.ID {
		t.Errorf("OpenView = %+v", v.View)
	}
	if _, err := api.OpenViewContext(ctx, trigger, modal("Again")); slackError(err) != "exchanged_trigger_id" {
		t.Errorf("OpenView with a used trigger: %v, want exchanged_trigger_id", err)
	}
	if _, err := api.OpenViewContext(ctx, "1.2.bogus", modal("Again")); slackError(err) != "invalid_trigger_id" {
		t.Errorf("OpenView with an unknown trigger: %v, want invalid_trigger_id", err)
	}
	late := srv.IssueTriggerID("U1")
	clock.Advance(3*time.Second + time.Millisecond)
	if _, err := api.OpenViewContext(ctx, late, modal("Late")); slackError(err) != "expired_trigger_id" {
		t.Errorf("OpenView after 3 s: %v, want expired_trigger_id", err)
	}
	if _, err := api.OpenViewContext(ctx, srv.IssueTriggerID("U1"), modal(strings.Repeat("t", 25))); slackError(err) != "invalid_arguments" {
		t.Errorf("OpenView with a 25-character title: %v, want invalid_arguments", err)
	}

	up, err := api.UpdateViewContext(ctx, modal("Handoff (2)"), "", v.Hash, v.ID)
	if err != nil {
		t.Fatalf("UpdateView: %v", err)
	}
	if up.ID != v.ID || up.Hash == v.Hash || up.Title.Text != "Handoff (2)" {
		t.Errorf("UpdateView = %+v", up.View)
	}
	if _, err := api.UpdateViewContext(ctx, modal("Stale"), "", v.Hash, v.ID); slackError(err) != "hash_conflict" {
		t.Errorf("UpdateView with a stale hash: %v, want hash_conflict", err)
	}
	if _, err := api.UpdateViewContext(ctx, modal("Gone"), "", "", "V404"); slackError(err) != "not_found" {
		t.Errorf("UpdateView of an unknown view: %v, want not_found", err)
	}

	home, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{
		Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("Your accounts")}},
	}})
	if err != nil {
		t.Fatalf("PublishView: %v", err)
	}
	if home.Type != slack.VTHomeTab || len(home.Blocks.BlockSet) != 1 {
		t.Errorf("PublishView = %+v", home.View)
	}
	home2, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{Type: slack.VTHomeTab}})
	if err != nil || home2.ID != home.ID {
		t.Errorf("second PublishView = %+v, %v; want the same view", home2, err)
	}
	if views := srv.Views(); len(views) != 2 || views[1].Type != "home" || views[1].UserID != "U1" {
		t.Errorf("views = %+v", views)
	}
}

func TestFaults(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	api := newAPI(srv)
	post := func() error {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
		return err
	}

	srv.FailNext("chat.postMessage", 1, slacktest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second})
	var rl *slack.RateLimitedError
	if err := post(); !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("429: %v, want RateLimitedError after 2s", err)
	}
	srv.FailNext("chat.postMessage", 2, slacktest.Fault{Status: http.StatusServiceUnavailable})
	for range 2 {
		var sc slack.StatusCodeError
		if err := post(); !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
			t.Errorf("503: %v, want StatusCodeError 503", err)
		}
	}
	srv.FailNext("chat.postMessage", 1, slacktest.Fault{Error: "fatal_error"})
	if err := post(); slackError(err) != "fatal_error" {
		t.Errorf("error fault: %v, want fatal_error", err)
	}
	srv.FailNext("*", 1, slacktest.Fault{Delay: 50 * time.Millisecond})
	start := time.Now()
	if err := post(); err != nil || time.Since(start) < 50*time.Millisecond {
		t.Errorf("delayed post: %v after %v", err, time.Since(start))
	}
	if err := post(); err != nil {
		t.Errorf("post after the faults: %v", err)
	}
	calls := srv.Calls("chat.postMessage")
	var statuses []string
	for _, c := range calls {
		statuses = append(statuses, fmt.Sprintf("%d/%s", c.Status, c.Error))
	}
	want := []string{"429/ratelimited", "503/", "503/", "200/fatal_error", "200/", "200/"}
	if !slices.Equal(statuses, want) {
		t.Errorf("recorded calls = %v, want %v", statuses, want)
	}
	if calls[0].Param("channel") != "C1" || calls[0].Param("text") != "hi" || calls[0].Fault == nil {
		t.Errorf("recorded call = %+v", calls[0])
	}
}

func TestFaultDelayAfterPostsWithoutAnswering(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	api := newAPI(srv)

	// The client gives up long before the held answer would come.
	srv.FailNext("chat.postMessage", 1, slacktest.Fault{DelayAfter: time.Hour})
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, ts, err := api.PostMessageContext(short, "C1", slack.MsgOptionText("Acme is at risk", false))
	cancel()
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PostMessage with an answer held back = %q, %v; want the deadline error", ts, err)
	}
	msgs := srv.Messages("C1")
	if len(msgs) != 1 || msgs[0].Text != "Acme is at risk" {
		t.Fatalf("messages after the timed-out post = %+v; want it posted exactly once", msgs)
	}
	calls := srv.Calls("chat.postMessage")
	if len(calls) != 1 || calls[0].Fault == nil || calls[0].Fault.DelayAfter != time.Hour ||
		calls[0].Status != http.StatusOK || calls[0].Error != "" || !strings.Contains(string(calls[0].Response), msgs[0].TS) {
		t.Fatalf("recorded calls = %+v; want one successful call marked with the fault", calls)
	}

	// The fault is used up: the next post is answered.
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("second", false)); err != nil {
		t.Fatalf("post after the fault: %v", err)
	}
	if n := len(srv.Messages("C1")); n != 2 {
		t.Errorf("%d messages after the second post, want 2", n)
	}

	// With an error code, the call takes effect and then fails.
	srv.FailNext("chat.postMessage", 1, slacktest.Fault{DelayAfter: time.Millisecond, Error: "internal_error"})
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("third", false)); slackError(err) != "internal_error" {
		t.Errorf("post with DelayAfter and internal_error: %v, want internal_error", err)
	}
	if msgs := srv.Messages("C1"); len(msgs) != 3 || msgs[2].Text != "third" {
		t.Errorf("messages = %+v; want the failed post to have taken effect", msgs)
	}
	if calls := srv.Calls("chat.postMessage"); len(calls) != 3 || calls[2].Error != "internal_error" || calls[2].Fault == nil {
		t.Errorf("recorded calls = %+v; want the third marked internal_error", calls)
	}
}

func TestFaultDelayAfterServerClose(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	api := newAPI(srv)

	srv.FailNext("chat.postMessage", 1, slacktest.Fault{DelayAfter: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("Acme is at risk", false))
		done <- err
	}()
	if _, err := srv.WaitForCall(ctx, "chat.postMessage", nil); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("PostMessage answered after the server closed; want no answer")
		}
	case <-ctx.Done():
		t.Fatalf("PostMessage still waiting after the server closed: %v", ctx.Err())
	}
	if msgs := srv.Messages("C1"); len(msgs) != 1 {
		t.Errorf("messages = %+v; want the post recorded once", msgs)
	}
}

func TestResponseURL(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	api := newAPI(srv)

	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("Acme is at risk", false))
	if err != nil {
		t.Fatal(err)
	}
	url := srv.IssueResponseURL("C1", "U1", ts)
	replies := []slack.MsgOption{
		slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral),
		slack.MsgOptionResponseURL(url, slack.ResponseTypeInChannel),
		slack.MsgOptionReplaceOriginal(url),
		slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral),
		slack.MsgOptionDeleteOriginal(url),
	}
	for i, opt := range replies {
		if _, _, err := api.PostMessageContext(ctx, "", opt, slack.MsgOptionText(fmt.Sprintf("reply %d", i+1), false)); err != nil {
			t.Fatalf("response_url post %d: %v", i+1, err)
		}
	}
	_, _, err = api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral), slack.MsgOptionText("sixth", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Errorf("sixth post: %v, want a 404", err)
	}
	posts := srv.ResponsePosts()
	if len(posts) != 6 || posts[5].Error != "used_url" || posts[4].Use != 5 || !posts[2].ReplaceOriginal || !posts[4].DeleteOriginal || posts[1].ResponseType != "in_channel" {
		t.Errorf("posts = %+v", posts)
	}
	// in_channel added "reply 2"; replace_original then delete_original
	// changed and removed the original.
	msgs := srv.Messages("C1")
	if len(msgs) != 1 || msgs[0].Text != "reply 2" || msgs[0].Via != "response_url" {
		t.Errorf("channel messages = %+v", msgs)
	}
	if e := srv.Ephemerals(); len(e) != 2 || e[0].Text != "reply 1" || e[1].Text != "reply 4" || e[0].User != "U1" {
		t.Errorf("ephemerals = %+v", e)
	}
}

func TestSlashCommandResponseURLCarriesEnvelope(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	api := newAPI(srv)
	startSocketClient(ctx, t, srv)
	env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/health", Text: "acme", UserID: "U1", ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(env.ResponseURL, slack.ResponseTypeEphemeral),
		slack.MsgOptionBlocks(section("*Acme*: 72"))); err != nil {
		t.Fatalf("response_url post: %v", err)
	}
	post, err := srv.WaitForResponse(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []map[string]any
	if err := json.Unmarshal(post.Blocks, &blocks); err != nil || len(blocks) != 1 || post.Use != 1 {
		t.Errorf("response post = %+v (%v)", post, err)
	}
}

func TestConcurrentPostsGetUniqueIncreasingTS(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	const channels, perChannel = 8, 25
	for i := range channels {
		srv.AddChannel(slacktest.Channel{ID: fmt.Sprintf("C%d", i), Member: true})
	}
	api := newAPI(srv)
	var wg sync.WaitGroup
	errs := make(chan error, channels*perChannel)
	for i := range channels {
		wg.Go(func() {
			for j := range perChannel {
				if _, _, err := api.PostMessageContext(ctx, fmt.Sprintf("C%d", i), slack.MsgOptionText(fmt.Sprint(j), false)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("PostMessage: %v", err)
	}
	seen := map[string]bool{}
	for i := range channels {
		msgs := srv.Messages(fmt.Sprintf("C%d", i))
		if len(msgs) != perChannel {
			t.Fatalf("channel %d has %d messages, want %d", i, len(msgs), perChannel)
		}
		for k, m := range msgs {
			if seen[m.TS] || (k > 0 && m.TS <= msgs[k-1].TS) {
				t.Fatalf("ts %s repeated or out of order", m.TS)
			}
			seen[m.TS] = true
		}
	}
}

// TestRawClientOversizedAck speaks Socket Mode without slack-go, to send
// what slack-go refuses to: an ack of 20 KB or more, which Slack drops.
func TestRawClientOversizedAck(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t, slacktest.WithAckTimeout(100*time.Millisecond), slacktest.WithMaxRetries(1))
	_, url, err := newAPI(srv).StartSocketModeContext(ctx)
	if err != nil {
		t.Fatalf("apps.connections.open: %v", err)
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	resp.Body.Close()
	defer conn.Close()
	if _, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil); err == nil {
		t.Errorf("a ticket was accepted twice")
	}
	var hello struct{ Type string }
	if err := conn.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		t.Fatalf("hello = %+v, %v", hello, err)
	}
	go func() {
		_, _ = srv.SendEvent(ctx, slacktest.ChannelShared("C1", "T0OTHER"))
	}()
	var env struct {
		EnvelopeID   string `json:"envelope_id"`
		RetryAttempt int    `json:"retry_attempt"`
	}
	if err := conn.ReadJSON(&env); err != nil {
		t.Fatal(err)
	}
	big, _ := json.Marshal(map[string]any{"envelope_id": env.EnvelopeID, "payload": map[string]string{"text": strings.Repeat("x", 21000)}})
	if err := conn.WriteMessage(websocket.TextMessage, big); err != nil {
		t.Fatal(err)
	}
	// Dropped, so it comes again.
	first := env.EnvelopeID
	if err := conn.ReadJSON(&env); err != nil || env.RetryAttempt != 1 {
		t.Fatalf("redelivery = %+v, %v", env, err)
	}
	if err := conn.WriteJSON(map[string]string{"envelope_id": env.EnvelopeID}); err != nil {
		t.Fatal(err)
	}
	ack, err := srv.WaitForAck(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	acks := srv.Acks()
	if len(acks) != 2 || !acks[0].Dropped || acks[1].Dropped || ack.RetryAttempt != 1 {
		t.Errorf("acks = %+v", acks)
	}
}
