package csbot

import "time"

// MatchKind says how an account matched what a person typed.
type MatchKind string

// The match kinds, best first. A lookup answers with the accounts of the
// best kind found.
const (
	// MatchExternalID: the query is the account's external id (any case).
	MatchExternalID MatchKind = "external_id"
	// MatchName: the query is the account's name, ignoring case.
	MatchName MatchKind = "name"
	// MatchDomain: the query is the account's domain, or a URL or e-mail
	// address on it ("https://www.acme.com/x", "jo@acme.com").
	MatchDomain MatchKind = "domain"
	// MatchNormalized: the same name once case, punctuation, accents and
	// legal suffixes are dropped ("acme" and "ACME Corp.").
	MatchNormalized MatchKind = "normalized"
	// MatchPartial: the normalised query is the start of the normalised
	// name or of one of its words ("globex" and "Globex International").
	MatchPartial MatchKind = "partial"
	// MatchFuzzy: the names are similar (trigram similarity) above the
	// lookup's threshold: typos ("acme corpp", "initech").
	MatchFuzzy MatchKind = "fuzzy"
)

// AccountMatch is one account found by a lookup.
type AccountMatch struct {
	Account Account
	Kind    MatchKind
	// Similarity is the trigram similarity of the normalised names, 0..1;
	// 1 for the exact kinds.
	Similarity float64
}

// AccountLookup is the answer to a lookup of an account by what a person
// typed.
type AccountLookup struct {
	// Matches are the accounts the query names, all of the best kind
	// found, best first: one when the query is unambiguous, several for a
	// pick-list, none when nothing matched well enough.
	Matches []AccountMatch
	// Suggestions are the closest names when Matches is empty, best
	// first, for "did you mean"; empty when nothing is even close.
	Suggestions []AccountMatch
}

// AccountDetail is what /health shows of one account, read at one instant.
type AccountDetail struct {
	Account Account
	// CSM is the account's CSM as the users table knows them: SlackID
	// empty when the account has none, Name empty when the users table
	// does not know them.
	CSM User
	// Facts are the account's health facts at the instant (as
	// Store.AccountFacts computes them for every account), for Score and
	// Signals.
	Facts AccountFacts
	// Contacts are the account's active contacts, by role then name.
	Contacts []Contact
	// LastTouch is the latest touchpoint; ID 0 when none.
	LastTouch Touchpoint
}

// PortfolioEntry is one account of a book of business, with its latest
// stored health and its next open renewal.
type PortfolioEntry struct {
	Account Account
	// Health is the latest stored snapshot; Day zero when never scored.
	Health HealthSnapshot
	// NextRenewal is the open renewal with the earliest date, past-due ones
	// included; ID 0 when none.
	NextRenewal Renewal
}

// RenewalFilter selects open renewals for a renewals report.
type RenewalFilter struct {
	// From and To bound renewal_date, inclusive (dates at midnight UTC).
	From, To time.Time
	// Owners keeps the accounts whose CSM or account executive is one of
	// these Slack ids; nil keeps every account, an empty non-nil slice
	// none.
	Owners []string
	// AtRisk keeps the accounts whose latest stored health band is yellow
	// or red.
	AtRisk bool
	// Offset and Limit page the lines (Limit 0: all); the totals always
	// cover every renewal selected.
	Offset, Limit int
}

// RenewalLine is one open renewal in a report.
type RenewalLine struct {
	Renewal Renewal
	Account Account
	// Health is the account's latest stored snapshot; Day zero when none.
	Health HealthSnapshot
	// Contact is the account's active renewal contact (role renewal); ID 0
	// when none is on file, which the report warns about.
	Contact Contact
}

// MonthTotal sums a report's renewals of one calendar month.
type MonthTotal struct {
	Month    time.Time // the first of the month, midnight UTC
	Renewals int
	ARR      Cents
}

// RenewalReport is a page of renewals with the totals of all of them.
type RenewalReport struct {
	// Lines are the page's renewals by date, then account name.
	Lines []RenewalLine
	// Total and ARR count and sum every renewal selected; Months do so by
	// month, in order.
	Total  int
	ARR    Cents
	Months []MonthTotal
}
