package csbot

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditEntry is one line of the audit log: who did what, when, to which
// account and from which channel.
type AuditEntry struct {
	ID int64
	At time.Time
	// Actor is the Slack user id of whoever did it, or "cli" for the
	// command line.
	Actor string
	// Action names what was done: "command:/health", "action:pick:",
	// "view:health_override", "shortcut:new_handoff", "import:accounts",
	// or a change the store records itself ("channel_linked",
	// "health_overridden", "handoff_created"...).
	Action string
	// AccountID is the account it concerned; 0 when none or unknown.
	AccountID int64
	// AccountName is the account's name when read back (Audit); ignored
	// when written.
	AccountName string
	// Channel is the Slack channel id it came from; empty when none (a
	// modal, the command line).
	Channel string
	// Details holds the rest as JSON values: the command text or action
	// value (see AuditText), a row count, whether the handler failed.
	Details map[string]any
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	// AccountID selects one account's entries; 0 selects every entry.
	AccountID int64
	// Since drops entries older than it; the zero time keeps them all.
	Since time.Time
	// Actor selects one actor's entries ("U123", "cli"); empty selects
	// everyone's.
	Actor string
	// Limit caps the entries returned; DefaultAuditLimit when zero or
	// less, MaxAuditLimit at most.
	Limit int
}

// The limits of an AuditFilter.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 10000
)

// AuditActorCLI is the actor of what the command line does.
const AuditActorCLI = "cli"

// EffectiveLimit is f.Limit brought within 1..MaxAuditLimit, with
// DefaultAuditLimit for zero or less.
func (f AuditFilter) EffectiveLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultAuditLimit
	case f.Limit > MaxAuditLimit:
		return MaxAuditLimit
	}
	return f.Limit
}

// MaxAuditText is the most of a command's text or an action's value, in
// characters, that an audit entry keeps.
const MaxAuditText = 200

// emailLike matches anything that looks like an e-mail address: its local
// part is masked, its domain kept (a domain names an account, not a
// person).
var emailLike = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_~.-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)`)

// MaskEmails replaces the local part of every e-mail address in s with
// "***": "jo@acme.com" becomes "***@acme.com".
func MaskEmails(s string) string {
	return emailLike.ReplaceAllString(s, "***@$1")
}

// AuditText is what an audit entry keeps of a text someone typed or a
// button carried: e-mail addresses masked (MaskEmails), white space folded,
// at most MaxAuditText characters (cut with "…").
func AuditText(s string) string {
	s = strings.Join(strings.Fields(MaskEmails(s)), " ")
	if utf8.RuneCountInString(s) <= MaxAuditText {
		return s
	}
	r := []rune(s)
	return string(r[:MaxAuditText-1]) + "…"
}
