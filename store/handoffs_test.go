package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// hoUsers: sales, onboarding people in New York (with a manager) and in
// Tokyo (without), and their manager.
const hoUsers = `slack_id,role,name,email,manager_slack_id,timezone
U0MGR,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0AE,sales,Alex Ae,alex@vendor.example,U0MGR,America/New_York
U0ONB,onboarding,Olga Onboard,olga@vendor.example,U0MGR,America/New_York
U0TOK,onboarding,Taro Onboard,taro@vendor.example,,Asia/Tokyo
U0CSM,csm,Sam Csm,sam@vendor.example,U0MGR,America/New_York
`

const hoAccounts = `external_id,name,tier,arr,stage,csm,ae,channel
H-CHAN,Channel Co,high,500000,adopting,U0CSM,U0AE,C0CHAN
H-QUIET,Quiet Co,low,50000,adopting,U0CSM,U0AE,
H-CHURN,Gone Co,high,1000,churned,U0CSM,U0AE,C0GONE
`

const hoContacts = `account_external_id,name,role,email,title,active
H-CHAN,Carla Champion,champion,carla@channel.example,VP Ops,true
H-QUIET,Quinn Quiet,champion,quinn@quiet.example,,true
`

// hoOnboarding is the onboarding channel of the tests.
const hoOnboarding = "C0ONBOARD"

// hoBook is the handoff fixture: a store, a connection to its database,
// the accounts by external id and the contacts by name.
type hoBook struct {
	s        *store.Store
	conn     *pgx.Conn
	accounts map[string]csbot.AccountBrief
	contacts map[string]int64
}

