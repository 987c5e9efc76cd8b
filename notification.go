package csbot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// NotificationKind names what a notification is.
type NotificationKind string

// The notification kinds.
const (
	// NotifyAlert is one message of an account's risk alerts (an
	// AlertMessage): new signals, or signals that got worse.
	NotifyAlert NotificationKind = "alert"
	// NotifyAlertUpdate changes an alert message already posted, in place
	// (an AlertUpdate): resolved, reopened.
	NotifyAlertUpdate NotificationKind = "alert_update"
	// NotifyBaseline is a CSM's one summary of the risks their accounts
	// already had when csbot first saw them (a BaselineMessage).
	NotifyBaseline NotificationKind = "baseline"
	// NotifyReminder is a renewal reminder (a ReminderMessage).
	NotifyReminder NotificationKind = "renewal_reminder"
	// NotifyDigest is a manager's weekly at-risk digest.
	NotifyDigest NotificationKind = "digest"
	// NotifyEscalation tells a manager of an alert nobody acknowledged.
	NotifyEscalation NotificationKind = "escalation"
	// NotifyAckReminder reminds whoever acknowledged an alert that its
	// signal is still open.
	NotifyAckReminder NotificationKind = "ack_reminder"
	// NotifyOutage tells an affected account's channel of an outage.
	NotifyOutage NotificationKind = "outage"
	// NotifyHandoff posts a handoff note (a HandoffPost) in the account's
	// channel or the onboarding channel.
	NotifyHandoff NotificationKind = "handoff"
	// NotifyHandoffUpdate changes a posted handoff in place (acknowledged,
	// reassigned, amended).
	NotifyHandoffUpdate NotificationKind = "handoff_update"
	// NotifyHandoffAcked tells the author, by DM, that onboarding took the
	// handoff.
	NotifyHandoffAcked NotificationKind = "handoff_acked"
	// NotifyHandoffNudge reminds the owner (or the onboarding channel) of a
	// handoff nobody took after a business day.
	NotifyHandoffNudge NotificationKind = "handoff_nudge"
	// NotifyHandoffEscalation tells the owner's manager of a handoff nobody
	// took after three business days.
	NotifyHandoffEscalation NotificationKind = "handoff_escalation"
)

// NotificationState is where a notification is in its delivery.
type NotificationState string

// The notification states.
const (
	// NotificationPending: decided, not yet tried, or tried and certainly
	// not posted.
	NotificationPending NotificationState = "pending"
	// NotificationSending: an attempt began and its outcome is not
	// recorded; it may have been posted. The next attempt looks in the
	// channel's history before posting again.
	NotificationSending NotificationState = "sending"
	// NotificationSent: posted; SlackChannel and SlackTS say where.
	NotificationSent NotificationState = "sent"
	// NotificationFailed: refused for good or out of attempts; LastError
	// says why, and a fallback may have been made from it.
	NotificationFailed NotificationState = "failed"
	// NotificationSkipped: not sent on purpose; LastError says why.
	NotificationSkipped NotificationState = "skipped"
)

// NotificationEventType is the event_type of the Slack message metadata
// csbot attaches to every notification it posts; the payload is
// {"key": <the notification's Key>}.
const NotificationEventType = "csbot_notification"

// Notification is a message csbot decided to send. It is written, with its
// unique Key, in the transaction that decides it is due, so deciding twice
// (a second replica, a re-run) writes it once, and it is delivered at
// least once and posted once (see Delivery).
type Notification struct {
	ID   int64
	Key  string // unique: "renewal:12:2027-01-31:30d", "digest:U123:2026-W48"
	Kind NotificationKind
	// AccountID is the account it is about; 0 for digests and summaries.
	AccountID int64
	// Channel is the conversation to post in: an account channel, or a
	// DM channel once opened; empty for a DM not yet opened.
	Channel string
	// User is the person a DM is for; empty for a channel post.
	User string
	// FallbackUser gets the notification by DM when Channel refuses it for
	// good (archived, not found, shared outside the company): the
	// account's CSM.
	FallbackUser string
	// FallbackOf is the notification this one replaces, if any.
	FallbackOf int64
	// Note says why it went where it went ("#acme is shared outside the
	// company, so this came to you"), shown in the message.
	Note string
	// Payload is the kind's message (AlertMessage, ReminderMessage...), as
	// JSON.
	Payload   json.RawMessage
	State     NotificationState
	Attempts  int
	NotBefore time.Time // not sent before this time
	// FirstAttemptAt is when the first attempt began: channel history is
	// searched from just before it.
	FirstAttemptAt time.Time
	// SlackChannel and SlackTS say where it was posted.
	SlackChannel string
	SlackTS      string
	LastError    string
	CreatedAt    time.Time
}

