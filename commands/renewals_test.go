package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/slack-go/slack"
)

func renewalsDate(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// renewalsGoldenNames are the accounts of the golden reports.
var renewalsGoldenNames = [...]string{
	"Acme Corp", "R&D <Labs> <!here>", "Globex International", "Initech", "Umbrella Health",
	"Soylent GmbH", "Stark Industries", "Wayne Enterprises", "Tyrell Corp", "Cyberdyne Systems",
	"Hooli", "Vandelay Industries", "Pied Piper", "Massive Dynamic", "Oscorp",
	"Wonka Industries", "Aperture Science", "Black Mesa", "Duff Beverages", "Gringotts Bank",
}

// renewalsGoldenContacts are their renewal contacts: name and title.
var renewalsGoldenContacts = [...][2]string{
	{"Dana Scully", "VP Finance"}, {"Fox Mulder", ""}, {"Jo <Admin> Smith", "Head of Procurement"},
	{"Ana Lima", "CFO"}, {"Kenji Sato", "IT Director"},
}

// renewalsGoldenReport is a report of n open renewals in the 90 days
// after today, by date then name, varied as a real book is: bands (and
// no score), auto-renewal, renewal contacts and their absence. It keeps
// the page [offset, offset+limit).
func renewalsGoldenReport(today time.Time, n, offset, limit int) csbot.RenewalReport {
	bands := []csbot.Band{csbot.BandGreen, csbot.BandGreen, csbot.BandYellow, csbot.BandRed, "", csbot.BandGreen}
	suffixes := []string{"", " EMEA", " APAC", " LATAM", " Japan"}
	all := make([]csbot.RenewalLine, n)
	for i := range n {
		id := int64(i + 1)
		date := today.AddDate(0, 0, 1+i*90/n)
		arr := csbot.Cents((i*7919%500 + 5) * 1000 * 100)
		l := csbot.RenewalLine{
			Renewal: csbot.Renewal{ID: id, AccountID: id, RenewalDate: date, ARR: arr, AutoRenew: i%3 == 0, Status: csbot.RenewalOpen},
			Account: csbot.Account{ID: id, Name: renewalsGoldenNames[i%len(renewalsGoldenNames)] + suffixes[i/len(renewalsGoldenNames)%len(suffixes)], ARR: arr},
		}
		if b := bands[i%len(bands)]; b != "" {
			l.Health = csbot.HealthSnapshot{Day: today, Score: map[csbot.Band]int{csbot.BandGreen: 82, csbot.BandYellow: 55, csbot.BandRed: 31}[b], Band: b}
		}
		if i%4 != 3 {
			c := renewalsGoldenContacts[i%len(renewalsGoldenContacts)]
			l.Contact = csbot.Contact{ID: id, AccountID: id, Name: c[0], Title: c[1], Role: csbot.RoleRenewal, Active: true}
		}
		all[i] = l
	}
	// By date, then account name, as the store orders them.
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.Renewal.RenewalDate.Equal(b.Renewal.RenewalDate) {
			return a.Renewal.RenewalDate.Before(b.Renewal.RenewalDate)
		}
		return a.Account.Name < b.Account.Name
	})
	return commands.RenewalsTestTotals(all, offset, limit)
}

// renewalsMoreButton returns the "Show more" button of a reply, nil when
// there is none.
func renewalsMoreButton(rep bot.Reply) *slack.ButtonBlockElement {
	for _, b := range rep.Blocks {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, e := range a.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == "renewals_more" {
					return btn
				}
			}
		}
	}
	return nil
}

// renewalsLines counts the renewals a page shows.
func renewalsLines(rep bot.Reply) int {
	n := 0
	for _, b := range rep.Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil &&
			(strings.Contains(s.Text.Text, "\nRenewal contact: ") || strings.Contains(s.Text.Text, "\n⚠️ no renewal contact on file")) {
			n++
		}
	}
	return n
}

