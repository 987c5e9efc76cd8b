package csbot

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Band is the colour of a health score.
type Band string

// The bands, best first. A HealthScore with no data at all has the empty
// band.
const (
	BandGreen  Band = "green"
	BandYellow Band = "yellow"
	BandRed    Band = "red"
)

// Bands lists every band, best first.
func Bands() []Band { return []Band{BandGreen, BandYellow, BandRed} }

// Valid reports whether b is one of the known bands.
func (b Band) Valid() bool { return b == BandGreen || b == BandYellow || b == BandRed }

// Worse reports whether b is a worse band than other. The empty band is
// neither worse nor better than any.
func (b Band) Worse(other Band) bool {
	rb, ro := b.rank(), other.rank()
	return rb > 0 && ro > 0 && rb > ro
}

func (b Band) rank() int {
	switch b {
	case BandGreen:
		return 1
	case BandYellow:
		return 2
	case BandRed:
		return 3
	}
	return 0
}

// ParseBand parses a band name, ignoring case and surrounding space.
// It returns an error naming the valid bands for anything else.
func ParseBand(s string) (Band, error) {
	b := Band(strings.ToLower(strings.TrimSpace(s)))
	if !b.Valid() {
		return "", fmt.Errorf("unknown band %q: want green, yellow or red", s)
	}
	return b, nil
}

// Band returns the band of score under bp.
func (bp BandPolicy) Band(score int) Band {
	switch {
	case score >= bp.Green:
		return BandGreen
	case score >= bp.Yellow:
		return BandYellow
	default:
		return BandRed
	}
}

// The windows the facts are aggregated over.
const (
	// HealthWindowDays is "the last 30 days" of usage, tickets and outages,
	// and the length of the prior usage period.
	HealthWindowDays = 30
	// NPSWindowDays is how far back NPS responses count.
	NPSWindowDays = 180
	// minTrendDays is how many days of usage the prior period needs before
	// a trend is computed, so a young account's ramp-up is not a "drop".
	minTrendDays = 14
)

// FactWindows are the periods AccountFacts are aggregated over at one
// instant. The store uses WindowsAt so that its SQL and Score agree.
type FactWindows struct {
	// Today is now's date in UTC, as midnight UTC.
	Today time.Time
	// UsageFrom and UsageTo are the first and last days, inclusive, of the
	// current usage period: the 30 complete days before Today.
	UsageFrom, UsageTo time.Time
	// PriorFrom and PriorTo bound the 30 days before that, inclusive.
	PriorFrom, PriorTo time.Time
	// RecentSince is now minus 30 days: tickets opened and outages started
	// at or after it are "in the last 30 days".
	RecentSince time.Time
	// NPSSince is now minus 180 days: NPS responses at or after it count.
	NPSSince time.Time
}

// WindowsAt returns the fact windows at now.
func WindowsAt(now time.Time) FactWindows {
	today := utcDay(now)
	return FactWindows{
		Today:       today,
		UsageFrom:   today.AddDate(0, 0, -HealthWindowDays),
		UsageTo:     today.AddDate(0, 0, -1),
		PriorFrom:   today.AddDate(0, 0, -2*HealthWindowDays),
		PriorTo:     today.AddDate(0, 0, -HealthWindowDays-1),
		RecentSince: now.Add(-HealthWindowDays * 24 * time.Hour),
		NPSSince:    now.Add(-NPSWindowDays * 24 * time.Hour),
	}
}

