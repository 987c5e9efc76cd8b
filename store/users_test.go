package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
)

func TestBusiestCSM(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, pgtest.NewDatabase(ctx, t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.BusiestCSM(ctx); !errors.Is(err, csbot.ErrNotFound) {
		t.Fatalf("empty book: err = %v, want ErrNotFound", err)
	}
	users, _ := csbot.LookupImportKind("users")
	accounts, _ := csbot.LookupImportKind("accounts")
	mustImport := func(kind csbot.ImportKind, csv string) {
		t.Helper()
		if _, err := s.Import(ctx, kind, strings.NewReader(csv)); err != nil {
			t.Fatal(err)
		}
	}
	mustImport(users, "slack_id,role,name,email\nU0AAA,csm,Ana,ana@vendor.example\nU0BBB,csm,Ben,ben@vendor.example\n")
	mustImport(accounts, "external_id,name,tier,arr,csm\nA1,One,low,100,U0AAA\nA2,Two,low,100,U0BBB\nA3,Three,low,100,U0BBB\nA4,Four,low,100,U0ZZZ\nA5,Five,low,100,U0ZZZ\nA6,Six,low,100,U0ZZZ\n")
	u, err := s.BusiestCSM(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.SlackID != "U0BBB" || u.Name != "Ben" {
		t.Errorf("BusiestCSM = %+v, want Ben (U0BBB): U0ZZZ has more accounts but is not a user", u)
	}
}
