package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/csbot/csbot/store/pgtest"
)

func TestTryRunsCommandsWithoutSlack(t *testing.T) {
	db := pgtest.NewDatabase(context.Background(), t)
	if code, _, errOut := runCLI(t, db, "demo", "--accounts", "60", "--backfill", "0d"); code != exitOK {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}

	// With no --as, csbot try acts as the CSM with the most accounts and
	// /health alone shows their portfolio, as text.
	code, out, errOut := runCLI(t, db, "try", "/health")
	if code != exitOK {
		t.Fatalf("try /health: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "as ") || !strings.Contains(out, "portfolio") || !strings.Contains(out, "[Health]") {
		t.Errorf("try /health printed:\n%s\nwant who it ran as, the portfolio and its buttons", out)
	}
	if strings.Contains(out, "&amp;") || strings.Contains(out, "<@") {
		t.Errorf("try /health printed raw mrkdwn:\n%s", out)
	}

	// Flags may follow the command; --json prints the Block Kit.
	code, out, errOut = runCLI(t, db, "try", "/renewals", "all", "--json")
	if code != exitOK {
		t.Fatalf("try /renewals all --json: exit %d: %s", code, errOut)
	}
	var rep struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if rep.Text == "" || len(rep.Blocks) == 0 || rep.Blocks[0]["type"] == nil {
		t.Errorf("--json reply = %+v, want fallback text and typed blocks", rep)
	}

	for _, bad := range [][]string{
		{"try"},
		{"try", "/nope"},
		{"try", "--as", "not-an-id", "/health"},
		{"try", "--bogus", "/health"},
	} {
		if code, _, errOut := runCLI(t, db, bad...); code != exitUsage || errOut == "" {
			t.Errorf("csbot %v = exit %d, stderr %q; want 2 with a reason", bad, code, errOut)
		}
	}
}

func TestBadTimezoneOrFiscalStartStopsTheBot(t *testing.T) {
	t.Setenv("CSBOT_TIMEZONE", "Mars/Olympus")
	if code, _, errOut := runCLI(t, "postgres://unused.invalid/x"); code != exitUsage || !strings.Contains(errOut, "CSBOT_TIMEZONE") {
		t.Errorf("bad CSBOT_TIMEZONE = exit %d, stderr %q; want 2 naming it", code, errOut)
	}
	t.Setenv("CSBOT_TIMEZONE", "Europe/Berlin")
	t.Setenv("CSBOT_FISCAL_YEAR_START", "13")
	if code, _, errOut := runCLI(t, "postgres://unused.invalid/x"); code != exitUsage || !strings.Contains(errOut, "CSBOT_FISCAL_YEAR_START") {
		t.Errorf("CSBOT_FISCAL_YEAR_START=13 = exit %d, stderr %q; want 2 naming it", code, errOut)
	}
}