// newHoBook returns a store holding hoUsers, hoAccounts and hoContacts.
func newHoBook(ctx context.Context, t *testing.T) hoBook {
	t.Helper()
	s, conn := newStoreAndConn(ctx, t)
	mustImport(ctx, t, s, "users", hoUsers)
	mustImport(ctx, t, s, "accounts", hoAccounts)
	mustImport(ctx, t, s, "contacts", hoContacts)
	b := hoBook{s: s, conn: conn, accounts: dueAccounts(ctx, t, conn), contacts: map[string]int64{}}
	rows, err := conn.Query(ctx, `SELECT name, id FROM contacts`)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&name, &id}, func() error {
		b.contacts[name] = id
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// hoNote returns a valid handoff of account ext written by U0AE for owner.
func (b hoBook) hoNote(ext, owner string) csbot.Handoff {
	return csbot.Handoff{
		AccountID:       b.accounts[ext].ID,
		Author:          "U0AE",
		Owner:           owner,
		Goals:           "Cut onboarding time in half",
		SuccessCriteria: "Ten teams live by March",
		Commitments:     "SSO in the first month",
		Products:        "Platform, Analytics",
		Seats:           250,
		ContractStart:   time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		GoLive:          time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
		Risks:           "The champion is new in the role",
	}
}

// create stores h at now, with hoOnboarding unless onboarding says
// otherwise, and fails the test on error.
func (b hoBook) create(ctx context.Context, t *testing.T, h csbot.Handoff, onboarding string, now time.Time) csbot.Handoff {
	t.Helper()
	out, err := b.s.CreateHandoff(ctx, h, onboarding, now)
	if err != nil {
		t.Fatalf("CreateHandoff: %v", err)
	}
	return out
}

// hoStored is a notification row as the tests read it.
type hoStored struct {
	ID       int64
	Key      string
	Kind     string
	Account  int64
	Channel  string
	User     string
	Fallback string
	Post     csbot.HandoffPost
}

// notifications returns the notifications whose key is like pattern, in
// the order written.
func (b hoBook) notifications(ctx context.Context, t *testing.T, pattern string) []hoStored {
	t.Helper()
	rows, err := b.conn.Query(ctx, `SELECT id, dedupe_key, kind, coalesce(account_id, 0), coalesce(target_channel, ''),
		coalesce(target_user, ''), coalesce(fallback_user, ''), payload FROM notifications WHERE dedupe_key LIKE $1 ORDER BY id`, pattern)
	if err != nil {
		t.Fatal(err)
	}
	var out []hoStored
	var n hoStored
	var payload []byte
	if _, err := pgx.ForEachRow(rows, []any{&n.ID, &n.Key, &n.Kind, &n.Account, &n.Channel, &n.User, &n.Fallback, &payload}, func() error {
		n.Post = csbot.HandoffPost{}
		if err := json.Unmarshal(payload, &n.Post); err != nil {
			return err
		}
		n.Post.At = n.Post.At.UTC()
		out = append(out, n)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// ignoreIDs compares stored notifications without their ids.
var ignoreIDs = cmp.Transformer("noID", func(n hoStored) hoStored { n.ID = 0; return n })

// hoNow is when the tests' handoffs are written: Monday 2026-11-23 10:00
// UTC.
var hoNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestCreateHandoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	acc := b.accounts["H-CHAN"]
	h := b.hoNote("H-CHAN", "U0ONB")
	h.Stakeholders = []csbot.Stakeholder{
		{ContactID: b.contacts["Carla Champion"], Role: csbot.RoleExecSponsor, Name: "ignored"},
		{Role: csbot.RoleExecSponsor, Name: " Evan Exec ", Email: "evan@channel.example", Title: "CEO"},
		// The contact on file, named in other case: one contact, with the
		// title given and the email kept.
		{Role: csbot.RoleChampion, Name: "CARLA CHAMPION", Title: "COO"},
		{Role: csbot.RoleRenewal, Name: "Rita Renewal"},
	}
	got := b.create(ctx, t, h, hoOnboarding, hoNow)

	if got.ID == 0 || got.State != csbot.HandoffOpen || got.Tier != csbot.TierHigh || !got.CreatedAt.Equal(hoNow) ||
		!got.UpdatedAt.Equal(hoNow) || got.Author != "U0AE" || got.Owner != "U0ONB" || got.AccountChannel != "C0CHAN" ||
		got.OnboardingChannel != hoOnboarding || got.Seats != 250 || !got.GoLive.Equal(h.GoLive) ||
		!got.ContractStart.Equal(h.ContractStart) {
		t.Errorf("CreateHandoff = %+v; want it open, high touch (the account's), with its times, people and places", got)
	}
	var evan, rita int64
	if err := b.conn.QueryRow(ctx, `SELECT id FROM contacts WHERE account_id = $1 AND name = 'Evan Exec'
		AND role = 'exec_sponsor' AND email = 'evan@channel.example' AND title = 'CEO' AND active`, acc.ID).Scan(&evan); err != nil {
		t.Fatalf("Evan as a contact: %v", err)
	}
	if err := b.conn.QueryRow(ctx, `SELECT id FROM contacts WHERE account_id = $1 AND name = 'Rita Renewal'
		AND role = 'renewal' AND email IS NULL AND active`, acc.ID).Scan(&rita); err != nil {
		t.Fatalf("Rita as a contact: %v", err)
	}
	carla := b.contacts["Carla Champion"]
	wantPeople := []csbot.Stakeholder{
		{ContactID: carla, Role: csbot.RoleChampion, Name: "Carla Champion", Email: "carla@channel.example", Title: "COO"},
		{ContactID: evan, Role: csbot.RoleExecSponsor, Name: "Evan Exec", Email: "evan@channel.example", Title: "CEO"},
		{ContactID: carla, Role: csbot.RoleChampion, Name: "CARLA CHAMPION", Title: "COO"},
		{ContactID: rita, Role: csbot.RoleRenewal, Name: "Rita Renewal"},
	}
	if diff := cmp.Diff(wantPeople, got.Stakeholders); diff != "" {
		t.Errorf("stakeholders (-want +got):\n%s", diff)
	}
	var title, email string
	if err := b.conn.QueryRow(ctx, `SELECT title, email FROM contacts WHERE id = $1`, carla).Scan(&title, &email); err != nil {
		t.Fatal(err)
	}
	if title != "COO" || email != "carla@channel.example" {
		t.Errorf("Carla on file: title %q, email %q; want the new title and the email kept", title, email)
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM contacts WHERE account_id = $1`, acc.ID); n != 3 {
		t.Errorf("%d contacts on the account, want 3", n)
	}

	prefix := fmt.Sprintf("handoff:%d:", got.ID)
	want := []hoStored{
		{Key: prefix + "account", Kind: "handoff", Account: acc.ID, Channel: "C0CHAN", Fallback: "U0AE",
			Post: csbot.HandoffPost{Handoff: got.ID, Place: csbot.HandoffInAccount, At: hoNow}},
		{Key: prefix + "onboarding", Kind: "handoff", Account: acc.ID, Channel: hoOnboarding, Fallback: "U0AE",
			Post: csbot.HandoffPost{Handoff: got.ID, Place: csbot.HandoffInOnboarding, At: hoNow}},
	}
	if diff := cmp.Diff(want, b.notifications(ctx, t, "%"), ignoreIDs); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM river_job WHERE kind = 'csbot_deliver'`); n != 2 {
		t.Errorf("%d delivery jobs, want 2", n)
	}

	var by string
	var snap []byte
	if err := b.conn.QueryRow(ctx, `SELECT changed_by_slack_id, snapshot FROM handoff_history WHERE handoff_id = $1`,
		got.ID).Scan(&by, &snap); err != nil {
		t.Fatalf("history: %v", err)
	}
	var s struct {
		Goals        string              `json:"goals"`
		GoLive       string              `json:"go_live"`
		Stakeholders []csbot.Stakeholder `json:"stakeholders"`
	}
	if err := json.Unmarshal(snap, &s); err != nil {
		t.Fatal(err)
	}
	if by != "U0AE" || s.Goals != h.Goals || s.GoLive != "2027-02-01" || len(s.Stakeholders) != 4 || s.Stakeholders[1].ContactID != evan {
		t.Errorf("history by %s: %s; want the author and the handoff with contact ids", by, snap)
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM audit_log WHERE action = 'handoff_created' AND actor = 'U0AE'
		AND account_id = $1 AND (details ->> 'handoff')::bigint = $2`, acc.ID, got.ID); n != 1 {
		t.Errorf("%d handoff_created audit entries, want 1", n)
	}

	v, err := b.s.HandoffView(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, v.Handoff); diff != "" {
		t.Errorf("HandoffView differs from what CreateHandoff returned (-create +view):\n%s", diff)
	}
	if diff := cmp.Diff(acc, v.Account); diff != "" {
		t.Errorf("account brief (-want +got):\n%s", diff)
	}
	if v.Amendments != 0 || len(v.Missing) != 0 {
		t.Errorf("view: %d amendments, missing %v; want none", v.Amendments, v.Missing)
	}
}

// TestCreateHandoffPlaces: a handoff is posted where there are channels,
// and by DM to its owner (else its author) when there are none.
func TestCreateHandoffPlaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	for _, tc := range []struct {
		name, account, owner, onboarding string
		want                             []hoStored // keys without the "handoff:<id>:" prefix
	}{
		{"account channel only", "H-CHAN", "U0ONB", "", []hoStored{
			{Key: "account", Channel: "C0CHAN", Fallback: "U0AE", Post: csbot.HandoffPost{Place: csbot.HandoffInAccount}}}},
		{"onboarding channel only", "H-QUIET", "U0ONB", hoOnboarding, []hoStored{
			{Key: "onboarding", Channel: hoOnboarding, Fallback: "U0AE", Post: csbot.HandoffPost{Place: csbot.HandoffInOnboarding}}}},
		{"no channel: to the owner", "H-QUIET", "U0ONB", "", []hoStored{{Key: "dm", User: "U0ONB"}}},
		{"no channel, no owner: to the author", "H-QUIET", "", "", []hoStored{{Key: "dm", User: "U0AE"}}},
	} {
		h := b.create(ctx, t, b.hoNote(tc.account, tc.owner), tc.onboarding, hoNow)
		prefix := fmt.Sprintf("handoff:%d:", h.ID)
		for i := range tc.want {
			w := &tc.want[i]
			w.Key, w.Kind, w.Account = prefix+w.Key, "handoff", b.accounts[tc.account].ID
			w.Post.Handoff, w.Post.At = h.ID, hoNow
		}
		if diff := cmp.Diff(tc.want, b.notifications(ctx, t, prefix+"%"), ignoreIDs); diff != "" {
			t.Errorf("%s: notifications (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestCreateHandoffRefuses: an invalid handoff, a contact of another
// account, a stakeholder without a name and an unknown account are
// refused, and nothing is written.
func TestCreateHandoffRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	noGoals := b.hoNote("H-CHAN", "U0ONB")
	noGoals.Goals = "  "
	elsewhere := b.hoNote("H-CHAN", "U0ONB")
	elsewhere.Stakeholders = []csbot.Stakeholder{
		{Role: csbot.RoleExecSponsor, Name: "Evan Exec"},
		{ContactID: b.contacts["Quinn Quiet"]},
	}
	nameless := b.hoNote("H-CHAN", "U0ONB")
	nameless.Stakeholders = []csbot.Stakeholder{{Role: csbot.RoleChampion, Name: " "}}
	badRole := b.hoNote("H-CHAN", "U0ONB")
	badRole.Stakeholders = []csbot.Stakeholder{{Role: "cfo", Name: "Fay"}}
	noAccount := b.hoNote("H-CHAN", "U0ONB")
	noAccount.AccountID = 999999
	for _, tc := range []struct {
		name     string
		h        csbot.Handoff
		notFound bool
	}{
		{"no goals", noGoals, false},
		{"a contact of another account", elsewhere, false},
		{"a stakeholder without a name", nameless, false},
		{"a stakeholder of no known role", badRole, false},
		{"no such account", noAccount, true},
	} {
		_, err := b.s.CreateHandoff(ctx, tc.h, hoOnboarding, hoNow)
		if err == nil || errors.Is(err, csbot.ErrNotFound) != tc.notFound {
			t.Errorf("%s: CreateHandoff error %v; want an error (not found: %v)", tc.name, err, tc.notFound)
		}
	}
	for _, table := range []string{"handoffs", "handoff_history", "notifications", "audit_log"} {
		if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%d rows in %s after refusals, want 0", n, table)
		}
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM contacts`); n != 2 {
		t.Errorf("%d contacts after refusals, want the 2 imported", n)
	}
}

func TestHandoffViewNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	if _, err := b.s.HandoffView(ctx, 424242); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("HandoffView of no handoff: %v, want csbot.ErrNotFound", err)
	}
	if _, err := b.s.OpenHandoffOf(ctx, b.accounts["H-CHAN"].ID); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("OpenHandoffOf an account without handoffs: %v, want csbot.ErrNotFound", err)
	}
}

