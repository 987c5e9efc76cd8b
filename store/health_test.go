package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
)

// loadDemo loads a demo portfolio through the import path.
func loadDemo(ctx context.Context, t testing.TB, s *store.Store, opts csbot.DemoOptions) *csbot.Demo {
	t.Helper()
	demo := csbot.NewDemo(opts)
	if err := s.ImportDemo(ctx, demo, nil); err != nil {
		t.Fatalf("import demo: %v", err)
	}
	return demo
}

// expectedSignal is the signal each planted demo risk must raise.
func expectedSignal(r csbot.DemoRisk) csbot.SignalKind {
	return map[csbot.DemoRisk]csbot.SignalKind{
		csbot.DemoRiskUsageCollapse:  csbot.SignalUsageDrop,
		csbot.DemoRiskUsageSilent:    csbot.SignalUsageSilent,
		csbot.DemoRiskTicketSpike:    csbot.SignalTicketSpike,
		csbot.DemoRiskInvoiceOverdue: csbot.SignalInvoiceOverdue,
		csbot.DemoRiskDetractorNPS:   csbot.SignalDetractor,
		csbot.DemoRiskOutages:        csbot.SignalOutages,
		csbot.DemoRiskChampionLeft:   csbot.SignalChampionLeft,
		csbot.DemoRiskNoTouch:        csbot.SignalNoTouch,
		csbot.DemoRiskRenewalAtRisk:  csbot.SignalRenewalRisk,
	}[r]
}

func TestDemoRisksAreFoundAndHealthyAccountsAreGreen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	demo := loadDemo(ctx, t, s, csbot.DemoOptions{Accounts: 300, Seed: 42, Now: now})
	p := csbot.DefaultPolicy()

	facts, err := s.AccountFacts(ctx, now)
	if err != nil {
		t.Fatalf("AccountFacts: %v", err)
	}
	if len(facts) != 300 {
		t.Fatalf("AccountFacts returned %d accounts, want 300", len(facts))
	}
	scores, signals := csbot.ScoreAll(facts, p, now)
	if n, err := s.SaveScores(ctx, scores); err != nil || n != 300 {
		t.Fatalf("SaveScores = %d, %v; want 300 written", n, err)
	}

	extID := map[int64]string{}
	for _, f := range facts {
		a, err := s.AccountByID(ctx, f.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		extID[f.AccountID] = a.ExternalID
	}
	raised := map[string]map[csbot.SignalKind]bool{}
	for _, sg := range signals {
		id := extID[sg.AccountID]
		if raised[id] == nil {
			raised[id] = map[csbot.SignalKind]bool{}
		}
		raised[id][sg.Kind] = true
	}
	planted := 0
	for id, risks := range demo.Risks() {
		for _, r := range risks {
			planted++
			if want := expectedSignal(r); !raised[id][want] {
				t.Errorf("account %s planted with %s: signals %v, want %s among them", id, r, raised[id], want)
			}
		}
	}
	if planted < 9 {
		t.Fatalf("only %d planted risks in the demo, want every kind", planted)
	}
	band := map[string]csbot.HealthScore{}
	for _, h := range scores {
		band[extID[h.AccountID]] = h
	}
	for _, id := range demo.Healthy() {
		if h := band[id]; h.Band != csbot.BandGreen {
			t.Errorf("healthy demo account %s scored %d (%s), want green; drivers %v", id, h.Score, h.Band, h.Drivers)
		}
		if len(raised[id]) > 0 {
			t.Errorf("healthy demo account %s raised signals %v, want none", id, raised[id])
		}
	}
}

func TestSnapshotsGiveTrends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	loadDemo(ctx, t, s, csbot.DemoOptions{Accounts: 40, Seed: 3, Now: now})
	p := csbot.DefaultPolicy()
	for d := 31; d >= 0; d-- {
		at := now.AddDate(0, 0, -d)
		facts, err := s.AccountFacts(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		scores, _ := csbot.ScoreAll(facts, p, at)
		if _, err := s.SaveScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
		// Scoring the same day again replaces its snapshot.
		if d == 0 {
			if _, err := s.SaveScores(ctx, scores); err != nil {
				t.Fatal(err)
			}
		}
	}
	counts, err := s.TableCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts["health_scores"], int64(40*32); got != want {
		t.Errorf("health_scores rows = %d, want %d (one per account per day)", got, want)
	}
	facts, err := s.AccountFacts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range facts {
		if f.Previous.Day.IsZero() || f.Week.Day.IsZero() || f.Month.Day.IsZero() {
			t.Fatalf("account %d: snapshots previous=%v week=%v month=%v, want all three after 32 days of scoring", f.AccountID, f.Previous.Day, f.Week.Day, f.Month.Day)
		}
		h := csbot.Score(f, p, now)
		if !h.Trend.Has7 || !h.Trend.Has30 {
			t.Errorf("account %d: trend %+v, want 7- and 30-day deltas", f.AccountID, h.Trend)
		}
	}
}
