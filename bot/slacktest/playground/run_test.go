package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// heldRun is a run of the schedules the test lets finish: it says when it
// started, and ends when released, or when its context ends.
type heldRun struct {
	started   chan struct{}
	release   chan error // what the run returns
	cancelled chan struct{}
	once      sync.Once
}

func newHeldRun() *heldRun {
	return &heldRun{started: make(chan struct{}), release: make(chan error, 1), cancelled: make(chan struct{})}
}

func (h *heldRun) run(ctx context.Context, _ time.Time) (string, error) {
	h.once.Do(func() { close(h.started) })
	select {
	case err := <-h.release:
		if err != nil {
			return "", err
		}
		return "3 notifications delivered", nil
	case <-ctx.Done():
		close(h.cancelled)
		return "", ctx.Err()
	}
}

// clockFromATabThatCloses asks the page to run the schedules a day on,
// waits until the run started, then goes away as a closed tab does, and
// checks that the run goes on meanwhile.
func clockFromATabThatCloses(ctx context.Context, t *testing.T, p *testPlayground, h *heldRun) {
	t.Helper()
	before := p.pg.now()
	reqCtx, closeTab := context.WithCancel(ctx)
	defer closeTab()
	answered := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(reqCtx, http.MethodPost, p.http.URL+"/api/clock",
			strings.NewReader(`{"as":"`+userDana+`","step":"day"}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		answered <- err
	}()
	select {
	case <-h.started:
	case <-ctx.Done():
		t.Fatal("the schedules never ran")
	}
	if moved := p.pg.now().Sub(before); moved < 23*time.Hour {
		t.Fatalf("the clock moved %v before the run, want a day", moved)
	}
	closeTab()
	if err := <-answered; !errors.Is(err, context.Canceled) {
		t.Fatalf("the request ended with %v, want it cancelled", err)
	}
	select {
	case <-h.cancelled:
		t.Fatal("the run was cancelled when the page went away, leaving the clock moved")
	case <-time.After(300 * time.Millisecond): // the server has seen the connection close
	}
	if st := p.pg.scheduleStatus(); !st.Running {
		t.Errorf("status %+v while the run goes on, want it running", st)
	}
}

// waitStatus waits until the schedules' status is no longer running.
func waitStatus(ctx context.Context, t *testing.T, p *testPlayground) scheduleStatus {
	t.Helper()
	for {
		if st := p.pg.scheduleStatus(); !st.Running && !p.pg.running.Load() {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatal("the run never ended")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestClockRunOutlivesThePage closes the page (a tab closed, or the
// person picker reloading it) while the schedules it asked for run: the
// run goes on to the end, and the page, opened again, shows how it went.
func TestClockRunOutlivesThePage(t *testing.T) {
	ctx := testContext(t)
	h := newHeldRun()
	p := newTestPlayground(ctx, t, h.run)
	clockFromATabThatCloses(ctx, t, p, h)
	h.release <- nil
	if st := waitStatus(ctx, t, p); st.Failed || st.Text != "3 notifications delivered" {
		t.Errorf("status %+v, want the run's summary", st)
	}
	if html := p.page(t, "as="+userDana); !strings.Contains(html, "3 notifications delivered") {
		t.Error("the page does not show how the run went")
	}
	if logs := p.logs.String(); !strings.Contains(logs, `msg="schedules run"`) {
		t.Errorf("the run is not logged:\n%s", logs)
	}
	// The next run is not refused as busy.
	var answer map[string]any
	h.release <- nil
	if code := p.post(t, "/api/clock", map[string]string{"as": userDana, "step": "hour"}, &answer); code != http.StatusOK {
		t.Errorf("the next run = %d %v", code, answer)
	}
}

// TestClockRunFailureIsLoggedAfterThePageLeft checks that a run that
// fails after its page went away is logged.
func TestClockRunFailureIsLoggedAfterThePageLeft(t *testing.T) {
	ctx := testContext(t)
	h := newHeldRun()
	p := newTestPlayground(ctx, t, h.run)
	clockFromATabThatCloses(ctx, t, p, h)
	h.release <- errors.New("the store is down")
	if st := waitStatus(ctx, t, p); !st.Failed || st.Text != "the store is down" {
		t.Errorf("status %+v, want the failure", st)
	}
	if logs := p.logs.String(); !strings.Contains(logs, `msg="schedules failed"`) || !strings.Contains(logs, `err="the store is down"`) {
		t.Errorf("the failure is not logged:\n%s", logs)
	}
}

// TestCloseStopsTheRun checks that the server's stop ends a run under way
// and waits for it, without calling it a failure, and refuses runs after.
func TestCloseStopsTheRun(t *testing.T) {
	ctx := testContext(t)
	h := newHeldRun()
	p := newTestPlayground(ctx, t, h.run)
	answered := make(chan int, 1)
	go func() {
		raw, _ := json.Marshal(map[string]string{"as": userDana, "step": "day"})
		res, err := http.Post(p.http.URL+"/api/clock", "application/json", bytes.NewReader(raw))
		if err != nil {
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	<-h.started
	p.pg.Close()
	select {
	case <-h.cancelled:
	default:
		t.Fatal("Close returned before the run ended")
	}
	if code := <-answered; code != http.StatusBadGateway {
		t.Errorf("the page's request = %d, want the run's failure", code)
	}
	if logs := p.logs.String(); strings.Contains(logs, "schedules failed") || !strings.Contains(logs, "the playground is stopping") {
		t.Errorf("the logs call the stop a failure, or do not say it:\n%s", logs)
	}
	if _, err := p.pg.RunSchedules(ctx, p.pg.now().Add(time.Hour)); !errors.Is(err, ErrStopped) {
		t.Errorf("a run after Close = %v, want ErrStopped", err)
	}
}
