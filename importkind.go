package csbot

import (
	"fmt"
	"sort"
	"strings"
)

// ColumnType says how a CSV cell is parsed and what Go value it becomes.
type ColumnType int

// The column types. The value each produces is noted; an empty optional
// cell is nil.
const (
	ColText      ColumnType = iota // string, trimmed
	ColID                          // string: an external id, non-empty, at most 200 bytes
	ColMoney                       // int64 cents
	ColDate                        // time.Time, midnight UTC
	ColTimestamp                   // time.Time, UTC
	ColCount                       // int64 >= 0
	ColNPS                         // int64 in 0..10
	ColBool                        // bool
	ColEnum                        // string, one of Column.Enum
	ColPerson                      // string: a Slack user id or an email naming a user
	ColSlackUser                   // string: a Slack user id
	ColChannel                     // string: a Slack channel id
	ColEmail                       // string: an email address
	ColTimezone                    // string: an IANA time zone name
)

// Column describes one column of an import kind.
type Column struct {
	Name     string
	Type     ColumnType
	Required bool
	Enum     []string // allowed values for ColEnum
	Doc      string   // one line for the README and --help
}

// ImportKind describes one kind of CSV file csbot imports.
type ImportKind struct {
	Name    string
	Doc     string
	Columns []Column
}

// Column returns the index of the named column, or -1.
func (k ImportKind) Column(name string) int {
	for i, c := range k.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// ImportKinds returns every import kind in the order they should be
// loaded: a kind may refer to records of the kinds before it.
func ImportKinds() []ImportKind {
	tiers := []string{string(TierHigh), string(TierLow), string(TierTech)}
	return []ImportKind{
		{Name: "users", Doc: "the vendor's team: CSMs, managers, sales, onboarding, admins", Columns: []Column{
			{Name: "slack_id", Type: ColSlackUser, Required: true, Doc: "Slack user id, e.g. U012AB3CD"},
			{Name: "role", Type: ColEnum, Required: true, Enum: enumStrings(UserRoles()), Doc: "csm, manager, sales, onboarding or admin"},
			{Name: "name", Type: ColText},
			{Name: "email", Type: ColEmail},
			{Name: "manager_slack_id", Type: ColSlackUser, Doc: "the user's manager, a Slack user id"},
			{Name: "timezone", Type: ColTimezone, Doc: "IANA name, e.g. Europe/Berlin"},
		}},
		{Name: "accounts", Doc: "customer accounts", Columns: []Column{
			{Name: "external_id", Type: ColID, Required: true, Doc: "the CRM's account id"},
			{Name: "name", Type: ColText, Required: true},
			{Name: "tier", Type: ColEnum, Required: true, Enum: tiers, Doc: "high, low or tech (touch model)"},
			{Name: "arr", Type: ColMoney, Required: true, Doc: "annual recurring revenue, e.g. 125000.50"},
			{Name: "domain", Type: ColText},
			{Name: "stage", Type: ColEnum, Enum: enumStrings(Stages()), Doc: "onboarding, adopting, expanding, renewing or churned"},
			{Name: "csm", Type: ColPerson, Doc: "Slack user id or email of a user"},
			{Name: "ae", Type: ColPerson, Doc: "Slack user id or email of a user"},
			{Name: "channel", Type: ColChannel, Doc: "the account's Slack channel id, e.g. C012AB3CD"},
			{Name: "licensed_seats", Type: ColCount},
		}},
		{Name: "contacts", Doc: "people at the customer", Columns: []Column{
			{Name: "account_external_id", Type: ColID, Required: true},
			{Name: "name", Type: ColText, Required: true},
			{Name: "role", Type: ColEnum, Required: true, Enum: enumStrings(ContactRoles()), Doc: "champion, exec_sponsor, renewal, billing or user"},
			{Name: "email", Type: ColEmail},
			{Name: "title", Type: ColText},
			{Name: "active", Type: ColBool, Doc: "true or false, default true"},
		}},
		{Name: "renewals", Doc: "subscription terms coming up for renewal", Columns: []Column{
			{Name: "external_id", Type: ColID, Required: true},
			{Name: "account_external_id", Type: ColID, Required: true},
			{Name: "renewal_date", Type: ColDate, Required: true},
			{Name: "arr", Type: ColMoney, Required: true},
			{Name: "start_date", Type: ColDate},
			{Name: "auto_renew", Type: ColBool, Doc: "true or false, default false"},
			{Name: "status", Type: ColEnum, Enum: enumStrings(RenewalStatuses()), Doc: "open, renewed, churned, downsell or expanded; default open"},
			{Name: "outcome_reason", Type: ColText},
		}},
		{Name: "usage", Doc: "daily product usage per account", Columns: []Column{
			{Name: "account_external_id", Type: ColID, Required: true},
			{Name: "day", Type: ColDate, Required: true},
			{Name: "active_users", Type: ColCount, Required: true},
			{Name: "licensed_seats", Type: ColCount},
			{Name: "events", Type: ColCount},
		}},
		{Name: "tickets", Doc: "support tickets", Columns: []Column{
			{Name: "external_id", Type: ColID, Required: true},
			{Name: "account_external_id", Type: ColID, Required: true},
			{Name: "opened_at", Type: ColTimestamp, Required: true},
			{Name: "severity", Type: ColEnum, Required: true, Enum: enumStrings(Severities()), Doc: "low, normal, high or urgent"},
			{Name: "status", Type: ColEnum, Required: true, Enum: enumStrings(TicketStatuses()), Doc: "open, pending, solved or closed"},
			{Name: "closed_at", Type: ColTimestamp},
			{Name: "subject", Type: ColText},
		}},
		{Name: "nps", Doc: "NPS survey responses", Columns: []Column{
			{Name: "account_external_id", Type: ColID, Required: true},
			{Name: "responded_at", Type: ColTimestamp, Required: true},
			{Name: "score", Type: ColNPS, Required: true, Doc: "0..10"},
			{Name: "respondent_email", Type: ColEmail},
			{Name: "comment", Type: ColText},
		}},
		{Name: "invoices", Doc: "invoices and their payment", Columns: []Column{
			{Name: "external_id", Type: ColID, Required: true},
			{Name: "account_external_id", Type: ColID, Required: true},
			{Name: "due_on", Type: ColDate, Required: true},
			{Name: "amount", Type: ColMoney, Required: true},
			{Name: "issued_on", Type: ColDate},
			{Name: "paid_on", Type: ColDate, Doc: "empty while unpaid"},
		}},
		{Name: "outages", Doc: "incidents of the service", Columns: []Column{
			{Name: "external_id", Type: ColID, Required: true},
			{Name: "started_at", Type: ColTimestamp, Required: true},
			{Name: "ended_at", Type: ColTimestamp},
			{Name: "account_external_id", Type: ColID, Doc: "empty = every account"},
			{Name: "severity", Type: ColText},
			{Name: "summary", Type: ColText},
		}},
		{Name: "touchpoints", Doc: "meetings, calls and other contact with an account", Columns: []Column{
			{Name: "account_external_id", Type: ColID, Required: true},
			{Name: "at", Type: ColTimestamp, Required: true},
			{Name: "kind", Type: ColEnum, Required: true, Enum: enumStrings(TouchKinds()), Doc: "meeting, call, email, ebr, onsite or note"},
			{Name: "summary", Type: ColText},
			{Name: "user", Type: ColPerson, Doc: "Slack user id or email of a user"},
		}},
	}
}

// LookupImportKind returns the import kind called name. The error names
// the known kinds and suggests the closest.
func LookupImportKind(name string) (ImportKind, error) {
	kinds := ImportKinds()
	names := make([]string, len(kinds))
	for i, k := range kinds {
		if k.Name == strings.ToLower(strings.TrimSpace(name)) {
			return k, nil
		}
		names[i] = k.Name
	}
	msg := fmt.Sprintf("unknown import kind %q: use one of %s", name, strings.Join(names, ", "))
	if best, ok := closest(strings.ToLower(name), names); ok {
		msg = fmt.Sprintf("unknown import kind %q: did you mean %q? (kinds: %s)", name, best, strings.Join(names, ", "))
	}
	return ImportKind{}, &ImportError{Problem: msg}
}

// ImportKindNames returns the names of every import kind, in load order.
func ImportKindNames() []string {
	var names []string
	for _, k := range ImportKinds() {
		names = append(names, k.Name)
	}
	return names
}

func enumStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// MaxReportedRowErrors is how many bad rows an import lists before it only
// counts them.
const MaxReportedRowErrors = 50

// RowError is one bad cell (or row) of an import file.
type RowError struct {
	Row    int    // line number in the file; the header is row 1
	Column string // empty when the whole row is at fault
	Reason string
}

// Error reads "row 7, column arr: not an amount".
func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Reason)
	}
	return fmt.Sprintf("row %d, column %s: %s", e.Row, e.Column, e.Reason)
}

