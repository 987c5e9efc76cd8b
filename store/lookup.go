package store

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// The limits of FindAccounts.
const (
	// lookupMaxRunes caps the query sent: a name is never longer, and
	// trigram work grows with the query.
	lookupMaxRunes = 200
	// lookupDefaultLimit is the number of matches when the caller asks for
	// none (limit <= 0).
	lookupDefaultLimit = 10
	// fuzzyThreshold is the trigram similarity of the normalised names
	// from which a name is a fuzzy match. A typo of one letter in a
	// three-word name keeps about 0.85; names that only share common words
	// ("Dynamics International") stay near 0.6, and below 0.5 thousands of
	// them would be read at 100,000 accounts.
	fuzzyThreshold = 0.5
	// clearWinner is how far the best fuzzy match must be ahead of the
	// next to be the one meant ("Stnhope Dynamics" is Stanhope Dynamics,
	// not a pick-list of every Dynamics).
	clearWinner = 0.15
	// suggestionFloor is the similarity from which a name is worth a "did
	// you mean": pg_trgm's default threshold for %.
	suggestionFloor = 0.3
	// shortQueryRunes is the longest query whose suggestions are the
	// nearest names, with a similarity of at least nearestFloor.
	shortQueryRunes = 12
	nearestFloor    = 0.1
)

// accountColumnsA is accountColumns of the accounts aliased a, for joins.
const accountColumnsA = `a.id, a.external_id, a.name, a.domain, a.tier, a.arr_cents, a.stage, a.csm_slack_id,
	a.ae_slack_id, a.slack_channel_id, a.licensed_seats, a.created_at, a.updated_at`

// fields returns where to scan accountColumns into r.
func (r *accountRow) fields() []any {
	return []any{&r.ID, &r.ExternalID, &r.Name, &r.Domain, &r.Tier, &r.ARRCents, &r.Stage, &r.CSMSlackID,
		&r.AESlackID, &r.SlackChannelID, &r.LicensedSeats, &r.CreatedAt, &r.UpdatedAt}
}

// findAccountsSQL looks the query $1 up kind by kind, best kind first, in
// one statement: each kind's CTE holds the rows of the kinds before it
// and, only when they are empty, its own (an uncorrelated NOT EXISTS is a
// one-time filter, so a kind after the first one found is never
// searched). Every search is an index search on accounts: lower(external_id),
// lower(name), csbot_domain(domain), the normalised name without spaces,
// and trigrams of the normalised name (GIN, for LIKE and %). The query is
// normalised by the same SQL functions as the stored names
// (migrations/007_account_lookup.sql). Fuzzy matches need % (similarity at
// least pg_trgm.similarity_threshold, which FindAccounts sets) and a
// similarity of at least $3.
const findAccountsSQL = `WITH q AS MATERIALIZED (
		SELECT lower($1::text) AS raw, csbot_name_norm($1::text) AS norm, replace(csbot_name_norm($1::text), ' ', '') AS compact,
			-- The host of a domain, URL or e-mail address, and its parent
			-- domains, most specific first; NULL when there is none.
			(SELECT array_agg(array_to_string(l.labels[i:], '.') ORDER BY i)
				FROM string_to_array(csbot_domain($1::text), '.') AS l(labels),
					generate_series(1, cardinality(l.labels) - 1) AS i) AS hosts
	),
	by_external_id AS (
		SELECT 'external_id' AS kind, 1::float8 AS sim, ` + accountColumns + ` FROM accounts
		WHERE lower(external_id) = (SELECT raw FROM q)
	),
	by_name AS (
		SELECT * FROM by_external_id
		UNION ALL
		SELECT 'name', 1, ` + accountColumns + ` FROM accounts
		WHERE lower(name) = (SELECT raw FROM q) AND NOT EXISTS (SELECT FROM by_external_id)
	),
	by_domain AS (
		SELECT * FROM by_name
		UNION ALL
		SELECT 'domain', 1, ` + accountColumns + ` FROM (
			SELECT *, rank() OVER (ORDER BY array_position((SELECT hosts FROM q), csbot_domain(domain))) AS specific
			FROM accounts WHERE csbot_domain(domain) = ANY ((SELECT hosts FROM q)::text[])
		) m
		WHERE specific = 1 AND NOT EXISTS (SELECT FROM by_name)
	),
	by_normalized AS (
		SELECT * FROM by_domain
		UNION ALL
		SELECT 'normalized', 1, ` + accountColumns + ` FROM accounts
		WHERE replace(name_norm, ' ', '') = (SELECT compact FROM q)
			AND (SELECT compact FROM q) <> '' AND NOT EXISTS (SELECT FROM by_domain)
	),
	by_partial AS (
		SELECT * FROM by_normalized
		UNION ALL
		SELECT 'partial', similarity(name_norm, (SELECT norm FROM q)), ` + accountColumns + ` FROM accounts
		WHERE (name_norm LIKE (SELECT norm FROM q) || '%' OR name_norm LIKE '% ' || (SELECT norm FROM q) || '%')
			AND (SELECT norm FROM q) <> '' AND NOT EXISTS (SELECT FROM by_normalized)
	),
	by_fuzzy AS (
		SELECT * FROM by_partial
		UNION ALL
		SELECT * FROM (
			SELECT 'fuzzy', similarity(name_norm, (SELECT norm FROM q)) AS sim, ` + accountColumns + ` FROM accounts
			WHERE name_norm % (SELECT norm FROM q)
				AND (SELECT norm FROM q) <> '' AND NOT EXISTS (SELECT FROM by_partial)
		) f
		WHERE sim >= $3
	)
	SELECT kind, sim, ` + accountColumns + ` FROM by_fuzzy
	ORDER BY sim DESC, arr_cents DESC, name, id
	LIMIT $2`

