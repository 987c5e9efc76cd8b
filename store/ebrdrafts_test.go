package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

func TestSaveEBRDraftVersions(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "accounts", "external_id,name,tier,arr\nA-1,Acme,high,120000\n")
	a, err := s.AccountByExternalID(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	period := csbot.EBRPeriod{Start: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Label: "FY2026 Q3"}
	v := csbot.EBRVersion{AccountID: a.ID, Period: period, By: "U0CSM1",
		Facts: csbot.EBRFacts{Account: csbot.AccountBrief{ID: a.ID, Name: "Acme"}, Period: period},
		Draft: csbot.EBRDraft{Source: "llm", Model: "gpt-test", Sections: map[string]string{csbot.EBRSummary: "Good quarter."},
			Flagged: []csbot.FlaggedFigure{{Section: csbot.EBRSummary, Text: "97%"}}},
		PromptHash: "abc", PromptTokens: 900, CompletionTokens: 300, Latency: 1500 * time.Millisecond,
		CreatedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}

	// Two saves at once: two versions, 1 and 2.
	var wg sync.WaitGroup
	got := make([]csbot.EBRVersion, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			saved, err := s.SaveEBRDraft(ctx, v)
			if err != nil {
				t.Error(err)
			}
			got[i] = saved
		}()
	}
	wg.Wait()
	if got[0].Version+got[1].Version != 3 || got[0].FactsHash == "" || got[0].FactsHash != got[1].FactsHash {
		t.Fatalf("versions %d and %d, hashes %q %q; want 1 and 2 with one fact-sheet hash", got[0].Version, got[1].Version,
			got[0].FactsHash, got[1].FactsHash)
	}
	edited := v
	edited.Edited = true
	edited.Draft.Sections = map[string]string{csbot.EBRSummary: "A good quarter, in my words."}
	third, err := s.SaveEBRDraft(ctx, edited)
	if err != nil || third.Version != 3 {
		t.Fatalf("edited version = %d, %v; want 3", third.Version, err)
	}
	back, err := s.EBRDraftVersion(ctx, third.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(third, back); diff != "" {
		t.Errorf("read back (-saved +read):\n%s", diff)
	}
	if _, err := s.EBRDraftVersion(ctx, 999999); err == nil {
		t.Error("an unknown version was found")
	}
	if _, err := s.SaveEBRDraft(ctx, csbot.EBRVersion{AccountID: 999999, Period: period}); err == nil {
		t.Error("a draft of an unknown account was saved")
	}
}
