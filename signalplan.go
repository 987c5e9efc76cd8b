package csbot

import (
	"slices"
	"strings"
	"time"
)

// SeverityRank orders severities: info 1, warning 2, critical 3, anything
// else 0.
func SeverityRank(s SignalSeverity) int {
	switch s {
	case SignalInfo:
		return 1
	case SignalWarning:
		return 2
	case SignalCritical:
		return 3
	}
	return 0
}

// Family returns the signal's family: its dedupe key without the step,
// "<kind>:<subject id>". Signals of one family are the same fact at
// different steps (a 30% usage drop that becomes a 50% drop).
func (s Signal) Family() string { return SignalFamily(s.DedupeKey) }

// SignalFamily returns the family of a signal dedupe key.
func SignalFamily(key string) string {
	if i := strings.LastIndexByte(key, ':'); i > 0 {
		return key[:i]
	}
	return key
}

// AlertState is where an alert stands.
type AlertState string

// The alert states.
const (
	AlertOpen         AlertState = "open"
	AlertAcknowledged AlertState = "acknowledged"
	AlertSnoozed      AlertState = "snoozed"
	AlertEscalated    AlertState = "escalated" // open, and sent to the manager
	AlertResolved     AlertState = "resolved"
	// AlertSuperseded: a worse alert of the same signal replaced it.
	AlertSuperseded AlertState = "superseded"
)

// Live reports whether the alert still stands: not resolved nor
// superseded.
func (s AlertState) Live() bool { return s != AlertResolved && s != AlertSuperseded && s != "" }

// FamilyState is what the notifier remembers of a signal family.
type FamilyState struct {
	Family    string
	AccountID int64
	Kind      SignalKind
	// Episode counts the times the family came back after being absent
	// for Policy.SignalRearmDays; each episode alerts anew.
	Episode int
	// SignalKey, Severity and Evidence are of the worst step alerted (or
	// baselined) in the episode.
	SignalKey string
	Severity  SignalSeverity
	Evidence  string
	FirstSeen time.Time // when the episode began
	LastSeen  time.Time // when a run last returned the family
	// Baselined: the episode began before csbot watched the account, so
	// it raised no alert.
	Baselined bool
	// AlertID is the episode's latest alert (0 when baselined), AlertState
	// its state and AlertAt when it was raised.
	AlertID    int64
	AlertState AlertState
	AlertAt    time.Time
}

// SignalAction is what the notifier does about one signal of a run.
type SignalAction string

// The signal actions.
const (
	// ActionAlert: a new episode; raise an alert.
	ActionAlert SignalAction = "alert"
	// ActionWorse: the family's episode reached a more severe step; raise
	// an alert saying what changed since the last one.
	ActionWorse SignalAction = "worse"
	// ActionReopen: the family's alert was resolved and the signal came
	// back within the re-arm period; reopen that alert, no new one.
	ActionReopen SignalAction = "reopen"
	// ActionBaseline: the account is seen for the first time; remember the
	// signal without alerting, for the CSM's baseline summary.
	ActionBaseline SignalAction = "baseline"
	// ActionSeen: nothing new; remember that the family is still there.
	ActionSeen SignalAction = "seen"
)

// SignalDecision is the action for one signal of a run.
type SignalDecision struct {
	Signal Signal
	Action SignalAction
	// Episode is the family's episode after the decision.
	Episode int
	// Previous is the family's state before the run; nil for a family seen
	// for the first time.
	Previous *FamilyState
}

// SignalPlanInput is what PlanSignals decides from.
type SignalPlanInput struct {
	// States are the remembered families of the accounts in the run, by
	// family.
	States map[string]FamilyState
	// Signals are the run's signals.
	Signals []Signal
	// Unwatched are the accounts csbot has not seen before this run.
	Unwatched map[int64]bool
	// Bands are the run's computed bands, by account.
	Bands map[int64]Band
	// Complete says the run covered every account, so families absent
	// from Signals have cleared.
	Complete bool
	Policy   Policy
	Now      time.Time
}

// SignalPlan is what a run decided: an action per signal, and the families
// whose live alert has cleared.
type SignalPlan struct {
	Decisions []SignalDecision // in the order of the input signals
	Resolved  []FamilyState    // sorted by family
}

