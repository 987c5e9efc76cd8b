package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
)

// lookupAccounts are the accounts the lookup tests search, with domains
// stored as people type them.
const lookupAccounts = `external_id,name,tier,arr,domain
A-1,ACME Corp.,high,1000000,acme.com
A-2,Globex International,low,50000,globex.com
A-3,AT&T Inc.,high,900000,att.com
A-4,Société Générale S.A.,high,800000,societegenerale.fr
A-5,The Coca-Cola Company,high,700000,https://www.coca-cola.com/
A-6,Initech LLC,low,20000,initech.com
A-7,Umbrella Corp.,low,30000,umbrella.example
A-8,Hooli Health,low,40000,hooli-health.example
A-9,Hooli Logistics Ltd,low,60000,hooli-logistics.example
SF-0001a,Stark Industries,high,300000,stark.example
wonka,Wayne Enterprises,high,400000,WWW.Wayne.Example
A-12,ACME Europe,low,10000,eu.acme.com
A-13,Bluth Company,low,5000,
A-14,Bluth Co,low,7000,
A-15,Wonka Industries,low,1000,wonka.example
`

// newLookupStore returns a store holding lookupAccounts, and their ids by
// external id.
func newLookupStore(ctx context.Context, t *testing.T) (*store.Store, map[string]int64) {
	t.Helper()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "accounts", lookupAccounts)
	ids := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(lookupAccounts), "\n")[1:] {
		ext := strings.Split(line, ",")[0]
		a, err := s.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatalf("AccountByExternalID(%s): %v", ext, err)
		}
		ids[ext] = a.ID
	}
	return s, ids
}

// found is what a lookup answered, by external id.
type found struct {
	Kind        csbot.MatchKind
	Matches     []string
	Suggestions []string
}

func summarize(l csbot.AccountLookup) found {
	var f found
	for i, m := range l.Matches {
		if i == 0 {
			f.Kind = m.Kind
		}
		f.Matches = append(f.Matches, m.Account.ExternalID)
	}
	for _, m := range l.Suggestions {
		f.Suggestions = append(f.Suggestions, m.Account.ExternalID)
	}
	return f
}

func TestFindAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newLookupStore(ctx, t)
	tests := []struct {
		query string
		want  found
	}{
		// External id, ignoring case; it beats every other kind.
		{"sf-0001A", found{Kind: csbot.MatchExternalID, Matches: []string{"SF-0001a"}}},
		{"A-1", found{Kind: csbot.MatchExternalID, Matches: []string{"A-1"}}},
		{"Wonka", found{Kind: csbot.MatchExternalID, Matches: []string{"wonka"}}},
		// The exact name, ignoring case and surrounding space.
		{"  acme corp.  ", found{Kind: csbot.MatchName, Matches: []string{"A-1"}}},
		{"HOOLI HEALTH", found{Kind: csbot.MatchName, Matches: []string{"A-8"}}},
		// A domain, URL or e-mail address; the most specific domain stored.
		{"acme.com", found{Kind: csbot.MatchDomain, Matches: []string{"A-1"}}},
		{"https://www.acme.com/x", found{Kind: csbot.MatchDomain, Matches: []string{"A-1"}}},
		{"jo@acme.com", found{Kind: csbot.MatchDomain, Matches: []string{"A-1"}}},
		{"Jo.Smith@EU.acme.com", found{Kind: csbot.MatchDomain, Matches: []string{"A-12"}}},
		{"jo@mail.acme.com", found{Kind: csbot.MatchDomain, Matches: []string{"A-1"}}},
		{"http://coca-cola.com:8080/about?x=1", found{Kind: csbot.MatchDomain, Matches: []string{"A-5"}}},
		{"wayne.example", found{Kind: csbot.MatchDomain, Matches: []string{"wonka"}}},
		// The normalised name: case, punctuation, accents, legal suffixes
		// and a leading "the" dropped.
		{"Acme", found{Kind: csbot.MatchNormalized, Matches: []string{"A-1"}}},
		{"acme corporation", found{Kind: csbot.MatchNormalized, Matches: []string{"A-1"}}},
		{"The ACME, Inc", found{Kind: csbot.MatchNormalized, Matches: []string{"A-1"}}},
		{"AT&T", found{Kind: csbot.MatchNormalized, Matches: []string{"A-3"}}},
		{"att", found{Kind: csbot.MatchNormalized, Matches: []string{"A-3"}}},
		{"Societe Generale", found{Kind: csbot.MatchNormalized, Matches: []string{"A-4"}}},
		{"coca cola", found{Kind: csbot.MatchNormalized, Matches: []string{"A-5"}}},
		{"CocaCola", found{Kind: csbot.MatchNormalized, Matches: []string{"A-5"}}},
		// Several accounts of one kind: by ARR, largest first.
		{"bluth", found{Kind: csbot.MatchNormalized, Matches: []string{"A-14", "A-13"}}},
		// The start of the name or of one of its words.
		{"globex", found{Kind: csbot.MatchPartial, Matches: []string{"A-2"}}},
		{"The Globex", found{Kind: csbot.MatchPartial, Matches: []string{"A-2"}}},
		{"international", found{Kind: csbot.MatchPartial, Matches: []string{"A-2"}}},
		{"stark ind", found{Kind: csbot.MatchPartial, Matches: []string{"SF-0001a"}}},
		{"hooli", found{Kind: csbot.MatchPartial, Matches: []string{"A-8", "A-9"}}},
		// Typos.
		{"initeck", found{Kind: csbot.MatchFuzzy, Matches: []string{"A-6"}}},
		{"umbrela corp", found{Kind: csbot.MatchFuzzy, Matches: []string{"A-7"}}},
		{"wayn entrprises", found{Kind: csbot.MatchFuzzy, Matches: []string{"wonka"}}},
		// Nothing close enough: "did you mean", or nothing at all.
		{"acne", found{Suggestions: []string{"A-1", "A-12", "A-3"}}},
		{"globx", found{Suggestions: []string{"A-2"}}},
		{"zzqxv", found{}},
		{"!!!", found{}},
		{"", found{}},
		{" \t ", found{}},
	}
	for _, tt := range tests {
		got, err := s.FindAccounts(ctx, tt.query, 10)
		if err != nil {
			t.Errorf("FindAccounts(%q): %v", tt.query, err)
			continue
		}
		if diff := cmp.Diff(tt.want, summarize(got)); diff != "" {
			t.Errorf("FindAccounts(%q) (-want +got):\n%s", tt.query, diff)
		}
		for _, m := range got.Matches {
			if m.Kind != tt.want.Kind {
				t.Errorf("FindAccounts(%q): match %s of kind %s among matches of kind %s", tt.query, m.Account.ExternalID, m.Kind, tt.want.Kind)
			}
		}
	}
}

func TestFindAccountsSimilarityAndLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, ids := newLookupStore(ctx, t)

	got, err := s.FindAccounts(ctx, "acme", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Matches) != 1 || got.Matches[0].Similarity != 1 || got.Matches[0].Account.ID != ids["A-1"] {
		t.Errorf("FindAccounts(acme) = %+v, want A-1 alone with similarity 1", got.Matches)
	}
	want := csbot.Account{ID: ids["A-1"], ExternalID: "A-1", Name: "ACME Corp.", Domain: "acme.com", Tier: csbot.TierHigh,
		ARR: 100000000, Stage: csbot.StageOnboarding}
	if len(got.Matches) == 1 {
		a := got.Matches[0].Account
		a.CreatedAt, a.UpdatedAt = time.Time{}, time.Time{}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("FindAccounts(acme) account (-want +got):\n%s", diff)
		}
	}

	got, err = s.FindAccounts(ctx, "initeck", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Matches) != 1 || got.Matches[0].Similarity <= 0.3 || got.Matches[0].Similarity >= 1 {
		t.Errorf("FindAccounts(initeck) = %+v, want one fuzzy match with a similarity in (0.3, 1)", got.Matches)
	}

	// The limit caps the matches, keeping the best.
	got, err = s.FindAccounts(ctx, "hooli", 1)
	if err != nil {
		t.Fatal(err)
	}
	if f := summarize(got); len(f.Matches) != 1 || f.Matches[0] != "A-8" {
		t.Errorf("FindAccounts(hooli, 1) = %+v, want A-8 alone (the more similar)", f)
	}
	// And the suggestions.
	got, err = s.FindAccounts(ctx, "acne", 1)
	if err != nil {
		t.Fatal(err)
	}
	if f := summarize(got); len(f.Matches) != 0 || len(f.Suggestions) != 1 || f.Suggestions[0] != "A-1" {
		t.Errorf("FindAccounts(acne, 1) = %+v, want the suggestion A-1 alone", f)
	}
	// No limit asked: a default one.
	got, err = s.FindAccounts(ctx, "hooli", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Matches) != 2 {
		t.Errorf("FindAccounts(hooli, 0) = %d matches, want 2", len(got.Matches))
	}
}

func TestFindAccountsHostileQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newLookupStore(ctx, t)
	for _, q := range []string{
		strings.Repeat("acme ", 20000),
		"acme" + strings.Repeat("é", 5000),
		"%", "_", `\`, "acme%", "a_me", "'; DROP TABLE accounts; --",
		"acme\x00corp", "\xff\xfeacme", "(", "[a-z]", "***",
	} {
		began := time.Now()
		got, err := s.FindAccounts(ctx, q, 10)
		if err != nil {
			t.Errorf("FindAccounts(%.20q): %v", q, err)
			continue
		}
		if took := time.Since(began); took > 5*time.Second {
			t.Errorf("FindAccounts(%.20q) took %v", q, took)
		}
		for _, m := range got.Matches {
			if m.Kind == csbot.MatchPartial && !strings.Contains(strings.ToLower(m.Account.Name), "acme") {
				t.Errorf("FindAccounts(%.20q) matched %q as partial", q, m.Account.Name)
			}
		}
	}
	// LIKE wildcards in the query are not wildcards.
	got, err := s.FindAccounts(ctx, "%", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Matches) != 0 {
		t.Errorf("FindAccounts(%%) = %v, want no match", summarize(got))
	}
	if n := count(ctx, t, s, "accounts"); n != 15 {
		t.Errorf("%d accounts after the hostile queries, want 15", n)
	}
}

// TestAccountNameNormalizedOnUpdate checks that the stored normalised
// name follows a renamed account.
func TestAccountNameNormalizedOnUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newLookupStore(ctx, t)
	mustImport(ctx, t, s, "accounts", "external_id,name,tier,arr\nA-7,Umbrella Health GmbH,low,30000\n")
	got, err := s.FindAccounts(ctx, "umbrella health", 10)
	if err != nil {
		t.Fatal(err)
	}
	if f := summarize(got); f.Kind != csbot.MatchNormalized || len(f.Matches) != 1 || f.Matches[0] != "A-7" {
		t.Errorf("after renaming, FindAccounts(umbrella health) = %+v, want A-7 normalised", f)
	}
}
