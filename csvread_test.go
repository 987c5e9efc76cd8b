package csbot_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/google/go-cmp/cmp"
)

// readAll reads every row of a kind's CSV text, returning the parsed rows
// (row number first) and the row errors.
func readAll(t *testing.T, kind, text string) ([][]any, []csbot.RowError, []string, error) {
	t.Helper()
	k, err := csbot.LookupImportKind(kind)
	if err != nil {
		t.Fatalf("LookupImportKind(%q): %v", kind, err)
	}
	r, err := csbot.NewCSVReader(k, strings.NewReader(text))
	if err != nil {
		return nil, nil, nil, err
	}
	var rows [][]any
	var bad []csbot.RowError
	for {
		vals := make([]any, len(k.Columns))
		row, rowBad, err := r.Next(vals)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if len(rowBad) > 0 {
			bad = append(bad, rowBad...)
			continue
		}
		rows = append(rows, append([]any{row}, vals...))
	}
	return rows, bad, r.Warnings(), nil
}

func TestCSVReaderHeaderAnyOrderAndCase(t *testing.T) {
	text := "\ufeffName,TIER,External ID,arr,notes\r\n" +
		"\"ACME, Corp.\",High,A-1,\"$125,000.50\",hello\r\n" +
		"Globex,tech,A-2,600,\r\n"
	rows, bad, warnings, err := readAll(t, "accounts", text)
	if err != nil {
		t.Fatalf("NewCSVReader: %v", err)
	}
	if len(bad) != 0 {
		t.Fatalf("row errors: %v", bad)
	}
	want := [][]any{
		{2, "A-1", "ACME, Corp.", "high", int64(12500050), nil, nil, nil, nil, nil, nil},
		{3, "A-2", "Globex", "tech", int64(60000), nil, nil, nil, nil, nil, nil},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "notes") {
		t.Errorf("warnings = %q, want one naming the ignored column notes", warnings)
	}
}

