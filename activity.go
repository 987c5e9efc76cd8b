package csbot

import "time"

// RenewalStatus is where a renewal stands.
type RenewalStatus string

// The renewal statuses. Only open renewals get reminders.
const (
	RenewalOpen     RenewalStatus = "open"
	RenewalRenewed  RenewalStatus = "renewed"
	RenewalChurned  RenewalStatus = "churned"
	RenewalDownsell RenewalStatus = "downsell"
	RenewalExpanded RenewalStatus = "expanded"
)

// RenewalStatuses lists every renewal status.
func RenewalStatuses() []RenewalStatus {
	return []RenewalStatus{RenewalOpen, RenewalRenewed, RenewalChurned, RenewalDownsell, RenewalExpanded}
}

// Renewal is one subscription term coming up for renewal.
type Renewal struct {
	ID            int64
	ExternalID    string
	AccountID     int64
	StartDate     time.Time // zero when unknown
	RenewalDate   time.Time // a date: midnight UTC
	ARR           Cents
	AutoRenew     bool
	Status        RenewalStatus
	OutcomeReason string
}

// UsageDay is one account's product usage on one day.
type UsageDay struct {
	AccountID     int64
	Day           time.Time // a date: midnight UTC
	ActiveUsers   int
	LicensedSeats int // 0 when unknown; the account's seats apply
	Events        int64
}

// Severity is a support ticket's urgency.
type Severity string

// The ticket severities, least urgent first.
const (
	SeverityLow    Severity = "low"
	SeverityNormal Severity = "normal"
	SeverityHigh   Severity = "high"
	SeverityUrgent Severity = "urgent"
)

// Severities lists every ticket severity, least urgent first.
func Severities() []Severity {
	return []Severity{SeverityLow, SeverityNormal, SeverityHigh, SeverityUrgent}
}

// TicketStatus is where a support ticket stands.
type TicketStatus string

// The ticket statuses. Open and pending tickets are unresolved.
const (
	TicketOpen    TicketStatus = "open"
	TicketPending TicketStatus = "pending"
	TicketSolved  TicketStatus = "solved"
	TicketClosed  TicketStatus = "closed"
)

// TicketStatuses lists every ticket status.
func TicketStatuses() []TicketStatus {
	return []TicketStatus{TicketOpen, TicketPending, TicketSolved, TicketClosed}
}

// Unresolved reports whether a ticket in status s still needs work.
func (s TicketStatus) Unresolved() bool { return s == TicketOpen || s == TicketPending }

// Ticket is a support request from an account.
type Ticket struct {
	ID         int64
	ExternalID string
	AccountID  int64
	OpenedAt   time.Time
	ClosedAt   time.Time // zero while unresolved
	Severity   Severity
	Status     TicketStatus
	Subject    string
}

// NPSResponse is one answer to "how likely are you to recommend us" (0..10).
type NPSResponse struct {
	ID              int64
	AccountID       int64
	RespondedAt     time.Time
	Score           int
	RespondentEmail string
	Comment         string
}

// Detractor reports whether the response is a detractor (0..6).
func (r NPSResponse) Detractor() bool { return r.Score <= 6 }

// Invoice is a bill sent to an account.
type Invoice struct {
	ID         int64
	ExternalID string
	AccountID  int64
	IssuedOn   time.Time // zero when unknown
	DueOn      time.Time
	PaidOn     time.Time // zero while unpaid
	Amount     Cents
}

// Outage is an incident of the vendor's service, affecting one account or,
// when AccountID is 0, every account.
type Outage struct {
	ID         int64
	ExternalID string
	AccountID  int64 // 0 = global
	StartedAt  time.Time
	EndedAt    time.Time // zero while ongoing
	Severity   string
	Summary    string
}

// TouchKind is the kind of contact a CSM had with an account.
type TouchKind string

// The touchpoint kinds.
const (
	TouchMeeting TouchKind = "meeting"
	TouchCall    TouchKind = "call"
	TouchEmail   TouchKind = "email"
	TouchEBR     TouchKind = "ebr"
	TouchOnsite  TouchKind = "onsite"
	TouchNote    TouchKind = "note"
)

// TouchKinds lists every touchpoint kind.
func TouchKinds() []TouchKind {
	return []TouchKind{TouchMeeting, TouchCall, TouchEmail, TouchEBR, TouchOnsite, TouchNote}
}

// Touchpoint is one recorded contact between the vendor and an account.
type Touchpoint struct {
	ID        int64
	AccountID int64
	At        time.Time
	Kind      TouchKind
	Summary   string
	UserID    string // Slack user id of who made the touch, may be empty
}

// UserRole is what a csbot user does in the team.
type UserRole string

// The user roles.
const (
	UserCSM        UserRole = "csm"
	UserManager    UserRole = "manager"
	UserSales      UserRole = "sales"
	UserOnboarding UserRole = "onboarding"
	UserAdmin      UserRole = "admin"
)

// UserRoles lists every user role.
func UserRoles() []UserRole {
	return []UserRole{UserCSM, UserManager, UserSales, UserOnboarding, UserAdmin}
}

// User is a member of the vendor's team, known by their Slack user id.
type User struct {
	SlackID        string
	Role           UserRole
	Name           string
	Email          string
	ManagerSlackID string
	Timezone       string // IANA name, empty when unknown
}
