package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
)

func TestCheckSaysWhichTokenIsWrong(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	srv := slacktest.New(t)
	for _, tt := range []struct {
		name     string
		bot, app string
		before   func()
		wantVar  string // "" for no error
		wantText string
	}{
		{name: "both good", wantVar: ""},
		{name: "bot token missing", bot: "-", wantVar: "SLACK_BOT_TOKEN", wantText: "not set"},
		{name: "tokens swapped", bot: srv.AppToken(), app: srv.BotToken(), wantVar: "SLACK_BOT_TOKEN", wantText: "swapped"},
		{name: "bot token of another kind", bot: "xoxp-1-user-token", wantVar: "SLACK_BOT_TOKEN", wantText: "start with xoxb-"},
		{name: "bot token refused", bot: "xoxb-1-revoked", wantVar: "SLACK_BOT_TOKEN", wantText: "invalid_auth"},
		{name: "app token missing", app: "-", wantVar: "SLACK_APP_TOKEN", wantText: "not set"},
		{name: "bot token as app token", app: srv.BotToken(), wantVar: "SLACK_APP_TOKEN", wantText: "swapped"},
		{name: "app token of another kind", app: "xoxa-2-old", wantVar: "SLACK_APP_TOKEN", wantText: "start with xapp-"},
		{name: "app token refused", app: "xapp-1-A0-1-wrong", wantVar: "SLACK_APP_TOKEN", wantText: "invalid_auth"},
		{name: "bot token revoked", before: func() { srv.SetTokenError("token_revoked") }, wantVar: "SLACK_BOT_TOKEN", wantText: "token_revoked"},
	} {
		bot, app := srv.BotToken(), srv.AppToken()
		switch tt.bot {
		case "":
		case "-":
			bot = ""
		default:
			bot = tt.bot
		}
		switch tt.app {
		case "":
		case "-":
			app = ""
		default:
			app = tt.app
		}
		if tt.before != nil {
			tt.before()
		}
		rt, err := New(NewClient(bot, app, srv.URL()), Config{BotToken: bot, AppToken: app, Sender: directSender{}})
		if err != nil {
			t.Fatal(err)
		}
		err = rt.Check(ctx)
		srv.SetTokenError("")
		if tt.wantVar == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var te *TokenError
		if !errors.As(err, &te) || te.Var != tt.wantVar || !strings.Contains(err.Error(), tt.wantText) {
			t.Errorf("%s: error %v, want a *TokenError on %s saying %q", tt.name, err, tt.wantVar, tt.wantText)
			continue
		}
		if strings.Contains(err.Error(), bot) && bot != "" || strings.Contains(err.Error(), app) && app != "" {
			t.Errorf("%s: error %q quotes a token", tt.name, err)
		}
	}
	// Run says the same before doing anything else.
	rt, _ := New(NewClient("xoxb-1-revoked", srv.AppToken(), srv.URL()), Config{BotToken: "xoxb-1-revoked", AppToken: srv.AppToken(), Sender: directSender{}})
	var te *TokenError
	if err := rt.Run(ctx); !errors.As(err, &te) || te.Var != "SLACK_BOT_TOKEN" {
		t.Errorf("Run with a refused bot token = %v", err)
	}
}

func TestNewNeedsASender(t *testing.T) {
	if _, err := New(NewClient("xoxb-1", "xapp-1", ""), Config{}); err == nil {
		t.Error("New without a Sender succeeded")
	}
	if _, err := New(nil, Config{Sender: directSender{}}); err == nil {
		t.Error("New without a client succeeded")
	}
}

func TestUndecodableEnvelopeIsAcknowledgedAndDropped(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	h.start(ctx, t, nil, nil)
	// A user that is not an object: slack-go cannot decode the payload.
	env, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "block_actions", UserID: member, ChannelID: acme,
		MessageTS: "1700000000.000100", Actions: []slacktest.Action{{ActionID: "x"}}, Extra: map[string]any{"user": 42}})
	if err != nil {
		t.Fatal(err)
	}
	h.ack(ctx, t, env)
	if n := h.logs.count("envelope not understood; acknowledged and dropped"); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}
	// The runtime goes on.
	if post := h.response(ctx, t, h.command(ctx, t, "/csbot", "ping", csm, acme)); !strings.HasPrefix(post.Text, "pong") {
		t.Errorf("ping after a bad envelope answered %q", post.Text)
	}
}

func TestFullBacklogHoldsAcks(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t, slacktest.WithAckTimeout(10*time.Second))
	started, release := make(chan struct{}, 3), make(chan struct{})
	h.start(ctx, t, func(c *Config) { c.Concurrency, c.Backlog = 1, 1 }, func(rt *Runtime) {
		rt.HandleCommand("/health", func(context.Context, CommandRequest) (Reply, error) {
			started <- struct{}{}
			<-release
			return Reply{Text: "done"}, nil
		})
	})
	var envs []slacktest.Envelope
	for range 3 {
		envs = append(envs, h.command(ctx, t, "/health", "acme", csm, acme))
	}
	// One runs, one waits acknowledged; the third is not acknowledged
	// until a place frees up.
	h.ack(ctx, t, envs[0])
	h.ack(ctx, t, envs[1])
	<-started
	released := time.Now()
	close(release)
	third := h.ack(ctx, t, envs[2])
	if third.At.Before(released) {
		t.Errorf("third envelope acked at %v, before a place was free (%v)", third.At, released)
	}
	for _, env := range envs {
		if post := h.response(ctx, t, env); post.Text != "done" {
			t.Errorf("reply %q", post.Text)
		}
	}
}