// AccountFacts are the aggregates Score and Signals read for one account at
// one instant. The store computes them for every account in a few set-based
// queries over the windows of WindowsAt(now). Dates (days, due dates,
// renewal dates) are read as their calendar date in their own location, as
// pgx returns date columns at midnight UTC. Zero times mean "none".
type AccountFacts struct {
	AccountID     int64
	Tier          Tier
	CreatedAt     time.Time // the account's creation; no_touch counts from it when it was never touched
	LicensedSeats int       // the account's licensed seats; 0 when unknown

	// Usage, from usage_daily.

	// UsageFirstDay is the first day with a usage row, ever; zero when the
	// account has no usage data (usage is then left out of the score).
	UsageFirstDay time.Time
	// LastActiveDay is the last day with active_users > 0, ever; zero when
	// never active. A non-zero value is what "had activity" means.
	LastActiveDay time.Time
	// ActiveUserDays is SUM(active_users) over UsageFrom..UsageTo. Days
	// without a row count as 0; days before UsageFirstDay are not counted,
	// so the mean is taken over the days the account has had data.
	ActiveUserDays int64
	// PriorActiveUserDays is SUM(active_users) over PriorFrom..PriorTo.
	PriorActiveUserDays int64

	// Support, from tickets.

	TicketsOnRecord bool      // whether the account has any ticket at all; false leaves support out
	Tickets30       int       // tickets opened at or after RecentSince, any status
	OpenUrgent      int       // unresolved (open or pending) urgent tickets
	OpenHigh        int       // unresolved high-severity tickets
	OldestOpenAt    time.Time // opened_at of the oldest unresolved ticket; zero when none

	// NPS holds the responses at or after NPSSince, any order. ID,
	// RespondedAt and Score are read; RespondentEmail and Comment, when
	// filled, are quoted by the detractor signal. Empty leaves satisfaction
	// out.
	NPS []NPSResponse

	// Payments, from invoices.

	InvoicesOnRecord bool // whether the account has any invoice at all; false leaves payments out
	// Overdue holds the unpaid invoices with due_on before Today, any
	// order; ID, ExternalID, DueOn and Amount are read.
	Overdue []Invoice

	// Engagement, from touchpoints and contacts.

	LastTouchAt  time.Time // the latest touchpoint of any kind; zero when never (engagement is then left out)
	LastEBRAt    time.Time // the latest touchpoint of kind ebr: the exec sponsor's engagement
	ExecSponsors int       // active contacts with role exec_sponsor

	// Outages holds the outages affecting the account (its own and global
	// ones, AccountID 0) that started at or after RecentSince; only ID,
	// AccountID and StartedAt are read. The store may share one slice of
	// global outages between accounts: Score and Signals never modify it.
	Outages []Outage

	// Champions, from contacts.

	ActiveChampions int // active contacts with role champion
	// InactiveChampions holds the inactive contacts with role champion,
	// most recently updated first; only ID and Name are read.
	InactiveChampions []Contact

	// NextRenewal is the account's open renewal with the earliest date;
	// ID 0 when none. ID, RenewalDate, ARR and AutoRenew are read.
	NextRenewal Renewal
	// OverdueRenewal is the account's open renewal with the earliest date
	// before Today (it lapsed, or was closed without anyone recording
	// it); ID 0 when none. Score and Signals do not read it.
	OverdueRenewal Renewal

	// Snapshots, from health_scores. Day is zero when there is none.

	Previous HealthSnapshot // the latest snapshot dated before Today
	Week     HealthSnapshot // the latest dated Today-14..Today-7
	Month    HealthSnapshot // the latest dated Today-45..Today-30

	// Override is the account's latest override, nil when none. Score shows
	// it when it has not expired at now.
	Override *HealthOverride
}

// HealthSnapshot is a stored daily health score.
type HealthSnapshot struct {
	Day   time.Time // midnight UTC; zero means no snapshot
	Score int
	Band  Band
}

// ComponentKind names a health component.
type ComponentKind string

// The health components, in the order a HealthScore lists them.
const (
	ComponentUsage        ComponentKind = "usage"
	ComponentSupport      ComponentKind = "support"
	ComponentSatisfaction ComponentKind = "satisfaction"
	ComponentPayments     ComponentKind = "payments"
	ComponentEngagement   ComponentKind = "engagement"
	ComponentReliability  ComponentKind = "reliability"
)

// ComponentKinds lists every component in order.
func ComponentKinds() []ComponentKind {
	return []ComponentKind{ComponentUsage, ComponentSupport, ComponentSatisfaction,
		ComponentPayments, ComponentEngagement, ComponentReliability}
}

