package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// prefsNow is the store's clock in the preference tests.
func prefsNow() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

// newPrefsStore returns a store on a fresh database with two users, its
// clock at prefsNow, and a connection of its own to look behind the
// store's back.
func newPrefsStore(ctx context.Context, t *testing.T) (*store.Store, *pgx.Conn) {
	t.Helper()
	url := pgtest.NewDatabase(ctx, t)
	s, err := store.Open(ctx, url, nil, store.WithClock(prefsNow))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(s.Close)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.WithoutCancel(ctx)) })
	users, err := csbot.LookupImportKind("users")
	if err != nil {
		t.Fatal(err)
	}
	csv := "slack_id,role,name,email\nU0AAA,csm,Ana,ana@vendor.example\nU0BBB,manager,Ben,ben@vendor.example\n"
	if _, err := s.Import(ctx, users, strings.NewReader(csv)); err != nil {
		t.Fatalf("import users: %v", err)
	}
	return s, conn
}

// prefsAudit is a notify_prefs_changed row of the audit log.
type prefsAudit struct {
	Actor   string
	At      time.Time
	Details struct {
		Alerts   map[csbot.SignalKind]csbot.Route `json:"alerts"`
		Previous map[csbot.SignalKind]csbot.Route `json:"previous"`
	}
}

