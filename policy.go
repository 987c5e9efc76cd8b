package csbot

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy holds every weight and threshold of health scoring, risk signals
// and renewal reminders. DefaultPolicy gives the defaults; a file named by
// CSBOT_POLICY_FILE may override any of them.
//
// The root package knows no file format. Each field's key is its name in
// lower_snake_case (OverrideExpiryDays is override_expiry_days), nested
// with dots (tiers.high.weights.usage), and the field comments name the
// keys. A decoder outside the package should decode a file onto a copy of
// DefaultPolicy, so that keys the file leaves out keep their defaults, and
// then call Validate, whose errors name the offending key.
type Policy struct {
	// Tiers holds the settings of each tier. Key: tiers.
	Tiers TierPolicies
	// OverrideExpiryDays is how long a CSM's health override lasts.
	// Key: override_expiry_days. Default 30.
	OverrideExpiryDays int
	// SignalRearmDays is how many consecutive days a signal's dedupe key
	// must be absent from Signals before the notifier may alert on that key
	// again (see Signal); at least 1. Key: signal_rearm_days. Default 14.
	SignalRearmDays int
	// Notifications sets when and where csbot notifies. Key:
	// notifications.
	Notifications NotificationPolicy
}

// NotificationPolicy sets when and where csbot notifies.
type NotificationPolicy struct {
	// ScoreIntervalMinutes is how often scores and signals are recomputed
	// and alerts raised. Key: score_interval_minutes. Default 60.
	ScoreIntervalMinutes int
	// AlertIntervalMinutes is the least time between two alert messages
	// about one account; alerts raised within it wait and go together in
	// one message. Key: alert_interval_minutes. Default 60.
	AlertIntervalMinutes int
	// ReminderHour is the hour of the day, in each CSM's time zone, from
	// which the day's renewal reminders are sent. Key: reminder_hour.
	// Default 9.
	ReminderHour int
	// DigestWeekday (monday ... sunday) and DigestHour are when weekly
	// digests are sent, in each manager's time zone. Keys: digest_weekday,
	// digest_hour. Default monday, 9.
	DigestWeekday string
	DigestHour    int
	// AckedReminderDays: an acknowledged alert whose signal is still open
	// this many days later reminds whoever acknowledged it, once; 0 never.
	// Key: acked_reminder_days. Default 14.
	AckedReminderDays int
	// UnackedDigestDays: digests list alerts unacknowledged for longer than
	// this. Key: unacked_digest_days. Default 3.
	UnackedDigestDays int
	// Routes are where each signal kind's alerts go unless a user chose
	// otherwise: channel, dm, digest or off. Key: routes.<kind>, e.g.
	// notifications.routes.no_touch. Default channel.
	Routes AlertRoutes
}

// AlertRoutes holds a route (channel, dm, digest or off) per signal kind;
// each key is the kind's name.
type AlertRoutes struct {
	TicketSpike    string
	UsageDrop      string
	UsageSilent    string
	InvoiceOverdue string
	Outages        string
	Detractor      string
	BandDrop       string
	ChampionLeft   string
	NoTouch        string
	RenewalRisk    string
}

// of returns the route field of kind k, nil for an unknown kind.
func (r *AlertRoutes) of(k SignalKind) *string {
	switch k {
	case SignalTicketSpike:
		return &r.TicketSpike
	case SignalUsageDrop:
		return &r.UsageDrop
	case SignalUsageSilent:
		return &r.UsageSilent
	case SignalInvoiceOverdue:
		return &r.InvoiceOverdue
	case SignalOutages:
		return &r.Outages
	case SignalDetractor:
		return &r.Detractor
	case SignalBandDrop:
		return &r.BandDrop
	case SignalChampionLeft:
		return &r.ChampionLeft
	case SignalNoTouch:
		return &r.NoTouch
	case SignalRenewalRisk:
		return &r.RenewalRisk
	}
	return nil
}

// DefaultRoute returns the route of kind k's alerts for users who chose
// none: RouteChannel unless the policy says otherwise.
func (np NotificationPolicy) DefaultRoute(k SignalKind) Route {
	if r := np.Routes.of(k); r != nil && Route(*r).Valid() {
		return Route(*r)
	}
	return RouteChannel
}