// Component is one measure of a health score.
type Component struct {
	Kind ComponentKind
	// Score is 0..100; 0 and meaningless when NoData.
	Score int
	// Weight is the policy's weight for the component.
	Weight int
	// Share is the component's part of the total after renormalisation:
	// 0 when NoData, and the shares of a score's components sum to 1.
	Share float64
	// NoData reports that the component had nothing to go on and was left
	// out of the score.
	NoData bool
	// Evidence says what the score rests on, in words and numbers, or,
	// when NoData, what is missing ("no NPS responses in the last 180 days").
	Evidence string
}

// Driver is a component that pulls a score down.
type Driver struct {
	Kind   ComponentKind
	Points int    // what the component costs the total score
	Text   string // the component's evidence
}

// Trend is the change of a score against earlier snapshots.
type Trend struct {
	Delta7  int  // score minus the score about 7 days earlier
	Has7    bool // whether that snapshot exists
	Delta30 int  // score minus the score about 30 days earlier
	Has30   bool
}

// Falling reports whether the score went down: against 7 days earlier when
// known, else against 30 days earlier.
func (t Trend) Falling() bool {
	if t.Has7 {
		return t.Delta7 < 0
	}
	return t.Has30 && t.Delta30 < 0
}

// HealthScore is an account's computed health at one instant.
type HealthScore struct {
	AccountID int64
	At        time.Time
	// Score is 0..100, the share-weighted mean of the components with data,
	// rounded; 0 when none had data.
	Score int
	// Band is Score's band under the tier's policy; empty when no
	// component had data.
	Band Band
	// Coverage is the percentage of the tier's total weight whose
	// components had data.
	Coverage int
	Trend    Trend
	// Components lists every component with a weight above 0, in the order
	// of ComponentKinds, those with no data included.
	Components []Component
	// Drivers lists up to three components that cost the score the most
	// (at least 3 points each), worst first.
	Drivers []Driver
	// Override is the CSM's own view, shown beside Score, never instead of
	// it; nil when there is none or it has expired.
	Override *HealthOverride
}

// Missing returns, for each component left out for want of data, what is
// missing ("no NPS responses in the last 180 days").
func (h HealthScore) Missing() []string {
	var out []string
	for _, c := range h.Components {
		if c.NoData {
			out = append(out, c.Evidence)
		}
	}
	return out
}

// Component returns h's component of kind k and whether h has it.
func (h HealthScore) Component(k ComponentKind) (Component, bool) {
	for _, c := range h.Components {
		if c.Kind == k {
			return c, true
		}
	}
	return Component{}, false
}

// minDriverPoints is the least a component must cost to be a driver.
const minDriverPoints = 3

