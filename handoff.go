package csbot

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// HandoffState is where a handoff stands.
type HandoffState string

// The handoff states.
const (
	HandoffOpen         HandoffState = "open"         // written, nobody in onboarding has taken it
	HandoffAcknowledged HandoffState = "acknowledged" // onboarding took it
	HandoffClosed       HandoffState = "closed"
)

// Stakeholder is a person at the customer named in a handoff: a contact on
// file (ContactID) or a new one, stored into contacts with the handoff.
type Stakeholder struct {
	ContactID int64       `json:"contact_id,omitempty"`
	Role      ContactRole `json:"role"` // champion, exec_sponsor, renewal or billing
	Name      string      `json:"name"`
	Email     string      `json:"email,omitempty"`
	Title     string      `json:"title,omitempty"`
}

// Handoff is a sales-to-onboarding handoff note: what the customer wants,
// who matters, what was promised and sold, when it starts, what could go
// wrong, and who in onboarding owns it.
type Handoff struct {
	ID        int64
	AccountID int64
	// Author wrote it; Owner, in onboarding, is to take it (may be empty:
	// the onboarding channel picks it up). Slack user ids.
	Author          string
	Owner           string
	State           HandoffState
	Goals           string // the customer's goals
	SuccessCriteria string // how they will judge success
	Commitments     string // what was promised, custom terms
	Products        string // products and modules bought
	Seats           int    // seats bought; 0 unknown
	ContractStart   time.Time
	GoLive          time.Time // target go-live
	Risks           string    // risks and concerns
	Tier            Tier
	Notes           string
	Stakeholders    []Stakeholder
	AckedBy         string
	AckedAt         time.Time
	// Where it was posted.
	AccountChannel, AccountTS       string
	OnboardingChannel, OnboardingTS string
	CreatedAt, UpdatedAt            time.Time
}

// The handoff form's fields, as named in Problems.
const (
	HandoffGoals       = "goals"
	HandoffCriteria    = "success_criteria"
	HandoffCommitments = "commitments"
	HandoffProducts    = "products"
	HandoffSeats       = "seats"
	HandoffStart       = "contract_start"
	HandoffGoLive      = "go_live"
	HandoffRisks       = "risks"
	HandoffTier        = "tier"
	HandoffNotes       = "notes"
	HandoffOwner       = "owner"
)

// HandoffTextLimit is the longest a handoff's text field may be, in
// characters; notes may be longer (HandoffNotesLimit).
const (
	HandoffTextLimit  = 2000
	HandoffNotesLimit = 3000
	HandoffNameLimit  = 200
	HandoffMaxSeats   = 1_000_000
)