// AlertPolicy sets the alerts of a tier.
type AlertPolicy struct {
	// Off lists the signal kinds that raise no alert on accounts of the
	// tier; they still count in the score and show in /health.
	// Key: off. Default none.
	Off []string
	// EscalateAfterBusinessDays: an alert nobody acknowledged within this
	// many business days goes to the CSM's manager by DM, once; 0 never.
	// Key: escalate_after_business_days. Default 1 high, 3 low, 0 tech.
	EscalateAfterBusinessDays int
	// OutageNotices: outages affecting an account of the tier are posted
	// in its channel. Key: outage_notices. Default true high and low,
	// false tech.
	OutageNotices bool
}

// Alerting reports whether kind k raises alerts under ap.
func (ap AlertPolicy) Alerting(k SignalKind) bool {
	return !slices.Contains(ap.Off, string(k))
}

// TierPolicies holds one TierPolicy per tier. It is a struct rather than a
// map so that a file setting one key of one tier keeps the defaults of all
// the others.
type TierPolicies struct {
	High TierPolicy // key: tiers.high
	Low  TierPolicy // key: tiers.low
	Tech TierPolicy // key: tiers.tech
}

// TierPolicy is the policy of one tier.
type TierPolicy struct {
	Bands        BandPolicy         // key: bands
	Weights      Weights            // key: weights
	Usage        UsagePolicy        // key: usage
	Support      SupportPolicy      // key: support
	Satisfaction SatisfactionPolicy // key: satisfaction
	Payments     PaymentsPolicy     // key: payments
	Engagement   EngagementPolicy   // key: engagement
	Reliability  ReliabilityPolicy  // key: reliability
	Renewals     RenewalPolicy      // key: renewals
	Alerts       AlertPolicy        // key: alerts
}

// BandPolicy sets the lowest score of each band; scores below Yellow are red.
type BandPolicy struct {
	Green  int // key: green; default 70
	Yellow int // key: yellow; default 40
}

// Weights are the relative weights of the health components. A component
// with weight 0 is not computed at all; one with no data is left out and the
// weights of the rest renormalised.
type Weights struct {
	Usage        int // key: usage; default 35
	Support      int // key: support; default 15
	Satisfaction int // key: satisfaction; default 15
	Payments     int // key: payments; default 15
	Engagement   int // key: engagement; default 10 (0 for tech touch)
	Reliability  int // key: reliability; default 10
}

// Total returns the sum of the weights.
func (w Weights) Total() int {
	return w.Usage + w.Support + w.Satisfaction + w.Payments + w.Engagement + w.Reliability
}

// Of returns the weight of component k, 0 for an unknown kind.
func (w Weights) Of(k ComponentKind) int {
	switch k {
	case ComponentUsage:
		return w.Usage
	case ComponentSupport:
		return w.Support
	case ComponentSatisfaction:
		return w.Satisfaction
	case ComponentPayments:
		return w.Payments
	case ComponentEngagement:
		return w.Engagement
	case ComponentReliability:
		return w.Reliability
	}
	return 0
}

// UsagePolicy scores usage and adoption and raises usage_drop and
// usage_silent.
type UsagePolicy struct {
	// TargetAdoptionPct is the mean daily active users, as a percentage of
	// licensed seats, that counts as full adoption (weekends included, so
	// well below 100). Key: target_adoption_pct. Default 60.
	TargetAdoptionPct int
	// TrendSharePct is the share of the usage score that comes from the
	// trend against the prior 30 days; the rest comes from adoption.
	// Key: trend_share_pct. Default 40.
	TrendSharePct int
	// DropPct is the fall in mean daily active users against the prior 30
	// days that raises usage_drop (warning); the trend part scores 50 there
	// and 0 at twice the fall. Key: drop_pct. Default 30.
	DropPct int
	// DropCriticalPct is the fall that makes usage_drop critical.
	// Key: drop_critical_pct. Default 50.
	DropCriticalPct int
	// SilentDays is how many days without any activity raise usage_silent
	// (critical) for an account that had some, and score usage 0.
	// Key: silent_days. Default 60.
	SilentDays int
}