// Score computes the health of the account f describes at now under p,
// with the policy of f.Tier. It reads no clock and cannot fail: a
// component without data is left out, the weights of the rest
// renormalised and the gap named in its evidence (see Missing); when no
// component has data the score is 0 with an empty band and no trend.
func Score(f AccountFacts, p Policy, now time.Time) HealthScore {
	tp := p.Tier(f.Tier)
	w := WindowsAt(now)
	h := HealthScore{AccountID: f.AccountID, At: now}

	// All evidence is written into one buffer and turned into one string,
	// which the components' Evidence fields slice: scoring a book of
	// 100,000 accounts should not make a million small strings.
	t := make(text, 0, 512)
	var spans [6][2]int
	var comps [6]Component
	n := 0
	for _, kind := range [...]ComponentKind{ComponentUsage, ComponentSupport, ComponentSatisfaction,
		ComponentPayments, ComponentEngagement, ComponentReliability} {
		weight := tp.Weights.Of(kind)
		if weight <= 0 {
			continue
		}
		from := len(t)
		var score int
		var ok bool
		switch kind {
		case ComponentUsage:
			score, ok = usageComponent(&t, f, tp.Usage, w)
		case ComponentSupport:
			score, ok = supportComponent(&t, f, tp.Support, now)
		case ComponentSatisfaction:
			score, ok = satisfactionComponent(&t, f, tp.Satisfaction, now)
		case ComponentPayments:
			score, ok = paymentsComponent(&t, f, tp.Payments, w)
		case ComponentEngagement:
			score, ok = engagementComponent(&t, f, tp.Engagement, now)
		case ComponentReliability:
			score, ok = reliabilityComponent(&t, f, tp.Reliability, now)
		}
		comps[n] = Component{Kind: kind, Weight: weight, NoData: !ok}
		if ok {
			comps[n].Score = clampInt(score, 0, 100)
		}
		spans[n] = [2]int{from, len(t)}
		n++
	}
	all := string(t)
	for i := range comps[:n] {
		comps[i].Evidence = all[spans[i][0]:spans[i][1]]
	}

	total, present := 0, 0
	for _, c := range comps[:n] {
		total += c.Weight
		if !c.NoData {
			present += c.Weight
		}
	}
	var sum float64
	for i := range comps[:n] {
		c := &comps[i]
		if c.NoData || present == 0 {
			continue
		}
		c.Share = float64(c.Weight) / float64(present)
		sum += c.Share * float64(c.Score)
	}
	if present > 0 {
		h.Score = clampInt(int(math.Round(sum)), 0, 100)
		h.Band = tp.Bands.Band(h.Score)
	}
	if total > 0 {
		h.Coverage = int(math.Round(100 * float64(present) / float64(total)))
	}
	h.Components = append([]Component(nil), comps[:n]...)
	h.Drivers = drivers(h.Components)

	if present > 0 && !f.Week.Day.IsZero() {
		h.Trend.Delta7, h.Trend.Has7 = h.Score-f.Week.Score, true
	}
	if present > 0 && !f.Month.Day.IsZero() {
		h.Trend.Delta30, h.Trend.Has30 = h.Score-f.Month.Score, true
	}
	if f.Override != nil && f.Override.Active(now) {
		o := *f.Override
		h.Override = &o
	}
	return h
}

// drivers picks the components that cost the score the most, worst first,
// keeping component order among ties.
func drivers(comps []Component) []Driver {
	var all [6]Driver
	n := 0
	for _, c := range comps {
		if c.NoData || n == len(all) {
			continue
		}
		pts := int(math.Round(c.Share * float64(100-c.Score)))
		if pts < minDriverPoints {
			continue
		}
		i := n
		for i > 0 && all[i-1].Points < pts {
			all[i] = all[i-1]
			i--
		}
		all[i] = Driver{Kind: c.Kind, Points: pts, Text: c.Evidence}
		n++
	}
	if n == 0 {
		return nil
	}
	return append([]Driver(nil), all[:min(n, 3)]...)
}

// text is a buffer evidence is appended to without fmt, so that scoring
// allocates little.
type text []byte

func (t *text) str(s string) { *t = append(*t, s...) }

func (t *text) int(n int) { *t = strconv.AppendInt(*t, int64(n), 10) }

// count appends n and the singular or plural noun: "1 day", "3 days".
func (t *text) count(n int, one, many string) {
	t.int(n)
	t.str(" ")
	t.str(plural(n, one, many))
}

func (t *text) date(d time.Time) { *t = d.AppendFormat(*t, time.DateOnly) }

// users appends a mean number of users: whole from 10 up, else to one decimal.
func (t *text) users(x float64) {
	if x >= 10 || x == math.Trunc(x) {
		*t = strconv.AppendFloat(*t, math.Round(x), 'f', 0, 64)
		return
	}
	*t = strconv.AppendFloat(*t, x, 'f', 1, 64)
}

// usageFigures are the usage numbers Score and Signals share.
type usageFigures struct {
	hasData     bool    // any usage row ever
	cur, prior  float64 // mean daily active users in each period
	curDays     int     // days of the current period with data
	priorDays   int     // days of the prior period with data
	curSum      int64   // ActiveUserDays
	priorSum    int64   // PriorActiveUserDays
	trendKnown  bool    // prior period long enough and above 0
	changePct   float64 // (cur-prior)/prior*100 when trendKnown
	silentDays  int     // complete days without activity since LastActiveDay
	everActive  bool
	seats       int
	startsToday bool // data starts today: nothing complete yet
}

