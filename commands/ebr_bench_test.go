package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/csbot/csbot/commands/draft"
	"github.com/csbot/csbot/commands/draft/drafttest"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
)

// BenchmarkEBR times /ebr on the demo portfolio (300 accounts, a year of
// data) for one account: "open" is the command's answer up to the window
// opening (what must beat Slack's 3 s), "template" and "model" the draft
// that then fills the window, computed from the data, drafted (by the
// template, or a model on loopback answering at once) and stored.
//
//	go test -run '^$' -bench EBR -benchtime 50x ./commands/
func BenchmarkEBR(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s, err := store.Open(ctx, pgtest.NewDatabase(ctx, b), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	demo := csbot.NewDemo(csbot.DemoOptions{Accounts: 300, Seed: 1, Now: now})
	if err := s.ImportDemo(ctx, demo, nil); err != nil {
		b.Fatal(err)
	}
	facts, err := s.AccountFacts(ctx, now)
	if err != nil {
		b.Fatal(err)
	}
	scores, _ := csbot.ScoreAll(facts, csbot.DefaultPolicy(), now)
	if _, err := s.SaveScores(ctx, scores); err != nil {
		b.Fatal(err)
	}
	a, err := s.AccountByID(ctx, facts[0].AccountID)
	if err != nil {
		b.Fatal(err)
	}
	llm := drafttest.New(b)
	llm.SetFallback(drafttest.Sections(goodSections()))
	model, _ := draft.New(draft.Config{BaseURL: llm.URL(), Model: "bench-model"})
	csm := bot.Actor{SlackID: "U0BENCH", Known: true}

	for _, tt := range []struct {
		name    string
		drafter commands.Drafter
		fill    bool
	}{{"open", nil, false}, {"template", nil, true}, {"model", model, true}} {
		b.Run(tt.name, func(b *testing.B) {
			cmds := commands.New(commands.Config{Store: s, Policy: csbot.DefaultPolicy(), Now: func() time.Time { return now }, Drafter: tt.drafter})
			ebr := cmds.Command("/ebr")
			req := bot.CommandRequest{Request: bot.Request{Actor: csm, UserID: csm.SlackID, ChannelID: "D0BENCH"}, Command: "/ebr", Text: a.ExternalID}
			for b.Loop() {
				rep, err := ebr(ctx, req)
				if err != nil || rep.OpenView == nil {
					b.Fatalf("/ebr %s: %v %+v", a.ExternalID, err, rep)
				}
				if !tt.fill {
					continue
				}
				filled, err := rep.Then(ctx, "V0BENCH")
				if err != nil || filled.UpdateView == nil {
					b.Fatalf("draft: %v %+v", err, filled)
				}
			}
		})
	}
}
