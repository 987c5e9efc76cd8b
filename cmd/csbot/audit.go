package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
)

// auditTimeFormat is how csbot audit prints times, in UTC.
const auditTimeFormat = "2006-01-02 15:04:05"

// runAudit prints the audit log: who looked at or changed what, newest
// first.
func runAudit(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stdout)
	account := fs.String("account", "", "only this account: its name, domain or CRM id, found as /health finds it")
	sinceValue := fs.String("since", "30d", "only entries since then: 30d, 12h, 2w, a date (2026-03-01) or an RFC 3339 time")
	actor := fs.String("actor", "", "only what this Slack user id (U123) did, or cli for the command line")
	limit := fs.Int("limit", csbot.DefaultAuditLimit, fmt.Sprintf("at most this many entries (1..%d)", csbot.MaxAuditLimit))
	asJSON := fs.Bool("json", false, "print the entries as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: csbot audit [--account acme] [--since 30d] [--actor U123] [--limit 100] [--json]")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	now := time.Now().UTC()
	since, err := parseSince(*sinceValue, now)
	if err != nil {
		return usagef("audit: --since %q: %v", *sinceValue, err)
	}
	who := strings.TrimPrefix(strings.TrimSpace(*actor), "@")
	if who != "" && who != csbot.AuditActorCLI && !csbot.IsSlackUserID(who) {
		return usagef("audit: --actor %q is not a Slack user id (like U012AB3CD) or cli", *actor)
	}
	if *limit < 1 || *limit > csbot.MaxAuditLimit {
		return usagef("audit: --limit must be between 1 and %d", csbot.MaxAuditLimit)
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	f := csbot.AuditFilter{Since: since, Actor: who, Limit: *limit}
	var a csbot.Account
	if strings.TrimSpace(*account) != "" {
		if a, err = findOneAccount(ctx, db.Store, "audit", *account); err != nil {
			return err
		}
		f.AccountID = a.ID
	}
	entries, err := db.Audit(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAuditJSON(stdout, entries)
	}
	printAudit(stdout, entries, a, f)
	return nil
}

// parseSince reads --since: a number of days, weeks or hours before now
// ("30d", "2w", "12h"), a date or an RFC 3339 time; "" is all time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && n >= 0 {
		switch s[len(s)-1] {
		case 'd':
			return now.AddDate(0, 0, -n), nil
		case 'w':
			return now.AddDate(0, 0, -7*n), nil
		case 'h':
			return now.Add(-time.Duration(n) * time.Hour), nil
		}
	}
	t, err := csbot.ParseTimestamp(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want 30d, 2w, 12h, a date like 2026-03-01 or an RFC 3339 time")
	}
	return t, nil
}

// accountFinder is the lookup the command line shares with /health.
type accountFinder interface {
	FindAccounts(ctx context.Context, query string, limit int) (csbot.AccountLookup, error)
}

// findOneAccount looks up the account a person named on the command line
// (for the subcommand cmd) as /health would: one match is the account;
// several, or none, is a usage error naming the candidates.
func findOneAccount(ctx context.Context, s accountFinder, cmd, query string) (csbot.Account, error) {
	const limit = 8
	res, err := s.FindAccounts(ctx, strings.TrimSpace(query), limit+1)
	if err != nil {
		return csbot.Account{}, fmt.Errorf("%s: find account %q: %w", cmd, query, err)
	}
	names := func(ms []csbot.AccountMatch) string {
		var out []string
		for _, m := range ms[:min(len(ms), limit)] {
			out = append(out, fmt.Sprintf("%s (%s)", m.Account.Name, m.Account.ExternalID))
		}
		if len(ms) > limit {
			out = append(out, "...")
		}
		return strings.Join(out, ", ")
	}
	switch {
	case len(res.Matches) == 1:
		return res.Matches[0].Account, nil
	case len(res.Matches) > 1:
		return csbot.Account{}, usagef("%s: %q matches several accounts: %s; name one by its CRM id", cmd, query, names(res.Matches))
	case len(res.Suggestions) > 0:
		return csbot.Account{}, usagef("%s: no account matches %q; did you mean %s?", cmd, query, names(res.Suggestions))
	}
	return csbot.Account{}, usagef("%s: no account matches %q", cmd, query)
}

// printAudit prints entries as a table.
func printAudit(w io.Writer, entries []csbot.AuditEntry, a csbot.Account, f csbot.AuditFilter) {
	if len(entries) == 0 {
		scope := "no audit entries"
		if a.ID != 0 {
			scope += " for " + a.Name
		}
		if f.Actor != "" {
			scope += " by " + f.Actor
		}
		if !f.Since.IsZero() {
			scope += " since " + f.Since.UTC().Format(auditTimeFormat) + " UTC"
		}
		fmt.Fprintln(w, scope)
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tACTOR\tACTION\tACCOUNT\tCHANNEL\tDETAILS")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(auditTimeFormat), e.Actor, e.Action,
			orDash(auditAccount(e)), orDash(e.Channel), auditDetails(e.Details))
	}
	tw.Flush()
	if len(entries) == f.EffectiveLimit() {
		fmt.Fprintf(w, "(the newest %d; --limit shows more)\n", len(entries))
	}
}

// auditAccount names an entry's account: its name, or its id when it has
// none left.
func auditAccount(e csbot.AuditEntry) string {
	switch {
	case e.AccountName != "":
		return e.AccountName
	case e.AccountID != 0:
		return "#" + strconv.FormatInt(e.AccountID, 10)
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// auditDetails prints details as key=value pairs, by key, on one line.
func auditDetails(d map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(d)) {
		v := d[k]
		var s string
		switch v := v.(type) {
		case string:
			s = strconv.Quote(v)
		default:
			b, _ := json.Marshal(v)
			s = string(b)
		}
		parts = append(parts, k+"="+s)
	}
	return strings.Join(parts, " ")
}

// auditJSON is an audit entry as csbot audit --json prints it.
type auditJSON struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Actor     string         `json:"actor"`
	Action    string         `json:"action"`
	AccountID int64          `json:"account_id,omitempty"`
	Account   string         `json:"account,omitempty"`
	Channel   string         `json:"channel,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

func printAuditJSON(w io.Writer, entries []csbot.AuditEntry) error {
	out := make([]auditJSON, len(entries))
	for i, e := range entries {
		out[i] = auditJSON{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, AccountID: e.AccountID,
			Account: e.AccountName, Channel: e.Channel, Details: e.Details}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// auditImport records a CSV import in the audit log (actor cli); a
// failure to write it is logged, since the import is done.
func auditImport(ctx context.Context, s *store.Store, log *slog.Logger, res store.ImportResult, file string) {
	e := csbot.AuditEntry{Actor: csbot.AuditActorCLI, Action: "import:" + res.Kind, Details: map[string]any{
		"file": csbot.AuditText(file), "rows": res.Rows, "inserted": res.Inserted, "updated": res.Updated, "unchanged": res.Unchanged,
	}}
	if err := s.RecordAudit(ctx, e); err != nil {
		log.Warn("audit log: import not recorded", "kind", res.Kind, "err", err)
	}
}