func usageOf(f AccountFacts, w FactWindows) usageFigures {
	u := usageFigures{seats: f.LicensedSeats, everActive: !f.LastActiveDay.IsZero()}
	if f.UsageFirstDay.IsZero() {
		return u
	}
	u.hasData = true
	first := localDay(f.UsageFirstDay)
	u.curDays = daysIn(first, w.UsageFrom, w.UsageTo)
	if u.curDays == 0 {
		u.startsToday = true
		return u
	}
	u.curSum, u.priorSum = f.ActiveUserDays, f.PriorActiveUserDays
	u.cur = float64(f.ActiveUserDays) / float64(u.curDays)
	if priorDays := daysIn(first, w.PriorFrom, w.PriorTo); priorDays >= minTrendDays && f.PriorActiveUserDays > 0 {
		u.priorDays = priorDays
		u.prior = float64(f.PriorActiveUserDays) / float64(priorDays)
		u.trendKnown = true
		u.changePct = (u.cur - u.prior) / u.prior * 100
	}
	if u.everActive {
		u.silentDays = max(0, daysBetween(localDay(f.LastActiveDay), w.Today)-1)
	}
	return u
}

// dropPct returns the fall of the mean daily active users against the
// prior period in whole percent, truncated and computed exactly in integers
// (a rise is negative), so thresholds hold at their exact values.
func (u usageFigures) dropPct() int {
	if !u.trendKnown {
		return 0
	}
	// (prior-cur)/prior with prior = priorSum/priorDays and
	// cur = curSum/curDays, both multiplied by priorDays*curDays.
	p := u.priorSum * int64(u.curDays)
	c := u.curSum * int64(u.priorDays)
	return int(100 * (p - c) / p)
}

// daysIn counts the days of from..to (inclusive) on or after first.
func daysIn(first, from, to time.Time) int {
	if first.After(from) {
		from = first
	}
	if from.After(to) {
		return 0
	}
	return daysBetween(from, to) + 1
}

// usageComponent scores usage and adoption; false means no data.
func usageComponent(t *text, f AccountFacts, up UsagePolicy, w FactWindows) (int, bool) {
	u := usageOf(f, w)
	switch {
	case !u.hasData:
		t.str("no usage data")
		return 0, false
	case u.startsToday:
		t.str("usage data starts today")
		return 0, false
	case !u.everActive:
		t.str("no activity on record")
		return 0, true
	case u.silentDays >= up.SilentDays:
		t.str("no activity for ")
		t.count(u.silentDays, "day", "days")
		t.str(" (last active ")
		t.date(localDay(f.LastActiveDay))
		t.str(")")
		return 0, true
	}

	adoptKnown := u.seats > 0
	var adopt, trend float64
	if adoptKnown {
		adopt = math.Min(100, 100*(u.cur/float64(u.seats))/(float64(up.TargetAdoptionPct)/100))
	}
	if u.trendKnown {
		trend = 100
		if u.changePct < 0 {
			trend = math.Max(0, 100+u.changePct*50/float64(up.DropPct))
		}
	}
	var score float64
	switch {
	case adoptKnown && u.trendKnown:
		s := float64(up.TrendSharePct) / 100
		score = (1-s)*adopt + s*trend
	case adoptKnown:
		score = adopt
	case u.trendKnown:
		score = trend
	case u.cur == 0:
		t.str("no active users in the last 30 days")
		return 0, true
	default:
		t.users(u.cur)
		t.str(" active users a day, but no seat count or prior period to compare with")
		return 0, false
	}
	usageEvidence(t, u)
	return int(math.Round(score)), true
}

