package bot

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// guardSlack answers conversations.info and users.info from maps and
// counts the calls.
type guardSlack struct {
	mu       sync.Mutex
	channels map[string]slack.Channel
	users    map[string]slack.User
	calls    int
	err      error
	// hold, when set, blocks conversations.info until it is closed.
	hold chan struct{}
	// entered is signalled when conversations.info is entered.
	entered chan struct{}
}

func newGuardSlack() *guardSlack {
	return &guardSlack{channels: make(map[string]slack.Channel), users: make(map[string]slack.User)}
}

func (g *guardSlack) setChannel(id string, set func(*slack.Channel)) {
	var c slack.Channel
	c.ID = id
	set(&c)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.channels[id] = c
}

func (g *guardSlack) GetConversationInfoContext(_ context.Context, in *slack.GetConversationInfoInput) (*slack.Channel, error) {
	g.mu.Lock()
	g.calls++
	hold, entered := g.hold, g.entered
	g.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if hold != nil {
		<-hold
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return nil, g.err
	}
	c, ok := g.channels[in.ChannelID]
	if !ok {
		return nil, slack.SlackErrorResponse{Err: "channel_not_found"}
	}
	return &c, nil
}

func (g *guardSlack) GetUserInfoContext(_ context.Context, id string, _ ...slack.GetUserInfoOption) (*slack.User, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.err != nil {
		return nil, g.err
	}
	u, ok := g.users[id]
	if !ok {
		return nil, slack.SlackErrorResponse{Err: "user_not_found"}
	}
	return &u, nil
}

func (g *guardSlack) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls
}

func TestGuardTellsSharedChannels(t *testing.T) {
	api := newGuardSlack()
	for _, tt := range []struct {
		name     string
		set      func(*slack.Channel)
		external bool
	}{
		{"internal", func(*slack.Channel) {}, false},
		{"slack connect", func(c *slack.Channel) { c.IsExtShared, c.IsShared = true, true }, true},
		{"connect invitation pending", func(c *slack.Channel) { c.IsPendingExtShared = true }, true},
		{"grid-wide (is_shared alone)", func(c *slack.Channel) { c.IsShared, c.IsOrgShared = true, true }, false},
		{"private", func(c *slack.Channel) { c.IsPrivate = true }, false},
	} {
		api.setChannel(tt.name, tt.set)
		g := NewGuard(api, time.Minute, nil, nil)
		c, err := g.Channel(context.Background(), tt.name, 0)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.External() != tt.external {
			t.Errorf("%s: External() = %v, want %v (%+v)", tt.name, c.External(), tt.external, c)
		}
		if v := (Verdict{Channel: c}); v.PrivateOnly() != tt.external {
			t.Errorf("%s: PrivateOnly() = %v, want %v", tt.name, v.PrivateOnly(), tt.external)
		}
	}
}