// Problems returns what is wrong with h as a handoff to store, by field,
// in words for the person filling the form; nil when nothing is. Goals,
// success criteria and products are required; lengths are capped; seats
// are 0..1,000,000; a go-live before the contract start is refused.
func (h Handoff) Problems() map[string]string {
	p := map[string]string{}
	required := func(field, value, what string) {
		if strings.TrimSpace(value) == "" {
			p[field] = "Say " + what + ": onboarding starts from it."
		}
	}
	required(HandoffGoals, h.Goals, "what the customer wants to achieve")
	required(HandoffCriteria, h.SuccessCriteria, "how the customer will judge success")
	required(HandoffProducts, h.Products, "what they bought")
	for field, value := range map[string]string{
		HandoffGoals: h.Goals, HandoffCriteria: h.SuccessCriteria, HandoffCommitments: h.Commitments,
		HandoffProducts: h.Products, HandoffRisks: h.Risks,
	} {
		if n := utf8.RuneCountInString(value); n > HandoffTextLimit {
			p[field] = fmt.Sprintf("Keep it to %d characters (it has %d).", HandoffTextLimit, n)
		}
	}
	if n := utf8.RuneCountInString(h.Notes); n > HandoffNotesLimit {
		p[HandoffNotes] = fmt.Sprintf("Keep it to %d characters (it has %d).", HandoffNotesLimit, n)
	}
	if h.Seats < 0 || h.Seats > HandoffMaxSeats {
		p[HandoffSeats] = fmt.Sprintf("Seats are a whole number from 0 to %d.", HandoffMaxSeats)
	}
	if !h.GoLive.IsZero() && !h.ContractStart.IsZero() && h.GoLive.Before(h.ContractStart) {
		p[HandoffGoLive] = "The go-live date is before the contract starts."
	}
	if h.Tier != "" && !h.Tier.Valid() {
		p[HandoffTier] = "Choose high, low or tech touch."
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// Missing lists the recommended parts a handoff leaves out, in words for
// its post: "no exec sponsor named", "no go-live date"...
func (h Handoff) Missing() []string {
	has := map[ContactRole]bool{}
	for _, s := range h.Stakeholders {
		if strings.TrimSpace(s.Name) != "" {
			has[s.Role] = true
		}
	}
	var out []string
	if !has[RoleChampion] {
		out = append(out, "no champion named")
	}
	if !has[RoleExecSponsor] {
		out = append(out, "no exec sponsor named")
	}
	if !has[RoleRenewal] && !has[RoleBilling] {
		out = append(out, "no renewal or billing contact")
	}
	if strings.TrimSpace(h.Commitments) == "" {
		out = append(out, "no commitments written down")
	}
	if h.GoLive.IsZero() {
		out = append(out, "no go-live date")
	}
	if h.Seats == 0 {
		out = append(out, "no seat count")
	}
	if h.Owner == "" {
		out = append(out, "no onboarding owner")
	}
	return out
}

// CanCreateHandoff reports whether a user of the role may write handoffs:
// sales, CSMs, managers and admins.
func CanCreateHandoff(r UserRole) bool {
	return r == UserSales || r == UserCSM || r == UserManager || r == UserAdmin
}

// CanAcknowledgeHandoff reports whether a user of the role may acknowledge
// or reassign handoffs: onboarding, managers and admins.
func CanAcknowledgeHandoff(r UserRole) bool {
	return r == UserOnboarding || r == UserManager || r == UserAdmin
}

// mentionPattern matches what Slack turns into a mention or a broadcast:
// <!channel>, <!here>, <!everyone>, <!subteam^ID>, <@U123>, and
// the bare words @channel, @here, @everyone.
var mentionPattern = regexp.MustCompile(`<[!@][^<>]*>|@(?i:channel|here|everyone)\b`)

// NeutraliseMentions makes user text safe to re-post: whatever would
// notify people (<!channel>, <!here>, @here, <@U123>...) is kept readable
// but inert, with a zero-width joiner after the sigil.
func NeutraliseMentions(s string) string {
	// Inner ones first: "<!<!here>>" must not become a mention once the
	// inner one is gone. Each round removes at least one "<", so this ends.
	for {
		out := mentionPattern.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasPrefix(m, "<") {
				return "‹" + m[1:len(m)-1] + "›"
			}
			return "@\u2060" + m[1:]
		})
		if out == s {
			return out
		}
		s = out
	}
}

// HandoffPlace names where a handoff is posted.
type HandoffPlace string

// The places of a handoff's posts.
const (
	HandoffInAccount    HandoffPlace = "account"    // the account's channel
	HandoffInOnboarding HandoffPlace = "onboarding" // CSBOT_ONBOARDING_CHANNEL
)

// HandoffPost is the payload of the handoff notifications (NotifyHandoff,
// NotifyHandoffUpdate, NotifyHandoffAcked, NotifyHandoffNudge,
// NotifyHandoffEscalation). Messages are rendered from the handoff as it
// stands when they are sent (HandoffView), so the payload only says which
// handoff and what for.
type HandoffPost struct {
	Handoff int64        `json:"handoff"`
	Place   HandoffPlace `json:"place,omitempty"`
	// Notification, for an update, is the NotifyHandoff notification
	// whose message changes in place.
	Notification int64 `json:"notification,omitempty"`
	// Change says what happened: "acknowledged", "reassigned", "amended".
	Change string `json:"change,omitempty"`
	// By is who made the change (Slack user id).
	By string `json:"by,omitempty"`
	// BusinessDays is how long a nudged handoff has waited.
	BusinessDays int       `json:"business_days,omitempty"`
	At           time.Time `json:"at"`
}

// HandoffView is a handoff with what its messages show besides: the
// account, the recommended parts it lacks, and how often it was amended.
type HandoffView struct {
	Handoff    Handoff
	Account    AccountBrief
	Missing    []string
	Amendments int
}

// HandoffFilter selects handoffs for a list: by state (any when empty),
// owner and author (any when empty), newest first, at most Limit (default
// 50).
type HandoffFilter struct {
	States []HandoffState
	Owner  string
	Author string
	Limit  int
}