// prefsAudits returns the notify_prefs_changed rows of the audit log, in
// order.
func prefsAudits(ctx context.Context, t *testing.T, conn *pgx.Conn) []prefsAudit {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT actor, at, details FROM audit_log WHERE action = 'notify_prefs_changed' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []prefsAudit
	var r prefsAudit
	var details []byte
	_, err = pgx.ForEachRow(rows, []any{&r.Actor, &r.At, &details}, func() error {
		r.Details.Alerts, r.Details.Previous = nil, nil
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

// storedPrefs returns the user's notify_prefs as stored.
func storedPrefs(ctx context.Context, t *testing.T, conn *pgx.Conn, slackID string) map[string]any {
	t.Helper()
	var raw []byte
	if err := conn.QueryRow(ctx, `SELECT notify_prefs FROM users WHERE slack_id = $1`, slackID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("notify_prefs of %s = %s: %v", slackID, raw, err)
	}
	return out
}

func TestNotifyPrefsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newPrefsStore(ctx, t)

	got, err := s.NotifyPrefs(ctx, "U0AAA")
	if err != nil {
		t.Fatalf("NotifyPrefs before any choice: %v", err)
	}
	if len(got.Alerts) != 0 {
		t.Errorf("NotifyPrefs before any choice = %+v, want none", got)
	}

	set := csbot.NotifyPrefs{Alerts: map[csbot.SignalKind]csbot.Route{
		csbot.SignalUsageDrop:   csbot.RouteDM,
		csbot.SignalNoTouch:     csbot.RouteOff,
		csbot.SignalDetractor:   csbot.RouteChannel, // the default: stored as given
		csbot.SignalTicketSpike: "loud",             // not a route
		"weather":               csbot.RouteDigest,  // not a kind
	}}
	if err := s.SetNotifyPrefs(ctx, "U0AAA", set); err != nil {
		t.Fatalf("SetNotifyPrefs: %v", err)
	}
	want := map[csbot.SignalKind]csbot.Route{
		csbot.SignalUsageDrop: csbot.RouteDM, csbot.SignalNoTouch: csbot.RouteOff, csbot.SignalDetractor: csbot.RouteChannel,
	}
	got, err = s.NotifyPrefs(ctx, "U0AAA")
	if err != nil {
		t.Fatalf("NotifyPrefs: %v", err)
	}
	if diff := cmp.Diff(want, got.Alerts); diff != "" {
		t.Errorf("NotifyPrefs after SetNotifyPrefs (-want +got):\n%s", diff)
	}
	if r := got.Route(csbot.SignalUsageDrop, csbot.DefaultPolicy()); r != csbot.RouteDM {
		t.Errorf("route of usage_drop = %q, want dm", r)
	}
	if other, err := s.NotifyPrefs(ctx, "U0BBB"); err != nil || len(other.Alerts) != 0 {
		t.Errorf("another user's prefs = %+v, %v; want none", other, err)
	}
	var updated time.Time
	if err := conn.QueryRow(ctx, `SELECT updated_at FROM users WHERE slack_id = 'U0AAA'`).Scan(&updated); err != nil {
		t.Fatal(err)
	}
	if !updated.Equal(prefsNow()) {
		t.Errorf("updated_at = %v, want %v", updated, prefsNow())
	}

	// Clearing every choice leaves an empty alerts object, and keeps what
	// else the preferences hold.
	if _, err := conn.Exec(ctx, `UPDATE users SET notify_prefs = notify_prefs || '{"digest": "weekly"}' WHERE slack_id = 'U0AAA'`); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNotifyPrefs(ctx, "U0AAA", csbot.NotifyPrefs{}); err != nil {
		t.Fatalf("SetNotifyPrefs(none): %v", err)
	}
	if got, err := s.NotifyPrefs(ctx, "U0AAA"); err != nil || len(got.Alerts) != 0 {
		t.Errorf("NotifyPrefs after clearing = %+v, %v; want none", got, err)
	}
	if diff := cmp.Diff(map[string]any{"alerts": map[string]any{}, "digest": "weekly"}, storedPrefs(ctx, t, conn, "U0AAA")); diff != "" {
		t.Errorf("stored notify_prefs after clearing (-want +got):\n%s", diff)
	}

	audits := prefsAudits(ctx, t, conn)
	if len(audits) != 2 {
		t.Fatalf("%d notify_prefs_changed audit rows, want 2: %+v", len(audits), audits)
	}
	if a := audits[0]; a.Actor != "U0AAA" || !a.At.Equal(prefsNow()) || !cmp.Equal(a.Details.Alerts, want) || len(a.Details.Previous) != 0 {
		t.Errorf("first audit row = %+v, want U0AAA at %v setting %v from nothing", a, prefsNow(), want)
	}
	if a := audits[1]; a.Actor != "U0AAA" || len(a.Details.Alerts) != 0 || !cmp.Equal(a.Details.Previous, want) {
		t.Errorf("second audit row = %+v, want U0AAA clearing %v", a, want)
	}
}

func TestNotifyPrefsUnreadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newPrefsStore(ctx, t)
	for _, js := range []string{
		`{"alerts": ["not", "a", "map"]}`,
		`"just a string"`,
		`[1, 2]`,
		`{"alerts": {"usage_drop": 7}}`,
		`null`,
	} {
		if _, err := conn.Exec(ctx, `UPDATE users SET notify_prefs = $1::jsonb WHERE slack_id = 'U0AAA'`, js); err != nil {
			t.Fatalf("store %s: %v", js, err)
		}
		got, err := s.NotifyPrefs(ctx, "U0AAA")
		if err != nil || len(got.Alerts) != 0 {
			t.Errorf("NotifyPrefs of %s = %+v, %v; want none and no error", js, got, err)
		}
	}
	// Unknown kinds and routes are left out; the rest is read.
	if _, err := conn.Exec(ctx, `UPDATE users SET notify_prefs = '{"alerts": {"usage_drop": "pigeon", "weather": "dm", "no_touch": "digest"}}' WHERE slack_id = 'U0AAA'`); err != nil {
		t.Fatal(err)
	}
	got, err := s.NotifyPrefs(ctx, "U0AAA")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[csbot.SignalKind]csbot.Route{csbot.SignalNoTouch: csbot.RouteDigest}, got.Alerts); diff != "" {
		t.Errorf("NotifyPrefs of partly known prefs (-want +got):\n%s", diff)
	}
	// Preferences that are not an object are replaced whole.
	if _, err := conn.Exec(ctx, `UPDATE users SET notify_prefs = '"just a string"' WHERE slack_id = 'U0AAA'`); err != nil {
		t.Fatal(err)
	}
	set := csbot.NotifyPrefs{Alerts: map[csbot.SignalKind]csbot.Route{csbot.SignalOutages: csbot.RouteDigest}}
	if err := s.SetNotifyPrefs(ctx, "U0AAA", set); err != nil {
		t.Fatalf("SetNotifyPrefs over unreadable prefs: %v", err)
	}
	if diff := cmp.Diff(map[string]any{"alerts": map[string]any{"outages": "digest"}}, storedPrefs(ctx, t, conn, "U0AAA")); diff != "" {
		t.Errorf("stored notify_prefs (-want +got):\n%s", diff)
	}
}

func TestNotifyPrefsUnknownUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, conn := newPrefsStore(ctx, t)
	if _, err := s.NotifyPrefs(ctx, "U0NOBODY"); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("NotifyPrefs(unknown) err = %v, want ErrNotFound", err)
	}
	set := csbot.NotifyPrefs{Alerts: map[csbot.SignalKind]csbot.Route{csbot.SignalUsageDrop: csbot.RouteDM}}
	if err := s.SetNotifyPrefs(ctx, "U0NOBODY", set); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("SetNotifyPrefs(unknown) err = %v, want ErrNotFound", err)
	}
	if audits := prefsAudits(ctx, t, conn); len(audits) != 0 {
		t.Errorf("audit rows after refusing an unknown user: %+v", audits)
	}
}
