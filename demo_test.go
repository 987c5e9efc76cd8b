package csbot

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// demoTestNow is the moment the test books are relative to.
var demoTestNow = time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)

// writeDemo returns every file of d by kind.
func writeDemo(t testing.TB, d *Demo) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	for _, kind := range d.Kinds() {
		var b bytes.Buffer
		if err := d.WriteCSV(kind, &b); err != nil {
			t.Fatalf("WriteCSV(%q): %v", kind, err)
		}
		files[kind] = b.Bytes()
	}
	return files
}

// demoTable is a parsed CSV file.
type demoTable struct {
	header []string
	rows   [][]string
	col    map[string]int
}

func (tb demoTable) get(row []string, name string) string { return row[tb.col[name]] }

// parseDemo parses every file and checks its header.
func parseDemo(t testing.TB, files map[string][]byte) map[string]demoTable {
	t.Helper()
	want := map[string][]string{
		"users":       {"slack_id", "role", "name", "email", "manager_slack_id", "timezone"},
		"accounts":    {"external_id", "name", "tier", "arr", "domain", "stage", "csm", "ae", "channel", "licensed_seats"},
		"contacts":    {"account_external_id", "name", "role", "email", "title", "active"},
		"renewals":    {"external_id", "account_external_id", "renewal_date", "arr", "start_date", "auto_renew", "status", "outcome_reason"},
		"usage":       {"account_external_id", "day", "active_users", "licensed_seats", "events"},
		"tickets":     {"external_id", "account_external_id", "opened_at", "severity", "status", "closed_at", "subject"},
		"nps":         {"account_external_id", "responded_at", "score", "respondent_email", "comment"},
		"invoices":    {"external_id", "account_external_id", "due_on", "amount", "issued_on", "paid_on"},
		"outages":     {"external_id", "started_at", "ended_at", "account_external_id", "severity", "summary"},
		"touchpoints": {"account_external_id", "at", "kind", "summary", "user"},
	}
	tables := make(map[string]demoTable)
	for kind, data := range files {
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("%s: not CSV: %v", kind, err)
		}
		if len(recs) == 0 {
			t.Fatalf("%s: empty file", kind)
		}
		if diff := cmp.Diff(want[kind], recs[0]); diff != "" {
			t.Fatalf("%s header (-want +got):\n%s", kind, diff)
		}
		tb := demoTable{header: recs[0], rows: recs[1:], col: map[string]int{}}
		for i, h := range tb.header {
			tb.col[h] = i
		}
		tables[kind] = tb
	}
	return tables
}

func mustDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return d
}

func mustStamp(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Fatalf("timestamp %q is not RFC 3339 in UTC (%v)", s, err)
	}
	return d
}

func mustInt(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return n
}

func TestDemoDeterministic(t *testing.T) {
	base := DemoOptions{Accounts: 120, Seed: 7, Now: demoTestNow}
	later := base
	later.Now = demoTestNow.Add(5 * time.Hour) // same day
	other := base
	other.Seed = 8
	nextDay := base
	nextDay.Now = demoTestNow.AddDate(0, 0, 1)
	dated := []string{"renewals", "usage", "tickets", "nps", "invoices", "outages", "touchpoints"}
	tests := []struct {
		name   string
		a, b   DemoOptions
		differ []string // the kinds whose files differ; the others are equal
	}{
		{"same seed and now", base, base, nil},
		{"same seed, same day", base, later, nil},
		{"other seed", base, other, NewDemo(base).Kinds()},
		{"next day", base, nextDay, dated}, // the team, accounts and contacts stay
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := writeDemo(t, NewDemo(tt.a)), writeDemo(t, NewDemo(tt.b))
			for _, kind := range NewDemo(tt.a).Kinds() {
				if got, want := !bytes.Equal(a[kind], b[kind]), slices.Contains(tt.differ, kind); got != want {
					t.Errorf("%s: files differ = %v, want %v", kind, got, want)
				}
			}
		})
	}
}

