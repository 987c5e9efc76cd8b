package slacktest_test

import (
	"context"
	"io"
	"log"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/csbot/csbot/bot/slacktest"
)

// testContext returns a context that ends with the test or after 10 s.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newAPI returns a slack-go Web API client pointed at srv.
func newAPI(srv *slacktest.Server) *slack.Client {
	return slack.New(srv.BotToken(),
		slack.OptionAPIURL(srv.URL()),
		slack.OptionAppLevelToken(srv.AppToken()),
		slack.OptionLog(discardLogger()))
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// startSocketClient runs a real slack-go Socket Mode client against srv
// until the test ends, and returns it once its first link is up.
func startSocketClient(ctx context.Context, t testing.TB, srv *slacktest.Server) *socketmode.Client {
	t.Helper()
	client := socketmode.New(newAPI(srv), socketmode.OptionLog(discardLogger()))
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- client.RunContext(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if _, err := srv.WaitForConnection(ctx, 1); err != nil {
		t.Fatalf("socket client never connected: %v", err)
	}
	return client
}

// nextEvent returns the next client event of type want, skipping others.
func nextEvent(ctx context.Context, t *testing.T, c *socketmode.Client, want socketmode.EventType) socketmode.Event {
	t.Helper()
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for a %s event: %v", want, ctx.Err())
		case evt := <-c.Events:
			if evt.Type == want {
				return evt
			}
		}
	}
}

// fakeClock is a settable clock for slacktest.WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1700000000, 0)}
}

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
