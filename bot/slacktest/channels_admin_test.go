package slacktest_test

import (
	"slices"
	"testing"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
)

func TestAuthTestScopesHeader(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t, slacktest.WithScopes("commands", "chat:write"))
	api := newAPI(srv)
	resp, err := api.AuthTestContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-OAuth-Scopes"); got != "commands,chat:write" {
		t.Errorf("x-oauth-scopes = %q, want commands,chat:write", got)
	}
	srv.SetScopes()
	if resp, err = api.AuthTestContext(ctx); err != nil || resp.Header.Get("X-OAuth-Scopes") != "" {
		t.Errorf("after SetScopes(), auth.test = %v, header %q; want no header", err, resp.Header.Get("X-OAuth-Scopes"))
	}
}

func TestConversationsCreate(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C0OLD", Name: "acct-old", Archived: true})
	api := newAPI(srv)

	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "acct-acme", IsPrivate: true})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if ch.ID == "" || ch.Name != "acct-acme" || !ch.IsPrivate || !ch.IsMember || ch.Creator != srv.BotUserID() {
		t.Errorf("created %+v, want a private channel acct-acme the bot is in", ch.GroupConversation)
	}
	if got, ok := srv.Channel(ch.ID); !ok || !got.Member || !got.Private {
		t.Errorf("server's channel %+v, want the bot in a private channel", got)
	}
	for name, want := range map[string]string{
		"acct-acme": "name_taken",
		"acct-old":  "name_taken",
		"":          "invalid_name_required",
		"Acct-Acme": "invalid_name_specials",
		"acct acme": "invalid_name_specials",
		"--":        "invalid_name_punctuation",
	} {
		if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name}); slackError(err) != want {
			t.Errorf("create %q: %v, want %s", name, err, want)
		}
	}
	long := make([]byte, 81)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: string(long)}); slackError(err) != "invalid_name_maxlength" {
		t.Errorf("create an 81-letter name: %v, want invalid_name_maxlength", err)
	}
}

func TestConversationsListPages(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C01", Name: "general", Member: true})
	srv.AddChannel(slacktest.Channel{ID: "C02", Name: "random"})
	srv.AddChannel(slacktest.Channel{ID: "C03", Name: "old", Archived: true})
	srv.AddChannel(slacktest.Channel{ID: "C04", Name: "secret", Private: true})
	srv.AddChannel(slacktest.Channel{ID: "C05", Name: "ours", Private: true, Member: true})
	api := newAPI(srv)

	var names []string
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, Limit: 2, ExcludeArchived: true}
	for pages := 0; ; pages++ {
		chs, next, err := api.GetConversationsContext(ctx, params)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if len(chs) > 2 {
			t.Fatalf("a page of %d, limit 2", len(chs))
		}
		for _, c := range chs {
			names = append(names, c.Name)
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	if want := []string{"general", "random", "ours"}; !slices.Equal(names, want) {
		t.Errorf("listed %v, want %v (no archived, no private channel the bot is not in)", names, want)
	}
	chs, _, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{})
	if err != nil || len(chs) != 3 {
		t.Errorf("default list = %d channels, %v; want the 3 public ones, archived too", len(chs), err)
	}
	if _, _, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Types: []string{"rooms"}}); slackError(err) != "invalid_types" {
		t.Errorf("list of bad types: %v, want invalid_types", err)
	}
	if _, _, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Cursor: "!!"}); slackError(err) != "invalid_cursor" {
		t.Errorf("list with a bad cursor: %v, want invalid_cursor", err)
	}
}

func TestConversationsInviteAndPins(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddUser(slacktest.User{ID: "U0CSM1", Name: "dana"})
	srv.AddUser(slacktest.User{ID: "U0AE1", Name: "sam"})
	srv.AddChannel(slacktest.Channel{ID: "C0OUT", Name: "outside"})
	api := newAPI(srv)
	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "acct-acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, "U0CSM1", "U0AE1"); err != nil {
		t.Fatalf("invite: %v", err)
	}
	if got := srv.Members(ch.ID); !slices.Equal(got, []string{"U0CSM1", "U0AE1"}) {
		t.Errorf("members %v, want U0CSM1 and U0AE1", got)
	}
	for _, tt := range []struct {
		channel string
		users   []string
		want    string
	}{
		{ch.ID, []string{"U0CSM1"}, "already_in_channel"},
		{ch.ID, []string{"U0NOBODY"}, "user_not_found"},
		{ch.ID, []string{srv.BotUserID()}, "cant_invite_self"},
		{"C0OUT", []string{"U0CSM1"}, "not_in_channel"},
		{"C0NONE", []string{"U0CSM1"}, "channel_not_found"},
	} {
		if _, err := api.InviteUsersToConversationContext(ctx, tt.channel, tt.users...); slackError(err) != tt.want {
			t.Errorf("invite %v to %s: %v, want %s", tt.users, tt.channel, err, tt.want)
		}
	}

	_, ts, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("Acme Corp: 72/100 green", false))
	if err != nil {
		t.Fatal(err)
	}
	if err := api.AddPinContext(ctx, ch.ID, slack.NewRefToMessage(ch.ID, ts)); err != nil {
		t.Fatalf("pin: %v", err)
	}
	if got := srv.Pins(ch.ID); !slices.Equal(got, []string{ts}) {
		t.Errorf("pins %v, want [%s]", got, ts)
	}
	for _, tt := range []struct{ channel, ts, want string }{
		{ch.ID, ts, "already_pinned"},
		{ch.ID, "1.000001", "message_not_found"},
		{"C0NONE", ts, "channel_not_found"},
	} {
		if err := api.AddPinContext(ctx, tt.channel, slack.NewRefToMessage(tt.channel, tt.ts)); slackError(err) != tt.want {
			t.Errorf("pin %s in %s: %v, want %s", tt.ts, tt.channel, err, tt.want)
		}
	}
}

func TestGeneralChannel(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C01", Name: "general", Member: true})
	srv.AddChannel(slacktest.Channel{ID: "C02", Name: "random"})
	api := newAPI(srv)

	general := func() []string {
		t.Helper()
		chs, _, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		var ids []string
		for _, c := range chs {
			if c.IsGeneral {
				ids = append(ids, c.ID)
			}
		}
		return ids
	}
	if got := general(); len(got) != 0 {
		t.Errorf("before SetGeneral, listed as general: %v", got)
	}
	srv.SetGeneral("C01")
	if got := general(); !slices.Equal(got, []string{"C01"}) {
		t.Errorf("listed as general: %v, want [C01]", got)
	}
	for id, want := range map[string]bool{"C01": true, "C02": false} {
		ch, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		if err != nil || ch.IsGeneral != want {
			t.Errorf("conversations.info %s: is_general %v, %v; want %v", id, ch != nil && ch.IsGeneral, err, want)
		}
	}
	srv.SetGeneral("")
	if got := general(); len(got) != 0 {
		t.Errorf("after SetGeneral(\"\"), listed as general: %v", got)
	}
}