// renewalsBlocksText is every text of a reply's blocks, one after
// another.
func renewalsBlocksText(t *testing.T, rep bot.Reply) string {
	t.Helper()
	raw, err := json.Marshal(rep.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				b.WriteString(s + "\n\n")
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(tree)
	return b.String()
}

func TestRenewalsGoldenPagedReport(t *testing.T) {
	today := renewalsDate(2027, 1, 10)
	q := commands.RenewalsTestQuery{Scope: "mine", From: today, To: today.AddDate(0, 0, 90), FiscalYearStart: time.January}
	size := commands.RenewalsTestPageSize(q.From, q.To)
	if size != 40 {
		t.Fatalf("page size for 90 days over four months = %d, want 40", size)
	}
	const total = 95

	first := commands.RenewalsTestPage(q, renewalsGoldenReport(today, total, 0, size), today)
	checkGoldenReply(t, "renewals_paged_first", first)
	if n := renewalsLines(first); n != size {
		t.Errorf("first page shows %d renewals, want %d", n, size)
	}
	if n := len(first.Blocks); n > bot.MaxMessageBlocks-2 {
		t.Errorf("first page has %d blocks, want room to spare under %d", n, bot.MaxMessageBlocks)
	}
	btn := renewalsMoreButton(first)
	if btn == nil {
		t.Fatal("first page has no Show more button")
	}
	if off, ok := commands.RenewalsTestMoreOffset(btn.Value); !ok || off != size {
		t.Errorf("Show more on the first page asks for offset %d, %v; want %d", off, ok, size)
	}
	if first.Public || first.Visibility != bot.Ephemeral {
		t.Errorf("a report must be ephemeral and internal: Public=%v Visibility=%v", first.Public, first.Visibility)
	}
	if s := renewalsBlocksText(t, first); strings.Contains(s, "<!here>") || strings.Contains(s, "<Labs>") {
		t.Error("an account's name reached Slack unescaped")
	}

	q.Offset = size
	second := commands.RenewalsTestPage(q, renewalsGoldenReport(today, total, size, size), today)
	checkGoldenReply(t, "renewals_paged_second", second)
	btn = renewalsMoreButton(second)
	if btn == nil {
		t.Fatal("second page has no Show more button")
	}
	if off, ok := commands.RenewalsTestMoreOffset(btn.Value); !ok || off != 2*size {
		t.Errorf("Show more on the second page asks for offset %d, %v; want %d", off, ok, 2*size)
	}

	q.Offset = 2 * size
	last := commands.RenewalsTestPage(q, renewalsGoldenReport(today, total, 2*size, size), today)
	if n := renewalsLines(last); n != total-2*size {
		t.Errorf("last page shows %d renewals, want %d", n, total-2*size)
	}
	if renewalsMoreButton(last) != nil {
		t.Error("the last page has a Show more button")
	}
	if err := bot.CheckLimits(bot.SurfaceMessage, last.Blocks, last.Text); err != nil {
		t.Errorf("last page over Slack's limits: %v", err)
	}
}

func TestRenewalsGoldenTeamQuarter(t *testing.T) {
	// A February fiscal year: FY2027 Q1 is Feb 1 - Apr 30, 2026.
	today := renewalsDate(2026, 2, 10)
	q := commands.RenewalsTestQuery{Scope: "team", From: renewalsDate(2026, 2, 1), To: renewalsDate(2026, 4, 30), Quarter: true,
		AtRisk: true, FiscalYearStart: time.February}
	rep := renewalsGoldenReport(renewalsDate(2026, 1, 31), 6, 0, 40)
	for i := range rep.Lines { // at-risk only, as the store would select
		rep.Lines[i].Health = csbot.HealthSnapshot{Day: today, Score: 35 + 5*i, Band: csbot.BandRed}
		if i%2 == 1 {
			rep.Lines[i].Health.Band = csbot.BandYellow
		}
	}
	out := commands.RenewalsTestPage(q, rep, today)
	checkGoldenReply(t, "renewals_team_quarter", out)
	h := out.Blocks[0].(*slack.HeaderBlock).Text.Text
	if h != "Team at-risk renewals, FY2027 Q1 (Feb 1 - Apr 30, 2026)" {
		t.Errorf("header = %q", h)
	}
}

func TestRenewalsGoldenEmpty(t *testing.T) {
	today := renewalsDate(2027, 1, 10)
	q := commands.RenewalsTestQuery{Scope: "mine", From: today, To: today.AddDate(0, 0, 30), AtRisk: true, FiscalYearStart: time.January}
	out := commands.RenewalsTestPage(q, csbot.RenewalReport{}, today)
	checkGoldenReply(t, "renewals_empty", out)
	if !strings.Contains(out.Text, "No at-risk renewals for your accounts in the next 30 days") {
		t.Errorf("empty report says %q", out.Text)
	}
	if renewalsMoreButton(out) != nil {
		t.Error("an empty report has a Show more button")
	}
}

func TestRenewalsGoldenHistory(t *testing.T) {
	today := renewalsDate(2026, 11, 2)
	a := csbot.Account{ID: 3, ExternalID: "ACC-3", Name: "Globex <International>", ARR: 14_000_000}
	hist := []csbot.Renewal{ // latest first, as the store gives them
		{ID: 15, AccountID: 3, RenewalDate: renewalsDate(2027, 3, 1), ARR: 14_000_000, AutoRenew: true, Status: csbot.RenewalOpen},
		{ID: 14, AccountID: 3, RenewalDate: renewalsDate(2026, 3, 1), ARR: 14_000_000, AutoRenew: true, Status: csbot.RenewalExpanded, OutcomeReason: "Added the analytics module & 40 seats"},
		{ID: 13, AccountID: 3, RenewalDate: renewalsDate(2025, 3, 1), ARR: 9_000_000, Status: csbot.RenewalDownsell, OutcomeReason: "Cut seats after a reorg"},
		{ID: 12, AccountID: 3, RenewalDate: renewalsDate(2024, 3, 1), ARR: 12_000_000, Status: csbot.RenewalRenewed},
		{ID: 11, AccountID: 3, RenewalDate: renewalsDate(2023, 3, 1), ARR: 12_000_000, Status: csbot.RenewalRenewed},
	}
	out := commands.RenewalsTestHistory(a, hist, today)
	checkGoldenReply(t, "renewals_history", out)
	s := renewalsBlocksText(t, out)
	for _, want := range []string{"in 119 days", "(+$50k, +56%)", "(-$30k, -25%)", "(first term on file)", "&amp; 40 seats"} {
		if !strings.Contains(s, want) {
			t.Errorf("history does not show %q", want)
		}
	}
}

// renewalsRun runs /renewals with text as actor.
func renewalsRun(ctx context.Context, t *testing.T, c *commands.Commands, actor bot.Actor, text string) bot.Reply {
	t.Helper()
	fn := c.Command("/renewals")
	if fn == nil {
		t.Fatal("no /renewals handler")
	}
	rep, err := fn(ctx, bot.CommandRequest{
		Request: bot.Request{Actor: actor, UserID: actor.SlackID, ChannelID: "C0TEST"},
		Command: "/renewals", Text: text,
	})
	if err != nil {
		t.Fatalf("/renewals %s: %v", text, err)
	}
	return rep
}

func TestRenewalsGoldenUsage(t *testing.T) {
	ctx := context.Background()
	// No store: a usage reply is made before any lookup.
	c := commands.New(commands.Config{FiscalYearStart: time.February})
	actor := bot.Actor{SlackID: "U0SAM", Known: true, Role: csbot.UserCSM, Name: "Sam"}
	out := renewalsRun(ctx, t, c, actor, "team all 30")
	checkGoldenReply(t, "renewals_usage", out)
	if !out.Public || out.Visibility != bot.Ephemeral {
		t.Errorf("usage is Public=%v Visibility=%v; want a public ephemeral hint", out.Public, out.Visibility)
	}
	for _, tt := range []struct{ text, want string }{
		{"help", "*/renewals* lists open renewals"},
		{"30 q1", "two windows"},
		{"1000", "1 to 730 days"},
		{"q7", "four quarters"},
		{"<#C0GENERAL|general>", "doesn't take a channel"},
		{"<!channel>", "group mentions"},
		{strings.Repeat("acme ", 200), "reads at most 500"},
	} {
		out := renewalsRun(ctx, t, c, actor, tt.text)
		if !strings.Contains(out.Text, tt.want) || !out.Public || len(out.Blocks) == 0 {
			t.Errorf("/renewals %.40s = %q, want a usage hint saying %q", tt.text, out.Text, tt.want)
		}
		if err := bot.CheckLimits(bot.SurfaceMessage, out.Blocks, out.Text); err != nil {
			t.Errorf("/renewals %.40s: over Slack's limits: %v", tt.text, err)
		}
		if !strings.Contains(out.Text, "February") {
			t.Errorf("/renewals %.40s: the usage does not name the fiscal year's first month", tt.text)
		}
	}
}

// The store is what /renewals reads.
var _ commands.Store = (*store.Store)(nil)

// renewalsNow is the fixed clock of the handler tests: Tuesday, March 10,
// 2026, 15:00 UTC, the same day everywhere the test users live.
func renewalsNow() time.Time { return time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC) }

