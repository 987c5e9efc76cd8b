package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ImportResult is what an import changed.
type ImportResult struct {
	Kind      string
	Rows      int64 // data rows in the file
	Inserted  int64
	Updated   int64
	Unchanged int64
	Warnings  []string
}

// Import loads one CSV file of the given kind, all or nothing: it streams
// the rows into a staging table with COPY, checks them (cells, duplicates
// within the file, references to accounts and users), and then upserts
// them in one set-based statement, in one transaction. Re-importing the
// same file changes nothing.
//
// It returns a *csbot.ImportError when the file is refused (nothing is
// written), and other errors when the database fails.
func (s *Store) Import(ctx context.Context, kind csbot.ImportKind, r io.Reader) (ImportResult, error) {
	res := ImportResult{Kind: kind.Name}
	spec, ok := importTables()[kind.Name]
	if !ok {
		return res, fmt.Errorf("import %s: no table for this kind", kind.Name)
	}
	cr, err := csbot.NewCSVReader(kind, r)
	if err != nil {
		return res, err
	}
	res.Warnings = cr.Warnings()
	present := cr.Present()

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("import %s: begin: %w", kind.Name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	if _, err := tx.Exec(ctx, stagingDDL(kind)); err != nil {
		return res, fmt.Errorf("import %s: staging table: %w", kind.Name, err)
	}
	src := &csvSource{r: cr, present: present, vals: make([]any, len(kind.Columns))}
	copyCols := []string{"line"}
	for j, col := range kind.Columns {
		if present[j] {
			copyCols = append(copyCols, col.Name)
		}
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"csbot_import"}, copyCols, src)
	if err != nil {
		if src.err != nil {
			return res, src.err
		}
		return res, fmt.Errorf("import %s: copy: %w", kind.Name, err)
	}
	res.Rows = n + int64(src.bad.Len())
	if _, err := tx.Exec(ctx, "ANALYZE csbot_import"); err != nil {
		return res, fmt.Errorf("import %s: analyze: %w", kind.Name, err)
	}
	if err := checkStaged(ctx, tx, kind, spec, present, &src.bad); err != nil {
		return res, fmt.Errorf("import %s: %w", kind.Name, err)
	}
	if src.bad.Len() > 0 {
		// Report repeated keys now too, not on the next attempt.
		if err := findDuplicates(ctx, tx, spec, &src.bad); err != nil {
			return res, fmt.Errorf("import %s: %w", kind.Name, err)
		}
		return res, src.bad.Err(kind.Name)
	}
	if n == 0 {
		res.Warnings = append(res.Warnings, "the file has a header but no rows: nothing to import")
		return res, nil
	}

	if _, err := tx.Exec(ctx, "SAVEPOINT upsert"); err != nil {
		return res, fmt.Errorf("import %s: %w", kind.Name, err)
	}
	err = tx.QueryRow(ctx, upsertSQL(spec, kind, present)).Scan(&res.Inserted, &res.Updated)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "21000" || pgErr.Code == "23505" || pgErr.Code == "23514") {
		// The same key twice in the file (21000: one row updated twice;
		// 23505: a second unique key): find the rows to blame. Checking only
		// now keeps the common case to one pass over the rows.
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT upsert"); err != nil {
			return res, fmt.Errorf("import %s: %w", kind.Name, err)
		}
		if err := findDuplicates(ctx, tx, spec, &src.bad); err != nil {
			return res, fmt.Errorf("import %s: %w", kind.Name, err)
		}
		if err := src.bad.Err(kind.Name); err != nil {
			return res, err
		}
		// Not a repeat within the file: a row conflicts with what is stored
		// (another user's email, a date against a stored one). Still an
		// input problem, and nothing was written.
		return res, &csbot.ImportError{Kind: kind.Name, Problem: fmt.Sprintf(
			"a row conflicts with data already stored (%s); nothing was imported", conflictReason(pgErr))}
	}
	if err != nil {
		return res, fmt.Errorf("import %s: upsert: %w", kind.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("import %s: commit: %w", kind.Name, err)
	}
	res.Unchanged = n - res.Inserted - res.Updated
	s.log.DebugContext(ctx, "import", "kind", kind.Name, "rows", res.Rows, "inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged)
	return res, nil
}

// stagingDDL creates the temporary table rows are copied into, typed by
// the kind's columns and dropped at the end of the transaction.
func stagingDDL(kind csbot.ImportKind) string {
	var b strings.Builder
	b.WriteString("CREATE TEMP TABLE csbot_import (line integer NOT NULL")
	for _, col := range kind.Columns {
		b.WriteString(", ")
		b.WriteString(pgx.Identifier{col.Name}.Sanitize())
		b.WriteString(" ")
		b.WriteString(sqlType(col.Type))
	}
	b.WriteString(") ON COMMIT DROP")
	return b.String()
}

func sqlType(t csbot.ColumnType) string {
	switch t {
	case csbot.ColMoney, csbot.ColCount, csbot.ColNPS:
		return "bigint"
	case csbot.ColDate:
		return "date"
	case csbot.ColTimestamp:
		return "timestamptz"
	case csbot.ColBool:
		return "boolean"
	default:
		return "text"
	}
}

// checkStaged finds rows that are well-formed cell by cell but wrong
// together: unknown accounts, emails that name no user, and the kind's
// cross-column checks. Person columns given as emails are resolved to
// Slack user ids in place.
func checkStaged(ctx context.Context, tx pgx.Tx, kind csbot.ImportKind, spec importTable, present []bool, bad *csbot.RowErrors) error {
	type check struct{ sql, col, reason string }
	var checks []check
	if j := kind.Column("account_external_id"); j >= 0 && present[j] {
		checks = append(checks, check{
			sql: `SELECT line, 'no account "' || left(r.account_external_id, 60) || '" (import accounts first, or check the id)' FROM csbot_import r
			      WHERE r.account_external_id IS NOT NULL
			        AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.external_id = r.account_external_id)`,
			col: "account_external_id",
		})
	}
	for j, col := range kind.Columns {
		if col.Type != csbot.ColPerson || !present[j] {
			continue
		}
		name := pgx.Identifier{col.Name}.Sanitize()
		resolve := fmt.Sprintf(`UPDATE csbot_import r SET %[1]s = u.slack_id FROM users u
			WHERE strpos(r.%[1]s, '@') > 0 AND lower(u.email) = lower(r.%[1]s)`, name)
		if _, err := tx.Exec(ctx, resolve); err != nil {
			return fmt.Errorf("resolve %s emails: %w", col.Name, err)
		}
		checks = append(checks, check{
			sql: fmt.Sprintf(`SELECT line, 'no user with this email (import users first, or use a Slack user id)'
			                  FROM csbot_import r WHERE strpos(r.%s, '@') > 0`, name),
			col: col.Name,
		})
	}
	for _, rc := range spec.checks {
		checks = append(checks, check{
			sql: fmt.Sprintf("SELECT line, $1::text FROM csbot_import r WHERE %s", rc.bad),
			col: rc.col, reason: rc.reason,
		})
	}
	for _, ch := range checks {
		var args []any
		if ch.reason != "" {
			args = append(args, ch.reason)
		}
		if err := collectRowErrors(ctx, tx, ch.sql+" ORDER BY line LIMIT 1000", ch.col, bad, args...); err != nil {
			return err
		}
	}
	return nil
}

// findDuplicates reports every row whose unique key repeats an earlier
// row's.
func findDuplicates(ctx context.Context, tx pgx.Tx, spec importTable, bad *csbot.RowErrors) error {
	for _, u := range spec.unique {
		key := strings.Join(u.exprs, ", ")
		q := fmt.Sprintf(`SELECT line, 'same %s as row ' || first FROM (
			SELECT line, min(line) OVER (PARTITION BY %s) AS first FROM csbot_import r
			WHERE %s) d
			WHERE line <> first ORDER BY line LIMIT 1000`, u.what, key, notAllNull(u.exprs))
		if err := collectRowErrors(ctx, tx, q, u.col, bad); err != nil {
			return err
		}
	}
	return nil
}

// notAllNull keeps rows whose key has at least one value: a key that is
// wholly empty (an optional email) is not a duplicate of another.
func notAllNull(exprs []string) string {
	parts := make([]string, len(exprs))
	for i, e := range exprs {
		parts[i] = e + " IS NOT NULL"
	}
	return strings.Join(parts, " OR ")
}

func collectRowErrors(ctx context.Context, tx pgx.Tx, q, col string, bad *csbot.RowErrors, args ...any) error {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("check %s: %w", col, err)
	}
	var line int
	var reason string
	_, err = pgx.ForEachRow(rows, []any{&line, &reason}, func() error {
		bad.Add(csbot.RowError{Row: line, Column: col, Reason: reason})
		return nil
	})
	if err != nil {
		return fmt.Errorf("check %s: %w", col, err)
	}
	return nil
}

