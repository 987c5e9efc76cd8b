package csbot

import (
	"fmt"
	"strings"
	"time"
)

// SignalKind names a kind of risk signal.
type SignalKind string

// The signal kinds, in the order Signals returns them.
const (
	SignalTicketSpike    SignalKind = "ticket_spike"
	SignalUsageDrop      SignalKind = "usage_drop"
	SignalUsageSilent    SignalKind = "usage_silent"
	SignalInvoiceOverdue SignalKind = "invoice_overdue"
	SignalOutages        SignalKind = "outages"
	SignalDetractor      SignalKind = "detractor"
	SignalBandDrop       SignalKind = "band_drop"
	SignalChampionLeft   SignalKind = "champion_left"
	SignalNoTouch        SignalKind = "no_touch"
	SignalRenewalRisk    SignalKind = "renewal_risk"
)

// SignalKinds lists every signal kind.
func SignalKinds() []SignalKind {
	return []SignalKind{SignalTicketSpike, SignalUsageDrop, SignalUsageSilent, SignalInvoiceOverdue,
		SignalOutages, SignalDetractor, SignalBandDrop, SignalChampionLeft, SignalNoTouch, SignalRenewalRisk}
}

// SignalSeverity is how urgent a signal is.
type SignalSeverity string

// The signal severities, least urgent first.
const (
	SignalInfo     SignalSeverity = "info"
	SignalWarning  SignalSeverity = "warning"
	SignalCritical SignalSeverity = "critical"
)

// SignalSeverities lists every signal severity, least urgent first.
func SignalSeverities() []SignalSeverity {
	return []SignalSeverity{SignalInfo, SignalWarning, SignalCritical}
}

// Signal is a risk found in an account's facts: the trigger of an alert.
//
// DedupeKey makes "the same fact" the same key, so the notifier alerts once
// per key and again only when the fact gets worse. It is
// "<kind>:<subject id>:<step>": the internal id of what the signal is
// about and the severity step reached, never a date or period:
//
//	ticket_spike:<account id>:>10      then :>20 (spike_tickets, spike_critical_tickets)
//	usage_drop:<account id>:-30%       then :-50%
//	usage_silent:<account id>:60d
//	invoice_overdue:<invoice id>:15d   then :30d (overdue_days, overdue_critical_days)
//	outages:<account id>:>=2           then :>=4
//	detractor:<nps response id>:<=6    or :<=3 (detractor_max, critical_max)
//	band_drop:<account id>:yellow      or :red (the band reached)
//	champion_left:<contact id>:warning then :critical once a renewal is near
//	no_touch:<account id>:30d          then :60d (cadence, twice the cadence)
//	renewal_risk:<renewal id>:yellow   or :red
//
// Keys whose subject is an invoice, an NPS response, a contact or a renewal
// name a fact that happens once. Keys whose subject is the account name a
// condition that can clear and come back (usage recovers, then drops again
// months later). Signals returns such a key every day the condition holds,
// so it is sent once; the notifier re-arms a spent key once Signals has not
// returned it for Policy.SignalRearmDays consecutive days, so a recurrence
// alerts anew while a value flapping around a threshold does not. band_drop
// is returned only on the day the band falls (the previous snapshot then
// already has the new band), so a second fall alerts only after the same
// quiet period.
type Signal struct {
	Kind      SignalKind
	AccountID int64
	Severity  SignalSeverity
	Evidence  string // what was found, in words and numbers
	DedupeKey string
}