// renewalsUsersCSV is the team: Mia manages Sam, Kim and Alex; Max
// manages Lee; Ada is an admin.
const renewalsUsersCSV = `slack_id,role,name,email,manager_slack_id,timezone
U0MIA,manager,Mia Manager,mia@vendor.example,,Europe/Berlin
U0MAX,manager,Max Lead,max@vendor.example,,
U0SAM,csm,Sam CSM,sam@vendor.example,U0MIA,America/New_York
U0KIM,csm,Kim CSM,kim@vendor.example,U0MIA,
U0ALEX,sales,Alex AE,alex@vendor.example,U0MIA,
U0LEE,csm,Lee Other,lee@vendor.example,U0MAX,
U0ADA,admin,Ada Admin,ada@vendor.example,,
`

// renewalsAccountsCSV: Ghost Co's CSM is a Slack id csbot's users do not
// know.
const renewalsAccountsCSV = `external_id,name,tier,arr,domain,stage,csm,ae
A1,Acme Corp,high,120000,acme.example,renewing,U0SAM,U0ALEX
A2,Globex International,low,80000,globex.example,adopting,U0SAM,
A3,Initech,tech,5000,initech.example,adopting,U0KIM,
A4,R&D <Labs>,high,300000,rd.example,expanding,U0LEE,
A5,Umbrella Health,low,40000,umbrella.example,adopting,U0KIM,U0ALEX
A6,Ghost Co,tech,1000,ghost.example,adopting,U0GHOST,
A7,Tema Systems,tech,2000,tema.example,adopting,U0LEE,
`

const renewalsContactsCSV = `account_external_id,name,role,email,title
A1,Dana Scully,renewal,dana@acme.example,VP Finance
A3,Ken Sato,renewal,ken@initech.example,
A4,Fox Mulder,champion,fox@rd.example,
`

// renewalsRenewalsCSV: from March 10, 2026 the next 90 days (to June 8)
// hold Initech (Mar 20), Acme (Apr 1), Ghost Co (Apr 15) and Globex
// (May 15).
const renewalsRenewalsCSV = `external_id,account_external_id,renewal_date,arr,start_date,auto_renew,status,outcome_reason
R1a,A1,2024-04-01,100000,2023-04-01,false,renewed,
R1b,A1,2025-04-01,120000,2024-04-01,true,expanded,Added 40 seats & the analytics module
R1c,A1,2026-04-01,120000,2025-04-01,true,open,
R2,A2,2026-05-15,80000,,false,open,
R3,A3,2026-03-20,5000,,true,open,
R4,A4,2026-06-30,300000,,false,open,
R5,A5,2026-09-01,40000,,false,open,
R6,A6,2026-04-15,1000,,false,open,
R7,A7,2026-08-01,2000,,false,open,
`

// renewalsRegistrar records the handlers commands register.
type renewalsRegistrar struct {
	commands map[string]bot.CommandFunc
	actions  map[string]bot.ActionFunc
}