// TestHandoffViewMissing: the view lists what the note lacks.
func TestHandoffViewMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	h := b.hoNote("H-QUIET", "")
	h.Commitments, h.Seats, h.GoLive = "", 0, time.Time{}
	h.Stakeholders = []csbot.Stakeholder{{ContactID: b.contacts["Quinn Quiet"]}}
	h = b.create(ctx, t, h, hoOnboarding, hoNow)
	v, err := b.s.HandoffView(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"no exec sponsor named", "no renewal or billing contact", "no commitments written down",
		"no go-live date", "no seat count", "no onboarding owner"}
	if diff := cmp.Diff(want, v.Missing); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	if v.Handoff.Tier != csbot.TierLow || v.Handoff.Seats != 0 || !v.Handoff.GoLive.IsZero() || v.Handoff.Owner != "" {
		t.Errorf("view: %+v; want low touch, no seats, no go-live, no owner", v.Handoff)
	}
	if got, err := b.s.OpenHandoffOf(ctx, b.accounts["H-QUIET"].ID); err != nil || got.ID != h.ID {
		t.Errorf("OpenHandoffOf = %d, %v; want %d", got.ID, err, h.ID)
	}
}

func TestAmendHandoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	acc := b.accounts["H-CHAN"]
	h := b.create(ctx, t, b.hoNote("H-CHAN", ""), hoOnboarding, hoNow)
	posts := b.notifications(ctx, t, fmt.Sprintf("handoff:%d:%%", h.ID))
	if len(posts) != 2 {
		t.Fatalf("%d posts, want 2", len(posts))
	}

	amended := h
	amended.Goals = "Cut onboarding time by two thirds"
	amended.Owner = "U0ONB"
	amended.Author, amended.State = "U0SOMEONE", csbot.HandoffAcknowledged // not amendable
	amended.Stakeholders = []csbot.Stakeholder{{Role: csbot.RoleExecSponsor, Name: "Evan Exec"}}
	at := hoNow.Add(time.Hour)
	got, err := b.s.AmendHandoff(ctx, amended, "U0CSM", at)
	if err != nil {
		t.Fatalf("AmendHandoff: %v", err)
	}
	if got.Goals != amended.Goals || got.Owner != "U0ONB" || got.Author != "U0AE" || got.State != csbot.HandoffOpen ||
		!got.UpdatedAt.Equal(at) || !got.CreatedAt.Equal(hoNow) || len(got.Stakeholders) != 1 || got.Stakeholders[0].ContactID == 0 {
		t.Errorf("AmendHandoff = %+v; want the new goals, owner and stakeholder, the author and state kept", got)
	}

	rows, err := b.conn.Query(ctx, `SELECT changed_by_slack_id, snapshot ->> 'goals' FROM handoff_history
		WHERE handoff_id = $1 ORDER BY id`, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	type version struct{ By, Goals string }
	history, err := pgx.CollectRows(rows, pgx.RowToStructByPos[version])
	if err != nil {
		t.Fatal(err)
	}
	wantHistory := []version{{"U0AE", h.Goals}, {"U0CSM", amended.Goals}}
	if diff := cmp.Diff(wantHistory, history); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	nanos := at.UnixNano()
	var want []hoStored
	for _, p := range posts {
		want = append(want, hoStored{
			Key: fmt.Sprintf("handoff_update:%d:amended:%d:%d", h.ID, nanos, p.ID), Kind: "handoff_update", Account: acc.ID,
			Channel: p.Channel, User: p.User,
			Post: csbot.HandoffPost{Handoff: h.ID, Place: p.Post.Place, Notification: p.ID, Change: "amended", By: "U0CSM", At: at},
		})
	}
	if diff := cmp.Diff(want, b.notifications(ctx, t, "handoff_update:%"), ignoreIDs); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
	// The new owner gets it by DM.
	if dm := b.notifications(ctx, t, fmt.Sprintf("handoff:%d:owner:%%", h.ID)); len(dm) != 1 || dm[0].User != "U0ONB" || dm[0].Kind != "handoff" {
		t.Errorf("owner DMs: %+v; want one to U0ONB", dm)
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM audit_log WHERE action = 'handoff_amended' AND actor = 'U0CSM'
		AND details -> 'changed' = '["owner", "goals", "stakeholders"]'::jsonb`); n != 1 {
		t.Errorf("%d handoff_amended audit entries naming the changes, want 1", n)
	}

	// A second amendment adds a version and updates every post again,
	// the owner's DM included.
	amended.Risks = "None left"
	if _, err := b.s.AmendHandoff(ctx, amended, "U0CSM", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	v, err := b.s.HandoffView(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Amendments != 2 || v.Handoff.Risks != "None left" {
		t.Errorf("view after two amendments: %d amendments, risks %q", v.Amendments, v.Handoff.Risks)
	}
	if n := len(b.notifications(ctx, t, "handoff_update:%")); n != 2+3 {
		t.Errorf("%d updates after two amendments, want 5", n)
	}

	bad := amended
	bad.Products = ""
	if _, err := b.s.AmendHandoff(ctx, bad, "U0CSM", at.Add(2*time.Minute)); err == nil {
		t.Error("AmendHandoff without products: no error")
	}
	bad = amended
	bad.ID = 424242
	if _, err := b.s.AmendHandoff(ctx, bad, "U0CSM", at.Add(2*time.Minute)); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("AmendHandoff of no handoff: %v, want csbot.ErrNotFound", err)
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM handoff_history WHERE handoff_id = $1`, h.ID); n != 3 {
		t.Errorf("%d versions after refused amendments, want 3", n)
	}
}

func TestAckHandoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	acc := b.accounts["H-CHAN"]
	h := b.create(ctx, t, b.hoNote("H-CHAN", "U0ONB"), hoOnboarding, hoNow)
	posts := b.notifications(ctx, t, fmt.Sprintf("handoff:%d:%%", h.ID))

	at := hoNow.Add(2 * time.Hour)
	got, ok, err := b.s.AckHandoff(ctx, h.ID, "U0ONB", at)
	if err != nil || !ok {
		t.Fatalf("AckHandoff = %v, %v; want true", ok, err)
	}
	if got.State != csbot.HandoffAcknowledged || got.AckedBy != "U0ONB" || !got.AckedAt.Equal(at) || !got.UpdatedAt.Equal(at) {
		t.Errorf("acknowledged handoff: %+v", got)
	}
	var stage string
	if err := b.conn.QueryRow(ctx, `SELECT stage FROM accounts WHERE id = $1`, acc.ID).Scan(&stage); err != nil {
		t.Fatal(err)
	}
	if stage != string(csbot.StageOnboarding) {
		t.Errorf("account stage %s, want onboarding", stage)
	}
	var want []hoStored
	for _, p := range posts {
		want = append(want, hoStored{
			Key: fmt.Sprintf("handoff_update:%d:acknowledged:%d", h.ID, p.ID), Kind: "handoff_update", Account: acc.ID,
			Channel: p.Channel,
			Post:    csbot.HandoffPost{Handoff: h.ID, Place: p.Post.Place, Notification: p.ID, Change: "acknowledged", By: "U0ONB", At: at},
		})
	}
	want = append(want, hoStored{Key: fmt.Sprintf("handoff_acked:%d", h.ID), Kind: "handoff_acked", Account: acc.ID, User: "U0AE",
		Post: csbot.HandoffPost{Handoff: h.ID, Change: "acknowledged", By: "U0ONB", At: at}})
	written := b.notifications(ctx, t, `handoff\_%`)
	if diff := cmp.Diff(want, written, ignoreIDs); diff != "" {
		t.Errorf("notifications of the acknowledgement (-want +got):\n%s", diff)
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM audit_log WHERE action = 'handoff_acknowledged' AND actor = 'U0ONB'`); n != 1 {
		t.Errorf("%d handoff_acknowledged audit entries, want 1", n)
	}

	// A second acknowledgement changes nothing and says who came first.
	again, ok, err := b.s.AckHandoff(ctx, h.ID, "U0TOK", at.Add(time.Hour))
	if err != nil || ok {
		t.Fatalf("second AckHandoff = %v, %v; want false", ok, err)
	}
	if again.AckedBy != "U0ONB" || !again.AckedAt.Equal(at) {
		t.Errorf("second AckHandoff returned acked by %s at %v; want U0ONB at %v", again.AckedBy, again.AckedAt, at)
	}
	if n := len(b.notifications(ctx, t, "%")); n != len(posts)+len(written) {
		t.Errorf("%d notifications after a second acknowledgement, want %d", n, len(posts)+len(written))
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM audit_log WHERE action = 'handoff_acknowledged'`); n != 1 {
		t.Errorf("%d handoff_acknowledged audit entries after a second acknowledgement, want 1", n)
	}
	if _, _, err := b.s.AckHandoff(ctx, 424242, "U0ONB", at); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("AckHandoff of no handoff: %v, want csbot.ErrNotFound", err)
	}
	if _, err := b.s.OpenHandoffOf(ctx, acc.ID); err != nil {
		t.Errorf("OpenHandoffOf an account with an acknowledged handoff: %v", err)
	}
}

