package store_test

import (
	"context"
	"testing"

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
