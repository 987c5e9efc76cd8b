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
	// from which a name is a fuzzy match: pg_trgm's own default threshold
	// for %, which the index search uses.
	fuzzyThreshold = 0.3
	// suggestionFloor is the similarity from which a name is worth a "did
	// you mean".
	suggestionFloor = 0.1
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
// and trigrams of the normalised name (GIN for LIKE and %, GiST for the
// nearest names). The query is normalised by the same SQL functions as the
// stored names (migrations/007_account_lookup.sql). Fuzzy matches need %
// (similarity at least pg_trgm.similarity_threshold, 0.3 unless the
// server says otherwise) and a similarity of at least $3; suggestions, the
// $2 nearest names with a similarity of at least $4, are read only when
// nothing else matched.
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
	),
	found AS (
		SELECT * FROM by_fuzzy
		UNION ALL
		SELECT * FROM (
			SELECT 'suggestion', similarity(name_norm, (SELECT norm FROM q)) AS sim, ` + accountColumns + ` FROM accounts
			WHERE (SELECT norm FROM q) <> '' AND NOT EXISTS (SELECT FROM by_fuzzy)
			ORDER BY csbot_name_norm(name) <-> (SELECT norm FROM q)
			LIMIT $2
		) n
		WHERE sim >= $4
	)
	SELECT kind, sim, ` + accountColumns + ` FROM found
	ORDER BY sim DESC, arr_cents DESC, name, id
	LIMIT $2`

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
	rows, err := s.pool.Query(ctx, findAccountsSQL, query, limit, fuzzyThreshold, suggestionFloor)
	if err != nil {
		return res, fmt.Errorf("find accounts %q: %w", query, err)
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
	if err != nil {
		return csbot.AccountLookup{}, fmt.Errorf("find accounts %q: %w", query, err)
	}
	return res, nil
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
