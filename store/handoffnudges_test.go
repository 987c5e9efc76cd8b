package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

// nudgeBook holds handoffs written on Thursday and Friday 2026-11-19/20,
// by name: "friday" (owner U0ONB in New York, whose manager is U0MGR),
// "acked" (the same, acknowledged at once), "nobody" (no owner), all
// written Friday 16:00 in New York, and "tokyo" (owner U0TOK in Tokyo,
// without a manager), written Thursday 20:00 in New York, Friday 10:00 in
// Tokyo.
type nudgeBook struct {
	hoBook
	handoffs map[string]int64
	name     map[int64]string
}

func newNudgeBook(ctx context.Context, t *testing.T) nudgeBook {
	t.Helper()
	b := nudgeBook{hoBook: newHoBook(ctx, t), handoffs: map[string]int64{}, name: map[int64]string{}}
	ny := dueZone(t, "America/New_York")
	friday := time.Date(2026, 11, 20, 16, 0, 0, 0, ny)
	for _, h := range []struct {
		name, account, owner string
		at                   time.Time
	}{
		{"friday", "H-CHAN", "U0ONB", friday},
		{"acked", "H-CHAN", "U0ONB", friday},
		{"nobody", "H-QUIET", "", friday},
		{"tokyo", "H-QUIET", "U0TOK", time.Date(2026, 11, 19, 20, 0, 0, 0, ny)},
		{"churned", "H-CHURN", "U0ONB", friday},
	} {
		id := b.create(ctx, t, b.hoNote(h.account, h.owner), hoOnboarding, h.at).ID
		b.handoffs[h.name], b.name[id] = id, h.name
	}
	if _, ok, err := b.s.AckHandoff(ctx, b.handoffs["acked"], "U0ONB", friday.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("AckHandoff: %v, %v", ok, err)
	}
	return b
}

// nudgeSent is a nudge or an escalation as the tests compare them.
type nudgeSent struct {
	Handoff string
	Kind    csbot.NotificationKind
	Channel string
	User    string
	Days    int
}

// nudges returns what res wrote, sorted, checking each one's key,
// account, payload and id (0 in a dry run).
func (b nudgeBook) nudges(t *testing.T, res csbot.RunResult, now time.Time, dry bool) []nudgeSent {
	t.Helper()
	var out []nudgeSent
	for _, n := range res.Notifications {
		sent := hoStored{ID: n.ID, Key: n.Key, Kind: string(n.Kind), Account: n.AccountID, Channel: n.Channel, User: n.User, Fallback: n.FallbackUser}
		if err := json.Unmarshal(n.Payload, &sent.Post); err != nil {
			t.Fatal(err)
		}
		b.checkNudge(t, sent, now)
		if (n.ID == 0) != dry {
			t.Errorf("%s: id %d in a dry run: %v", n.Key, n.ID, dry)
		}
		out = append(out, nudgeSent{Handoff: b.name[sent.Post.Handoff], Kind: n.Kind, Channel: n.Channel, User: n.User, Days: sent.Post.BusinessDays})
	}
	sortNudges(out)
	return out
}

// checkNudge checks the key, account and payload of a nudge or escalation.
func (b nudgeBook) checkNudge(t *testing.T, n hoStored, now time.Time) {
	t.Helper()
	id := n.Post.Handoff
	var account int64
	if err := b.conn.QueryRow(context.Background(), `SELECT account_id FROM handoffs WHERE id = $1`, id).Scan(&account); err != nil {
		t.Fatalf("%s: handoff %d: %v", n.Key, id, err)
	}
	wantPlace, wantFallback := csbot.HandoffPlace(""), ""
	if n.Channel != "" {
		wantPlace, wantFallback = csbot.HandoffInOnboarding, "U0AE"
	}
	if n.Key != fmt.Sprintf("%s:%d", n.Kind, id) || n.Account != account || !n.Post.At.Equal(now) ||
		n.Post.Place != wantPlace || n.Fallback != wantFallback || n.Post.Change != "" || n.Post.Notification != 0 {
		t.Errorf("nudge %+v; want key <kind>:<handoff>, its account, the pass's time, and the onboarding place when in a channel", n)
	}
}