// upsertSQL builds the one statement that writes the staged rows: insert
// new ones, update changed ones (only the columns the file has), leave the
// rest alone, and count inserts and updates.
func upsertSQL(spec importTable, kind csbot.ImportKind, present []bool) string {
	has := func(source string) bool {
		if source == "" {
			return true
		}
		j := kind.Column(source)
		return j >= 0 && present[j]
	}
	var targets, exprs, sets, olds, news []string
	for _, col := range spec.cols {
		if !has(col.source) {
			continue
		}
		targets = append(targets, col.target)
		exprs = append(exprs, col.expr)
		if !col.key {
			sets = append(sets, fmt.Sprintf("%s = excluded.%s", col.target, col.target))
			olds = append(olds, spec.table+"."+col.target)
			news = append(news, "excluded."+col.target)
		}
	}
	if spec.stamped {
		sets = append(sets, "updated_at = now()")
	}
	// With nothing to update, "WHERE false" still makes a key repeated
	// within the file an error (21000), which DO NOTHING would hide.
	first := spec.cols[0].target
	conflict := fmt.Sprintf("DO UPDATE SET %s = excluded.%s WHERE false", first, first)
	if len(olds) > 0 {
		conflict = fmt.Sprintf("DO UPDATE SET %s WHERE (%s) IS DISTINCT FROM (%s)",
			strings.Join(sets, ", "), strings.Join(olds, ", "), strings.Join(news, ", "))
	}
	return fmt.Sprintf(`WITH up AS (
		INSERT INTO %s AS %s (%s)
		SELECT %s FROM %s
		ON CONFLICT %s %s
		RETURNING (xmax = 0) AS inserted
	) SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`,
		spec.table, spec.table, strings.Join(targets, ", "), strings.Join(exprs, ", "), spec.from, spec.conflict, conflict)
}

