package draft

import (
	"context"
	"sync"
	"testing"

	"github.com/csbot/csbot/commands/draft/drafttest"
)

// observations records what Config.Observe is called with.
type observations struct {
	mu   sync.Mutex
	seen []observation
}

type observation struct {
	u   Usage
	err error
}

func (o *observations) observe(u Usage, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, observation{u, err})
}

func (o *observations) got() []observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observation(nil), o.seen...)
}

func TestObserveOncePerDraft(t *testing.T) {
	srv := drafttest.New(t)
	srv.Enqueue(drafttest.Reply{Content: mustJSON(t, allSections("ok")), PromptTokens: 500, CompletionTokens: 200})
	var obs observations
	c, _ := newTestClient(t, srv, Config{MaxAttempts: 3, Observe: obs.observe})

	_, u, err := c.Draft(context.Background(), factsOf("Acme"))
	if err != nil {
		t.Fatalf("Draft: %v", err)
	}
	got := obs.got()
	if len(got) != 1 || got[0].err != nil || got[0].u != u || got[0].u.PromptTokens != 500 || got[0].u.CompletionTokens != 200 {
		t.Fatalf("Observe calls after a good draft = %+v, want one with the draft's usage (500/200 tokens) and no error", got)
	}

	// A failing call is observed once, however many attempts it made.
	srv.SetFallback(drafttest.ServerError())
	_, u, err = c.Draft(context.Background(), factsOf("Acme"))
	if err == nil {
		t.Fatal("Draft succeeded against a failing server")
	}
	got = obs.got()
	if len(got) != 2 || got[1].err != err || got[1].u != u || got[1].u.Latency <= 0 {
		t.Errorf("Observe calls after a failed draft = %+v, want a second one with its error %v and latency", got, err)
	}
	if n := srv.Calls(); n != 4 {
		t.Errorf("calls = %d, want 1 + 3 attempts", n)
	}
}