func TestDemoDefaults(t *testing.T) {
	d := NewDemo(DemoOptions{Now: demoTestNow})
	if got := len(d.Healthy()) + len(d.Risks()); got != DefaultDemoAccounts {
		t.Errorf("healthy + at risk = %d accounts, want %d", got, DefaultDemoAccounts)
	}
	if err := d.WriteCSV("customers", io.Discard); err == nil {
		t.Error(`WriteCSV("customers") = nil, want an error`)
	}
	if err := d.WriteCSV("accounts", failingWriter{}); err == nil {
		t.Error("WriteCSV to a failing writer = nil, want an error")
	}
	if err := d.WriteCSV("usage", failingWriter{}); err == nil {
		t.Error("WriteCSV(usage) to a failing writer = nil, want an error")
	}
}

// TestDemoTiny writes books too small to hold every tier and risk.
func TestDemoTiny(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 21, 34} {
		t.Run(fmt.Sprint(n, " accounts"), func(t *testing.T) {
			d := NewDemo(DemoOptions{Accounts: n, Seed: 1, Now: demoTestNow})
			tb := parseDemo(t, writeDemo(t, d))
			if got := len(tb["accounts"].rows); got != n {
				t.Errorf("%d accounts, want %d", got, n)
			}
			if got := len(d.Risks()) + len(d.Healthy()); got != n {
				t.Errorf("%d at risk + healthy, want %d", got, n)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestDemoImportable reads every file with the import's own reader: every
// column known, every cell valid.
func TestDemoImportable(t *testing.T) {
	d := NewDemo(DemoOptions{Accounts: 300, Seed: 3, Now: demoTestNow})
	files := writeDemo(t, d)
	for _, kind := range d.Kinds() {
		k, err := LookupImportKind(kind)
		if err != nil {
			t.Fatalf("LookupImportKind(%q): %v", kind, err)
		}
		cr, err := NewCSVReader(k, bytes.NewReader(files[kind]))
		if err != nil {
			t.Fatalf("%s: NewCSVReader: %v", kind, err)
		}
		if w := cr.Warnings(); len(w) > 0 {
			t.Errorf("%s: warnings %v", kind, w)
		}
		values := make([]any, len(k.Columns))
		bad := 0
		for {
			_, rowErrs, err := cr.Next(values)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			for _, e := range rowErrs {
				if bad++; bad <= 5 {
					t.Errorf("%s: %v", kind, e)
				}
			}
		}
	}
}

// TestDemoConsistent checks the constraints of the schema and that every
// reference resolves.
func TestDemoConsistent(t *testing.T) {
	d := NewDemo(DemoOptions{Accounts: 700, Seed: 11, Now: demoTestNow})
	tb := parseDemo(t, writeDemo(t, d))
	now := demoTestNow
	today := mustDate(t, now.Format(time.DateOnly))
	userID := regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	channelID := regexp.MustCompile(`^C[A-Z0-9]{8,}$`)

	seen := map[string]bool{}
	once := func(what string, key ...string) {
		t.Helper()
		k := what + "\x00" + strings.Join(key, "\x00")
		if seen[k] {
			t.Errorf("%s %q is not unique", what, key)
		}
		seen[k] = true
	}
	inPast := func(what string, at time.Time) {
		t.Helper()
		if !at.Before(now) {
			t.Errorf("%s %v is not before now %v", what, at, now)
		}
	}

	people := map[string]bool{}
	roles := map[string]int{}
	u := tb["users"]
	for _, r := range u.rows {
		id, email := u.get(r, "slack_id"), u.get(r, "email")
		if !userID.MatchString(id) {
			t.Errorf("user id %q does not look like a Slack user id", id)
		}
		if !strings.HasSuffix(email, "@csbot.example") {
			t.Errorf("user email %q is not at csbot.example", email)
		}
		once("user slack_id", id)
		once("user email", strings.ToLower(email))
		people[id] = true
		roles[u.get(r, "role")]++
		if _, err := time.LoadLocation(u.get(r, "timezone")); err != nil {
			t.Errorf("user %s timezone: %v", id, err)
		}
	}
	for _, r := range u.rows {
		if m := u.get(r, "manager_slack_id"); m != "" && !people[m] {
			t.Errorf("user %s: manager %q is not a user", u.get(r, "slack_id"), m)
		}
	}
	for _, role := range UserRoles() {
		if roles[string(role)] == 0 {
			t.Errorf("no user with role %s", role)
		}
	}
	if roles["admin"] != 1 {
		t.Errorf("%d admins, want 1", roles["admin"])
	}

	a := tb["accounts"]
	accounts := map[string][]string{}
	for _, r := range a.rows {
		id, tier := a.get(r, "external_id"), a.get(r, "tier")
		once("account external_id", id)
		once("account name", strings.ToLower(a.get(r, "name")))
		once("account domain", a.get(r, "domain"))
		accounts[id] = r
		if !strings.HasSuffix(a.get(r, "domain"), ".example") {
			t.Errorf("account %s domain %q is not under .example", id, a.get(r, "domain"))
		}
		if !people[a.get(r, "csm")] {
			t.Errorf("account %s: csm %q is not a user", id, a.get(r, "csm"))
		}
		ae, ch := a.get(r, "ae"), a.get(r, "channel")
		if tier == "tech" {
			if ch != "" {
				t.Errorf("tech-touch account %s has channel %q", id, ch)
			}
		} else if !people[ae] || !channelID.MatchString(ch) {
			t.Errorf("account %s: ae %q or channel %q missing or malformed", id, ae, ch)
		}
		if ch != "" {
			once("channel", ch)
		}
	}
	account := func(kind string, r []string) []string {
		t.Helper()
		id := tb[kind].get(r, "account_external_id")
		ar, ok := accounts[id]
		if !ok {
			t.Fatalf("%s row %v: account %q does not exist", kind, r, id)
		}
		return ar
	}

	c := tb["contacts"]
	for _, r := range c.rows {
		ar := account("contacts", r)
		once("contact", r[0], c.get(r, "role"), strings.ToLower(c.get(r, "name")))
		if !strings.HasSuffix(c.get(r, "email"), "@"+a.get(ar, "domain")) {
			t.Errorf("contact email %q is not at the account's domain %q", c.get(r, "email"), a.get(ar, "domain"))
		}
	}

	rn := tb["renewals"]
	open := map[string]int{}
	for _, r := range rn.rows {
		account("renewals", r)
		once("renewal external_id", r[0])
		start, date := mustDate(t, rn.get(r, "start_date")), mustDate(t, rn.get(r, "renewal_date"))
		if start.After(date) {
			t.Errorf("renewal %s starts %v after its date %v", r[0], start, date)
		}
		if rn.get(r, "status") == "open" {
			open[rn.get(r, "account_external_id")]++
			if !date.After(today) || date.After(today.AddDate(0, 18, 0)) {
				t.Errorf("open renewal %s on %v is not within 18 months of today", r[0], date)
			}
		} else if rn.get(r, "outcome_reason") == "" || date.After(today) {
			t.Errorf("past renewal %s: no outcome reason or in the future", r[0])
		}
	}
	for id := range accounts {
		if open[id] != 1 {
			t.Errorf("account %s has %d open renewals, want 1", id, open[id])
		}
	}

	us := tb["usage"]
	for _, r := range us.rows {
		ar := account("usage", r)
		once("usage day", r[0], us.get(r, "day"))
		if !mustDate(t, us.get(r, "day")).Before(today) {
			t.Errorf("usage on %s is not before today", us.get(r, "day"))
		}
		if seats := us.get(r, "licensed_seats"); seats != a.get(ar, "licensed_seats") {
			t.Errorf("usage of %s has %s seats, the account %s", r[0], seats, a.get(ar, "licensed_seats"))
		}
		if mustInt(t, us.get(r, "active_users")) > mustInt(t, us.get(r, "licensed_seats")) {
			t.Errorf("usage %v: more active users than seats", r)
		}
	}

	tk := tb["tickets"]
	for _, r := range tk.rows {
		account("tickets", r)
		once("ticket external_id", r[0])
		opened := mustStamp(t, tk.get(r, "opened_at"))
		inPast("ticket opened_at", opened)
		unresolved := TicketStatus(tk.get(r, "status")).Unresolved()
		if closed := tk.get(r, "closed_at"); unresolved != (closed == "") {
			t.Errorf("ticket %s: status %s with closed_at %q", r[0], tk.get(r, "status"), closed)
		} else if closed != "" {
			if c := mustStamp(t, closed); c.Before(opened) {
				t.Errorf("ticket %s closed before it opened", r[0])
			} else {
				inPast("ticket closed_at", c)
			}
		}
	}

	np := tb["nps"]
	for _, r := range np.rows {
		account("nps", r)
		once("nps response", r[0], np.get(r, "responded_at"), np.get(r, "respondent_email"))
		inPast("nps responded_at", mustStamp(t, np.get(r, "responded_at")))
		if s := mustInt(t, np.get(r, "score")); s < 0 || s > 10 {
			t.Errorf("nps score %d", s)
		}
	}

	iv := tb["invoices"]
	for _, r := range iv.rows {
		account("invoices", r)
		once("invoice external_id", r[0])
		issued, due := mustDate(t, iv.get(r, "issued_on")), mustDate(t, iv.get(r, "due_on"))
		if due.Before(issued) || !issued.Before(today) {
			t.Errorf("invoice %s issued %v, due %v", r[0], issued, due)
		}
		if p := iv.get(r, "paid_on"); p != "" && (mustDate(t, p).Before(issued) || !mustDate(t, p).Before(today)) {
			t.Errorf("invoice %s issued %v, paid %s", r[0], issued, p)
		}
	}

	ou := tb["outages"]
	for _, r := range ou.rows {
		once("outage external_id", r[0])
		start, end := mustStamp(t, ou.get(r, "started_at")), mustStamp(t, ou.get(r, "ended_at"))
		if end.Before(start) {
			t.Errorf("outage %s ends before it starts", r[0])
		}
		inPast("outage ended_at", end)
		if ou.get(r, "account_external_id") == "" {
			if start.After(now.AddDate(0, 0, -30)) {
				t.Errorf("global outage %s started in the last 30 days", r[0])
			}
		} else {
			account("outages", r)
		}
	}

	tp := tb["touchpoints"]
	for _, r := range tp.rows {
		account("touchpoints", r)
		once("touchpoint", r[0], tp.get(r, "at"), tp.get(r, "kind"))
		inPast("touchpoint at", mustStamp(t, tp.get(r, "at")))
		if !people[tp.get(r, "user")] {
			t.Errorf("touchpoint user %q is not a user", tp.get(r, "user"))
		}
	}
}

// demoThresholds mirror the defaults of DefaultPolicy that the planted
// risks must clear.
type demoThresholds struct {
	tickets     int // ticket_spike: more than this in 30 days
	overdue     int // invoice_overdue: more days past due than this
	cadence     int // no_touch: more days since the last touch than this; 0 none
	execCadence int // the longest expected gap between EBRs; 0 none
}

func demoThresholdsOf(t Tier) demoThresholds {
	switch t {
	case TierHigh:
		return demoThresholds{tickets: 10, overdue: 15, cadence: 30, execCadence: 180}
	case TierLow:
		return demoThresholds{tickets: 20, overdue: 30, cadence: 90, execCadence: 365}
	}
	return demoThresholds{tickets: 40, overdue: 45}
}

// demoFacts are the measures of one account a health engine reads,
// computed from the files alone.
type demoFacts struct {
	tier                       Tier
	seats                      int
	cur, prior                 int // active user days in the last 30 days before today and the 30 before
	curDays, priorDays         int
	lastActive                 int // days before today of the last active day; 0 never
	tickets30, openSevere      int
	staleOpen                  bool
	recentMinNPS, minNPS       int // lowest score in the last 30 days and ever; 11 none
	maxOverdue                 int // days past due of the oldest unpaid invoice
	paidLate                   bool
	lastTouch, lastEBR         float64 // days ago; +Inf none
	ownOutages, outages30      int
	champions, activeChampions int
	activeExecs                int
	renewalIn                  int // days to the open renewal
	autoRenew                  bool
}

func (f *demoFacts) change() float64 {
	if f.priorDays < 14 || f.prior == 0 || f.curDays == 0 {
		return math.NaN()
	}
	cur, prior := float64(f.cur)/float64(f.curDays), float64(f.prior)/float64(f.priorDays)
	return (cur - prior) / prior
}

// signals returns the risks the defaults raise on f.
func (f *demoFacts) signals() []DemoRisk {
	th := demoThresholdsOf(f.tier)
	var s []DemoRisk
	if f.change() <= -0.30 { // usage_drop warns at 30%
		s = append(s, DemoRiskUsageCollapse)
	}
	if f.lastActive > 0 && f.lastActive-1 >= 60 {
		s = append(s, DemoRiskUsageSilent)
	}
	if f.tickets30 > th.tickets {
		s = append(s, DemoRiskTicketSpike)
	}
	if f.maxOverdue > th.overdue {
		s = append(s, DemoRiskInvoiceOverdue)
	}
	if f.recentMinNPS <= 6 {
		s = append(s, DemoRiskDetractorNPS)
	}
	if f.outages30 >= 2 {
		s = append(s, DemoRiskOutages)
	}
	if f.activeChampions == 0 {
		s = append(s, DemoRiskChampionLeft)
	}
	if th.cadence > 0 && f.lastTouch > float64(th.cadence) {
		s = append(s, DemoRiskNoTouch)
	}
	if len(s) > 0 && f.renewalIn <= 90 {
		s = append(s, DemoRiskRenewalAtRisk)
	}
	return s
}

// demoFactsOf computes the facts of every account from the parsed files.
func demoFactsOf(t testing.TB, tb map[string]demoTable, now time.Time) map[string]*demoFacts {
	t.Helper()
	today := mustDate(t, now.Format(time.DateOnly))
	days := func(from, to time.Time) float64 { return to.Sub(from).Hours() / 24 }
	facts := map[string]*demoFacts{}
	a := tb["accounts"]
	for _, r := range a.rows {
		facts[r[0]] = &demoFacts{
			tier: Tier(a.get(r, "tier")), seats: mustInt(t, a.get(r, "licensed_seats")),
			recentMinNPS: 11, minNPS: 11, lastTouch: math.Inf(1), lastEBR: math.Inf(1),
		}
	}
	of := func(kind string, r []string) *demoFacts { return facts[tb[kind].get(r, "account_external_id")] }
	us := tb["usage"]
	for _, r := range us.rows {
		f := of("usage", r)
		ago := int(days(mustDate(t, us.get(r, "day")), today))
		n := mustInt(t, us.get(r, "active_users"))
		switch {
		case ago <= 30:
			f.cur += n
			f.curDays++
		case ago <= 60:
			f.prior += n
			f.priorDays++
		}
		if n > 0 && (f.lastActive == 0 || ago < f.lastActive) {
			f.lastActive = ago
		}
	}
	tk := tb["tickets"]
	for _, r := range tk.rows {
		f := of("tickets", r)
		opened := mustStamp(t, tk.get(r, "opened_at"))
		if days(opened, now) <= 30 {
			f.tickets30++
		}
		if TicketStatus(tk.get(r, "status")).Unresolved() {
			if sev := tk.get(r, "severity"); sev == "high" || sev == "urgent" {
				f.openSevere++
			}
			if days(opened, now) > 30 {
				f.staleOpen = true
			}
		}
	}
	np := tb["nps"]
	for _, r := range np.rows {
		f := of("nps", r)
		score := mustInt(t, np.get(r, "score"))
		f.minNPS = min(f.minNPS, score)
		if days(mustStamp(t, np.get(r, "responded_at")), now) <= 30 {
			f.recentMinNPS = min(f.recentMinNPS, score)
		}
	}
	iv := tb["invoices"]
	for _, r := range iv.rows {
		f := of("invoices", r)
		due := mustDate(t, iv.get(r, "due_on"))
		if paid := iv.get(r, "paid_on"); paid == "" {
			if due.Before(today) {
				f.maxOverdue = max(f.maxOverdue, int(days(due, today)))
			}
		} else if mustDate(t, paid).After(due) {
			f.paidLate = true
		}
	}
	global30 := 0
	ou := tb["outages"]
	for _, r := range ou.rows {
		recent := days(mustStamp(t, ou.get(r, "started_at")), now) <= 30
		if ou.get(r, "account_external_id") == "" {
			if recent {
				global30++
			}
			continue
		}
		f := of("outages", r)
		f.ownOutages++
		if recent {
			f.outages30++
		}
	}
	for _, f := range facts {
		f.outages30 += global30
	}
	tp := tb["touchpoints"]
	for _, r := range tp.rows {
		f := of("touchpoints", r)
		ago := days(mustStamp(t, tp.get(r, "at")), now)
		f.lastTouch = math.Min(f.lastTouch, ago)
		if tp.get(r, "kind") == "ebr" {
			f.lastEBR = math.Min(f.lastEBR, ago)
		}
	}
	c := tb["contacts"]
	for _, r := range c.rows {
		f := of("contacts", r)
		active := c.get(r, "active") == "true"
		switch ContactRole(c.get(r, "role")) {
		case RoleChampion:
			f.champions++
			if active {
				f.activeChampions++
			}
		case RoleExecSponsor:
			if active {
				f.activeExecs++
			}
		}
	}
	rn := tb["renewals"]
	for _, r := range rn.rows {
		if rn.get(r, "status") == "open" {
			f := of("renewals", r)
			f.renewalIn = int(days(today, mustDate(t, rn.get(r, "renewal_date"))))
			f.autoRenew = rn.get(r, "auto_renew") == "true"
		}
	}
	return facts
}

// TestDemoGroundTruth checks, from the files alone, that each planted risk
// clearly exceeds its default threshold and raises no other signal, and
// that healthy accounts are healthy by every measure, with margin.
func TestDemoGroundTruth(t *testing.T) {
	for _, seed := range []uint64{1, 99} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			d := NewDemo(DemoOptions{Accounts: 1000, Seed: seed, Now: demoTestNow})
			facts := demoFactsOf(t, parseDemo(t, writeDemo(t, d)), demoTestNow)
			risks, healthy := d.Risks(), d.Healthy()
			if got := len(risks) + len(healthy); got != len(facts) {
				t.Fatalf("%d at risk + %d healthy, want %d accounts", len(risks), len(healthy), len(facts))
			}
			for id, planted := range risks {
				f := facts[id]
				want := slices.Sorted(slices.Values(planted))
				if diff := cmp.Diff(want, slices.Sorted(slices.Values(f.signals()))); diff != "" {
					t.Errorf("%s (%s) planted %v: signals differ (-planted +raised):\n%s", id, f.tier, planted, diff)
				}
				for _, risk := range planted {
					if why := f.clearly(risk); why != "" {
						t.Errorf("%s (%s) %s is not clear: %s", id, f.tier, risk, why)
					}
				}
			}
			minAdoption, maxChange := math.Inf(1), 0.0
			for _, id := range healthy {
				f := facts[id]
				if why := f.healthy(); why != "" {
					t.Errorf("healthy %s (%s): %s", id, f.tier, why)
				}
				minAdoption = math.Min(minAdoption, float64(f.cur)/float64(f.curDays*f.seats))
				maxChange = math.Max(maxChange, math.Abs(f.change()))
			}
			t.Logf("healthy accounts: lowest adoption %.2f, largest usage change %.3f", minAdoption, maxChange)
		})
	}
}

// clearly returns why f does not clearly show risk, or "".
func (f *demoFacts) clearly(risk DemoRisk) string {
	th := demoThresholdsOf(f.tier)
	switch risk {
	case DemoRiskUsageCollapse:
		if c := f.change(); !(c <= -0.55) {
			return fmt.Sprintf("usage change %.2f, want <= -0.55", c)
		}
	case DemoRiskUsageSilent:
		if f.lastActive-1 < 65 {
			return fmt.Sprintf("last active %d days ago", f.lastActive)
		}
	case DemoRiskTicketSpike:
		if 2*f.tickets30 < 3*th.tickets {
			return fmt.Sprintf("%d tickets in 30 days, threshold %d", f.tickets30, th.tickets)
		}
	case DemoRiskInvoiceOverdue:
		if f.maxOverdue < 60 {
			return fmt.Sprintf("%d days overdue", f.maxOverdue)
		}
	case DemoRiskDetractorNPS:
		if f.recentMinNPS > 4 {
			return fmt.Sprintf("lowest recent score %d", f.recentMinNPS)
		}
	case DemoRiskOutages:
		if f.outages30 < 3 {
			return fmt.Sprintf("%d outages in 30 days", f.outages30)
		}
	case DemoRiskChampionLeft:
		if f.champions != 1 || f.activeChampions != 0 {
			return fmt.Sprintf("%d champions, %d active", f.champions, f.activeChampions)
		}
	case DemoRiskNoTouch:
		if f.lastTouch < float64(2*th.cadence) || th.cadence == 0 {
			return fmt.Sprintf("last touch %.0f days ago, cadence %d", f.lastTouch, th.cadence)
		}
	case DemoRiskRenewalAtRisk:
		if f.renewalIn > 75 || f.autoRenew || f.openSevere < 3 {
			return fmt.Sprintf("renewal in %d days, auto renew %v, %d severe tickets open", f.renewalIn, f.autoRenew, f.openSevere)
		}
	}
	return ""
}

// healthy returns why f is not clearly healthy, or "".
func (f *demoFacts) healthy() string {
	th := demoThresholdsOf(f.tier)
	var why []string
	if f.curDays != 30 || f.priorDays != 30 || f.lastActive != 1 {
		why = append(why, fmt.Sprintf("usage days %d+%d, last active %d", f.curDays, f.priorDays, f.lastActive))
	} else if adoption := float64(f.cur) / float64(30*f.seats); adoption < 0.70 {
		why = append(why, fmt.Sprintf("adoption %.2f", adoption))
	}
	if c := f.change(); !(math.Abs(c) <= 0.10) {
		why = append(why, fmt.Sprintf("usage change %.2f", c))
	}
	if 3*f.tickets30 > th.tickets || f.openSevere > 0 || f.staleOpen {
		why = append(why, fmt.Sprintf("%d tickets in 30 days, %d severe open, stale %v", f.tickets30, f.openSevere, f.staleOpen))
	}
	if f.minNPS < 8 {
		why = append(why, fmt.Sprintf("NPS %d", f.minNPS))
	}
	if f.maxOverdue > 0 || f.paidLate {
		why = append(why, fmt.Sprintf("invoice %d days overdue, paid late %v", f.maxOverdue, f.paidLate))
	}
	if th.cadence > 0 && (f.lastTouch > float64(th.cadence)/2 || f.lastEBR > float64(th.execCadence) || f.activeExecs == 0) {
		why = append(why, fmt.Sprintf("last touch %.0f days, last EBR %.0f days, %d exec sponsors", f.lastTouch, f.lastEBR, f.activeExecs))
	}
	if f.ownOutages > 0 || f.outages30 > 0 {
		why = append(why, fmt.Sprintf("%d outages of its own", f.ownOutages))
	}
	if f.champions != 1 || f.activeChampions != 1 {
		why = append(why, fmt.Sprintf("%d champions, %d active", f.champions, f.activeChampions))
	}
	return strings.Join(why, "; ")
}

func TestDemoPyramid(t *testing.T) {
	tests := []struct {
		accounts int
		seed     uint64
	}{
		{1000, 1},
		{1000, 2},
		{1013, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d accounts seed %d", tt.accounts, tt.seed), func(t *testing.T) {
			d := NewDemo(DemoOptions{Accounts: tt.accounts, Seed: tt.seed, Now: demoTestNow})
			var b bytes.Buffer
			if err := d.WriteCSV("accounts", &b); err != nil {
				t.Fatal(err)
			}
			tb := parseDemo(t, map[string][]byte{"accounts": b.Bytes()})["accounts"]
			count := map[Tier]int{}
			arr := map[Tier][2]float64{}
			for _, r := range tb.rows {
				tier := Tier(tb.get(r, "tier"))
				count[tier]++
				v, err := strconv.ParseFloat(tb.get(r, "arr"), 64)
				if err != nil {
					t.Fatal(err)
				}
				mm, ok := arr[tier]
				if !ok {
					mm = [2]float64{v, v}
				}
				arr[tier] = [2]float64{math.Min(mm[0], v), math.Max(mm[1], v)}
			}
			n := float64(len(tb.rows))
			want := map[Tier]struct{ share, lo, hi float64 }{
				TierHigh: {0.05, 250_000, 1_500_000},
				TierLow:  {0.25, 20_000, 250_000},
				TierTech: {0.70, 600, 20_000},
			}
			for tier, w := range want {
				if got := float64(count[tier]) / n; math.Abs(got-w.share) > 0.01 {
					t.Errorf("%s touch: %.3f of accounts, want about %.2f", tier, got, w.share)
				}
				if mm := arr[tier]; mm[0] < w.lo || mm[1] > w.hi {
					t.Errorf("%s touch ARR %v..%v, want within %v..%v", tier, mm[0], mm[1], w.lo, w.hi)
				}
			}
		})
	}
}