func (r *renewalsRegistrar) HandleCommand(name string, fn bot.CommandFunc) { r.commands[name] = fn }
func (r *renewalsRegistrar) HandleAction(prefix string, fn bot.ActionFunc) { r.actions[prefix] = fn }
func (r *renewalsRegistrar) HandleView(string, bot.ViewHandler)            {}
func (r *renewalsRegistrar) HandleEvent(string, bot.EventFunc)             {}

// renewalsEnv is a store with the team's book and the commands on it.
type renewalsEnv struct {
	s   *store.Store
	c   *commands.Commands
	reg *renewalsRegistrar
}

// newRenewalsEnv returns commands on a fresh database holding the CSV
// files (users, accounts, contacts, renewals, ...) given by kind, read on
// renewalsNow with a fiscal year starting in fyStart.
func newRenewalsEnv(ctx context.Context, t *testing.T, fyStart time.Month, files ...[2]string) *renewalsEnv {
	t.Helper()
	s, err := store.Open(ctx, pgtest.NewDatabase(ctx, t), nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(s.Close)
	for _, f := range files {
		kind, err := csbot.LookupImportKind(f[0])
		if err != nil {
			t.Fatalf("LookupImportKind(%q): %v", f[0], err)
		}
		if _, err := s.Import(ctx, kind, strings.NewReader(f[1])); err != nil {
			t.Fatalf("import %s: %v", f[0], err)
		}
	}
	c := commands.New(commands.Config{Store: s, Policy: csbot.DefaultPolicy(), FiscalYearStart: fyStart, Now: renewalsNow})
	reg := &renewalsRegistrar{commands: map[string]bot.CommandFunc{}, actions: map[string]bot.ActionFunc{}}
	c.Register(reg)
	return &renewalsEnv{s: s, c: c, reg: reg}
}

// newRenewalsTeamEnv is newRenewalsEnv with the team's book.
func newRenewalsTeamEnv(ctx context.Context, t *testing.T, fyStart time.Month) *renewalsEnv {
	t.Helper()
	return newRenewalsEnv(ctx, t, fyStart, [2]string{"users", renewalsUsersCSV}, [2]string{"accounts", renewalsAccountsCSV},
		[2]string{"contacts", renewalsContactsCSV}, [2]string{"renewals", renewalsRenewalsCSV})
}

// actor returns the person with Slack id id as the runtime resolves them.
func (e *renewalsEnv) actor(ctx context.Context, t *testing.T, id string) bot.Actor {
	t.Helper()
	a, err := bot.ResolveActor(ctx, e.s, id)
	if err != nil {
		t.Fatalf("ResolveActor(%s): %v", id, err)
	}
	return a
}

// run runs /renewals text as the person with Slack id id.
func (e *renewalsEnv) run(ctx context.Context, t *testing.T, id, text string) bot.Reply {
	t.Helper()
	rep := renewalsRun(ctx, t, e.c, e.actor(ctx, t, id), text)
	if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
		t.Errorf("/renewals %s: over Slack's limits: %v", text, err)
	}
	return rep
}

// click clicks a "Show more" button with value as the person with Slack
// id id, through the registered action handler.
func (e *renewalsEnv) click(ctx context.Context, t *testing.T, id, value string) bot.Reply {
	t.Helper()
	fn := e.reg.actions["renewals_more"]
	if fn == nil {
		t.Fatal("no renewals_more action registered")
	}
	a := e.actor(ctx, t, id)
	rep, err := fn(ctx, bot.ActionRequest{
		Request: bot.Request{Actor: a, UserID: id, ChannelID: "C0TEST"},
		Action:  slack.BlockAction{ActionID: "renewals_more", Value: value},
	})
	if err != nil {
		t.Fatalf("click Show more %q: %v", value, err)
	}
	if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
		t.Errorf("Show more: over Slack's limits: %v", err)
	}
	return rep
}

// setBand stores a health snapshot of the account on renewalsNow.
func (e *renewalsEnv) setBand(ctx context.Context, t *testing.T, extID string, score int, band csbot.Band) {
	t.Helper()
	a, err := e.s.AccountByExternalID(ctx, extID)
	if err != nil {
		t.Fatalf("account %s: %v", extID, err)
	}
	if _, err := e.s.SaveScores(ctx, []csbot.HealthScore{{AccountID: a.ID, At: renewalsNow(), Score: score, Band: band, Coverage: 100}}); err != nil {
		t.Fatalf("SaveScores: %v", err)
	}
}

// renewalsAccountsShown lists the accounts a report page shows, in order.
func renewalsAccountsShown(rep bot.Reply) []string {
	var names []string
	for _, b := range rep.Blocks {
		s, ok := b.(*slack.SectionBlock)
		if !ok || s.Text == nil || !(strings.Contains(s.Text.Text, "\nRenewal contact: ") || strings.Contains(s.Text.Text, "\n⚠️ no renewal contact on file")) {
			continue
		}
		_, rest, _ := strings.Cut(s.Text.Text, "*")
		name, _, _ := strings.Cut(rest, "*")
		names = append(names, name)
	}
	return names
}

// wantShown checks the accounts a report shows.
func wantShown(t *testing.T, what string, rep bot.Reply, want ...string) {
	t.Helper()
	got := renewalsAccountsShown(rep)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s shows %q, want %q (text %q)", what, got, want, rep.Text)
	}
	if rep.Public || rep.Visibility != bot.Ephemeral {
		t.Errorf("%s: a report must be ephemeral and internal (Public=%v)", what, rep.Public)
	}
}

