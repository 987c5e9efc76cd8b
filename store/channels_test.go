package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// newStoreAndConn returns a store on a fresh database and a connection of
// its own to the same database, to look behind the store's back.
func newStoreAndConn(ctx context.Context, t *testing.T) (*store.Store, *pgx.Conn) {
	t.Helper()
	url := pgtest.NewDatabase(ctx, t)
	s, err := store.Open(ctx, url, nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(s.Close)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.WithoutCancel(ctx)) })
	return s, conn
}

const channelAccounts = `external_id,name,tier,arr,channel
C-1,Zeta Shared,low,1000,C0SHARED
C-2,alpha Shared,low,1000,C0SHARED
C-3,Beta,low,1000,C0BETA
C-4,Gamma,low,1000,
`

// channelIDs returns the external ids of accounts.
func channelIDs(accounts []csbot.Account) []string {
	var out []string
	for _, a := range accounts {
		out = append(out, a.ExternalID)
	}
	return out
}

// auditRow is an audit_log row of channel_linked.
type auditRow struct {
	Actor     string
	AccountID int64
	Details   struct {
		Channel  string  `json:"channel"`
		Previous string  `json:"previous_channel"`
		Unlinked []int64 `json:"unlinked_account_ids"`
	}
}

func channelAudit(ctx context.Context, t *testing.T, conn *pgx.Conn) []auditRow {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT actor, account_id, details FROM audit_log WHERE action = 'channel_linked' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []auditRow
	var r auditRow
	var details []byte
	_, err = pgx.ForEachRow(rows, []any{&r.Actor, &r.AccountID, &details}, func() error {
		r.Details.Unlinked = nil
		if err := json.Unmarshal(details, &r.Details); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAccountsByChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "accounts", channelAccounts)
	for _, tt := range []struct {
		channel string
		want    []string
	}{
		{"C0SHARED", []string{"C-2", "C-1"}},
		{"C0BETA", []string{"C-3"}},
		{"C0NONE", nil},
		{"", nil},
	} {
		got, err := s.AccountsByChannel(ctx, tt.channel)
		if err != nil {
			t.Errorf("AccountsByChannel(%q): %v", tt.channel, err)
			continue
		}
		if diff := cmp.Diff(tt.want, channelIDs(got)); diff != "" {
			t.Errorf("AccountsByChannel(%q) (-want +got):\n%s", tt.channel, diff)
		}
	}
	got, err := s.AccountsByChannel(ctx, "C0BETA")
	if err != nil || len(got) != 1 || got[0].Name != "Beta" || got[0].SlackChannelID != "C0BETA" || got[0].ID == 0 {
		t.Errorf("AccountsByChannel(C0BETA) = %+v, %v; want the whole account Beta", got, err)
	}
}

func TestLinkChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "accounts", channelAccounts)
	id := map[string]int64{}
	for _, ext := range []string{"C-1", "C-2", "C-3", "C-4"} {
		a, err := s.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		id[ext] = a.ID
	}

	// Beta moves to the shared channel, which leaves Zeta and alpha.
	unlinked, err := s.LinkChannel(ctx, id["C-3"], "C0SHARED", "U0CSM1")
	if err != nil {
		t.Fatalf("LinkChannel: %v", err)
	}
	if diff := cmp.Diff([]string{"C-2", "C-1"}, channelIDs(unlinked)); diff != "" {
		t.Errorf("LinkChannel unlinked (-want +got):\n%s", diff)
	}
	for _, a := range unlinked {
		if a.SlackChannelID != "" || a.Name == "" {
			t.Errorf("unlinked account %+v, want it whole and without a channel", a)
		}
	}
	got, err := s.AccountsByChannel(ctx, "C0SHARED")
	if err != nil || !cmp.Equal(channelIDs(got), []string{"C-3"}) {
		t.Errorf("after linking, AccountsByChannel(C0SHARED) = %v, %v; want C-3 alone", channelIDs(got), err)
	}
	if got, _ := s.AccountsByChannel(ctx, "C0BETA"); len(got) != 0 {
		t.Errorf("after linking, C0BETA still has %v", channelIDs(got))
	}
	audit := channelAudit(ctx, t, conn)
	if len(audit) != 1 {
		t.Fatalf("audit rows = %+v, want 1", audit)
	}
	if a := audit[0]; a.Actor != "U0CSM1" || a.AccountID != id["C-3"] || a.Details.Channel != "C0SHARED" || a.Details.Previous != "C0BETA" ||
		!cmp.Equal(a.Details.Unlinked, []int64{id["C-2"], id["C-1"]}) {
		t.Errorf("audit row = %+v, want U0CSM1 linking C0SHARED to C-3 from C0BETA, unlinking C-2 and C-1", a)
	}

	// Linking again changes nothing but is recorded.
	unlinked, err = s.LinkChannel(ctx, id["C-3"], "C0SHARED", "U0CSM2")
	if err != nil || len(unlinked) != 0 {
		t.Errorf("LinkChannel again = %v, %v; want nothing unlinked", channelIDs(unlinked), err)
	}
	if audit := channelAudit(ctx, t, conn); len(audit) != 2 || audit[1].Details.Unlinked == nil || len(audit[1].Details.Unlinked) != 0 {
		t.Errorf("audit rows = %+v, want a second one with no account unlinked", audit)
	}

	// A missing account: an error, and nothing changes.
	_, err = s.LinkChannel(ctx, id["C-4"]+100, "C0SHARED", "U0CSM1")
	if !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("LinkChannel(missing account) error = %v, want csbot.ErrNotFound", err)
	}
	if got, _ := s.AccountsByChannel(ctx, "C0SHARED"); !cmp.Equal(channelIDs(got), []string{"C-3"}) {
		t.Errorf("after a failed link, C0SHARED has %v, want C-3", channelIDs(got))
	}
	if audit := channelAudit(ctx, t, conn); len(audit) != 2 {
		t.Errorf("after a failed link, %d audit rows, want 2", len(audit))
	}
	for _, bad := range []string{"", "general", "#general", "c0lower"} {
		if _, err := s.LinkChannel(ctx, id["C-4"], bad, "U0CSM1"); err == nil {
			t.Errorf("LinkChannel(%q) succeeded, want an error", bad)
		}
	}
}

func TestLinkChannelConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	const n = 8
	var csv strings.Builder
	csv.WriteString("external_id,name,tier,arr\n")
	for i := range n {
		fmt.Fprintf(&csv, "R-%d,Racer %d,low,1000\n", i, i)
	}
	mustImport(ctx, t, s, "accounts", csv.String())
	ids := make([]int64, n)
	for i := range n {
		a, err := s.AccountByExternalID(ctx, fmt.Sprintf("R-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	unlinked := make([]int, n)
	for i := range n {
		wg.Go(func() {
			u, err := s.LinkChannel(ctx, ids[i], "C0RACE", "U0CSM1")
			errs[i], unlinked[i] = err, len(u)
		})
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("LinkChannel %d: %v", i, err)
		}
		total += unlinked[i]
	}
	got, err := s.AccountsByChannel(ctx, "C0RACE")
	if err != nil || len(got) != 1 {
		t.Errorf("after %d concurrent links, AccountsByChannel(C0RACE) = %v, %v; want one account", n, channelIDs(got), err)
	}
	// Each link but the first unlinked exactly the one before it.
	if total != n-1 {
		t.Errorf("concurrent links unlinked %d accounts in all, want %d", total, n-1)
	}
	if audit := channelAudit(ctx, t, conn); len(audit) != n {
		t.Errorf("%d audit rows, want %d", len(audit), n)
	}
}

func TestMoveChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(ctx, t)
	mustImport(ctx, t, s, "accounts", channelAccounts)
	n, err := s.MoveChannel(ctx, "C0SHARED", "C0NEWID")
	if err != nil || n != 2 {
		t.Fatalf("MoveChannel = %d, %v; want 2 accounts moved", n, err)
	}
	if got, _ := s.AccountsByChannel(ctx, "C0NEWID"); !cmp.Equal(channelIDs(got), []string{"C-2", "C-1"}) {
		t.Errorf("after the move, C0NEWID has %v, want C-2 and C-1", channelIDs(got))
	}
	if got, _ := s.AccountsByChannel(ctx, "C0SHARED"); len(got) != 0 {
		t.Errorf("after the move, C0SHARED still has %v", channelIDs(got))
	}
	if got, _ := s.AccountsByChannel(ctx, "C0BETA"); !cmp.Equal(channelIDs(got), []string{"C-3"}) {
		t.Errorf("the move changed C0BETA: %v", channelIDs(got))
	}
	for _, tt := range []struct{ from, to string }{{"C0NONE", "C0OTHER"}, {"C0BETA", "C0BETA"}} {
		if n, err := s.MoveChannel(ctx, tt.from, tt.to); err != nil || n != 0 {
			t.Errorf("MoveChannel(%s, %s) = %d, %v; want nothing moved", tt.from, tt.to, n, err)
		}
	}
	if _, err := s.MoveChannel(ctx, "C0BETA", ""); err == nil {
		t.Error("MoveChannel to an empty id succeeded, want an error")
	}
}