func TestDemoRiskShares(t *testing.T) {
	for _, n := range []int{50, 51, 66, 200, 1000} {
		t.Run(fmt.Sprint(n, " accounts"), func(t *testing.T) {
			d := NewDemo(DemoOptions{Accounts: n, Seed: uint64(n), Now: demoTestNow})
			l := d.newLayout()
			count := map[DemoRisk]int{}
			for i := range n {
				s := l.slot(i)
				count[s.risk]++
				if s.risk == DemoRiskNoTouch && s.tier == TierTech {
					t.Errorf("account %d: no_touch planted on tech touch", i)
				}
			}
			for _, r := range DemoRisks() {
				share := float64(count[r]) / float64(n)
				if count[r] < 1 || (n >= 1000 && math.Abs(share-0.03) > 0.005) {
					t.Errorf("%s: %d accounts (%.3f), want at least 1 and about 3%%", r, count[r], share)
				}
			}
		})
	}
}

func TestDemoSampleAccounts(t *testing.T) {
	d := NewDemo(DemoOptions{Seed: 42, Now: demoTestNow})
	var b bytes.Buffer
	if err := d.WriteCSV("accounts", &b); err != nil {
		t.Fatal(err)
	}
	tb := parseDemo(t, map[string][]byte{"accounts": b.Bytes()})["accounts"]
	risks := d.Risks()
	tests := []struct {
		id, name, domain, tier string
		risks                  []DemoRisk
	}{
		{"ACC-000001", "ACME Corp.", "acme.example", "high", nil},
		{"ACC-000002", "Globex Inc.", "globex.example", "low", demoPlanted(DemoRiskRenewalAtRisk)},
		{"ACC-000003", "Initech LLC", "initech.example", "low", []DemoRisk{DemoRiskTicketSpike}},
	}
	for k, tt := range tests {
		r := tb.rows[k]
		got := []string{tb.get(r, "external_id"), tb.get(r, "name"), tb.get(r, "domain"), tb.get(r, "tier")}
		if diff := cmp.Diff([]string{tt.id, tt.name, tt.domain, tt.tier}, got); diff != "" {
			t.Errorf("account %d (-want +got):\n%s", k+1, diff)
		}
		if diff := cmp.Diff(tt.risks, risks[tt.id]); diff != "" {
			t.Errorf("Risks()[%s] (-want +got):\n%s", tt.id, diff)
		}
	}
	if h := d.Healthy(); len(h) == 0 || h[0] != "ACC-000001" {
		t.Errorf("Healthy() starts %v, want ACC-000001", h[:min(3, len(h))])
	}
}