// renewalsHeader is a reply's header text, "" when it has none.
func renewalsHeader(rep bot.Reply) string {
	if len(rep.Blocks) > 0 {
		if h, ok := rep.Blocks[0].(*slack.HeaderBlock); ok {
			return h.Text.Text
		}
	}
	return ""
}

func TestRenewalsScopes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newRenewalsTeamEnv(ctx, t, time.January)

	rep := e.run(ctx, t, "U0SAM", "")
	wantShown(t, "Sam's /renewals", rep, "Acme Corp", "Globex International")
	if h := renewalsHeader(rep); h != "Your renewals, next 90 days" {
		t.Errorf("header = %q", h)
	}
	if !strings.Contains(rep.Text, "2 renewals, $200k ARR; 1 with no renewal contact on file") {
		t.Errorf("Sam's fallback text = %q", rep.Text)
	}
	s := renewalsBlocksText(t, rep)
	for _, want := range []string{"Renewal contact: Dana Scully, VP Finance", "*Globex International* · *$80k* · May 15, 2026, in 66 days\n⚠️ no renewal contact on file",
		"*April 2026* · 1 renewal · $120k", "*May 2026* · 1 renewal · $80k", "🔁 auto-renews"} {
		if !strings.Contains(s, want) {
			t.Errorf("Sam's report does not show %q", want)
		}
	}

	// An account executive's are the accounts they sell.
	wantShown(t, "Alex's /renewals 365", e.run(ctx, t, "U0ALEX", "365"), "Acme Corp", "Umbrella Health")
	wantShown(t, "Kim's /renewals 15", e.run(ctx, t, "U0KIM", "15"), "Initech")
	wantShown(t, "Kim's /renewals 15 days", e.run(ctx, t, "U0KIM", "15 days"), "Initech")

	// Mia manages Sam, Kim and Alex, not Lee.
	rep = e.run(ctx, t, "U0MIA", "team 180")
	wantShown(t, "Mia's /renewals team 180", rep, "Initech", "Acme Corp", "Globex International", "Umbrella Health")
	if h := renewalsHeader(rep); h != "Team renewals, next 180 days" {
		t.Errorf("header = %q", h)
	}
	wantShown(t, "Max's /renewals team 180", e.run(ctx, t, "U0MAX", "180 team"), "R&amp;D &lt;Labs&gt;", "Tema Systems")
	// An admin with no one reporting gets their own, with a note.
	rep = e.run(ctx, t, "U0ADA", "team")
	if !strings.Contains(renewalsBlocksText(t, rep), "No one reports to you") || renewalsHeader(rep) != "Team renewals, next 90 days" {
		t.Errorf("admin's /renewals team = %q %q", renewalsHeader(rep), rep.Text)
	}

	// A CSM may not ask for a team.
	rep = e.run(ctx, t, "U0SAM", "team")
	if !rep.Public || !strings.Contains(rep.Text, "for managers and admins") || len(renewalsAccountsShown(rep)) != 0 {
		t.Errorf("Sam's /renewals team = %q", rep.Text)
	}

	// A manager without accounts of their own gets the team's.
	rep = e.run(ctx, t, "U0MIA", "")
	wantShown(t, "Mia's /renewals", rep, "Initech", "Acme Corp", "Globex International")
	if !strings.Contains(renewalsBlocksText(t, rep), "You have no accounts of your own") || renewalsHeader(rep) != "Team renewals, next 90 days" {
		t.Errorf("Mia's /renewals = %q %q", renewalsHeader(rep), rep.Text)
	}

	// Someone else's.
	rep = e.run(ctx, t, "U0SAM", "<@U0KIM|kim> 365")
	wantShown(t, "Sam's /renewals @kim 365", rep, "Initech", "Umbrella Health")
	if h := renewalsHeader(rep); h != "Kim CSM's renewals, next 365 days" {
		t.Errorf("header = %q", h)
	}
	wantShown(t, "Sam's /renewals @sam", e.run(ctx, t, "U0SAM", "<@U0SAM|sam>"), "Acme Corp", "Globex International")
	// Someone csbot's users do not know, named on an account.
	rep = e.run(ctx, t, "U0SAM", "<@U0GHOST|ghost>")
	wantShown(t, "/renewals @ghost", rep, "Ghost Co")
	if !strings.Contains(renewalsBlocksText(t, rep), "isn't in csbot's list of users") || renewalsHeader(rep) != "ghost's renewals, next 90 days" {
		t.Errorf("/renewals @ghost = %q %q", renewalsHeader(rep), rep.Text)
	}
	// Someone no one knows.
	rep = e.run(ctx, t, "U0SAM", "<@U0NOBODY|nobody>")
	if !strings.Contains(rep.Text, "csbot doesn't know <@U0NOBODY>") || len(renewalsAccountsShown(rep)) != 0 {
		t.Errorf("/renewals @nobody = %q", rep.Text)
	}

	// Everyone's, even for a member csbot does not know.
	wantShown(t, "/renewals all", e.run(ctx, t, "U0STRANGER", "all"), "Initech", "Acme Corp", "Ghost Co", "Globex International")
	rep = e.run(ctx, t, "U0STRANGER", "")
	if !strings.Contains(rep.Text, "csbot doesn't know you yet") || !strings.Contains(rep.Text, "/renewals all") || len(rep.Blocks) > 0 && len(renewalsAccountsShown(rep)) > 0 {
		t.Errorf("a stranger's /renewals = %q", rep.Text)
	}
}

func TestRenewalsAtRiskAndEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newRenewalsTeamEnv(ctx, t, time.January)
	e.setBand(ctx, t, "A1", 30, csbot.BandRed)
	e.setBand(ctx, t, "A2", 85, csbot.BandGreen)
	e.setBand(ctx, t, "A3", 55, csbot.BandYellow)

	rep := e.run(ctx, t, "U0ADA", "all at-risk")
	wantShown(t, "/renewals all at-risk", rep, "Initech", "Acme Corp")
	if h := renewalsHeader(rep); h != "All at-risk renewals, next 90 days" {
		t.Errorf("header = %q", h)
	}
	s := renewalsBlocksText(t, rep)
	if !strings.Contains(s, "🔴 *Acme Corp*") || !strings.Contains(s, "🟡 *Initech*") {
		t.Errorf("the bands are not shown: %s", s)
	}
	wantShown(t, "/renewals risk mine", e.run(ctx, t, "U0SAM", "risk mine"), "Acme Corp")

	// Not at risk: the green one and the unscored ones show without the
	// filter, with the count of those at risk.
	rep = e.run(ctx, t, "U0ADA", "all")
	wantShown(t, "/renewals all", rep, "Initech", "Acme Corp", "Ghost Co", "Globex International")
	if s := renewalsBlocksText(t, rep); !strings.Contains(s, "· 2 at risk ·") || !strings.Contains(s, "⚪ *Ghost Co*") {
		t.Errorf("/renewals all does not count 2 at risk: %s", s)
	}

	// Nothing: a friendly line with what to try.
	rep = e.run(ctx, t, "U0KIM", "at-risk 5")
	if len(renewalsAccountsShown(rep)) != 0 || !strings.Contains(rep.Text, "No at-risk renewals for your accounts in the next 5 days") {
		t.Errorf("Kim's /renewals at-risk 5 = %q", rep.Text)
	}
	if s := renewalsBlocksText(t, rep); !strings.Contains(s, "/renewals 180") || !strings.Contains(s, "/renewals all") || renewalsMoreButton(rep) != nil {
		t.Errorf("the empty report suggests nothing: %s", s)
	}
}

func TestRenewalsFiscalQuarters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// February start: March 10, 2026 is in FY2027 Q1 (Feb 1 - Apr 30, 2026).
	e := newRenewalsTeamEnv(ctx, t, time.February)
	tests := []struct {
		text, header string
		shown        []string
	}{
		{"all q1", "All renewals, FY2027 Q1 (Feb 1 - Apr 30, 2026)", []string{"Initech", "Acme Corp", "Ghost Co"}},
		{"all this quarter", "All renewals, FY2027 Q1 (Feb 1 - Apr 30, 2026)", []string{"Initech", "Acme Corp", "Ghost Co"}},
		{"all next quarter", "All renewals, FY2027 Q2 (May 1 - Jul 31, 2026)", []string{"Globex International", "R&amp;D &lt;Labs&gt;"}},
		{"q2 all", "All renewals, FY2027 Q2 (May 1 - Jul 31, 2026)", []string{"Globex International", "R&amp;D &lt;Labs&gt;"}},
		{"all 2027-Q3", "All renewals, FY2027 Q3 (Aug 1 - Oct 31, 2026)", []string{"Tema Systems", "Umbrella Health"}},
		{"FY27 Q3 all", "All renewals, FY2027 Q3 (Aug 1 - Oct 31, 2026)", []string{"Tema Systems", "Umbrella Health"}},
		{"all q3 fy2027", "All renewals, FY2027 Q3 (Aug 1 - Oct 31, 2026)", []string{"Tema Systems", "Umbrella Health"}},
		{"all 2026-Q4", "All renewals, FY2026 Q4 (Nov 1, 2025 - Jan 31, 2026)", nil},
		{"<@U0KIM> q3", "Kim CSM's renewals, FY2027 Q3 (Aug 1 - Oct 31, 2026)", []string{"Umbrella Health"}},
	}
	for _, tt := range tests {
		rep := e.run(ctx, t, "U0SAM", tt.text)
		if h := renewalsHeader(rep); h != tt.header {
			t.Errorf("/renewals %s: header %q, want %q", tt.text, h, tt.header)
		}
		wantShown(t, "/renewals "+tt.text, rep, tt.shown...)
	}
	// With a January start the same q1 is the calendar quarter.
	j := newRenewalsTeamEnv(ctx, t, time.January)
	rep := j.run(ctx, t, "U0SAM", "all q1")
	if h := renewalsHeader(rep); h != "All renewals, FY2026 Q1 (Jan 1 - Mar 31, 2026)" {
		t.Errorf("January start: header %q", h)
	}
	wantShown(t, "/renewals all q1 (January start)", rep, "Initech")
}