func TestCSVReaderRowErrors(t *testing.T) {
	text := "external_id,name,tier,arr,csm,channel\n" +
		"A-1,Acme,hihg,12x,Jane,#acme\n" +
		"A-2,,low,100,U012AB3CD,C012AB3CD\n" +
		"A-3,Too,few\n" +
		"A-4,\"bad \"quote\",low,1,,\n"
	_, bad, _, err := readAll(t, "accounts", text)
	if err != nil {
		t.Fatalf("NewCSVReader: %v", err)
	}
	got := make([]string, len(bad))
	for i, b := range bad {
		got[i] = b.Error()
	}
	want := []string{
		`row 2, column tier: did you mean "high"? must be one of high, low, tech`,
		"row 2, column arr: not an amount (use digits, e.g. 125000.50)",
		"row 2, column csm: not a Slack user id (U…) or an email address",
		"row 2, column channel: not a Slack channel id (e.g. C012AB3CD; find it in the channel's details)",
		"row 3, column name: required, but empty",
		"row 4: has 3 cells but the header has 6",
		`row 5: malformed CSV: extraneous or missing " in quoted-field`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
}

func TestCSVReaderFileProblems(t *testing.T) {
	tests := []struct {
		name, kind, text, want string
	}{
		{"empty", "accounts", "", "the file is empty"},
		{"blank", "accounts", "\n\n  \n", "the file is empty"},
		{"bom only", "accounts", "\ufeff", "the file is empty"},
		{"binary", "usage", "PK\x03\x04\x00\x00binary", "not a CSV text file"},
		{"latin1", "usage", "account_external_id,day,active_users\nM\xfcller,2026-01-01,1\n", "not a CSV text file"},
		{"missing", "usage", "account_external_id,dya,active_users\n", `missing required column(s) for usage: day ("dya" looks like "day")`},
		{"duplicate", "usage", "account_external_id,day,Day,active_users\n", `column "day" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := readAll(t, tt.kind, tt.text)
			var ie *csbot.ImportError
			if !errors.As(err, &ie) || !strings.Contains(ie.Problem, tt.want) {
				t.Errorf("error = %v, want an ImportError containing %q", err, tt.want)
			}
		})
	}
	rows, bad, _, err := readAll(t, "usage", "account_external_id,day,active_users\r\n")
	if err != nil || len(rows) != 0 || len(bad) != 0 {
		t.Errorf("header-only file: rows=%v bad=%v err=%v, want nothing and no error", rows, bad, err)
	}
}

func TestCSVReaderTypes(t *testing.T) {
	text := "slack_id,role,name,email,manager_slack_id,timezone\n" +
		"U01,Manager,Mia,mia@vendor.example,,Europe/Berlin\n" +
		"U02,csm,Sam,sam@vendor.example,U01,Mars/Olympus\n"
	rows, bad, _, err := readAll(t, "users", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][2] != "manager" || rows[0][6] != "Europe/Berlin" {
		t.Errorf("rows = %v, want the first user parsed", rows)
	}
	if len(bad) != 1 || bad[0].Column != "timezone" {
		t.Errorf("row errors = %v, want one for the unknown time zone", bad)
	}
	rows, bad, _, _ = readAll(t, "tickets", "external_id,account_external_id,opened_at,severity,status\nT1,A1,2026-01-02T03:04:05+01:00,URGENT,open\n")
	if len(bad) != 0 || !rows[0][3].(time.Time).Equal(time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)) || rows[0][4] != "urgent" {
		t.Errorf("tickets rows = %v, bad = %v", rows, bad)
	}
}

func TestRowErrorsKeepsFirstFifty(t *testing.T) {
	var re csbot.RowErrors
	for row := 500; row >= 2; row-- {
		re.Add(csbot.RowError{Row: row, Reason: "bad"})
	}
	var ie *csbot.ImportError
	if !errors.As(re.Err("usage"), &ie) {
		t.Fatal("Err() is not an ImportError")
	}
	if ie.Total != 499 || len(ie.Rows) != csbot.MaxReportedRowErrors || ie.Rows[0].Row != 2 || ie.Rows[49].Row != 51 {
		t.Errorf("ImportError total=%d rows=%d first=%d last=%d, want 499, 50, 2, 51", ie.Total, len(ie.Rows), ie.Rows[0].Row, ie.Rows[len(ie.Rows)-1].Row)
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add("account_external_id,day,active_users\nA1,2026-01-01,5\n")
	f.Add("\ufeffexternal_id,name,tier,arr\r\nA,\"x,y\",low,\"1,000\"\r\n")
	f.Add("a,b\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, text string) {
		for _, kind := range []string{"usage", "accounts"} {
			k, _ := csbot.LookupImportKind(kind)
			r, err := csbot.NewCSVReader(k, strings.NewReader(text))
			if err != nil {
				var ie *csbot.ImportError
				if !errors.As(err, &ie) {
					t.Fatalf("NewCSVReader error %v is not an ImportError", err)
				}
				continue
			}
			vals := make([]any, len(k.Columns))
			for i := 0; i < 10000; i++ {
				row, bad, err := r.Next(vals)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				for _, b := range bad {
					if b.Row != row || b.Reason == "" {
						t.Fatalf("row error %+v for row %d", b, row)
					}
				}
			}
		}
	})
}

// TestCSVReaderUnclosedQuote feeds a quote that is never closed followed
// by several MiB of rows: the reader refuses the file at the cap, naming
// the line before, instead of reading the rest of it into one cell.
func TestCSVReaderUnclosedQuote(t *testing.T) {
	k, _ := csbot.LookupImportKind("accounts")
	var b strings.Builder
	b.WriteString("external_id,name,tier,arr\nA1,Acme,high,100\nA2,\"Globex,low,200\n")
	for i := 0; b.Len() < 3*csbot.MaxRecordBytes; i++ {
		b.WriteString("A3,Initech,low,300\n")
	}
	r, err := csbot.NewCSVReader(k, strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(k.Columns))
	if _, bad, err := r.Next(vals); err != nil || len(bad) > 0 {
		t.Fatalf("first row: %v %v", bad, err)
	}
	_, _, err = r.Next(vals)
	var ie *csbot.ImportError
	if !errors.As(err, &ie) || !strings.Contains(ie.Problem, "after line 2") || !strings.Contains(ie.Problem, "never closed") {
		t.Fatalf("Next after an unclosed quote = %v, want an ImportError naming line 2 and the quote", err)
	}
}