// TestDemoUniqueAtScale checks names, domains and the team's ids and
// emails stay unique in a book of 100,000 accounts.
func TestDemoUniqueAtScale(t *testing.T) {
	d := NewDemo(DemoOptions{Accounts: 100_000, Seed: 5, Now: demoTestNow})
	names, domains := map[string]bool{}, map[string]bool{}
	for i := range d.n {
		name, domain := d.names.base(i)
		if names[name] || domains[domain] {
			t.Fatalf("account %d: name %q or domain %q repeats", i, name, domain)
		}
		names[name], domains[domain] = true, true
	}
	ids, emails := map[string]bool{}, map[string]bool{}
	for k := range d.staff.total() {
		u := d.user(k)
		if ids[u.id] || emails[u.email] {
			t.Fatalf("user %d: id %q or email %q repeats", k, u.id, u.email)
		}
		ids[u.id], emails[u.email] = true, true
	}
	t.Logf("%d users for %d accounts", d.staff.total(), d.n)
}

// BenchmarkDemoUsage writes the usage file of 1,000 accounts.
func BenchmarkDemoUsage(b *testing.B) {
	d := NewDemo(DemoOptions{Accounts: 1000, Seed: 1, Now: demoTestNow})
	var cw countingWriter
	if err := d.WriteCSV("usage", &cw); err != nil {
		b.Fatal(err)
	}
	rows := cw.lines - 1
	b.ResetTimer()
	for range b.N {
		if err := d.WriteCSV("usage", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

type countingWriter struct{ lines int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}