// Metadata returns the Slack message metadata payload of n: its key.
func (n Notification) Metadata() map[string]any { return map[string]any{"key": n.Key} }

// Delivery is one attempt at posting a notification, handed to a
// DeliveryHandler after the notification was marked sending and that
// committed.
type Delivery struct {
	Notification Notification
	// Attempt counts the attempts, this one included.
	Attempt int
	// Final: no retry follows if this attempt fails; record it as failed.
	Final bool
	// Uncertain: an earlier attempt began and its outcome was never
	// recorded (a crash, a timeout), so the message may be in Slack
	// already. Look for it by its metadata before posting.
	Uncertain bool
}

// DeliveryStatus is the outcome of a delivery attempt.
type DeliveryStatus int

// The delivery outcomes.
const (
	// DeliverySent: posted (or found posted); Channel and TS say where.
	DeliverySent DeliveryStatus = iota
	// DeliveryRetry: certainly not posted (rate limited, refused token);
	// try again later.
	DeliveryRetry
	// DeliveryUnknown: may have been posted (timeout, 5xx); try again
	// later, looking in the channel's history first.
	DeliveryUnknown
	// DeliveryFailed: refused for good (archived, not in channel, no such
	// channel); record Reason, and send Fallback if there is one.
	DeliveryFailed
	// DeliverySkipped: not to be sent (the account is gone, nobody to
	// send it to); record Reason, and send Fallback if there is one.
	DeliverySkipped
)

// String names the status.
func (s DeliveryStatus) String() string {
	switch s {
	case DeliverySent:
		return "sent"
	case DeliveryRetry:
		return "retry"
	case DeliveryUnknown:
		return "unknown"
	case DeliveryFailed:
		return "failed"
	case DeliverySkipped:
		return "skipped"
	}
	return fmt.Sprintf("DeliveryStatus(%d)", int(s))
}

// DeliveryResult is what a DeliveryHandler reports.
type DeliveryResult struct {
	Status DeliveryStatus
	// Channel and TS say where a sent notification is.
	Channel, TS string
	// Reason says what went wrong, for the record and the logs; never
	// message text or tokens.
	Reason string
	// Fallback, for DeliveryFailed and DeliverySkipped, is a notification
	// to send instead (typically a DM to FallbackUser). It is recorded
	// with the outcome, in one transaction, and its Key must be unique.
	Fallback *Notification
}

// DeliveryHandler posts one notification to Slack.
type DeliveryHandler func(ctx context.Context, d Delivery) DeliveryResult

// Route is where a person wants an alert kind to reach them.
type Route string

// The routes.
const (
	RouteChannel Route = "channel" // the account's channel (else a DM)
	RouteDM      Route = "dm"      // a DM to the CSM
	RouteDigest  Route = "digest"  // only in the weekly digest
	RouteOff     Route = "off"     // not at all
)

// Routes lists every route.
func Routes() []Route { return []Route{RouteChannel, RouteDM, RouteDigest, RouteOff} }

// Valid reports whether r is a known route.
func (r Route) Valid() bool {
	switch r {
	case RouteChannel, RouteDM, RouteDigest, RouteOff:
		return true
	}
	return false
}

// NotifyPrefs are a user's own routes per signal kind, over the policy's
// defaults. It is stored as JSON: {"alerts": {"usage_drop": "dm"}}.
type NotifyPrefs struct {
	Alerts map[SignalKind]Route `json:"alerts,omitempty"`
}

// Route returns the route of alerts of kind k for a user with prefs np
// under p: the user's choice, else the policy's default.
func (np NotifyPrefs) Route(k SignalKind, p Policy) Route {
	if r, ok := np.Alerts[k]; ok && r.Valid() {
		return r
	}
	return p.Notifications.DefaultRoute(k)
}

