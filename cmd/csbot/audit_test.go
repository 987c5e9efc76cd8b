package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
)

// openTestStore opens a store on the database at url.
func openTestStore(ctx context.Context, t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := store.Open(ctx, url, nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestAuditCommand(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDatabase(ctx, t)
	accounts := writeFile(t, "accounts.csv", "external_id,name,tier,arr,domain\nACME-001,Acme Corp,high,1000,acme.com\nINI-EU,Initech Europe,low,1000,initech.eu\nINI-AS,Initech Asia,low,1000,initech.asia\nGLX-1,Globex,low,1000,\n")
	if code, _, errOut := runCLI(t, db, "import", "accounts", accounts, "--no-score"); code != exitOK {
		t.Fatalf("import exit %d: %s", code, errOut)
	}
	s := openTestStore(ctx, t, db)
	acme, err := s.AccountByExternalID(ctx, "ACME-001")
	if err != nil {
		t.Fatal(err)
	}
	glx, err := s.AccountByExternalID(ctx, "GLX-1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, e := range []csbot.AuditEntry{
		{At: now.AddDate(0, 0, -40), Actor: "U0CSM1", Action: "command:/health", AccountID: acme.ID, Channel: "C0OLD"},
		{At: now.Add(-2 * time.Hour), Actor: "U0CSM1", Action: "command:/health", AccountID: acme.ID, Channel: "C0ACME1",
			Details: map[string]any{"text": "***@acme.com"}},
		{At: now.Add(-time.Hour), Actor: "U0CSM2", Action: "action:pick:", AccountID: acme.ID, Channel: "C0ACME1",
			Details: map[string]any{"action_id": "pick:renewals", "value": "1"}},
		{At: now.Add(-time.Hour), Actor: "U0CSM2", Action: "command:/renewals", AccountID: glx.ID, Channel: "C0GLX"},
	} {
		if err := s.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errOut := runCLI(t, db, "audit", "--account", "acme.com", "--since", "30d")
	if code != exitOK {
		t.Fatalf("csbot audit exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME (UTC)") {
		t.Fatalf("csbot audit --account acme.com printed:\n%s\nwant a header and the 2 entries of the last 30 days", out)
	}
	for i, want := range [][]string{
		{"U0CSM2", "action:pick:", "Acme Corp", "C0ACME1", `action_id="pick:renewals" value="1"`},
		{"U0CSM1", "command:/health", "Acme Corp", "C0ACME1", `text="***@acme.com"`, now.Add(-2 * time.Hour).Format("2006-01-02 15:04")},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("line %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}

	// The import was recorded, by the command line.
	code, out, _ = runCLI(t, db, "audit", "--actor", "cli", "--json")
	var got []struct {
		Actor, Action string
		Details       map[string]any
	}
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 || got[0].Action != "import:accounts" ||
		got[0].Details["rows"] != float64(4) || got[0].Details["file"] != "accounts.csv" {
		t.Errorf("csbot audit --actor cli --json = exit %d:\n%s\nwant the import of 4 accounts", code, out)
	}

	code, out, _ = runCLI(t, db, "audit", "--account", "globex", "--actor", "U0CSM1")
	if code != exitOK || !strings.Contains(out, "no audit entries for Globex by U0CSM1 since") {
		t.Errorf("csbot audit with nothing to show = exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI(t, db, "audit", "--since", "90d", "--limit", "2")
	if code != exitOK || strings.Count(out, "\n") != 4 || !strings.Contains(out, "the newest 2; --limit shows more") {
		t.Errorf("csbot audit --limit 2 = exit %d:\n%s\nwant a header, 2 entries and a note", code, out)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--since", "yesterday"}, `--since "yesterday": want 30d`},
		{[]string{"audit", "--actor", "bob"}, `--actor "bob" is not a Slack user id`},
		{[]string{"audit", "--limit", "0"}, "--limit must be between 1 and 10000"},
		{[]string{"audit", "--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{[]string{"audit", "acme"}, `unexpected argument "acme"`},
		{[]string{"audit", "--account", "initech"}, `"initech" matches several accounts: Initech Asia (INI-AS), Initech Europe (INI-EU); name one by its CRM id`},
		{[]string{"audit", "--account", "zzzzqqq"}, `no account matches "zzzzqqq"`},
	} {
		code, _, errOut := runCLI(t, db, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("csbot %v = exit %d, stderr %q; want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"30d", now.AddDate(0, 0, -30)},
		{"2w", now.AddDate(0, 0, -14)},
		{"12h", now.Add(-12 * time.Hour)},
		{"2026-03-01", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := parseSince(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"d", "-3d", "soon", "30x"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) = nil error, want one", bad)
		}
	}
}

func TestHelpListsAuditChannelsAndDoctor(t *testing.T) {
	code, out, _ := runCLI(t, "", "--help")
	for _, want := range []string{"audit [--account acme] [--since 30d]", "channels sync [--pattern acct-{name}] [--private] [--dry-run]",
		"doctor [--all]", "CSBOT_CHANNEL_PATTERN (default acct-{name})"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("csbot --help (exit %d) does not mention %q", code, want)
		}
	}
}