// usageEvidence describes usage that is not silent: the trend when it
// moved 5% or more, else adoption.
func usageEvidence(t *text, u usageFigures) {
	change := func(dir string, pct int) {
		t.str("active users ")
		t.str(dir)
		t.str(" ")
		t.int(pct)
		t.str("% vs the prior 30 days (")
		t.users(u.prior)
		t.str(" -> ")
		t.users(u.cur)
		if u.seats > 0 {
			t.str(" of ")
			t.int(u.seats)
			t.str(" seats")
		}
		t.str(")")
	}
	if u.trendKnown {
		if drop := u.dropPct(); drop >= 5 {
			change("down", drop)
			return
		}
		if rise := int(math.Round(u.changePct)); rise >= 5 {
			change("up", rise)
			return
		}
	}
	t.users(u.cur)
	if u.seats > 0 {
		t.str(" of ")
		t.int(u.seats)
		t.str(" seats active a day (")
		t.int(int(math.Round(100 * u.cur / float64(u.seats))))
		t.str("%)")
	} else {
		t.str(" active users a day")
	}
	if u.trendKnown {
		t.str(", steady vs the prior 30 days")
	}
}

// supportComponent scores ticket volume, severity and age.
func supportComponent(t *text, f AccountFacts, sp SupportPolicy, now time.Time) (int, bool) {
	if !f.TicketsOnRecord {
		t.str("no support tickets on record")
		return 0, false
	}
	vol := math.Min(1.5*float64(sp.SpikePenalty), float64(sp.SpikePenalty)*float64(f.Tickets30)/float64(sp.SpikeTickets))
	pen := vol + float64(f.OpenUrgent*sp.UrgentPenalty+f.OpenHigh*sp.HighPenalty)
	oldest := 0
	if !f.OldestOpenAt.IsZero() {
		oldest = elapsedDays(f.OldestOpenAt, now)
		if oldest > sp.StaleDays {
			pen += float64(sp.StalePenalty)
		}
	}

	t.count(f.Tickets30, "ticket", "tickets")
	t.str(" in 30 days")
	if f.Tickets30 > sp.SpikeTickets {
		t.str(" (over ")
		t.int(sp.SpikeTickets)
		t.str(")")
	}
	if f.OpenUrgent > 0 {
		t.str(", ")
		t.int(f.OpenUrgent)
		t.str(" urgent")
	}
	if f.OpenHigh > 0 {
		if f.OpenUrgent > 0 {
			t.str(" and ")
		} else {
			t.str(", ")
		}
		t.int(f.OpenHigh)
		t.str(" high")
	}
	if f.OpenUrgent > 0 || f.OpenHigh > 0 {
		t.str(" open")
	}
	if f.OldestOpenAt.IsZero() {
		t.str(", none open")
	} else {
		t.str(", oldest open ")
		t.count(oldest, "day", "days")
	}
	return int(math.Round(100 - pen)), true
}

// satisfactionComponent scores the NPS responses of the last 180 days:
// each weighs by its age (halving every half_life_days); a detractor
// scores 0 and weighs detractor_weight times more, others score 10 times
// their answer. Adding a detractor can therefore never raise the score.
func satisfactionComponent(t *text, f AccountFacts, sp SatisfactionPolicy, now time.Time) (int, bool) {
	since := now.Add(-NPSWindowDays * 24 * time.Hour)
	var wsum, vsum float64
	count, promoters, detractors := 0, 0, 0
	var latestDet NPSResponse
	for _, r := range f.NPS {
		if r.RespondedAt.Before(since) {
			continue
		}
		count++
		age := math.Max(0, now.Sub(r.RespondedAt).Hours()/24)
		wt := math.Exp2(-age / float64(sp.HalfLifeDays))
		val := 0.0
		if r.Score <= sp.DetractorMax {
			detractors++
			wt *= float64(sp.DetractorWeight)
			if latestDet.RespondedAt.IsZero() || r.RespondedAt.After(latestDet.RespondedAt) {
				latestDet = r
			}
		} else {
			val = float64(10 * min(r.Score, 10))
		}
		if r.Score >= 9 {
			promoters++
		}
		wsum += wt
		vsum += wt * val
	}
	if count == 0 {
		t.str("no NPS responses in the last 180 days")
		return 0, false
	}

	nps := int(math.Round(100 * float64(promoters-detractors) / float64(count)))
	t.str("NPS ")
	if nps > 0 {
		t.str("+")
	}
	t.int(nps)
	t.str(" from ")
	t.count(count, "response", "responses")
	t.str(" in 180 days")
	if detractors > 0 {
		t.str(", ")
		t.count(detractors, "detractor", "detractors")
		t.str(", latest scored ")
		t.int(latestDet.Score)
		t.str(", ")
		t.count(elapsedDays(latestDet.RespondedAt, now), "day", "days")
		t.str(" ago")
	}
	return int(math.Round(vsum / wsum)), true
}

