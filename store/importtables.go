package store

// importTable says how one import kind lands in its table: the select
// expressions over the staged rows (alias r, columns named as the CSV's),
// the conflict target of the upsert, the keys that must be unique within a
// file, and the cross-column checks.
type importTable struct {
	table    string
	from     string // FROM clause over the staging table "csbot_import r"
	conflict string // ON CONFLICT target
	cols     []importCol
	unique   []uniqueKey // keys that must not repeat within one file
	checks   []rowCheck
	stamped  bool // has an updated_at column
}

// importCol is one column written by the upsert.
type importCol struct {
	target string // column of the table
	expr   string // SQL expression over r (and joined tables)
	source string // CSV column it needs; "" = always written
	key    bool   // part of the conflict key: inserted, never updated
}

// uniqueKey is a key that must not repeat within one file.
type uniqueKey struct {
	exprs []string // SQL expressions over r
	what  string   // how a person names it: "external_id"
	col   string   // column to blame
}

// rowCheck is a condition every staged row must meet, beyond single cells.
type rowCheck struct {
	bad    string // SQL condition over r that is true for a bad row
	col    string
	reason string
}

func c(target, expr, source string) importCol {
	return importCol{target: target, expr: expr, source: source}
}
func k(target, expr, source string) importCol {
	return importCol{target: target, expr: expr, source: source, key: true}
}