// SupportPolicy scores support and raises ticket_spike.
type SupportPolicy struct {
	// SpikeTickets: more tickets than this opened in 30 days raise
	// ticket_spike (warning). Key: spike_tickets. Default 10 high, 20 low,
	// 40 tech.
	SpikeTickets int
	// SpikeCriticalTickets: more tickets than this make ticket_spike
	// critical. Key: spike_critical_tickets. Default twice SpikeTickets.
	SpikeCriticalTickets int
	// SpikePenalty is what ticket volume costs the support score at
	// SpikeTickets, in proportion below and above it (at most 1.5 times).
	// Key: spike_penalty. Default 40.
	SpikePenalty int
	// UrgentPenalty is what each unresolved urgent ticket costs.
	// Key: urgent_penalty. Default 20.
	UrgentPenalty int
	// HighPenalty is what each unresolved high-severity ticket costs.
	// Key: high_penalty. Default 10.
	HighPenalty int
	// StaleDays: an unresolved ticket open longer than this costs
	// StalePenalty. Key: stale_days. Default 30.
	StaleDays int
	// StalePenalty: key stale_penalty. Default 15.
	StalePenalty int
}

// SatisfactionPolicy scores NPS responses and raises detractor.
type SatisfactionPolicy struct {
	// HalfLifeDays: a response this many days old weighs half as much as
	// one from today. Key: half_life_days. Default 90.
	HalfLifeDays int
	// DetractorMax is the highest NPS score that counts as a detractor.
	// Key: detractor_max. Default 6.
	DetractorMax int
	// DetractorWeight multiplies a detractor's weight; detractors also
	// score 0, so they pull hard. Key: detractor_weight. Default 2.
	DetractorWeight int
	// CriticalMax is the highest NPS score whose detractor signal is
	// critical rather than warning. Key: critical_max. Default 3.
	CriticalMax int
	// AlertWithinDays: only responses this recent raise detractor, so a
	// first run does not alert on half a year of old answers.
	// Key: alert_within_days. Default 30.
	AlertWithinDays int
}

// PaymentsPolicy scores overdue invoices and raises invoice_overdue.
type PaymentsPolicy struct {
	// OverdueDays: an invoice unpaid more than this many days past due
	// raises invoice_overdue (warning); the payments score is 50 there.
	// Key: overdue_days. Default 15 high, 30 low, 45 tech.
	OverdueDays int
	// OverdueCriticalDays: more than this many days makes invoice_overdue
	// critical and the payments score 0. Key: overdue_critical_days.
	// Default twice OverdueDays.
	OverdueCriticalDays int
	// ExtraInvoicePenalty is what each overdue invoice beyond the first
	// costs. Key: extra_invoice_penalty. Default 10.
	ExtraInvoicePenalty int
}

// EngagementPolicy scores touchpoints and raises no_touch.
type EngagementPolicy struct {
	// CadenceDays is the longest expected gap between touchpoints; longer
	// raises no_touch (info, warning at twice). The touch part scores 100
	// within it, 50 at twice and 0 at three times. 0 means no cadence:
	// no_touch is never raised, and weights.engagement must then be 0.
	// Key: cadence_days. Default 30 high, 90 low, 0 tech.
	CadenceDays int
	// ExecCadenceDays is the longest expected gap between executive
	// business reviews (touchpoints of kind ebr); 0 leaves the exec part
	// out. Key: exec_cadence_days. Default 180 high, 365 low, 0 tech.
	ExecCadenceDays int
	// ExecSharePct is the share of the engagement score that comes from
	// the exec part. Key: exec_share_pct. Default 30.
	ExecSharePct int
}

// ReliabilityPolicy scores outages and raises outages.
type ReliabilityPolicy struct {
	// Outages: this many outages or more affecting the account in 30 days
	// raise outages (warning). Key: outages. Default 2.
	Outages int
	// OutagesCritical: this many make it critical.
	// Key: outages_critical. Default 4.
	OutagesCritical int
	// OutagePenalty is what each outage in 30 days costs the reliability
	// score. Key: outage_penalty. Default 25.
	OutagePenalty int
}