func TestGuardTellsOutsiders(t *testing.T) {
	api := newGuardSlack()
	for _, tt := range []struct {
		user     slack.User
		outsider bool
	}{
		{slack.User{ID: "U1", TeamID: "T1"}, false},
		{slack.User{ID: "U2", TeamID: "T1", IsRestricted: true}, true},
		{slack.User{ID: "U3", TeamID: "T1", IsRestricted: true, IsUltraRestricted: true}, true},
		{slack.User{ID: "U4", TeamID: "T9", IsStranger: true}, true},
		{slack.User{ID: "U5", TeamID: "T9"}, false}, // a Grid colleague
		{slack.User{ID: "U6", TeamID: "T1", IsBot: true}, false},
	} {
		api.users[tt.user.ID] = tt.user
		g := NewGuard(api, time.Minute, nil, nil)
		u, err := g.User(context.Background(), tt.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Outsider() != tt.outsider || (Verdict{User: u}).Refuse() != tt.outsider {
			t.Errorf("%+v: Outsider() = %v, want %v", tt.user, u.Outsider(), tt.outsider)
		}
	}
}

func TestGuardCachesAndRechecks(t *testing.T) {
	ctx := context.Background()
	api := newGuardSlack()
	api.setChannel("C1", func(*slack.Channel) {})
	api.users["U1"] = slack.User{ID: "U1"}
	clock := newFakeClock()
	g := NewGuard(api, 5*time.Minute, clock.Now, nil)

	must := func(c ChannelInfo, err error) ChannelInfo {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	must(g.Channel(ctx, "C1", 0))
	must(g.Channel(ctx, "C1", 0))
	if n := api.callCount(); n != 1 {
		t.Fatalf("calls after two lookups = %d, want 1 (cached)", n)
	}
	// Shared meanwhile, on another replica's event: this one still trusts
	// its cache for interactive lookups, but not past ChannelRecheck.
	api.setChannel("C1", func(c *slack.Channel) { c.IsExtShared = true })
	clock.Advance(ChannelRecheck - time.Second)
	if c := must(g.Channel(ctx, "C1", ChannelRecheck)); c.External() {
		t.Error("rechecked before ChannelRecheck passed")
	}
	clock.Advance(2 * time.Second)
	if c := must(g.Channel(ctx, "C1", ChannelRecheck)); !c.External() {
		t.Error("answer older than ChannelRecheck was trusted")
	}
	if n := api.callCount(); n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}
	// The TTL bounds every lookup; a longer maxAge is cut to it.
	clock.Advance(5 * time.Minute)
	must(g.Channel(ctx, "C1", time.Hour))
	if n := api.callCount(); n != 3 {
		t.Errorf("calls after the TTL = %d, want 3", n)
	}

	// Users are cached for the TTL.
	for range 3 {
		if _, err := g.User(ctx, "U1"); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(5*time.Minute + time.Second)
	if _, err := g.User(ctx, "U1"); err != nil {
		t.Fatal(err)
	}
	if n := api.callCount(); n != 5 {
		t.Errorf("calls after user lookups = %d, want 5", n)
	}
}

func TestGuardForgetDropsTheCache(t *testing.T) {
	ctx := context.Background()
	api := newGuardSlack()
	api.setChannel("C1", func(*slack.Channel) {})
	api.setChannel("C2", func(*slack.Channel) {})
	g := NewGuard(api, time.Hour, newFakeClock().Now, nil)
	for _, id := range []string{"C1", "C2"} {
		if _, err := g.Channel(ctx, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	api.setChannel("C1", func(c *slack.Channel) { c.IsExtShared = true })
	g.Forget("C1")
	c, err := g.Channel(ctx, "C1", 0)
	if err != nil || !c.External() {
		t.Errorf("after Forget: %+v, %v; want the new, shared answer", c, err)
	}
	if _, err := g.Channel(ctx, "C2", 0); err != nil {
		t.Fatal(err)
	}
	if n := api.callCount(); n != 3 {
		t.Errorf("calls = %d, want 3 (C2 still cached)", n)
	}
}

func TestGuardDoesNotCacheAnAnswerOlderThanAForget(t *testing.T) {
	ctx := context.Background()
	api := newGuardSlack()
	api.setChannel("C1", func(*slack.Channel) {})
	hold, entered := make(chan struct{}), make(chan struct{}, 1)
	api.hold, api.entered = hold, entered
	g := NewGuard(api, time.Hour, newFakeClock().Now, nil)

	done := make(chan ChannelInfo)
	go func() {
		c, _ := g.Channel(ctx, "C1", 0)
		done <- c
	}()
	<-entered // the lookup is out; channel_shared arrives meanwhile
	api.mu.Lock()
	api.hold, api.entered = nil, nil
	api.mu.Unlock()
	g.Forget("C1")
	close(hold)
	if c := <-done; c.External() {
		t.Fatal("the lookup in flight saw the change already; the test proves nothing")
	}
	api.setChannel("C1", func(c *slack.Channel) { c.IsExtShared = true })
	c, err := g.Channel(ctx, "C1", 0)
	if err != nil || !c.External() {
		t.Errorf("after a Forget during a lookup: %+v, %v; want a fresh, shared answer", c, err)
	}
}

func TestGuardDoesNotCacheErrors(t *testing.T) {
	ctx := context.Background()
	api := newGuardSlack()
	api.err = errors.New("connection reset")
	g := NewGuard(api, time.Hour, nil, nil)
	if _, err := g.Check(ctx, "C1", "U1"); err == nil {
		t.Fatal("Check succeeded against a failing Slack")
	}
	api.mu.Lock()
	api.err = nil
	api.mu.Unlock()
	api.setChannel("C1", func(c *slack.Channel) { c.IsPendingExtShared = true })
	api.users["U1"] = slack.User{ID: "U1", IsStranger: true}
	v, err := g.Check(ctx, "C1", "U1")
	if err != nil || !v.PrivateOnly() || !v.Refuse() {
		t.Errorf("Check = %+v, %v; want shared and refused", v, err)
	}
	if _, err := g.Channel(ctx, "C404", 0); err == nil {
		t.Error("a channel the bot cannot see gave no error")
	}
}