// paymentsComponent scores unpaid invoices past due: 50 at overdue_days,
// 0 at overdue_critical_days, less extra_invoice_penalty per further one.
func paymentsComponent(t *text, f AccountFacts, pp PaymentsPolicy, w FactWindows) (int, bool) {
	if !f.InvoicesOnRecord && len(f.Overdue) == 0 {
		t.str("no invoice data")
		return 0, false
	}
	count, oldest := 0, 0
	var total Cents
	for _, inv := range f.Overdue {
		d := daysBetween(localDay(inv.DueOn), w.Today)
		if d <= 0 {
			continue
		}
		count++
		total += inv.Amount
		oldest = max(oldest, d)
	}
	if count == 0 {
		t.str("no invoices overdue")
		return 100, true
	}
	var pen float64
	if oldest <= pp.OverdueDays {
		pen = 50 * float64(oldest) / float64(pp.OverdueDays)
	} else {
		pen = 50 + 50*float64(oldest-pp.OverdueDays)/float64(pp.OverdueCriticalDays-pp.OverdueDays)
	}
	pen = math.Min(100, pen) + float64((count-1)*pp.ExtraInvoicePenalty)

	t.count(count, "invoice", "invoices")
	t.str(" overdue, ")
	if count > 1 {
		t.str("oldest ")
	}
	t.count(oldest, "day", "days")
	t.str(", ")
	t.str(total.String())
	return int(math.Round(100 - pen)), true
}

// engagementComponent scores the last touch against the tier's cadence
// and, for exec_share_pct of it, the last EBR against its cadence.
func engagementComponent(t *text, f AccountFacts, ep EngagementPolicy, now time.Time) (int, bool) {
	if ep.CadenceDays <= 0 {
		t.str("no touch cadence for this tier")
		return 0, false
	}
	if f.LastTouchAt.IsZero() {
		t.str("no touchpoints on record")
		return 0, false
	}
	days := elapsedDays(f.LastTouchAt, now)
	score := cadenceScore(days, ep.CadenceDays)
	t.str("last touch ")
	t.count(days, "day", "days")
	t.str(" ago (cadence ")
	t.int(ep.CadenceDays)
	t.str(")")
	if ep.ExecCadenceDays > 0 && ep.ExecSharePct > 0 {
		var exec float64
		switch {
		case f.ExecSponsors == 0:
			t.str(", no active exec sponsor")
		case f.LastEBRAt.IsZero():
			t.str(", no EBR on record")
		default:
			d := elapsedDays(f.LastEBRAt, now)
			exec = cadenceScore(d, ep.ExecCadenceDays)
			t.str(", last EBR ")
			t.count(d, "day", "days")
			t.str(" ago")
		}
		s := float64(ep.ExecSharePct) / 100
		score = (1-s)*score + s*exec
	}
	return int(math.Round(score)), true
}

// cadenceScore is 100 within the cadence, 50 at twice it and 0 at three times.
func cadenceScore(days, cadence int) float64 {
	if days <= cadence {
		return 100
	}
	return math.Max(0, 100-50*float64(days-cadence)/float64(cadence))
}

// outageCount counts the outages of the last 30 days, and the global ones.
func outageCount(f AccountFacts, now time.Time) (n, global int, latest time.Time) {
	since := now.Add(-HealthWindowDays * 24 * time.Hour)
	for _, o := range f.Outages {
		if o.StartedAt.Before(since) || o.StartedAt.After(now) {
			continue
		}
		n++
		if o.AccountID == 0 {
			global++
		}
		if o.StartedAt.After(latest) {
			latest = o.StartedAt
		}
	}
	return n, global, latest
}