// RenewalPolicy sets renewal reminders and renewal_risk.
type RenewalPolicy struct {
	// RiskDays: an open renewal this many days away or fewer, on a red
	// account or a yellow one that is falling, raises renewal_risk.
	// Key: risk_days. Default 90.
	RiskDays int
	// ReminderDays are the days before the renewal date on which a
	// reminder falls due. Key: reminder_days. Default 120, 90, 60, 30,
	// 14, 7 high; 90, 60, 30, 7 low; 30, 7 tech.
	ReminderDays []int
	// AutoRenewReminderDays replace ReminderDays for auto-renewing
	// renewals. Key: auto_renew_reminder_days. Default the same as
	// ReminderDays, except 30 alone for tech touch.
	AutoRenewReminderDays []int
}

// DefaultPolicy returns the policy csbot uses when no file overrides it.
func DefaultPolicy() Policy {
	base := TierPolicy{
		Bands:   BandPolicy{Green: 70, Yellow: 40},
		Weights: Weights{Usage: 35, Support: 15, Satisfaction: 15, Payments: 15, Engagement: 10, Reliability: 10},
		Usage: UsagePolicy{
			TargetAdoptionPct: 60, TrendSharePct: 40,
			DropPct: 30, DropCriticalPct: 50, SilentDays: 60,
		},
		Support: SupportPolicy{
			SpikeTickets: 10, SpikeCriticalTickets: 20, SpikePenalty: 40,
			UrgentPenalty: 20, HighPenalty: 10, StaleDays: 30, StalePenalty: 15,
		},
		Satisfaction: SatisfactionPolicy{
			HalfLifeDays: 90, DetractorMax: 6, DetractorWeight: 2,
			CriticalMax: 3, AlertWithinDays: 30,
		},
		Payments:    PaymentsPolicy{OverdueDays: 15, OverdueCriticalDays: 30, ExtraInvoicePenalty: 10},
		Engagement:  EngagementPolicy{CadenceDays: 30, ExecCadenceDays: 180, ExecSharePct: 30},
		Reliability: ReliabilityPolicy{Outages: 2, OutagesCritical: 4, OutagePenalty: 25},
		Renewals: RenewalPolicy{
			RiskDays:              90,
			ReminderDays:          []int{120, 90, 60, 30, 14, 7},
			AutoRenewReminderDays: []int{120, 90, 60, 30, 14, 7},
		},
		Alerts: AlertPolicy{Off: []string{}, EscalateAfterBusinessDays: 1, OutageNotices: true},
	}

	high := base

	low := base
	low.Support.SpikeTickets, low.Support.SpikeCriticalTickets = 20, 40
	low.Payments.OverdueDays, low.Payments.OverdueCriticalDays = 30, 60
	low.Engagement.CadenceDays, low.Engagement.ExecCadenceDays = 90, 365
	low.Renewals.ReminderDays = []int{90, 60, 30, 7}
	low.Renewals.AutoRenewReminderDays = []int{90, 60, 30, 7}
	low.Alerts = AlertPolicy{Off: []string{}, EscalateAfterBusinessDays: 3, OutageNotices: true}

	tech := base
	tech.Weights.Engagement = 0
	tech.Support.SpikeTickets, tech.Support.SpikeCriticalTickets = 40, 80
	tech.Payments.OverdueDays, tech.Payments.OverdueCriticalDays = 45, 90
	tech.Engagement = EngagementPolicy{CadenceDays: 0, ExecCadenceDays: 0, ExecSharePct: 30}
	tech.Renewals.ReminderDays = []int{30, 7}
	tech.Renewals.AutoRenewReminderDays = []int{30}
	tech.Alerts = AlertPolicy{Off: []string{}, EscalateAfterBusinessDays: 0, OutageNotices: false}

	return Policy{
		Tiers:              TierPolicies{High: high, Low: low, Tech: tech},
		OverrideExpiryDays: 30,
		SignalRearmDays:    14,
		Notifications: NotificationPolicy{
			ScoreIntervalMinutes: 60,
			AlertIntervalMinutes: 60,
			ReminderHour:         9,
			DigestWeekday:        "monday",
			DigestHour:           9,
			AckedReminderDays:    14,
			UnackedDigestDays:    3,
			Routes: AlertRoutes{
				TicketSpike: "channel", UsageDrop: "channel", UsageSilent: "channel",
				InvoiceOverdue: "channel", Outages: "channel", Detractor: "channel",
				BandDrop: "channel", ChampionLeft: "channel", NoTouch: "channel",
				RenewalRisk: "channel",
			},
		},
	}
}