func sortNudges(ns []nudgeSent) {
	sort.Slice(ns, func(i, j int) bool {
		if ns[i].Handoff != ns[j].Handoff {
			return ns[i].Handoff < ns[j].Handoff
		}
		return ns[i].Kind < ns[j].Kind
	})
}

// stored returns the nudges and escalations stored, sorted.
func (b nudgeBook) stored(ctx context.Context, t *testing.T) []nudgeSent {
	t.Helper()
	var out []nudgeSent
	for _, n := range b.notifications(ctx, t, "handoff\\_nudge:%") {
		out = append(out, nudgeSent{Handoff: b.name[n.Post.Handoff], Kind: csbot.NotificationKind(n.Kind), Channel: n.Channel, User: n.User, Days: n.Post.BusinessDays})
	}
	for _, n := range b.notifications(ctx, t, "handoff\\_escalation:%") {
		out = append(out, nudgeSent{Handoff: b.name[n.Post.Handoff], Kind: csbot.NotificationKind(n.Kind), Channel: n.Channel, User: n.User, Days: n.Post.BusinessDays})
	}
	sortNudges(out)
	return out
}

var (
	nudgeFriday      = nudgeSent{"friday", csbot.NotifyHandoffNudge, "", "U0ONB", 1}
	nudgeNobody      = nudgeSent{"nobody", csbot.NotifyHandoffNudge, hoOnboarding, "", 1}
	nudgeTokyo       = nudgeSent{"tokyo", csbot.NotifyHandoffNudge, "", "U0TOK", 1}
	escalationFriday = nudgeSent{"friday", csbot.NotifyHandoffEscalation, "", "U0MGR", 3}
	escalationNobody = nudgeSent{"nobody", csbot.NotifyHandoffEscalation, hoOnboarding, "", 3}
	escalationTokyo  = nudgeSent{"tokyo", csbot.NotifyHandoffEscalation, hoOnboarding, "", 3}
)

// TestHandoffNudges runs passes from Friday to Thursday and checks that an
// open handoff is nudged after one business day and escalated after
// three, on its owner's calendar, once each, to its owner and their
// manager, or else the onboarding channel; an acknowledged handoff, and
// one on a churned account, get neither.
func TestHandoffNudges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newNudgeBook(ctx, t)
	ny := dueZone(t, "America/New_York")
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, ny) }
	steps := []struct {
		name string
		at   time.Time
		dry  bool
		want []nudgeSent
	}{
		// On New York's calendar "tokyo" would be due on Friday 20:00; on
		// Tokyo's it is Monday 10:00 there, Sunday 20:00 in New York.
		{"Friday 20:00", at(20, 20, 0), false, nil},
		{"Sunday 19:59", at(22, 19, 59), false, nil},
		{"Sunday 20:00", at(22, 20, 0), false, []nudgeSent{nudgeTokyo}},
		{"Monday 15:59", at(23, 15, 59), false, nil},
		{"Monday 16:00, dry run", at(23, 16, 0), true, []nudgeSent{nudgeFriday, nudgeNobody}},
		{"Monday 16:00", at(23, 16, 0), false, []nudgeSent{nudgeFriday, nudgeNobody}},
		{"Monday 16:00, again", at(23, 16, 0), false, nil},
		{"Tuesday 19:59", at(24, 19, 59), false, nil},
		{"Tuesday 20:00", at(24, 20, 0), false, []nudgeSent{escalationTokyo}},
		{"Wednesday 15:59", at(25, 15, 59), false, nil},
		{"Wednesday 16:00", at(25, 16, 0), false, []nudgeSent{escalationFriday, escalationNobody}},
		{"Thursday", at(26, 12, 0), false, nil},
	}
	var all []nudgeSent
	for _, st := range steps {
		res, err := b.s.QueueHandoffNudges(ctx, csbot.DueRun{Now: st.at, Policy: csbot.DefaultPolicy(), Zone: ny, DryRun: st.dry}, hoOnboarding)
		if err != nil {
			t.Fatalf("%s: QueueHandoffNudges: %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, b.nudges(t, res, st.at, st.dry)); diff != "" {
			t.Errorf("%s: written (-want +got):\n%s", st.name, diff)
		}
		nudges, escalations := 0, 0
		for _, n := range st.want {
			if n.Kind == csbot.NotifyHandoffNudge {
				nudges++
			} else {
				escalations++
			}
		}
		wantCounts := map[string]int{"handoff_nudges": nudges, "handoff_escalations": escalations, "no_manager": 0}
		if diff := cmp.Diff(wantCounts, res.Counts); diff != "" {
			t.Errorf("%s: counts (-want +got):\n%s", st.name, diff)
		}
		if !st.dry {
			all = append(all, st.want...)
			sortNudges(all)
		}
		if diff := cmp.Diff(all, b.stored(ctx, t)); diff != "" {
			t.Errorf("%s: stored (-want +got):\n%s", st.name, diff)
		}
	}
}

