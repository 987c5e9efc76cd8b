package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

func TestAccountsWithAndWithoutChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "accounts", "external_id,name,tier,arr,channel,stage\n"+
		"A-1,beta,low,1000,C0BETA,adopting\nA-2,Alpha,low,1000,,adopting\nA-3,Gone,low,1000,,churned\nA-4,Zeta,high,1000,C0AAAA,renewing\nA-5,Delta,low,1000,,onboarding\n")
	without, err := s.AccountsWithoutChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A-2", "A-5"}, channelIDs(without)); diff != "" {
		t.Errorf("AccountsWithoutChannel (-want +got):\n%s", diff)
	}
	with, err := s.AccountsWithChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A-4", "A-1"}, channelIDs(with)); diff != "" {
		t.Errorf("AccountsWithChannel (-want +got):\n%s", diff)
	}
}

func TestSetupGaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", "slack_id,role,name,timezone\nU0CSM1,csm,Dana,Europe/Berlin\nU0CSM2,csm,Fox,\nU0SALES,sales,Sam,\n")
	mustImport(ctx, t, s, "accounts", "external_id,name,tier,arr,csm,stage\n"+
		"A-1,Acme,high,9000,U0CSM1,adopting\nA-2,Globex,low,5000,,adopting\nA-3,Initech,low,7000,,adopting\nA-4,Gone,low,1000,,churned\n")
	mustImport(ctx, t, s, "contacts", "account_external_id,name,role,active\nA-1,Road Runner,renewal,true\nA-2,Old Contact,renewal,false\n")
	g, err := s.SetupGaps(ctx, 1)
	if err != nil {
		t.Fatalf("SetupGaps: %v", err)
	}
	if g.UsersWithoutTimezoneTotal != 2 || len(g.UsersWithoutTimezone) != 1 || g.UsersWithoutTimezone[0].SlackID != "U0CSM2" {
		t.Errorf("users without a time zone = %+v (total %d), want U0CSM2 first of 2", g.UsersWithoutTimezone, g.UsersWithoutTimezoneTotal)
	}
	if g.AccountsWithoutCSMTotal != 2 || len(g.AccountsWithoutCSM) != 1 || g.AccountsWithoutCSM[0].ExternalID != "A-3" {
		t.Errorf("accounts without a CSM = %v (total %d), want A-3 first of 2", channelIDs(g.AccountsWithoutCSM), g.AccountsWithoutCSMTotal)
	}
	if g.AccountsWithoutRenewalContactTotal != 2 || g.AccountsWithoutRenewalContact[0].ExternalID != "A-3" {
		t.Errorf("accounts without a renewal contact = %v (total %d), want A-3 first of 2 (A-2's contact is inactive)",
			channelIDs(g.AccountsWithoutRenewalContact), g.AccountsWithoutRenewalContactTotal)
	}
}

func TestLinkNewChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "accounts", channelAccounts+"C-5,Delta,low,1000,\n")
	id := map[string]int64{}
	for _, ext := range []string{"C-3", "C-4", "C-5"} {
		a, err := s.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		id[ext] = a.ID
	}
	channelOf := func(ext string) string {
		t.Helper()
		a, err := s.AccountByExternalID(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		return a.SlackChannelID
	}

	// Gamma has no channel and nobody has C0GAMMA: linked, as LinkChannel
	// records it.
	linked, err := s.LinkNewChannel(ctx, id["C-4"], "C0GAMMA", csbot.AuditActorCLI)
	if err != nil || !linked {
		t.Fatalf("LinkNewChannel(Gamma, C0GAMMA) = %v, %v; want linked", linked, err)
	}
	if got := channelOf("C-4"); got != "C0GAMMA" {
		t.Errorf("Gamma's channel = %q, want C0GAMMA", got)
	}
	audit := channelAudit(ctx, t, conn)
	if len(audit) != 1 {
		t.Fatalf("audit rows = %+v, want 1", audit)
	}
	if a := audit[0]; a.Actor != csbot.AuditActorCLI || a.AccountID != id["C-4"] || a.Details.Channel != "C0GAMMA" ||
		a.Details.Previous != "" || a.Details.Unlinked == nil || len(a.Details.Unlinked) != 0 {
		t.Errorf("audit row = %+v, want the CLI linking C0GAMMA to Gamma, nothing unlinked", a)
	}

	// An account with a channel keeps it: Beta was linked meanwhile.
	if linked, err := s.LinkNewChannel(ctx, id["C-3"], "C0NEWBETA", "U0CSM1"); err != nil || linked {
		t.Errorf("LinkNewChannel(Beta, which has C0BETA) = %v, %v; want not linked", linked, err)
	}
	if got := channelOf("C-3"); got != "C0BETA" {
		t.Errorf("Beta's channel = %q, want C0BETA kept", got)
	}
	// Nor is a channel taken from the account that has it.
	if linked, err := s.LinkNewChannel(ctx, id["C-5"], "C0GAMMA", "U0CSM1"); err != nil || linked {
		t.Errorf("LinkNewChannel(Delta, Gamma's C0GAMMA) = %v, %v; want not linked", linked, err)
	}
	if got, _ := s.AccountsByChannel(ctx, "C0GAMMA"); !cmp.Equal(channelIDs(got), []string{"C-4"}) {
		t.Errorf("C0GAMMA's accounts = %v, want Gamma alone", channelIDs(got))
	}
	if got := channelOf("C-5"); got != "" {
		t.Errorf("Delta's channel = %q, want none", got)
	}
	// Linking Gamma again to its own channel is no new link either.
	if linked, err := s.LinkNewChannel(ctx, id["C-4"], "C0GAMMA", "U0CSM1"); err != nil || linked {
		t.Errorf("LinkNewChannel(Gamma, C0GAMMA) again = %v, %v; want not linked", linked, err)
	}
	if audit := channelAudit(ctx, t, conn); len(audit) != 1 {
		t.Errorf("after links refused, %d audit rows, want 1", len(audit))
	}

	if _, err := s.LinkNewChannel(ctx, id["C-5"]+100, "C0NOONE", "U0CSM1"); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("LinkNewChannel(missing account) error = %v, want csbot.ErrNotFound", err)
	}
	for _, bad := range []string{"", "general", "#general"} {
		if _, err := s.LinkNewChannel(ctx, id["C-5"], bad, "U0CSM1"); err == nil {
			t.Errorf("LinkNewChannel(%q) succeeded, want an error", bad)
		}
	}
}

func TestLinkNewChannelConcurrently(t *testing.T) {
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
	race := func(link func(i int) (bool, error)) int64 {
		var wg sync.WaitGroup
		var won atomic.Int64
		for i := range n {
			wg.Go(func() {
				linked, err := link(i)
				if err != nil {
					t.Errorf("LinkNewChannel %d: %v", i, err)
				}
				if linked {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		return won.Load()
	}

	// Two clicks (or syncs) at once for one account: one channel wins.
	if won := race(func(i int) (bool, error) {
		return s.LinkNewChannel(ctx, ids[0], fmt.Sprintf("C0CLICK%d", i), "U0CSM1")
	}); won != 1 {
		t.Errorf("%d of %d links of one account succeeded, want 1", won, n)
	}
	a, err := s.AccountByID(ctx, ids[0])
	if err != nil || !strings.HasPrefix(a.SlackChannelID, "C0CLICK") {
		t.Errorf("R-0's channel = %q, %v; want one of the clicks'", a.SlackChannelID, err)
	}
	// One channel for the other accounts at once: one account wins.
	if won := race(func(i int) (bool, error) {
		if i == 0 {
			return false, nil
		}
		return s.LinkNewChannel(ctx, ids[i], "C0RACE", "U0CSM1")
	}); won != 1 {
		t.Errorf("%d of %d links of one channel succeeded, want 1", won, n-1)
	}
	if got, err := s.AccountsByChannel(ctx, "C0RACE"); err != nil || len(got) != 1 {
		t.Errorf("C0RACE's accounts = %v, %v; want one", channelIDs(got), err)
	}
	if audit := channelAudit(ctx, t, conn); len(audit) != 2 {
		t.Errorf("%d audit rows, want one per link made: 2", len(audit))
	}
}