// Tier returns the policy of tier t. An unknown tier gets the low-touch
// policy, the middle ground.
func (p Policy) Tier(t Tier) TierPolicy {
	switch t {
	case TierHigh:
		return p.Tiers.High
	case TierTech:
		return p.Tiers.Tech
	default:
		return p.Tiers.Low
	}
}

// OverrideExpiresAt returns when an override created at created expires.
func (p Policy) OverrideExpiresAt(created time.Time) time.Time {
	return created.AddDate(0, 0, p.OverrideExpiryDays)
}

// PolicyError is one problem Validate found, with the key it concerns.
type PolicyError struct {
	Key     string // e.g. "tiers.high.weights.usage"
	Problem string // e.g. "must be >= 0, got -5"
}

// Error returns "<key>: <problem>".
func (e *PolicyError) Error() string { return e.Key + ": " + e.Problem }

// Validate checks every setting of p and returns nil or all the problems
// joined (errors.Join), each a *PolicyError naming its key, e.g.
// "tiers.high.weights.usage: must be >= 0, got -5".
func (p Policy) Validate() error {
	var v policyChecker
	v.atLeast("override_expiry_days", p.OverrideExpiryDays, 1)
	v.atLeast("signal_rearm_days", p.SignalRearmDays, 1)
	p.Tiers.High.validate(&v, "tiers.high")
	p.Tiers.Low.validate(&v, "tiers.low")
	p.Tiers.Tech.validate(&v, "tiers.tech")
	p.Notifications.validate(&v, "notifications")
	return errors.Join(v.errs...)
}

func (tp TierPolicy) validate(v *policyChecker, at string) {
	b := tp.Bands
	v.between(at+".bands.green", b.Green, 1, 100)
	v.between(at+".bands.yellow", b.Yellow, 1, 100)
	if b.Yellow >= b.Green {
		v.add(at+".bands.yellow", fmt.Sprintf("must be below bands.green (%d), got %d", b.Green, b.Yellow))
	}

	w := tp.Weights
	v.atLeast(at+".weights.usage", w.Usage, 0)
	v.atLeast(at+".weights.support", w.Support, 0)
	v.atLeast(at+".weights.satisfaction", w.Satisfaction, 0)
	v.atLeast(at+".weights.payments", w.Payments, 0)
	v.atLeast(at+".weights.engagement", w.Engagement, 0)
	v.atLeast(at+".weights.reliability", w.Reliability, 0)
	if w.Total() <= 0 {
		v.add(at+".weights", "at least one weight must be above 0")
	}

	u := tp.Usage
	v.between(at+".usage.target_adoption_pct", u.TargetAdoptionPct, 1, 100)
	v.between(at+".usage.trend_share_pct", u.TrendSharePct, 0, 100)
	v.between(at+".usage.drop_pct", u.DropPct, 1, 100)
	v.between(at+".usage.drop_critical_pct", u.DropCriticalPct, u.DropPct, 100)
	v.atLeast(at+".usage.silent_days", u.SilentDays, 1)

	s := tp.Support
	v.atLeast(at+".support.spike_tickets", s.SpikeTickets, 1)
	v.atLeast(at+".support.spike_critical_tickets", s.SpikeCriticalTickets, s.SpikeTickets)
	v.between(at+".support.spike_penalty", s.SpikePenalty, 0, 100)
	v.between(at+".support.urgent_penalty", s.UrgentPenalty, 0, 100)
	v.between(at+".support.high_penalty", s.HighPenalty, 0, 100)
	v.atLeast(at+".support.stale_days", s.StaleDays, 1)
	v.between(at+".support.stale_penalty", s.StalePenalty, 0, 100)

	n := tp.Satisfaction
	v.atLeast(at+".satisfaction.half_life_days", n.HalfLifeDays, 1)
	v.between(at+".satisfaction.detractor_max", n.DetractorMax, 0, 9)
	v.between(at+".satisfaction.detractor_weight", n.DetractorWeight, 1, 100)
	v.between(at+".satisfaction.critical_max", n.CriticalMax, 0, n.DetractorMax)
	v.between(at+".satisfaction.alert_within_days", n.AlertWithinDays, 0, NPSWindowDays)

	m := tp.Payments
	v.atLeast(at+".payments.overdue_days", m.OverdueDays, 1)
	v.atLeast(at+".payments.overdue_critical_days", m.OverdueCriticalDays, m.OverdueDays+1)
	v.between(at+".payments.extra_invoice_penalty", m.ExtraInvoicePenalty, 0, 100)

	e := tp.Engagement
	v.atLeast(at+".engagement.cadence_days", e.CadenceDays, 0)
	if e.CadenceDays == 0 && w.Engagement > 0 {
		v.add(at+".engagement.cadence_days", fmt.Sprintf("must be above 0 while weights.engagement is %d", w.Engagement))
	}
	v.atLeast(at+".engagement.exec_cadence_days", e.ExecCadenceDays, 0)
	v.between(at+".engagement.exec_share_pct", e.ExecSharePct, 0, 100)

	r := tp.Reliability
	v.atLeast(at+".reliability.outages", r.Outages, 1)
	v.atLeast(at+".reliability.outages_critical", r.OutagesCritical, r.Outages)
	v.between(at+".reliability.outage_penalty", r.OutagePenalty, 0, 100)

	for i, k := range tp.Alerts.Off {
		if !slices.Contains(SignalKinds(), SignalKind(k)) {
			v.add(fmt.Sprintf("%s.alerts.off[%d]", at, i), fmt.Sprintf("unknown signal kind %q; kinds: %s", k, kindList()))
		}
	}
	v.between(at+".alerts.escalate_after_business_days", tp.Alerts.EscalateAfterBusinessDays, 0, 60)

	rn := tp.Renewals
	v.atLeast(at+".renewals.risk_days", rn.RiskDays, 0)
	v.reminderDays(at+".renewals.reminder_days", rn.ReminderDays)
	v.reminderDays(at+".renewals.auto_renew_reminder_days", rn.AutoRenewReminderDays)
}