// Signals returns the risk signals in the account's facts f and its score h
// (computed by Score from the same facts) at now under p, in the order of
// SignalKinds; nil when there are none. Thresholds come from the policy of
// f.Tier. A silent account gets usage_silent rather than usage_drop.
// band_drop and renewal_risk read h's computed band, never an override.
func Signals(f AccountFacts, h HealthScore, p Policy, now time.Time) []Signal {
	tp := p.Tier(f.Tier)
	w := WindowsAt(now)
	acct := f.AccountID
	var out []Signal
	add := func(kind SignalKind, sev SignalSeverity, subject int64, step, evidence string) {
		out = append(out, Signal{
			Kind:      kind,
			AccountID: acct,
			Severity:  sev,
			Evidence:  evidence,
			DedupeKey: fmt.Sprintf("%s:%d:%s", kind, subject, step),
		})
	}

	// ticket_spike
	sp := tp.Support
	if t := f.Tickets30; t > sp.SpikeTickets {
		sev, limit := SignalWarning, sp.SpikeTickets
		if t > sp.SpikeCriticalTickets {
			sev, limit = SignalCritical, sp.SpikeCriticalTickets
		}
		add(SignalTicketSpike, sev, acct, fmt.Sprintf(">%d", limit),
			fmt.Sprintf("%d tickets opened in 30 days (more than %d%s)", t, limit, forTier(f.Tier)))
	}

	// usage_drop and usage_silent
	up := tp.Usage
	u := usageOf(f, w)
	silent := u.hasData && u.everActive && u.silentDays >= up.SilentDays
	if drop := u.dropPct(); !silent && drop >= up.DropPct {
		sev, step := SignalWarning, up.DropPct
		if drop >= up.DropCriticalPct {
			sev, step = SignalCritical, up.DropCriticalPct
		}
		var t text
		usageEvidence(&t, u)
		add(SignalUsageDrop, sev, acct, fmt.Sprintf("-%d%%", step), string(t))
	}
	if silent {
		add(SignalUsageSilent, SignalCritical, acct, fmt.Sprintf("%dd", up.SilentDays),
			fmt.Sprintf("no activity for %d days (last active %s)", u.silentDays, f.LastActiveDay.Format(time.DateOnly)))
	}

	// invoice_overdue
	pp := tp.Payments
	for _, inv := range f.Overdue {
		d := daysBetween(localDay(inv.DueOn), w.Today)
		if d <= pp.OverdueDays {
			continue
		}
		sev, step := SignalWarning, pp.OverdueDays
		if d > pp.OverdueCriticalDays {
			sev, step = SignalCritical, pp.OverdueCriticalDays
		}
		name := inv.ExternalID
		if name == "" {
			name = fmt.Sprintf("#%d", inv.ID)
		}
		add(SignalInvoiceOverdue, sev, inv.ID, fmt.Sprintf("%dd", step),
			fmt.Sprintf("invoice %s of %s unpaid %d days past due (due %s)", name, inv.Amount, d, inv.DueOn.Format(time.DateOnly)))
	}

	// outages
	rp := tp.Reliability
	if n, global, latest := outageCount(f, now); n >= rp.Outages {
		sev, step := SignalWarning, rp.Outages
		if n >= rp.OutagesCritical {
			sev, step = SignalCritical, rp.OutagesCritical
		}
		var t text
		outageEvidence(&t, n, global, latest, now)
		add(SignalOutages, sev, acct, fmt.Sprintf(">=%d", step), string(t))
	}

	// detractor
	np := tp.Satisfaction
	since := now.Add(-time.Duration(np.AlertWithinDays) * 24 * time.Hour)
	for _, r := range f.NPS {
		if r.Score > np.DetractorMax || r.RespondedAt.Before(since) || r.RespondedAt.After(now) {
			continue
		}
		sev, step := SignalWarning, np.DetractorMax
		if r.Score <= np.CriticalMax {
			sev, step = SignalCritical, np.CriticalMax
		}
		add(SignalDetractor, sev, r.ID, fmt.Sprintf("<=%d", step), detractorEvidence(r, now))
	}

	// band_drop
	if prev := f.Previous; !prev.Day.IsZero() && h.Band.Worse(prev.Band) {
		sev := SignalWarning
		if h.Band == BandRed {
			sev = SignalCritical
		}
		ev := fmt.Sprintf("health fell from %s (%d) to %s (%d) since %s", prev.Band, prev.Score, h.Band, h.Score, prev.Day.Format(time.DateOnly))
		if len(h.Drivers) > 0 {
			ev += ": " + h.Drivers[0].Text
		}
		add(SignalBandDrop, sev, acct, string(h.Band), ev)
	}

	// champion_left
	rn := tp.Renewals
	renewalDays, renewalOpen := 0, f.NextRenewal.ID != 0 && (f.NextRenewal.Status == "" || f.NextRenewal.Status == RenewalOpen)
	if renewalOpen {
		renewalDays = daysBetween(w.Today, localDay(f.NextRenewal.RenewalDate))
	}
	renewalNear := renewalOpen && renewalDays >= 0 && renewalDays <= rn.RiskDays
	if f.ActiveChampions == 0 && len(f.InactiveChampions) > 0 {
		c := f.InactiveChampions[0]
		sev := SignalWarning
		ev := fmt.Sprintf("champion %s is no longer active and no other champion is", c.Name)
		if renewalNear {
			sev = SignalCritical
			ev += fmt.Sprintf("; renewal in %d %s", renewalDays, plural(renewalDays, "day", "days"))
		}
		add(SignalChampionLeft, sev, c.ID, string(sev), ev)
	}

	// no_touch
	if c := tp.Engagement.CadenceDays; c > 0 {
		ref, never := f.LastTouchAt, f.LastTouchAt.IsZero()
		if never {
			ref = f.CreatedAt
		}
		if d := elapsedDays(ref, now); !ref.IsZero() && d > c {
			sev, step := SignalInfo, c
			if d > 2*c {
				sev, step = SignalWarning, 2*c
			}
			ev := fmt.Sprintf("no touchpoint for %d days (cadence %d days)", d, c)
			if never {
				ev = fmt.Sprintf("no touchpoint since the account was created %d days ago (cadence %d days)", d, c)
			}
			add(SignalNoTouch, sev, acct, fmt.Sprintf("%dd", step), ev)
		}
	}

	// renewal_risk
	if renewalNear && (h.Band == BandRed || (h.Band == BandYellow && h.Trend.Falling())) {
		r := f.NextRenewal
		sev := SignalWarning
		state := fmt.Sprintf("yellow (%d) and falling (%s)", h.Score, trendText(h.Trend))
		if h.Band == BandRed {
			sev, state = SignalCritical, fmt.Sprintf("red (%d)", h.Score)
		}
		add(SignalRenewalRisk, sev, r.ID, string(h.Band),
			fmt.Sprintf("renewal of %s ARR in %d %s (%s) while health is %s", r.ARR, renewalDays,
				plural(renewalDays, "day", "days"), r.RenewalDate.Format(time.DateOnly), state))
	}
	return out
}

// detractorEvidence describes a detractor response, quoting its comment.
func detractorEvidence(r NPSResponse, now time.Time) string {
	d := elapsedDays(r.RespondedAt, now)
	var b strings.Builder
	fmt.Fprintf(&b, "NPS %d", r.Score)
	if r.RespondentEmail != "" {
		fmt.Fprintf(&b, " from %s", r.RespondentEmail)
	}
	fmt.Fprintf(&b, " %d %s ago", d, plural(d, "day", "days"))
	if c := strings.Join(strings.Fields(r.Comment), " "); c != "" {
		if rs := []rune(c); len(rs) > 200 {
			c = string(rs[:199]) + "…"
		}
		fmt.Fprintf(&b, ": %q", c)
	}
	return b.String()
}

// trendText describes the change a falling trend is based on.
func trendText(t Trend) string {
	if t.Has7 {
		return fmt.Sprintf("%d in 7 days", t.Delta7)
	}
	return fmt.Sprintf("%d in 30 days", t.Delta30)
}

// forTier names a known tier for evidence: " for high touch".
func forTier(t Tier) string {
	if !t.Valid() {
		return ""
	}
	return " for " + string(t) + " touch"
}