// outageEvidence describes n outages in 30 days.
func outageEvidence(t *text, n, global int, latest, now time.Time) {
	if n == 0 {
		t.str("no outages in the last 30 days")
		return
	}
	t.count(n, "outage", "outages")
	t.str(" in the last 30 days")
	if global > 0 {
		t.str(" (")
		t.int(global)
		t.str(" global)")
	}
	t.str(", latest ")
	t.count(elapsedDays(latest, now), "day", "days")
	t.str(" ago")
}

// reliabilityComponent scores outages: outage_penalty each.
func reliabilityComponent(t *text, f AccountFacts, rp ReliabilityPolicy, now time.Time) (int, bool) {
	n, global, latest := outageCount(f, now)
	outageEvidence(t, n, global, latest, now)
	return 100 - n*rp.OutagePenalty, true
}

// HealthOverride is a CSM's own view of an account's health: a score, a
// band or both, with a note. It is shown beside the computed score until
// it expires and never replaces it.
type HealthOverride struct {
	ID        int64
	AccountID int64
	Score     int  // 0..100; meaningful only when HasScore
	HasScore  bool // whether a score was given
	Band      Band // empty when only a score was given
	Note      string
	By        string // Slack user id of who made it
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Active reports whether o is in force at now: created and not expired.
func (o HealthOverride) Active(now time.Time) bool {
	return !now.Before(o.CreatedAt) && now.Before(o.ExpiresAt)
}

// Validate reports what is wrong with o, all problems joined, or nil.
func (o HealthOverride) Validate() error {
	var errs []error
	if !o.HasScore && o.Band == "" {
		errs = append(errs, errors.New("override needs a score or a band"))
	}
	if o.HasScore && (o.Score < 0 || o.Score > 100) {
		errs = append(errs, fmt.Errorf("override score %d: must be between 0 and 100", o.Score))
	}
	if o.Band != "" && !o.Band.Valid() {
		errs = append(errs, fmt.Errorf("override band %q: want green, yellow or red", o.Band))
	}
	if strings.TrimSpace(o.Note) == "" {
		errs = append(errs, errors.New("override needs a note"))
	}
	if o.By == "" {
		errs = append(errs, errors.New("override needs its author"))
	}
	if !o.ExpiresAt.After(o.CreatedAt) {
		errs = append(errs, errors.New("override must expire after it is created"))
	}
	return errors.Join(errs...)
}

// CanOverride reports whether actor may override the health of account:
// only its CSM, that CSM's manager (csmManager, a Slack user id; empty when
// unknown) or an admin may.
func CanOverride(actor User, account Account, csmManager string) bool {
	if actor.SlackID == "" {
		return false
	}
	switch {
	case actor.Role == UserAdmin:
		return true
	case account.CSMUserID != "" && actor.SlackID == account.CSMUserID:
		return true
	case account.CSMUserID != "" && csmManager != "" && actor.SlackID == csmManager:
		return true
	}
	return false
}

// utcDay returns t's date in UTC as midnight UTC.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// localDay returns t's date in its own location as midnight UTC.
func localDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// daysBetween returns the days from a to b, both midnight UTC.
func daysBetween(a, b time.Time) int {
	return int(math.Round(b.Sub(a).Hours() / 24))
}

// elapsedDays returns the whole days from t to now, at least 0.
func elapsedDays(t, now time.Time) int {
	return max(0, int(now.Sub(t)/(24*time.Hour)))
}

func clampInt(x, lo, hi int) int { return min(hi, max(lo, x)) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ScoreAll scores every account of facts at now and collects their risk
// signals, in the order of facts.
func ScoreAll(facts []AccountFacts, p Policy, now time.Time) ([]HealthScore, []Signal) {
	scores := make([]HealthScore, len(facts))
	var signals []Signal
	for i, f := range facts {
		scores[i] = Score(f, p, now)
		signals = append(signals, Signals(f, scores[i], p, now)...)
	}
	return scores, signals
}