// TestHandoffNudgesConcurrentPasses runs passes at once, long after
// everything is due, and checks that each nudge and escalation is written
// once.
func TestHandoffNudgesConcurrentPasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newNudgeBook(ctx, t)
	run := csbot.DueRun{Now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), Policy: csbot.DefaultPolicy(), Zone: time.UTC}
	const passes = 4
	results := make([]csbot.RunResult, passes)
	errs := make([]error, passes)
	var wg sync.WaitGroup
	for i := range passes {
		wg.Go(func() { results[i], errs[i] = b.s.QueueHandoffNudges(ctx, run, hoOnboarding) })
	}
	wg.Wait()
	var written []nudgeSent
	total := map[string]int{}
	for i := range passes {
		if errs[i] != nil {
			t.Fatalf("pass %d: %v", i, errs[i])
		}
		written = append(written, b.nudges(t, results[i], run.Now, false)...)
		for k, n := range results[i].Counts {
			total[k] += n
		}
	}
	sortNudges(written)
	want := []nudgeSent{escalationFriday, nudgeFriday, escalationNobody, nudgeNobody, escalationTokyo, nudgeTokyo}
	if diff := cmp.Diff(want, written); diff != "" {
		t.Errorf("written by the passes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, b.stored(ctx, t)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"handoff_nudges": 3, "handoff_escalations": 3, "no_manager": 0}, total); diff != "" {
		t.Errorf("counts of all passes (-want +got):\n%s", diff)
	}
}

// TestHandoffNudgesWithoutOnboardingChannel: without an owner or an
// onboarding channel, the nudge goes to the author and the escalation to
// nobody; an owner without a manager escalates to nobody either.
func TestHandoffNudgesWithoutOnboardingChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newNudgeBook(ctx, t)
	run := csbot.DueRun{Now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), Policy: csbot.DefaultPolicy(), Zone: time.UTC}
	for pass := range 2 {
		res, err := b.s.QueueHandoffNudges(ctx, run, "")
		if err != nil {
			t.Fatal(err)
		}
		var want []nudgeSent
		wantCounts := map[string]int{"handoff_nudges": 0, "handoff_escalations": 0, "no_manager": 2}
		if pass == 0 {
			want = []nudgeSent{escalationFriday, nudgeFriday, {"nobody", csbot.NotifyHandoffNudge, "", "U0AE", 1}, nudgeTokyo}
			wantCounts["handoff_nudges"], wantCounts["handoff_escalations"] = 3, 1
		}
		if diff := cmp.Diff(want, b.nudges(t, res, run.Now, false)); diff != "" {
			t.Errorf("pass %d: written (-want +got):\n%s", pass, diff)
		}
		if diff := cmp.Diff(wantCounts, res.Counts); diff != "" {
			t.Errorf("pass %d: counts (-want +got):\n%s", pass, diff)
		}
	}
}