// AccountBrief is what a message says of an account.
type AccountBrief struct {
	ID         int64  `json:"id"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Tier       Tier   `json:"tier"`
	ARR        Cents  `json:"arr_cents"`
	CSM        string `json:"csm,omitempty"`     // Slack user id
	AE         string `json:"ae,omitempty"`      // Slack user id
	Channel    string `json:"channel,omitempty"` // the account channel
}

// HealthBrief is what a message says of an account's health.
type HealthBrief struct {
	Score    int   `json:"score"`
	Band     Band  `json:"band,omitempty"` // empty without data
	Trend    Trend `json:"trend"`
	Coverage int   `json:"coverage"`
}

// BriefOf returns the brief of h.
func BriefOf(h HealthScore) HealthBrief {
	return HealthBrief{Score: h.Score, Band: h.Band, Trend: h.Trend, Coverage: h.Coverage}
}

// RenewalBrief is what a message says of a renewal.
type RenewalBrief struct {
	ID         int64     `json:"id"`
	Date       time.Time `json:"date"`
	ARR        Cents     `json:"arr_cents"`
	AutoRenew  bool      `json:"auto_renew"`
	DaysLeft   int       `json:"days_left"`
	Contact    string    `json:"contact,omitempty"`     // the renewal contact's name; empty when none is on file
	ContactRef string    `json:"contact_ref,omitempty"` // their title, if any
}

// AlertItem is one alert in an alert message.
type AlertItem struct {
	AlertID   int64          `json:"alert_id"`
	Kind      SignalKind     `json:"kind"`
	Severity  SignalSeverity `json:"severity"`
	Evidence  string         `json:"evidence"`
	SignalKey string         `json:"signal_key"`
	// Was, when the signal got worse, is what the previous alert of the
	// same signal said, and WasAt when.
	Was         string         `json:"was,omitempty"`
	WasSeverity SignalSeverity `json:"was_severity,omitempty"`
	WasAt       time.Time      `json:"was_at,omitzero"`
}

// AlertMessage is the payload of a NotifyAlert notification: the account,
// its health and renewal at the time, and the alerts.
type AlertMessage struct {
	Account AccountBrief  `json:"account"`
	Health  HealthBrief   `json:"health"`
	Renewal *RenewalBrief `json:"renewal,omitempty"`
	Items   []AlertItem   `json:"items"`
	At      time.Time     `json:"at"`
}

// Severity returns the most urgent severity of the items.
func (m AlertMessage) Severity() SignalSeverity {
	sev := SignalInfo
	for _, it := range m.Items {
		if SeverityRank(it.Severity) > SeverityRank(sev) {
			sev = it.Severity
		}
	}
	return sev
}

// AlertUpdate is the payload of a NotifyAlertUpdate notification: the
// alert message to change in place, and why.
type AlertUpdate struct {
	// Notification is the id of the NotifyAlert notification whose
	// message changes.
	Notification int64     `json:"notification"`
	AlertID      int64     `json:"alert_id"`
	Change       string    `json:"change"` // "resolved" or "reopened"
	At           time.Time `json:"at"`
}

// BaselineAccount is one account of a baseline summary.
type BaselineAccount struct {
	Account AccountBrief `json:"account"`
	Health  HealthBrief  `json:"health"`
	Signals []AlertItem  `json:"signals"` // AlertID 0: baselined signals raise no alert
}

// BaselineMessage is the payload of a NotifyBaseline notification: the
// open risks of a CSM's accounts that csbot saw for the first time.
type BaselineMessage struct {
	CSM string `json:"csm"`
	// Accounts are the new accounts with open risks, most ARR first.
	Accounts []BaselineAccount `json:"accounts"`
	// Watched counts every new account, with risks or without.
	Watched int       `json:"watched"`
	At      time.Time `json:"at"`
}

// ReminderMessage is the payload of a NotifyReminder notification.
type ReminderMessage struct {
	Account  AccountBrief `json:"account"`
	Health   HealthBrief  `json:"health"`
	Renewal  RenewalBrief `json:"renewal"`
	Reminder Reminder     `json:"reminder"`
	// Risks are the account's open alerts.
	Risks []AlertItem `json:"risks,omitempty"`
	At    time.Time   `json:"at"`
}

// SignalRun is one pass of the alert decisions over the signals of a
// scoring run.
type SignalRun struct {
	Now    time.Time
	Policy Policy
	// Scores are the run's scores, for the health line of messages.
	Scores []HealthScore
	// Signals are every signal of the run.
	Signals []Signal
	// Complete says the run covered every account, so a family with an
	// open alert that is absent from Signals has cleared.
	Complete bool
	// DryRun decides and returns the notifications without recording
	// anything.
	DryRun bool
}

// ReminderRun is one pass of renewal reminders.
type ReminderRun struct {
	Now    time.Time
	Policy Policy
	// Zone is the time zone of users whose own zone is unknown
	// (CSBOT_TIMEZONE).
	Zone   *time.Location
	DryRun bool
}

// RunResult says what a pass decided.
type RunResult struct {
	// Notifications are the notifications the pass wrote (or, in a dry
	// run, would have written), in the order they were decided.
	Notifications []Notification
	// Counts of what the pass found, by name ("new", "worse", "resolved",
	// "baselined", "snoozed", "off", "reminders"...), for the logs.
	Counts map[string]int
}

// AlertStatus is where an alert stands now, for a message that shows it.
type AlertStatus struct {
	ID           int64
	State        AlertState
	AckedBy      string // Slack user id
	AckedAt      time.Time
	SnoozedUntil time.Time
	ResolvedAt   time.Time
}

// EscalationMessage is the payload of a NotifyEscalation notification: an
// alert nobody acknowledged in time, sent to the CSM's manager.
type EscalationMessage struct {
	Manager string       `json:"manager"`
	Account AccountBrief `json:"account"`
	Alert   AlertItem    `json:"alert"`
	// Since is when the alert message was posted; BusinessDays how many
	// business days it has waited since.
	Since        time.Time `json:"since"`
	BusinessDays int       `json:"business_days"`
	// Channel and TS point at the alert message, when it was posted.
	Channel string    `json:"channel,omitempty"`
	TS      string    `json:"ts,omitempty"`
	At      time.Time `json:"at"`
}

// AckReminderMessage is the payload of a NotifyAckReminder notification:
// an alert someone acknowledged whose signal is still open.
type AckReminderMessage struct {
	User    string       `json:"user"` // who acknowledged it
	Account AccountBrief `json:"account"`
	Alert   AlertItem    `json:"alert"`
	AckedAt time.Time    `json:"acked_at"`
	Channel string       `json:"channel,omitempty"`
	TS      string       `json:"ts,omitempty"`
	At      time.Time    `json:"at"`
}

// OutageMessage is the payload of a NotifyOutage notification: an outage
// that affects an account, for its channel.
type OutageMessage struct {
	Account  AccountBrief  `json:"account"`
	Outage   Outage        `json:"outage"`
	Global   bool          `json:"global"` // it affected every account
	Ongoing  bool          `json:"ongoing"`
	Duration time.Duration `json:"duration"` // so far, or in all once ended
	At       time.Time     `json:"at"`
}

// DigestAccount is an account in a digest.
type DigestAccount struct {
	Account AccountBrief  `json:"account"`
	Health  HealthBrief   `json:"health"`
	WasBand Band          `json:"was_band,omitempty"` // the band a week before, for accounts that turned
	Renewal *RenewalBrief `json:"renewal,omitempty"`
}

// DigestAlert is an alert left unacknowledged, in a digest.
type DigestAlert struct {
	Account AccountBrief `json:"account"`
	Alert   AlertItem    `json:"alert"`
	Since   time.Time    `json:"since"`
	Days    int          `json:"days"`
}

// DigestCSM is one CSM's book at a glance, in a digest.
type DigestCSM struct {
	CSM      string `json:"csm"`
	Name     string `json:"name"`
	Accounts int    `json:"accounts"`
	ARR      Cents  `json:"arr_cents"`
	Red      int    `json:"red"`
	Yellow   int    `json:"yellow"`
}

// DigestMessage is the payload of a NotifyDigest notification: a
// manager's weekly at-risk digest of their team's accounts. Lists are
// sorted by ARR at stake, most first.
type DigestMessage struct {
	Manager string `json:"manager"`
	Week    string `json:"week"` // ISO week, "2026-W48"
	// Turned are accounts whose band fell to yellow or red this week.
	Turned []DigestAccount `json:"turned"`
	// RedARR and YellowARR are the team's ARR in each band now.
	RedARR    Cents `json:"red_arr_cents"`
	YellowARR Cents `json:"yellow_arr_cents"`
	// Renewals are renewals in the next 90 days on accounts not green.
	Renewals []DigestAccount `json:"renewals"`
	// Unacked are alerts nobody acknowledged for more than
	// Policy.Notifications.UnackedDigestDays.
	Unacked []DigestAlert `json:"unacked"`
	// OpenHandoffs counts handoffs nobody acknowledged.
	OpenHandoffs int         `json:"open_handoffs"`
	CSMs         []DigestCSM `json:"csms"`
	At           time.Time   `json:"at"`
}

// DueRun is one pass of what the calendar makes due besides reminders:
// digests, escalations, acknowledged-alert reminders, outage notices.
type DueRun struct {
	Now    time.Time
	Policy Policy
	// Zone is the time zone of users whose own zone is unknown.
	Zone   *time.Location
	DryRun bool
}