// csvSource feeds COPY from a CSV reader, setting bad rows aside.
type csvSource struct {
	r       *csbot.CSVReader
	present []bool
	vals    []any
	row     []any
	bad     csbot.RowErrors
	err     error
}

func (s *csvSource) Next() bool {
	for {
		line, bad, err := s.r.Next(s.vals)
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			s.err = err
			return false
		}
		if len(bad) > 0 {
			for _, b := range bad {
				s.bad.Add(b)
			}
			continue
		}
		s.row = append(s.row[:0], int32(line))
		for j, v := range s.vals {
			if s.present[j] {
				s.row = append(s.row, v)
			}
		}
		return true
	}
}

func (s *csvSource) Values() ([]any, error) { return s.row, nil }

func (s *csvSource) Err() error { return s.err }

// conflictReason names the constraint a stored row broke, without values.
func conflictReason(e *pgconn.PgError) string {
	switch e.ConstraintName {
	case "users_email_key":
		return "an email belongs to another user"
	case "renewals_check":
		return "start_date would be after renewal_date"
	case "tickets_check":
		return "closed_at would be before opened_at"
	case "outages_check":
		return "ended_at would be before started_at"
	}
	return "constraint " + e.ConstraintName
}

// ImportDemo loads every file of a demo portfolio, in load order, through
// Import: the same path as a user's CSV files, streamed through a pipe.
// done, when not nil, is called after each kind with its result and how
// long it took.
func (s *Store) ImportDemo(ctx context.Context, demo *csbot.Demo, done func(ImportResult, time.Duration)) error {
	for _, name := range demo.Kinds() {
		kind, err := csbot.LookupImportKind(name)
		if err != nil {
			return err
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(demo.WriteCSV(name, pw)) }()
		began := time.Now()
		res, err := s.Import(ctx, kind, pr)
		pr.CloseWithError(errors.New("import ended")) // stops the writer if the import stopped early
		if err != nil {
			return fmt.Errorf("demo %s: %w", name, err)
		}
		if done != nil {
			done(res, time.Since(began))
		}
	}
	return nil
}
