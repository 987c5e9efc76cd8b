package playground

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
)

// stream follows a page's event stream and keeps the page as its script
// does.
type stream struct {
	ctx    context.Context
	events chan streamEvent

	itemRE *regexp.Regexp // the keys of the feed's items in the main pane

	main  string
	keys  []string
	items map[string]string
	modal string
	clock string
}

type streamEvent struct {
	f    fragments
	size int // bytes of the event's data
}

// follow opens the event stream of the page at query.
func (p *testPlayground) follow(ctx context.Context, t *testing.T, query string) *stream {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.http.URL+"/events?"+query, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	st := &stream{ctx: ctx, events: make(chan streamEvent, 64), items: map[string]string{},
		itemRE: regexp.MustCompile(`<div class="item" data-key="([^"]+)">`)}
	go func() {
		defer close(st.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 0, 1<<20), 1<<24)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var f fragments
			if json.Unmarshal([]byte(data), &f) != nil {
				continue
			}
			select {
			case st.events <- streamEvent{f: f, size: len(data)}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return st
}

// nextEvent waits for the next event, applies it and returns it.
func (st *stream) nextEvent(t *testing.T) streamEvent {
	t.Helper()
	select {
	case ev, ok := <-st.events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		st.apply(t, ev.f)
		return ev
	case <-st.ctx.Done():
		t.Fatal("no event")
	}
	return streamEvent{}
}

func (st *stream) next(t *testing.T) fragments {
	t.Helper()
	return st.nextEvent(t).f
}

// nextChange returns the next event that is not the clock's alone (the
// minute it shows may turn at any time).
func (st *stream) nextChange(t *testing.T) fragments {
	t.Helper()
	for {
		f := st.next(t)
		if f.Clock == nil || f.Sidebar != nil || f.Main != nil || f.Feed != nil || f.Modal != nil {
			return f
		}
	}
}

// until applies events until cond holds.
func (st *stream) until(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		st.next(t)
	}
}

// apply does what the page's script does with an update.
func (st *stream) apply(t *testing.T, f fragments) {
	t.Helper()
	if f.Main != nil {
		st.main = *f.Main
		st.keys = nil
		st.items = map[string]string{}
		for _, m := range st.itemRE.FindAllStringSubmatch(st.main, -1) {
			st.keys = append(st.keys, m[1])
			st.items[m[1]] = "(as first sent)"
		}
	}
	if f.Feed != nil {
		items := map[string]string{}
		for _, k := range f.Feed.Keys {
			html, ok := f.Feed.HTML[k]
			if !ok {
				html, ok = st.items[k]
			}
			if !ok {
				t.Fatalf("the update names item %s, which the page does not hold", k)
			}
			items[k] = html
		}
		st.keys, st.items = f.Feed.Keys, items
	}
	if f.Modal != nil {
		st.modal = f.Modal.HTML
	}
	if f.Clock != nil {
		st.clock = *f.Clock
	}
}

// feed returns the main pane as last sent whole, and the items sent
// since.
func (st *stream) feed() string {
	var b strings.Builder
	b.WriteString(st.main)
	for _, k := range st.keys {
		b.WriteString(st.items[k])
	}
	return b.String()
}