// renewalsBookCSV returns the CSV files of a CSM (U0SAM) with n accounts
// renewing over the 90 days after renewalsNow, every fourth without a
// renewal contact.
func renewalsBookCSV(n int) [][2]string {
	var acc, con, ren strings.Builder
	acc.WriteString("external_id,name,tier,arr,csm\n")
	con.WriteString("account_external_id,name,role\n")
	ren.WriteString("external_id,account_external_id,renewal_date,arr,auto_renew\n")
	today := renewalsNow().Truncate(24 * time.Hour)
	for i := range n {
		fmt.Fprintf(&acc, "B%03d,Book Account %03d,low,%d,U0SAM\n", i, i, 1000*(i+1))
		if i%4 != 3 {
			fmt.Fprintf(&con, "B%03d,Contact %03d,renewal\n", i, i)
		}
		fmt.Fprintf(&ren, "RB%03d,B%03d,%s,%d,%v\n", i, i, today.AddDate(0, 0, 1+i*89/n).Format(time.DateOnly), 1000*(i+1), i%2 == 0)
	}
	return [][2]string{{"users", renewalsUsersCSV}, {"accounts", acc.String()}, {"contacts", con.String()}, {"renewals", ren.String()}}
}

func TestRenewalsPagesThroughShowMore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 97
	files := renewalsBookCSV(n)
	e := newRenewalsEnv(ctx, t, time.January, files...)

	seen := map[string]bool{}
	var order []string
	rep := e.run(ctx, t, "U0SAM", "")
	for page := 1; ; page++ {
		names := renewalsAccountsShown(rep)
		if len(names) == 0 {
			t.Fatalf("page %d shows nothing: %q", page, rep.Text)
		}
		if len(rep.Blocks) > bot.MaxMessageBlocks-2 {
			t.Errorf("page %d has %d blocks", page, len(rep.Blocks))
		}
		for _, name := range names {
			if seen[name] {
				t.Errorf("page %d shows %s again", page, name)
			}
			seen[name] = true
			order = append(order, name)
		}
		if !strings.Contains(rep.Text, fmt.Sprintf("%d renewals", n)) {
			t.Errorf("page %d: fallback %q does not count all %d", page, rep.Text, n)
		}
		btn := renewalsMoreButton(rep)
		if btn == nil {
			if page != 3 {
				t.Errorf("the report ended after %d pages, want 3 (40 a page)", page)
			}
			break
		}
		if page == 1 && len(names) != 40 {
			t.Errorf("the first page shows %d renewals, want 40", len(names))
		}
		if len(btn.Value) > 2000 {
			t.Errorf("button value of %d characters", len(btn.Value))
		}
		if page > 5 {
			t.Fatal("the report does not end")
		}
		next := e.click(ctx, t, "U0SAM", btn.Value)
		if next.ReplaceOriginal {
			t.Error("Show more replaces the page; want a new message")
		}
		// Another person clicking a "mine" button sees their own.
		if page == 1 {
			other := e.click(ctx, t, "U0KIM", btn.Value)
			if got := renewalsAccountsShown(other); len(got) > 0 {
				t.Errorf("Kim clicking Sam's Show more sees %q", got)
			}
		}
		rep = next
	}
	if len(order) != n {
		t.Errorf("the pages show %d renewals, want %d", len(order), n)
	}
	for i := range n {
		if want := fmt.Sprintf("Book Account %03d", i); i < len(order) && order[i] != want {
			t.Fatalf("renewal %d is %s, want %s (by date)", i, order[i], want)
		}
	}
}

func TestRenewalsShowMoreChecksTheClicker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	files := renewalsBookCSV(50)
	e := newRenewalsEnv(ctx, t, time.January, files...)

	rep := e.run(ctx, t, "U0MIA", "team")
	btn := renewalsMoreButton(rep)
	if btn == nil {
		t.Fatalf("Mia's team report has no Show more: %q", rep.Text)
	}
	// Sam is not a manager: the team page is refused on click too.
	if got := e.click(ctx, t, "U0SAM", btn.Value); !strings.Contains(got.Text, "for managers and admins") || len(renewalsAccountsShown(got)) > 0 {
		t.Errorf("Sam clicking Mia's team Show more = %q", got.Text)
	}
	// A stranger clicking "mine" is told csbot doesn't know them.
	rep = e.run(ctx, t, "U0SAM", "")
	if got := e.click(ctx, t, "U0STRANGER", renewalsMoreButton(rep).Value); !strings.Contains(got.Text, "csbot doesn't know you yet") {
		t.Errorf("a stranger clicking Show more = %q", got.Text)
	}
	// Values csbot did not make.
	for _, v := range []string{"", "garbage", `{"v":1,"s":"team","f":"2026-03-10","t":"2026-06-08","o":-1}`,
		`{"v":1,"s":"user","u":"<!here>","f":"2026-03-10","t":"2026-06-08","o":40}`, strings.Repeat("x", 3000)} {
		got := e.click(ctx, t, "U0SAM", v)
		if !strings.Contains(got.Text, "that button no longer works") || len(renewalsAccountsShown(got)) > 0 {
			t.Errorf("Show more %.30q = %q", v, got.Text)
		}
	}
	// A page beyond the end (the book shrank since).
	got := e.click(ctx, t, "U0SAM", `{"v":1,"s":"mine","f":"2026-03-10","t":"2026-06-08","o":500}`)
	if !strings.Contains(got.Text, "no more renewals") {
		t.Errorf("Show more past the end = %q", got.Text)
	}
}

func TestRenewalsAccountHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newRenewalsTeamEnv(ctx, t, time.January)

	rep := e.run(ctx, t, "U0KIM", "acme")
	if h := renewalsHeader(rep); h != "Renewals of Acme Corp" {
		t.Fatalf("/renewals acme: header %q, text %q", h, rep.Text)
	}
	s := renewalsBlocksText(t, rep)
	for _, want := range []string{
		"*Next renewal:* Apr 1, 2026, in 22 days · *$120k* · 🔁 auto-renews\n3 terms on file, latest first.",
		"⏳ *Apr 1, 2026* · open, in 22 days · *$120k* (no change) · 🔁 auto-renew",
		"📈 *Apr 1, 2025* · expanded · *$120k* (+$20k, +20%) · 🔁 auto-renew\n_Reason: Added 40 seats &amp; the analytics module_",
		"✅ *Apr 1, 2024* · renewed · *$100k* (first term on file)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("/renewals acme does not show %q:\n%s", want, s)
		}
	}
	if rep.Public {
		t.Error("an account's history is internal, not Public")
	}
	// A quoted keyword is an account's name; so is a word close to a
	// keyword when an account has it.
	if h := renewalsHeader(e.run(ctx, t, "U0KIM", "tema")); h != "Renewals of Tema Systems" {
		t.Errorf("/renewals tema: header %q", h)
	}
	// A word close to a keyword that names no account.
	for text, want := range map[string]string{"al": "did you mean `all`?", "at-rsk": "did you mean `at-risk`?", "taem 30": "did you mean `team`?"} {
		rep := e.run(ctx, t, "U0KIM", text)
		if !strings.Contains(rep.Text, want) || !rep.Public {
			t.Errorf("/renewals %s = %q, want a usage hint with %q", text, rep.Text, want)
		}
	}
	// No such account.
	if rep := e.run(ctx, t, "U0KIM", "nonexistent widgets"); len(renewalsAccountsShown(rep)) > 0 || !strings.Contains(rep.Text, "No account matches") {
		t.Errorf("/renewals nonexistent widgets = %q", rep.Text)
	}
}

// TestRenewalsLeadWithOverdue: an open renewal whose date has passed (it
// lapsed, or was closed without anyone recording it) leads a "next N
// days" report, marked overdue, unless it is older than 90 days; a closed
// one never shows.
func TestRenewalsLeadWithOverdue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// renewalsNow is March 10, 2026.
	const overdue = `external_id,account_external_id,renewal_date,arr,auto_renew,status
O1,A2,2026-02-20,70000,false,open
O2,A3,2025-10-01,4000,false,open
O3,A1,2026-03-01,120000,false,renewed
`
	e := newRenewalsEnv(ctx, t, time.January, [2]string{"users", renewalsUsersCSV}, [2]string{"accounts", renewalsAccountsCSV},
		[2]string{"renewals", renewalsRenewalsCSV}, [2]string{"renewals", overdue})
	rep := e.run(ctx, t, "U0ADA", "all 30")
	shown := renewalsAccountsShown(rep)
	if len(shown) == 0 || shown[0] != "Globex International" {
		t.Fatalf("/renewals all 30 shows %v; want Globex's overdue renewal first", shown)
	}
	s := renewalsBlocksText(t, rep)
	if !strings.Contains(s, "Feb 20, 2026, 18 days ago (overdue)") {
		t.Errorf("the overdue renewal is not marked: %s", s)
	}
	if strings.Contains(s, "Oct 1, 2025") || strings.Contains(s, "Mar 1, 2026") {
		t.Errorf("a renewal overdue for more than 90 days, or a closed one, is shown: %s", s)
	}
}

// TestRenewalsPageFitsWhenOverdueAddsMonths: a page whose overdue
// renewals add month headings the window's own months did not count is
// cut to fit Slack's 50 blocks, and "Show more" goes on from where it was
// cut.
func TestRenewalsPageFitsWhenOverdueAddsMonths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var accounts, renewals strings.Builder
	accounts.WriteString("external_id,name,tier,arr,csm\n")
	renewals.WriteString("external_id,account_external_id,renewal_date,arr,status\n")
	// Three overdue months (Dec, Jan, Feb), then a renewal a day in March
	// and April: a page of 40 lines would touch 5 months, 45 blocks of the
	// 44 a page may use for lines and headings.
	dates := []string{"2025-12-20", "2026-01-20", "2026-02-20"}
	for d := 11; d <= 31; d++ {
		dates = append(dates, fmt.Sprintf("2026-03-%02d", d))
	}
	for d := 1; d <= 30; d++ {
		dates = append(dates, fmt.Sprintf("2026-04-%02d", d))
	}
	for i, d := range dates {
		fmt.Fprintf(&accounts, "F%02d,Fit %02d,tech,1000,U0SAM\n", i, i)
		fmt.Fprintf(&renewals, "FR%02d,F%02d,%s,1000,open\n", i, i, d)
	}
	e := newRenewalsEnv(ctx, t, time.January, [2]string{"users", renewalsUsersCSV},
		[2]string{"accounts", accounts.String()}, [2]string{"renewals", renewals.String()})
	seen := map[string]bool{}
	rep := e.run(ctx, t, "U0SAM", "60")
	if n := len(renewalsAccountsShown(rep)); n != 39 {
		t.Errorf("the first page shows %d renewals, want 39: 40 cut by one to fit", n)
	}
	for page := 1; ; page++ {
		if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		for _, name := range renewalsAccountsShown(rep) {
			if seen[name] {
				t.Errorf("page %d shows %s again", page, name)
			}
			seen[name] = true
		}
		btn := renewalsMoreButton(rep)
		if btn == nil || page > 5 {
			break
		}
		rep = e.click(ctx, t, "U0SAM", btn.Value)
	}
	if len(seen) != len(dates) {
		t.Errorf("the pages show %d renewals in all, want %d", len(seen), len(dates))
	}
}