func (np NotificationPolicy) validate(v *policyChecker, at string) {
	v.between(at+".score_interval_minutes", np.ScoreIntervalMinutes, 5, 24*60)
	v.between(at+".alert_interval_minutes", np.AlertIntervalMinutes, 0, 24*60)
	v.between(at+".reminder_hour", np.ReminderHour, 0, 23)
	v.between(at+".digest_hour", np.DigestHour, 0, 23)
	if _, ok := ParseWeekday(np.DigestWeekday); !ok {
		v.add(at+".digest_weekday", fmt.Sprintf("want a day of the week (monday ... sunday), got %q", np.DigestWeekday))
	}
	v.between(at+".acked_reminder_days", np.AckedReminderDays, 0, 365)
	v.between(at+".unacked_digest_days", np.UnackedDigestDays, 0, 60)
	r := np.Routes
	for _, k := range SignalKinds() {
		if got := *r.of(k); !Route(got).Valid() {
			v.add(at+".routes."+string(k), fmt.Sprintf("want channel, dm, digest or off, got %q", got))
		}
	}
}

// kindList names the signal kinds, comma-separated.
func kindList() string {
	var b []byte
	for i, k := range SignalKinds() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, k...)
	}
	return string(b)
}

// ParseWeekday parses an English day name ("monday", "Mon"), any case.
func ParseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, true
		}
	}
	return 0, false
}

// policyChecker collects the problems Validate finds.
type policyChecker struct{ errs []error }

func (v *policyChecker) add(key, problem string) {
	v.errs = append(v.errs, &PolicyError{Key: key, Problem: problem})
}

func (v *policyChecker) atLeast(key string, got, min int) {
	if got < min {
		v.add(key, fmt.Sprintf("must be >= %d, got %d", min, got))
	}
}

func (v *policyChecker) between(key string, got, min, max int) {
	if got < min || got > max {
		v.add(key, fmt.Sprintf("must be between %d and %d, got %d", min, max, got))
	}
}

func (v *policyChecker) reminderDays(key string, days []int) {
	seen := make(map[int]bool, len(days))
	for i, d := range days {
		k := fmt.Sprintf("%s[%d]", key, i)
		if d < 0 || d > 3660 {
			v.add(k, fmt.Sprintf("must be between 0 and 3660, got %d", d))
		}
		if seen[d] {
			v.add(k, fmt.Sprintf("%d appears twice", d))
		}
		seen[d] = true
	}
}