// postMany posts n messages in channel, as the bot would.
func postMany(ctx context.Context, t testing.TB, sim *slacktest.Server, channel string, n int) {
	t.Helper()
	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.URL()), slack.OptionLog(log.New(io.Discard, "", 0)))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if _, _, err := api.PostMessageContext(ctx, channel, slack.MsgOptionText(fmt.Sprintf("Message %d about *Acme*", i), false)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// updateCost posts msgs messages in Acme's channel, opens Dana's page
// there (in process), then measures what a message more costs: the
// quickest of a few updates, and the largest, in bytes. It checks that
// each update carries the new items alone.
func updateCost(ctx context.Context, t testing.TB, p *testPlayground, msgs int) (time.Duration, int) {
	t.Helper()
	postMany(ctx, t, p.sim, chanAcme, msgs)
	tb := &tab{w: where{As: userDana, In: chanAcme}, me: p.pg.person(userDana)}
	first, err := p.pg.update(tb)
	if err != nil {
		t.Fatal(err)
	}
	if first.Main == nil || strings.Count(*first.Main, `<div class="item"`) != min(msgs, feedLimit) ||
		strings.Contains(*first.Main, "Older messages not shown") != (msgs > feedLimit) {
		t.Fatalf("the page shows %d items, want the latest %d, and says so when there are more", strings.Count(*first.Main, `<div class="item"`), feedLimit)
	}
	api := slack.New(p.sim.BotToken(), slack.OptionAPIURL(p.sim.URL()), slack.OptionLog(log.New(io.Discard, "", 0)))
	// A first message more: with feedLimit messages, it leaves the
	// oldest out, which the page must say (the whole main pane, once).
	if _, _, err := api.PostMessageContext(ctx, chanAcme, slack.MsgOptionText("News", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.pg.update(tb); err != nil {
		t.Fatal(err)
	}
	best, size := time.Hour, 0
	for i := range 5 {
		if _, _, err := api.PostMessageContext(ctx, chanAcme, slack.MsgOptionText(fmt.Sprintf("News %d", i), false)); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		f, err := p.pg.update(tb)
		took := time.Since(began)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(f)
		best, size = min(best, took), max(size, len(raw))
		// The new message, and the item that became the first of the
		// day (the oldest one went).
		if f.Main != nil || f.Feed == nil || len(f.Feed.HTML) == 0 || len(f.Feed.HTML) > 2 || len(f.Feed.Keys) != feedLimit {
			t.Fatalf("update %d = %.2000s, want the new items alone", i, raw)
		}
	}
	return best, size
}

// TestUpdateCostDoesNotGrowWithHistory checks that a change costs a page
// as much with 3,000 messages behind it as with 200: the page shows the
// latest feedLimit items, and an update carries what changed of them.
func TestUpdateCostDoesNotGrowWithHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	small, smallSize := updateCost(ctx, t, newTestPlayground(ctx, t, nil), 200)
	large, largeSize := updateCost(ctx, t, newTestPlayground(ctx, t, nil), 3000)
	t.Logf("a message more: %v, %d bytes with 200 messages; %v, %d bytes with 3,000", small, smallSize, large, largeSize)
	if largeSize > 2*smallSize {
		t.Errorf("an update is %d bytes with 3,000 messages, %d with 200: it grows with the history", largeSize, smallSize)
	}
	if large > 5*small+5*time.Millisecond {
		t.Errorf("an update takes %v with 3,000 messages, %v with 200: it grows with the history", large, small)
	}
	if smallSize > 16<<10 {
		t.Errorf("an update for one message is %d bytes, want it small", smallSize)
	}
}

// BenchmarkPageUpdate measures what one message more costs a page, by
// the length of the conversation's history.
func BenchmarkPageUpdate(b *testing.B) {
	for _, msgs := range []int{200, 3000} {
		b.Run(fmt.Sprintf("messages=%d", msgs), func(b *testing.B) {
			ctx := b.Context()
			p := newBenchPlayground(b)
			postMany(ctx, b, p.sim, chanAcme, msgs)
			tb := &tab{w: where{As: userDana, In: chanAcme}, me: p.pg.person(userDana)}
			if _, err := p.pg.update(tb); err != nil {
				b.Fatal(err)
			}
			api := slack.New(p.sim.BotToken(), slack.OptionAPIURL(p.sim.URL()), slack.OptionLog(log.New(io.Discard, "", 0)))
			size := 0
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				if _, _, err := api.PostMessageContext(ctx, chanAcme, slack.MsgOptionText(fmt.Sprintf("News %d", i), false)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				f, err := p.pg.update(tb)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				raw, _ := json.Marshal(f)
				size += len(raw)
				b.StartTimer()
			}
			b.ReportMetric(float64(size)/float64(b.N), "bytes/update")
		})
	}
}

// newBenchPlayground is a playground on a simulator, without a bot.
func newBenchPlayground(b *testing.B) *testPlayground {
	b.Helper()
	sim := slacktest.New(b)
	sim.AddUser(slacktest.User{ID: userDana, Name: "dana", RealName: "Dana Smith", TZ: "Europe/Berlin"})
	sim.AddChannel(slacktest.Channel{ID: chanAcme, Name: "acme-corp", Member: true})
	page, err := New(Config{Slack: sim, People: []Person{{ID: userDana, Name: "Dana Smith", Role: "csm", Channels: []string{chanAcme}}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(page.Close)
	return &testPlayground{sim: sim, pg: page}
}

// TestPagesAreUpdatedForWhatTheyShow follows a page: a Web API call
// that changes nothing it shows sends nothing, a message in another
// channel its sidebar alone, a message in its channel that message, and
// an edit the edited message.
func TestPagesAreUpdatedForWhatTheyShow(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	api := slack.New(p.sim.BotToken(), slack.OptionAPIURL(p.sim.URL()), slack.OptionLog(log.New(io.Discard, "", 0)))
	_, ts, err := api.PostMessageContext(ctx, chanAcme, slack.MsgOptionText("Acme renewed", false))
	if err != nil {
		t.Fatal(err)
	}
	st := p.follow(ctx, t, "as="+userDana+"&in="+chanAcme)
	if first := st.next(t); first.Main == nil || !strings.Contains(*first.Main, "Acme renewed") {
		t.Fatalf("first event = %+v", first)
	}

	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C0PARTNER", slack.MsgOptionText("Hello partners", false)); err != nil {
		t.Fatal(err)
	}
	// The first event after these is the sidebar's.
	if f := st.nextChange(t); f.Sidebar == nil || f.Main != nil || f.Feed != nil || f.Modal != nil {
		t.Errorf("after a message in another channel: %+v, want the sidebar alone", f)
	}

	if _, _, err := api.PostMessageContext(ctx, chanAcme, slack.MsgOptionText("Acme expands", false)); err != nil {
		t.Fatal(err)
	}
	f := st.nextChange(t)
	if f.Main != nil || f.Feed == nil || len(f.Feed.Keys) != 2 || len(f.Feed.HTML) != 1 || !strings.Contains(f.Feed.HTML[f.Feed.Keys[1]], "Acme expands") {
		t.Fatalf("after a message in the channel: %+v, want that message alone", f)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, chanAcme, ts, slack.MsgOptionText("Acme renewed for 3 years", false)); err != nil {
		t.Fatal(err)
	}
	f = st.nextChange(t)
	if f.Main != nil || f.Feed == nil || len(f.Feed.HTML) != 1 || !strings.Contains(f.Feed.HTML[f.Feed.Keys[0]], "Acme renewed for 3 years") {
		t.Fatalf("after an edit: %+v, want the edited message alone", f)
	}
	if !strings.Contains(st.feed(), "Acme expands") || !strings.Contains(st.feed(), "3 years") {
		t.Errorf("the page, updated, lacks a message:\n%s", st.feed())
	}
}