// suggestSimilarSQL reads the $2 names most similar to the query $1,
// with a similarity of at least $3 (and pg_trgm.similarity_threshold,
// which % reads), for "did you mean" when findAccountsSQL found nothing.
// The trigram index is selective for a query of several words.
const suggestSimilarSQL = `SELECT 'suggestion', s.sim, ` + accountColumns + ` FROM (
		SELECT id, similarity(name_norm, csbot_name_norm($1::text)) AS sim FROM accounts
		WHERE name_norm % csbot_name_norm($1::text)
	) s JOIN accounts USING (id)
	WHERE s.sim >= $3
	ORDER BY s.sim DESC, arr_cents DESC, name, id
	LIMIT $2`

// suggestNearestSQL reads the $2 names nearest to a short query $1 (a
// typo in one word shares few trigrams: "acne" and "acme" 0.25) by
// walking the GiST index in distance order, keeping those with a
// similarity of at least $3.
const suggestNearestSQL = `SELECT 'suggestion', n.sim, ` + accountColumns + ` FROM (
		SELECT id, similarity(name_norm, csbot_name_norm($1::text)) AS sim FROM accounts
		ORDER BY csbot_name_norm(name) <-> csbot_name_norm($1::text)
		LIMIT $2
	) n JOIN accounts USING (id)
	WHERE n.sim >= $3
	ORDER BY n.sim DESC, arr_cents DESC, name, id`

// FindAccounts looks an account up by what a person typed, in PostgreSQL,
// and answers with the accounts of the best kind of match found (see
// csbot.MatchKind): external id, exact name (both ignoring case), domain
// (of a domain, URL or e-mail address; the most specific domain stored),
// normalised name, partial name (the start of the normalised name or of
// one of its words), fuzzy (trigram similarity of the normalised names).
// Matches of one kind are ordered by similarity, then ARR (largest
// first), then name. When nothing matches, Suggestions holds the nearest
// names, if any is even a little similar. limit caps both (10 when it is
// not positive); only the first 200 characters of query are read. A blank
// query finds nothing.
func (s *Store) FindAccounts(ctx context.Context, query string, limit int) (csbot.AccountLookup, error) {
	var res csbot.AccountLookup
	query = cleanLookupQuery(query)
	if query == "" {
		return res, nil
	}
	if limit <= 0 {
		limit = lookupDefaultLimit
	}
	// The trigram index search (%) reads its threshold from a setting:
	// one transaction sets it for each statement.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return res, fmt.Errorf("find accounts %q: %w", query, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	if err := s.lookupRows(ctx, tx, &res, fuzzyThreshold, findAccountsSQL, query, limit, fuzzyThreshold); err != nil {
		return csbot.AccountLookup{}, fmt.Errorf("find accounts %q: %w", query, err)
	}
	if len(res.Matches) == 0 {
		// Suggestions: by similarity above a floor for a query of several
		// words (the index finds few names sharing that many trigrams); by
		// distance for a short one, whose typo leaves few trigrams in
		// common with the name meant and many with every other.
		q, floor := suggestSimilarSQL, suggestionFloor
		if utf8.RuneCountInString(query) <= shortQueryRunes {
			q, floor = suggestNearestSQL, nearestFloor
		}
		if err := s.lookupRows(ctx, tx, &res, floor, q, query, limit, floor); err != nil {
			return csbot.AccountLookup{}, fmt.Errorf("find accounts %q: %w", query, err)
		}
	}
	if m := res.Matches; len(m) > 1 && m[0].Kind == csbot.MatchFuzzy && m[0].Similarity-m[1].Similarity >= clearWinner {
		res.Matches = m[:1]
	}
	return res, nil
}

// lookupRows runs a lookup statement in tx with pg_trgm's similarity
// threshold at threshold, and adds its rows to res: suggestions to
// Suggestions, the rest to Matches.
func (s *Store) lookupRows(ctx context.Context, tx pgx.Tx, res *csbot.AccountLookup, threshold float64, q string, args ...any) error {
	if _, err := tx.Exec(ctx, `SELECT set_config('pg_trgm.similarity_threshold', $1, true)`, fmt.Sprint(threshold)); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	var kind string
	var m csbot.AccountMatch
	var r accountRow
	dest := append([]any{&kind, &m.Similarity}, r.fields()...)
	_, err = pgx.ForEachRow(rows, dest, func() error {
		m.Account = r.toAccount()
		if kind == "suggestion" {
			m.Kind = csbot.MatchFuzzy
			res.Suggestions = append(res.Suggestions, m)
		} else {
			m.Kind = csbot.MatchKind(kind)
			res.Matches = append(res.Matches, m)
		}
		return nil
	})
	return err
}

// cleanLookupQuery trims the query, makes it valid UTF-8 without NULs
// (which PostgreSQL text cannot hold), and cuts it to lookupMaxRunes.
func cleanLookupQuery(q string) string {
	q = strings.ToValidUTF8(q, "")
	q = strings.ReplaceAll(q, "\x00", "")
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > lookupMaxRunes {
		n := 0
		for i := range q {
			if n == lookupMaxRunes {
				q = strings.TrimSpace(q[:i])
				break
			}
			n++
		}
	}
	return q
}