// PlanSignals decides what the notifier does about a run's signals:
//
//   - a signal of an account seen for the first time is baselined: no
//     alert, whatever its severity (the CSM gets one summary instead);
//   - a family never seen, or absent for at least Policy.SignalRearmDays
//     (LastSeen that long before Now), starts a new episode and alerts;
//   - a family whose signal is more severe than the worst step of its
//     episode alerts again, as worse;
//   - a family whose alert was resolved and that is back within the
//     re-arm period reopens that alert;
//   - anything else is seen: no message.
//
// Two signals of one family in a run (which Signals never returns) are
// decided in order, the second against the first. When the run is
// complete, a family with a live alert that the run did not return is
// resolved, except detractor (a response ages out of the alert window; it
// does not get better) and band_drop, which Signals returns only on the
// day of the fall: it resolves once the account's band is back above the
// band it fell to.
func PlanSignals(in SignalPlanInput) SignalPlan {
	rearm := time.Duration(in.Policy.SignalRearmDays) * 24 * time.Hour
	states := make(map[string]FamilyState, len(in.Signals))
	seen := make(map[string]bool, len(in.Signals))
	plan := SignalPlan{Decisions: make([]SignalDecision, 0, len(in.Signals))}
	for _, sg := range in.Signals {
		fam := sg.Family()
		seen[fam] = true
		st, known := states[fam]
		if !known {
			st, known = in.States[fam]
		}
		d := SignalDecision{Signal: sg}
		if known {
			prev := st
			d.Previous = &prev
		}
		switch {
		case in.Unwatched[sg.AccountID] && (!known || st.Baselined):
			d.Action = ActionBaseline
			if known && !in.Now.Before(st.LastSeen.Add(rearm)) {
				st.Episode++
			}
			st = familyFrom(sg, max(st.Episode, 1), in.Now, firstSeen(known, st, in.Now, rearm))
			st.Baselined = true
		case !known:
			d.Action = ActionAlert
			st = familyFrom(sg, 1, in.Now, in.Now)
		case !in.Now.Before(st.LastSeen.Add(rearm)):
			d.Action = ActionAlert
			st = familyFrom(sg, st.Episode+1, in.Now, in.Now)
		case SeverityRank(sg.Severity) > SeverityRank(st.Severity):
			d.Action = ActionWorse
			first := st.FirstSeen
			st = familyFrom(sg, st.Episode, in.Now, first)
		case st.AlertState == AlertResolved:
			d.Action = ActionReopen
			st.LastSeen = in.Now
			st.AlertState = AlertOpen
		default:
			d.Action = ActionSeen
			st.LastSeen = in.Now
		}
		d.Episode = st.Episode
		states[fam] = st
		plan.Decisions = append(plan.Decisions, d)
	}
	if !in.Complete {
		return plan
	}
	for fam, st := range in.States {
		if seen[fam] || !st.AlertState.Live() || st.AlertID == 0 {
			continue
		}
		switch st.Kind {
		case SignalDetractor:
			continue
		case SignalBandDrop:
			band, ok := in.Bands[st.AccountID]
			if !ok || !bandAbove(band, Band(stepOf(st.SignalKey))) {
				continue
			}
		}
		plan.Resolved = append(plan.Resolved, st)
	}
	slices.SortFunc(plan.Resolved, func(a, b FamilyState) int { return strings.Compare(a.Family, b.Family) })
	return plan
}

// familyFrom returns the state of sg's family after alerting (or
// baselining) it.
func familyFrom(sg Signal, episode int, now, first time.Time) FamilyState {
	return FamilyState{
		Family:    sg.Family(),
		AccountID: sg.AccountID,
		Kind:      sg.Kind,
		Episode:   episode,
		SignalKey: sg.DedupeKey,
		Severity:  sg.Severity,
		Evidence:  sg.Evidence,
		FirstSeen: first,
		LastSeen:  now,
	}
}

// firstSeen keeps the start of a known family's episode unless it re-armed.
func firstSeen(known bool, st FamilyState, now time.Time, rearm time.Duration) time.Time {
	if known && now.Before(st.LastSeen.Add(rearm)) {
		return st.FirstSeen
	}
	return now
}

// stepOf returns the step of a signal dedupe key: what follows its last
// colon.
func stepOf(key string) string {
	if i := strings.LastIndexByte(key, ':'); i >= 0 {
		return key[i+1:]
	}
	return ""
}

// bandAbove reports whether band a is better than band b.
func bandAbove(a, b Band) bool { return a != "" && b != "" && b.Worse(a) }