// TestAckHandoffChurnedUnowned: a churned account stays churned, and who
// acknowledges a handoff without owner becomes its owner.
func TestAckHandoffChurnedUnowned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	h := b.create(ctx, t, b.hoNote("H-CHURN", ""), "", hoNow)
	got, ok, err := b.s.AckHandoff(ctx, h.ID, "U0TOK", hoNow.Add(time.Hour))
	if err != nil || !ok {
		t.Fatalf("AckHandoff = %v, %v", ok, err)
	}
	if got.Owner != "U0TOK" {
		t.Errorf("owner %q, want who acknowledged it", got.Owner)
	}
	var stage string
	if err := b.conn.QueryRow(ctx, `SELECT stage FROM accounts WHERE id = $1`, h.AccountID).Scan(&stage); err != nil {
		t.Fatal(err)
	}
	if stage != string(csbot.StageChurned) {
		t.Errorf("account stage %s, want churned", stage)
	}
}

// TestAckHandoffConcurrent: of two people acknowledging at once, one wins
// and the other is told who did.
func TestAckHandoffConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	h := b.create(ctx, t, b.hoNote("H-CHAN", ""), hoOnboarding, hoNow)
	people := []string{"U0ONB", "U0TOK"}
	got := make([]csbot.Handoff, len(people))
	oks := make([]bool, len(people))
	errs := make([]error, len(people))

	// Hold the handoff until both acknowledgements wait for it, so that
	// they do run at once.
	hold, err := b.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx) //nolint:errcheck // a no-op once rolled back
	dueExecTx(ctx, t, hold, `SELECT 1 FROM handoffs WHERE id = $1 FOR UPDATE`, h.ID)
	var wg sync.WaitGroup
	for i, p := range people {
		wg.Go(func() {
			got[i], oks[i], errs[i] = b.s.AckHandoff(ctx, h.ID, p, hoNow.Add(time.Duration(i+1)*time.Minute))
		})
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for waiting := 0; waiting < len(people); {
		// Activity is read once per transaction unless cleared.
		dueExecTx(waitCtx, t, hold, `SELECT pg_stat_clear_snapshot()`)
		if err := hold.QueryRow(waitCtx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatalf("waiting for both acknowledgements to wait: %v", err)
		}
	}
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	winner := -1
	for i := range people {
		if errs[i] != nil {
			t.Fatalf("%s: %v", people[i], errs[i])
		}
		if oks[i] {
			if winner >= 0 {
				t.Fatalf("both acknowledged it")
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("nobody acknowledged it")
	}
	for i := range people {
		if got[i].AckedBy != people[winner] || got[i].State != csbot.HandoffAcknowledged {
			t.Errorf("%s was told it was acknowledged by %q (%s), want %s", people[i], got[i].AckedBy, got[i].State, people[winner])
		}
	}
	if n := len(b.notifications(ctx, t, "handoff_acked:%")); n != 1 {
		t.Errorf("%d DMs to the author, want 1", n)
	}
	if n := len(b.notifications(ctx, t, "handoff_update:%")); n != 2 {
		t.Errorf("%d updates, want one per post", n)
	}
}

func TestReassignHandoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	acc := b.accounts["H-CHAN"]
	h := b.create(ctx, t, b.hoNote("H-CHAN", "U0ONB"), hoOnboarding, hoNow)
	posts := b.notifications(ctx, t, fmt.Sprintf("handoff:%d:%%", h.ID))

	at := hoNow.Add(time.Hour)
	got, err := b.s.ReassignHandoff(ctx, h.ID, "U0TOK", "U0MGR", at)
	if err != nil {
		t.Fatalf("ReassignHandoff: %v", err)
	}
	if got.Owner != "U0TOK" || got.State != csbot.HandoffOpen || !got.UpdatedAt.Equal(at) {
		t.Errorf("reassigned handoff: %+v", got)
	}
	var want []hoStored
	for _, p := range posts {
		want = append(want, hoStored{
			Key: fmt.Sprintf("handoff_update:%d:reassigned:%d:%d", h.ID, at.UnixNano(), p.ID), Kind: "handoff_update",
			Account: acc.ID, Channel: p.Channel,
			Post: csbot.HandoffPost{Handoff: h.ID, Place: p.Post.Place, Notification: p.ID, Change: "reassigned", By: "U0MGR", At: at},
		})
	}
	want = append(want, hoStored{Key: fmt.Sprintf("handoff:%d:owner:U0TOK", h.ID), Kind: "handoff", Account: acc.ID,
		User: "U0TOK", Post: csbot.HandoffPost{Handoff: h.ID, At: at}})
	if diff := cmp.Diff(want, b.notifications(ctx, t, "%")[len(posts):], ignoreIDs); diff != "" {
		t.Errorf("notifications of the reassignment (-want +got):\n%s", diff)
	}
	if n := dueInt(ctx, t, b.conn, `SELECT count(*) FROM audit_log WHERE action = 'handoff_reassigned' AND actor = 'U0MGR'
		AND details ->> 'from' = 'U0ONB' AND details ->> 'to' = 'U0TOK'`); n != 1 {
		t.Errorf("%d handoff_reassigned audit entries, want 1", n)
	}

	// To the same owner: nothing written.
	total := len(b.notifications(ctx, t, "%"))
	if _, err := b.s.ReassignHandoff(ctx, h.ID, "U0TOK", "U0MGR", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := len(b.notifications(ctx, t, "%")); n != total {
		t.Errorf("%d notifications after reassigning to the same owner, want %d", n, total)
	}
	// Back and forth: every post, the first owner DM included, is updated;
	// each owner is handed it by DM once.
	if _, err := b.s.ReassignHandoff(ctx, h.ID, "U0ONB", "U0MGR", at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.ReassignHandoff(ctx, h.ID, "U0TOK", "U0MGR", at.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := len(b.notifications(ctx, t, fmt.Sprintf("handoff:%d:owner:%%", h.ID))); n != 2 {
		t.Errorf("%d owner DMs, want 2 (one per owner)", n)
	}
	updates := b.notifications(ctx, t, fmt.Sprintf("handoff_update:%d:reassigned:%d:%%", h.ID, at.Add(3*time.Minute).UnixNano()))
	if len(updates) != 4 {
		t.Errorf("the last reassignment wrote %d updates, want 4 (two channels, two owner DMs)", len(updates))
	}
	if _, err := b.s.ReassignHandoff(ctx, 424242, "U0TOK", "U0MGR", at); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("ReassignHandoff of no handoff: %v, want csbot.ErrNotFound", err)
	}
}

// TestReassignHandoffAfterFallback: a post its channel refused is not
// updated; the DM made from it is, at the DM's target.
func TestReassignHandoffAfterFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	h := b.create(ctx, t, b.hoNote("H-CHAN", "U0ONB"), "", hoNow)
	key := fmt.Sprintf("handoff:%d:account", h.ID)
	dueExec(ctx, t, b.conn, `UPDATE notifications SET state = 'failed' WHERE dedupe_key = $1`, key)
	var dm int64
	if err := b.conn.QueryRow(ctx, `INSERT INTO notifications (dedupe_key, kind, account_id, target_user, payload, state)
		SELECT dedupe_key || '/dm', kind, account_id, fallback_user, payload, 'sent' FROM notifications WHERE dedupe_key = $1
		RETURNING id`, key).Scan(&dm); err != nil {
		t.Fatal(err)
	}
	at := hoNow.Add(time.Hour)
	if _, err := b.s.ReassignHandoff(ctx, h.ID, "U0TOK", "U0MGR", at); err != nil {
		t.Fatal(err)
	}
	want := []hoStored{{Key: fmt.Sprintf("handoff_update:%d:reassigned:%d:%d", h.ID, at.UnixNano(), dm), Kind: "handoff_update",
		Account: h.AccountID, User: "U0AE",
		Post: csbot.HandoffPost{Handoff: h.ID, Place: csbot.HandoffInAccount, Notification: dm, Change: "reassigned", By: "U0MGR", At: at}}}
	if diff := cmp.Diff(want, b.notifications(ctx, t, "handoff_update:%"), ignoreIDs); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
}

func TestHandoffsFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHoBook(ctx, t)
	ids := map[string]int64{}
	for i, n := range []struct{ name, account, owner, author string }{
		{"oldest", "H-CHAN", "U0ONB", "U0AE"},
		{"quiet", "H-QUIET", "", "U0AE"},
		{"csm", "H-QUIET", "U0TOK", "U0CSM"},
		{"newest", "H-CHAN", "U0ONB", "U0CSM"},
	} {
		h := b.hoNote(n.account, n.owner)
		h.Author = n.author
		ids[n.name] = b.create(ctx, t, h, hoOnboarding, hoNow.Add(time.Duration(i)*time.Hour)).ID
	}
	if _, ok, err := b.s.AckHandoff(ctx, ids["quiet"], "U0ONB", hoNow.Add(5*time.Hour)); err != nil || !ok {
		t.Fatalf("AckHandoff: %v, %v", ok, err)
	}
	name := map[int64]string{}
	for n, id := range ids {
		name[id] = n
	}
	for _, tc := range []struct {
		f    csbot.HandoffFilter
		want []string
	}{
		{csbot.HandoffFilter{}, []string{"newest", "csm", "quiet", "oldest"}},
		{csbot.HandoffFilter{States: []csbot.HandoffState{csbot.HandoffOpen}}, []string{"newest", "csm", "oldest"}},
		{csbot.HandoffFilter{States: []csbot.HandoffState{csbot.HandoffAcknowledged, csbot.HandoffClosed}}, []string{"quiet"}},
		{csbot.HandoffFilter{Owner: "U0ONB"}, []string{"newest", "quiet", "oldest"}},
		{csbot.HandoffFilter{Author: "U0CSM"}, []string{"newest", "csm"}},
		{csbot.HandoffFilter{Owner: "U0ONB", Author: "U0AE", States: []csbot.HandoffState{csbot.HandoffOpen}}, []string{"oldest"}},
		{csbot.HandoffFilter{Limit: 2}, []string{"newest", "csm"}},
		{csbot.HandoffFilter{Owner: "U0NOBODY"}, nil},
	} {
		vs, err := b.s.Handoffs(ctx, tc.f)
		if err != nil {
			t.Fatalf("Handoffs(%+v): %v", tc.f, err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, name[v.Handoff.ID])
			if v.Account.ID != v.Handoff.AccountID || v.Account.Name == "" || len(v.Missing) == 0 {
				t.Errorf("Handoffs(%+v): view %+v lacks its account or what it misses", tc.f, v)
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Handoffs(%+v) (-want +got):\n%s", tc.f, diff)
		}
	}
	if got, err := b.s.OpenHandoffOf(ctx, b.accounts["H-QUIET"].ID); err != nil || got.ID != ids["csm"] {
		t.Errorf("OpenHandoffOf(Quiet Co) = %d, %v; want the latest (%d)", got.ID, err, ids["csm"])
	}
	vs, err := b.s.Handoffs(ctx, csbot.HandoffFilter{Owner: "U0ONB", Limit: 1})
	if err != nil || len(vs) != 1 || !strings.Contains(vs[0].Account.Name, "Channel") || vs[0].Handoff.CreatedAt.IsZero() {
		t.Errorf("Handoffs by owner, limit 1: %+v, %v", vs, err)
	}
}

// dueExecTx runs a statement in tx or fails the test.
func dueExecTx(ctx context.Context, t *testing.T, tx pgx.Tx, q string, args ...any) {
	t.Helper()
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