// importTables maps each import kind to its table.
func importTables() map[string]importTable {
	const withAccount = "csbot_import r JOIN accounts a ON a.external_id = r.account_external_id"
	extID := []uniqueKey{{exprs: []string{"r.external_id"}, what: "external_id", col: "external_id"}}
	return map[string]importTable{
		"users": {
			table: "users", from: "csbot_import r", conflict: "(slack_id)", stamped: true,
			cols: []importCol{
				k("slack_id", "r.slack_id", ""),
				c("role", "r.role", ""),
				c("name", "coalesce(r.name, '')", "name"),
				c("email", "r.email", "email"),
				c("manager_slack_id", "r.manager_slack_id", "manager_slack_id"),
				c("timezone", "r.timezone", "timezone"),
			},
			unique: []uniqueKey{
				{exprs: []string{"r.slack_id"}, what: "slack_id", col: "slack_id"},
				{exprs: []string{"lower(r.email)"}, what: "email", col: "email"},
			},
			checks: []rowCheck{
				{bad: "r.manager_slack_id = r.slack_id", col: "manager_slack_id", reason: "a user cannot be their own manager"},
				{bad: "EXISTS (SELECT 1 FROM users u WHERE lower(u.email) = lower(r.email) AND u.slack_id <> r.slack_id AND NOT EXISTS (SELECT 1 FROM csbot_import o WHERE o.slack_id = u.slack_id))",
					col: "email", reason: "this email belongs to another user already"},
			},
		},
		"accounts": {
			table: "accounts", from: "csbot_import r", conflict: "(external_id)", stamped: true,
			cols: []importCol{
				k("external_id", "r.external_id", ""),
				c("name", "r.name", ""),
				c("tier", "r.tier", ""),
				c("arr_cents", "r.arr", ""),
				c("domain", "r.domain", "domain"),
				c("stage", "coalesce(r.stage, 'onboarding')", "stage"),
				c("csm_slack_id", "r.csm", "csm"),
				c("ae_slack_id", "r.ae", "ae"),
				c("slack_channel_id", "r.channel", "channel"),
				c("licensed_seats", "r.licensed_seats", "licensed_seats"),
			},
			unique: extID,
		},
		"contacts": {
			table: "contacts", from: withAccount, conflict: "(account_id, role, lower(name))", stamped: true,
			cols: []importCol{
				k("account_id", "a.id", ""),
				k("role", "r.role", ""),
				c("name", "r.name", ""),
				c("email", "r.email", "email"),
				c("title", "r.title", "title"),
				c("active", "coalesce(r.active, true)", "active"),
			},
			unique: []uniqueKey{{exprs: []string{"r.account_external_id", "r.role", "lower(r.name)"}, what: "account, role and name", col: "name"}},
		},
		"renewals": {
			table: "renewals", from: withAccount, conflict: "(external_id)", stamped: true,
			cols: []importCol{
				k("external_id", "r.external_id", ""),
				c("account_id", "a.id", ""),
				c("renewal_date", "r.renewal_date", ""),
				c("arr_cents", "r.arr", ""),
				c("start_date", "r.start_date", "start_date"),
				c("auto_renew", "coalesce(r.auto_renew, false)", "auto_renew"),
				c("status", "coalesce(r.status, 'open')", "status"),
				c("outcome_reason", "r.outcome_reason", "outcome_reason"),
			},
			unique: extID,
			checks: []rowCheck{{bad: "r.start_date > r.renewal_date", col: "start_date", reason: "start_date is after renewal_date"}},
		},
		"usage": {
			table: "usage_daily", from: withAccount, conflict: "(account_id, day)",
			cols: []importCol{
				k("account_id", "a.id", ""),
				k("day", "r.day", ""),
				c("active_users", "r.active_users", ""),
				c("licensed_seats", "r.licensed_seats", "licensed_seats"),
				c("events", "r.events", "events"),
			},
			unique: []uniqueKey{{exprs: []string{"r.account_external_id", "r.day"}, what: "account and day", col: "day"}},
		},
		"tickets": {
			table: "tickets", from: withAccount, conflict: "(external_id)",
			cols: []importCol{
				k("external_id", "r.external_id", ""),
				c("account_id", "a.id", ""),
				c("opened_at", "r.opened_at", ""),
				c("severity", "r.severity", ""),
				c("status", "r.status", ""),
				c("closed_at", "r.closed_at", "closed_at"),
				c("subject", "r.subject", "subject"),
			},
			unique: extID,
			checks: []rowCheck{{bad: "r.closed_at < r.opened_at", col: "closed_at", reason: "closed_at is before opened_at"}},
		},
		"nps": {
			table: "nps_responses", from: withAccount, conflict: "(account_id, responded_at, respondent_email)",
			cols: []importCol{
				k("account_id", "a.id", ""),
				k("responded_at", "r.responded_at", ""),
				k("respondent_email", "r.respondent_email", ""),
				c("score", "r.score", ""),
				c("comment", "r.comment", "comment"),
			},
			unique: []uniqueKey{{exprs: []string{"r.account_external_id", "r.responded_at", "r.respondent_email"}, what: "account, responded_at and respondent_email", col: "responded_at"}},
		},
		"invoices": {
			table: "invoices", from: withAccount, conflict: "(external_id)",
			cols: []importCol{
				k("external_id", "r.external_id", ""),
				c("account_id", "a.id", ""),
				c("due_on", "r.due_on", ""),
				c("amount_cents", "r.amount", ""),
				c("issued_on", "r.issued_on", "issued_on"),
				c("paid_on", "r.paid_on", "paid_on"),
			},
			unique: extID,
		},
		"outages": {
			table: "outages", from: "csbot_import r LEFT JOIN accounts a ON a.external_id = r.account_external_id", conflict: "(external_id)",
			cols: []importCol{
				k("external_id", "r.external_id", ""),
				c("started_at", "r.started_at", ""),
				c("account_id", "a.id", ""),
				c("ended_at", "r.ended_at", "ended_at"),
				c("severity", "r.severity", "severity"),
				c("summary", "r.summary", "summary"),
			},
			unique: extID,
			checks: []rowCheck{{bad: "r.ended_at < r.started_at", col: "ended_at", reason: "ended_at is before started_at"}},
		},
		"touchpoints": {
			table: "touchpoints", from: withAccount, conflict: "(account_id, at, kind)",
			cols: []importCol{
				k("account_id", "a.id", ""),
				k("at", "r.at", ""),
				k("kind", "r.kind", ""),
				c("summary", "r.summary", "summary"),
				c("user_slack_id", "r.user", "user"),
			},
			unique: []uniqueKey{{exprs: []string{"r.account_external_id", "r.at", "r.kind"}, what: "account, at and kind", col: "at"}},
		},
	}
}