// ImportError is why an import file was refused as a whole. Nothing of the
// file was written. Either Problem names a file-level fault (empty file,
// missing columns, not text) or Rows lists bad rows.
type ImportError struct {
	Kind    string
	Problem string
	Rows    []RowError // the first MaxReportedRowErrors problems, in row order
	Total   int        // how many bad rows there were in all
}

// Error summarises the problem in one line.
func (e *ImportError) Error() string {
	switch {
	case e.Problem != "":
		return e.Problem
	case e.Total == 1:
		return fmt.Sprintf("1 bad row, nothing imported: %v", e.Rows[0])
	default:
		return fmt.Sprintf("%d bad rows, nothing imported (first: %v)", e.Total, e.Rows[0])
	}
}

// RowErrors collects bad rows, keeping the first MaxReportedRowErrors by
// row number and counting the rest.
type RowErrors struct {
	rows    []RowError
	badRows map[int]struct{}
	total   int // distinct bad rows
}

// Add records one problem of a row; a row with several problems counts
// once.
func (r *RowErrors) Add(e RowError) {
	if r.badRows == nil {
		r.badRows = map[int]struct{}{}
	}
	if _, seen := r.badRows[e.Row]; !seen {
		r.badRows[e.Row] = struct{}{}
		r.total++
	}
	r.rows = append(r.rows, e)
	if len(r.rows) > 4*MaxReportedRowErrors {
		r.trim()
	}
}

func (r *RowErrors) trim() {
	sort.SliceStable(r.rows, func(i, j int) bool { return r.rows[i].Row < r.rows[j].Row })
	if len(r.rows) > MaxReportedRowErrors {
		r.rows = r.rows[:MaxReportedRowErrors]
	}
}

// Len is how many distinct bad rows were added.
func (r *RowErrors) Len() int { return r.total }

// Err returns an *ImportError listing the bad rows, or nil when there
// were none.
func (r *RowErrors) Err(kind string) error {
	if r.total == 0 {
		return nil
	}
	r.trim()
	return &ImportError{Kind: kind, Rows: append([]RowError(nil), r.rows...), Total: r.total}
}
