package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/slack-go/slack"
)

// homeFiles add to the handler tests' book (healthBook) an onboarding
// person, and a renewal of Initech Europe (Dana's) in 17 days without a
// renewal contact on file.
func homeFiles() map[string]string {
	return map[string]string{
		"users":    "slack_id,role,name,email,manager_slack_id,timezone\nU0ONB1,onboarding,Olive Onboard,olive@vendor.example,,\n",
		"renewals": "external_id,account_external_id,renewal_date,arr,auto_renew,status\nR-INI,INI-EU,2026-12-10,30000,false,open\n",
	}
}

// newHomeEnv loads healthBook, then files (CSV by import kind), into a
// fresh database, scores it at healthNow and registers the commands on it.
func newHomeEnv(ctx context.Context, t *testing.T, files map[string]string) *healthEnv {
	t.Helper()
	s := newHealthStore(ctx, t)
	e2eImport(ctx, t, s, healthBook())
	e2eImport(ctx, t, s, files)
	healthScore(ctx, t, s)
	return newHealthEnvOn(t, s)
}

// homeRescore replaces today's snapshots of Dana's Initech accounts:
// Asia red, Europe yellow, so that her book has every band.
func (e *healthEnv) homeRescore(ctx context.Context, t *testing.T) {
	t.Helper()
	scores := []csbot.HealthScore{
		{AccountID: e.accountID(ctx, t, "INI-AS"), At: healthNow(), Score: 30, Band: csbot.BandRed, Coverage: 50},
		{AccountID: e.accountID(ctx, t, "INI-EU"), At: healthNow(), Score: 60, Band: csbot.BandYellow, Coverage: 50},
	}
	if _, err := e.store.SaveScores(ctx, scores); err != nil {
		t.Fatalf("SaveScores: %v", err)
	}
}

// homeOpen sends app_home_opened for slackID's tab to the handler the
// commands registered, and returns its reply.
func (e *healthEnv) homeOpen(ctx context.Context, t *testing.T, slackID, tab string) bot.Reply {
	t.Helper()
	fn := e.reg.events["app_home_opened"]
	if fn == nil {
		t.Fatal("no handler registered for app_home_opened")
	}
	inner, err := json.Marshal(map[string]string{"type": "app_home_opened", "user": slackID, "channel": "D0HOME1", "tab": tab})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := fn(ctx, bot.EventRequest{Type: "app_home_opened", EventID: "Ev0HOME", UserID: slackID, ChannelID: "D0HOME1", Inner: inner})
	if err != nil {
		t.Fatalf("app_home_opened by %s: %v", slackID, err)
	}
	return rep
}

// homeOf opens slackID's App Home and returns the view published,
// checked against Slack's limits, and its blocks.
func (e *healthEnv) homeOf(ctx context.Context, t *testing.T, slackID string) (slack.HomeTabViewRequest, e2eDoc) {
	t.Helper()
	rep := e.homeOpen(ctx, t, slackID, "home")
	if rep.PublishHome == nil {
		t.Fatalf("app_home_opened by %s published nothing (reply %q)", slackID, rep.Text)
	}
	if rep.Text != "" || len(rep.Blocks) > 0 || rep.OpenView != nil {
		t.Errorf("app_home_opened by %s also replied %q: the home should only be published", slackID, rep.Text)
	}
	return *rep.PublishHome, homeDoc(t, *rep.PublishHome)
}

// homeDoc checks a Home tab against Slack's limits and decodes its
// blocks.
func homeDoc(t *testing.T, v slack.HomeTabViewRequest) e2eDoc {
	t.Helper()
	if v.Type != slack.VTHomeTab {
		t.Errorf("view type %q, want %q", v.Type, slack.VTHomeTab)
	}
	if err := bot.CheckHome(v); err != nil {
		t.Errorf("home over Slack's limits: %v", err)
	}
	raw, err := json.Marshal(v.Blocks.BlockSet)
	if err != nil {
		t.Fatal(err)
	}
	return e2eDecode(t, raw)
}

// homeButtons returns the values of the buttons with actionID, in order.
func homeButtons(d e2eDoc, actionID string) []string {
	var out []string
	for _, b := range d.buttons() {
		if b.ActionID == actionID {
			out = append(out, b.Value)
		}
	}
	return out
}

// homeWants checks that text holds every one of want and none of notWant.
func homeWants(t *testing.T, what, text string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
	for _, w := range notWant {
		if strings.Contains(text, w) {
			t.Errorf("%s shows %q:\n%s", what, w, text)
		}
	}
}

// bandRank orders the band emoji of a line: red, yellow, green, none.
func bandRank(line string) int {
	for i, e := range []string{"🔴", "🟡", "🟢", "⚪"} {
		if strings.HasPrefix(line, e) {
			return i
		}
	}
	return -1
}

func TestHomeCSMListsTheirAccountsWorstFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHomeEnv(ctx, t, homeFiles())
	e.homeRescore(ctx, t)

	_, d := e.homeOf(ctx, t, "U0CSM1")
	if got := d.header(); got != "Hi Dana 👋" {
		t.Errorf("header %q, want the greeting of Dana", got)
	}
	d.button(t, commands.ActionHomeSettingsForTest)

	book, err := e.store.Portfolio(ctx, []string{"U0CSM1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(book) != 3 {
		t.Fatalf("Dana's portfolio has %d accounts, want 3", len(book))
	}
	var want []string
	for _, p := range book {
		want = append(want, fmt.Sprint(p.Account.ID))
	}
	health := homeButtons(d, "pick:health")
	if len(health) < 3 || !slices.Equal(health[:3], want) {
		t.Errorf("Health buttons %v, want Dana's accounts worst first %v, then her renewals", health, want)
	}
	var lines []string
	for _, s := range d.sections() {
		if bandRank(s) >= 0 && strings.Contains(s, "ARR\n") {
			lines = append(lines, s)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d account lines, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for i, name := range []string{"Initech Asia", "Initech Europe", "Acme Corp"} {
		if book[i].Account.Name != name {
			t.Errorf("account %d of Dana's portfolio is %s, want %s: red, yellow, green", i, book[i].Account.Name, name)
		}
	}
	for i := 1; i < len(lines); i++ {
		if bandRank(lines[i]) < bandRank(lines[i-1]) {
			t.Errorf("account %d (%q) is worse than the one before (%q): want worst first", i, lines[i], lines[i-1])
		}
	}
	for i, p := range book {
		if !strings.Contains(lines[i], "*"+p.Account.Name+"*") || !strings.Contains(lines[i], p.Account.ARR.Short()+" ARR") {
			t.Errorf("line %d = %q, want %s with its ARR", i, lines[i], p.Account.Name)
		}
	}
	homeWants(t, "Dana's home", d.text(), []string{
		"Your book", "*3 accounts*, *$170k* ARR, worst health first\n🔴 1 red · 🟡 1 yellow · 🟢 1 green",
		"🔴 *Initech Asia* · 30/100 · $20k ARR\nNo open renewal",
		"Renews Mar 23, 2027 (in 120 days)",
		"Your renewals, next 90 days", "*1 renewal*, *$30k* ARR", "🟡 *Initech Europe* · *$30k* · Dec 10, 2026, in 17 days",
		"⚠️ no renewal contact on file",
		"Open alerts on your accounts", "No open alerts on your accounts.",
		"Every kind of alert reaches you as your team's policy says",
		"`/csbot help`",
	}, []string{"Your team", "Globex", "more: type", "Handoffs waiting"})
}

func TestHomeManagerSeesTeamTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHomeEnv(ctx, t, homeFiles())
	e.homeRescore(ctx, t)

	_, d := e.homeOf(ctx, t, "U0BOSS1")
	if got := d.header(); got != "Hi Walter 👋" {
		t.Errorf("header %q, want the greeting of Walter", got)
	}
	fox, err := e.store.Portfolio(ctx, []string{"U0CSM2"})
	if err != nil || len(fox) != 1 {
		t.Fatalf("Fox's portfolio = %v, %v; want Globex", fox, err)
	}
	glx := fox[0]
	dana, err := e.store.Portfolio(ctx, []string{"U0CSM1"})
	if err != nil {
		t.Fatal(err)
	}
	red, yellow := 0, 0
	var danaRisk, risk csbot.Cents
	count := func(p csbot.PortfolioEntry, mine *csbot.Cents) {
		switch p.Health.Band {
		case csbot.BandRed:
			red++
		case csbot.BandYellow:
			yellow++
		default:
			return
		}
		*mine += p.Account.ARR
		risk += p.Account.ARR
	}
	for _, p := range dana {
		count(p, &danaRisk)
	}
	var foxRisk csbot.Cents
	count(glx, &foxRisk)

	want := []string{
		"Your team", fmt.Sprintf("*2 CSMs*, *4 accounts*, *$420k* ARR · *%s* ARR at risk (red or yellow)", risk.Short()),
		fmt.Sprintf("• *Dana Scully* · 3 accounts · $170k ARR · 🔴 %d · 🟡 %d · %s at risk", homeBand(dana, csbot.BandRed),
			homeBand(dana, csbot.BandYellow), danaRisk.Short()),
		fmt.Sprintf("• *Fox Mulder* · 1 account · $250k ARR · 🔴 %d · 🟡 %d · %s at risk", homeBand(fox, csbot.BandRed),
			homeBand(fox, csbot.BandYellow), foxRisk.Short()),
		"Team renewals at risk, next 90 days",
	}
	notWant := []string{"Your book", "Your renewals", "Open alerts"}
	// The team's renewals in the next 90 days: Initech Europe's (Dana's)
	// and Globex's (Fox's); those at risk are listed.
	n, arr := 0, csbot.Cents(0)
	for _, r := range []struct {
		entry      csbot.PortfolioEntry
		name, when string
		arr        csbot.Cents
	}{
		{homeEntry(t, dana, "INI-EU"), "*Initech Europe*", "Dec 10, 2026, in 17 days", 30_000_00},
		{glx, "*Globex International*", "Jan 7, 2027, in 45 days", 250_000_00},
	} {
		if b := r.entry.Health.Band; b == csbot.BandRed || b == csbot.BandYellow {
			n++
			arr += r.arr
			want = append(want, r.name, r.when)
		} else {
			notWant = append(notWant, r.name)
		}
	}
	if n > 0 {
		want = append(want, fmt.Sprintf("*%d renewal", n), fmt.Sprintf("*%s* ARR, by date", arr.Short()))
	} else {
		want = append(want, "No open renewals on your team's accounts in the yellow or red band")
	}
	homeWants(t, "Walter's home", d.text(), want, notWant)
	if bands := homeTeamBands(red, yellow); bands != "" && !strings.Contains(d.text(), bands) {
		t.Errorf("Walter's home lacks the team's bands %q:\n%s", bands, d.text())
	}

	// A CSM sees no team.
	_, dana2 := e.homeOf(ctx, t, "U0CSM1")
	homeWants(t, "Dana's home", dana2.text(), nil, []string{"Your team", "Team renewals"})
}

// homeBand counts the entries in band b.
func homeBand(ps []csbot.PortfolioEntry, b csbot.Band) int {
	n := 0
	for _, p := range ps {
		if p.Health.Band == b {
			n++
		}
	}
	return n
}

// homeEntry returns the entry of the account with the CRM id.
func homeEntry(t *testing.T, ps []csbot.PortfolioEntry, extID string) csbot.PortfolioEntry {
	t.Helper()
	for _, p := range ps {
		if p.Account.ExternalID == extID {
			return p
		}
	}
	t.Fatalf("no %s among %d accounts", extID, len(ps))
	return csbot.PortfolioEntry{}
}

// homeTeamBands is how the home counts red and yellow accounts.
func homeTeamBands(red, yellow int) string {
	var parts []string
	if red > 0 {
		parts = append(parts, fmt.Sprintf("🔴 %d red", red))
	}
	if yellow > 0 {
		parts = append(parts, fmt.Sprintf("🟡 %d yellow", yellow))
	}
	return strings.Join(parts, " · ")
}

func TestHomeWelcomesUnknownUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHomeEnv(ctx, t, homeFiles())

	_, d := e.homeOf(ctx, t, "U0NOBODY")
	if got := d.header(); got != "Welcome to csbot" {
		t.Errorf("header %q, want the welcome", got)
	}
	homeWants(t, "the welcome", d.text(), []string{
		"csbot doesn't know you yet", "ask an admin, <@U0ADMIN>, to add you to csbot's list of users",
		"`/health acme`", "`/renewals all`", "`/ebr acme`", "`/csbot help`",
	}, []string{"Acme Corp", "Your book"})
	if b := d.buttons(); len(b) != 0 {
		t.Errorf("the welcome has buttons %+v, want none", b)
	}

	// The Messages tab is not the home: nothing is published.
	if rep := e.homeOpen(ctx, t, "U0CSM1", "messages"); rep.PublishHome != nil || rep.Text != "" {
		t.Errorf("app_home_opened on the messages tab = %+v, want nothing", rep)
	}
}

func TestHomeHandoffsWaiting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHomeEnv(ctx, t, homeFiles())
	create := func(ext, owner string, at time.Time) int64 {
		h, err := e.store.CreateHandoff(ctx, csbot.Handoff{AccountID: e.accountID(ctx, t, ext), Author: "U0SALES", Owner: owner,
			Goals: "g", SuccessCriteria: "s", Products: "p"}, "", at)
		if err != nil {
			t.Fatalf("CreateHandoff %s: %v", ext, err)
		}
		return h.ID
	}
	// Globex's was written on the Thursday before: two business days ago.
	glx := create("GLX-042", "U0ONB1", healthNow().AddDate(0, 0, -4))
	acme := create("ACME-001", "", healthNow())
	ini := create("INI-AS", "U0SALES", healthNow().Add(-time.Hour))

	_, olive := e.homeOf(ctx, t, "U0ONB1")
	homeWants(t, "Olive's home", olive.text(), []string{
		"Handoffs waiting for onboarding",
		"*Globex International* · $250k ARR · waiting for 2 business days · from <@U0SALES> · owner <@U0ONB1>",
		"*Acme Corp* · $120k ARR · waiting since today · from <@U0SALES> · no owner yet",
		"*Initech Asia*",
	}, []string{"Your book", "Your renewals", "Open alerts"})
	if got, want := homeButtons(olive, "handoff_view"), []string{fmt.Sprint(glx), fmt.Sprint(ini), fmt.Sprint(acme)}; !slices.Equal(got, want) {
		t.Errorf("View buttons %v, want the handoffs oldest first %v", got, want)
	}

	_, sam := e.homeOf(ctx, t, "U0SALES")
	homeWants(t, "Sam's home", sam.text(), []string{"Handoffs waiting for you", "*Initech Asia*", "Your renewals, next 90 days"},
		[]string{"Globex", "*Acme Corp*"})

	_, dana := e.homeOf(ctx, t, "U0CSM1")
	homeWants(t, "Dana's home", dana.text(), nil, []string{"Handoffs waiting"})
}

// homeBookCSV returns the CSV files of n accounts of owner, each renewing
// within the next 90 days of healthNow, without a renewal contact.
func homeBookCSV(owner string, n int) map[string]string {
	var acc, ren strings.Builder
	acc.WriteString("external_id,name,tier,arr,csm\n")
	ren.WriteString("external_id,account_external_id,renewal_date,arr,auto_renew\n")
	for i := range n {
		fmt.Fprintf(&acc, "L%03d,Large Book %03d,low,%d,%s\n", i, i, 1000*(i+1), owner)
		fmt.Fprintf(&ren, "RL%03d,L%03d,%s,%d,false\n", i, i, healthToday().AddDate(0, 0, 1+i*89/n).Format(time.DateOnly), 1000*(i+1))
	}
	return map[string]string{"accounts": acc.String(), "renewals": ren.String()}
}

func TestHomeLimitsHoldWith60Accounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHomeEnv(ctx, t, homeBookCSV("U0BOSS1", 60))
	for i := range 12 {
		if _, err := e.store.CreateHandoff(ctx, csbot.Handoff{AccountID: e.accountID(ctx, t, fmt.Sprintf("L%03d", i)), Author: "U0SALES",
			Owner: "U0BOSS1", Goals: "g", SuccessCriteria: "s", Products: "p"}, "", healthNow()); err != nil {
			t.Fatal(err)
		}
	}

	v, d := e.homeOf(ctx, t, "U0BOSS1")
	if n := len(v.Blocks.BlockSet); n > bot.MaxViewBlocks {
		t.Errorf("%d blocks, want at most %d", n, bot.MaxViewBlocks)
	}
	homeWants(t, "Walter's home", d.text(), []string{
		"*60 accounts*", "+50 more: type `/health` to see your whole portfolio.",
		"*60 renewals*", "+50 more: type `/renewals` to see them all.",
		"Handoffs waiting for you", "+2 more: type `/handoff status` to see them all.",
		"Your team", "*3 CSMs*, *64 accounts*",
	}, nil)
	if n := len(homeButtons(d, "handoff_view")); n != csbot.HomeListLimit {
		t.Errorf("%d handoffs shown, want %d", n, csbot.HomeListLimit)
	}

	// Every list full: still within Slack's limits.
	full := homeFull(60)
	v = commands.RenderHomeForTest(bot.Actor{SlackID: "U0BOSS1", Known: true, Role: csbot.UserManager, Name: "Walter Skinner"},
		full, healthNow(), csbot.DefaultPolicy())
	d = homeDoc(t, v)
	if n := len(v.Blocks.BlockSet); n > bot.MaxViewBlocks {
		t.Errorf("a full home has %d blocks, want at most %d", n, bot.MaxViewBlocks)
	}
	if n := strings.Count(d.text(), "+50 more: "); n != 6 {
		t.Errorf("a full home has %d \"+50 more\" lines, want 6 (book, renewals, alerts, handoffs, team, team renewals):\n%s", n, d.text())
	}
}

// homeFull returns a home whose every list holds csbot.HomeListLimit
// items of total, with long names.
func homeFull(total int) csbot.HomeData {
	long := strings.Repeat("Very Long Account Name ", 20)
	var d csbot.HomeData
	d.Book = csbot.HomeBook{Total: total, ARR: 100_000_00, ByBand: map[csbot.Band]int{csbot.BandRed: total}}
	d.Renewals = csbot.HomeRenewals{Total: total, ARR: 100_000_00, NoContact: total}
	d.Alerts.Total, d.Handoffs.Total = total, total
	team := &csbot.HomeTeam{TotalCSMs: total, Accounts: total, ARR: 100_000_00, AtRisk: 100_000_00, Red: total,
		Renewals: csbot.HomeRenewals{Total: total, ARR: 100_000_00}}
	for i := range csbot.HomeListLimit {
		a := csbot.Account{ID: int64(i + 1), ExternalID: fmt.Sprint("X", i), Name: long}
		brief := csbot.AccountBrief{ID: a.ID, ExternalID: a.ExternalID, Name: long}
		snap := csbot.HealthSnapshot{Day: healthToday(), Score: 10, Band: csbot.BandRed}
		r := csbot.Renewal{ID: int64(i + 1), RenewalDate: healthToday().AddDate(0, 0, i)}
		d.Book.Accounts = append(d.Book.Accounts, csbot.PortfolioEntry{Account: a, Health: snap, NextRenewal: r})
		d.Renewals.Lines = append(d.Renewals.Lines, csbot.RenewalLine{Renewal: r, Account: a, Health: snap})
		d.Alerts.Items = append(d.Alerts.Items, csbot.HomeAlert{ID: int64(i + 1), Account: brief, Kind: csbot.SignalUsageDrop,
			Severity: csbot.SignalCritical, Evidence: strings.Repeat("evidence ", 100), Since: healthNow().AddDate(0, 0, -i)})
		d.Handoffs.Items = append(d.Handoffs.Items, csbot.HomeHandoff{ID: int64(i + 1), Account: brief, Author: "U0SALES",
			CreatedAt: healthNow()})
		team.CSMs = append(team.CSMs, csbot.HomeCSM{CSM: fmt.Sprintf("U0C%03d", i), Name: long, Accounts: 1})
		team.Renewals.Lines = append(team.Renewals.Lines, csbot.RenewalLine{Renewal: r, Account: a, Health: snap})
	}
	d.Team = team
	return d
}

func TestHomeAlertLines(t *testing.T) {
	t.Parallel()
	acme := csbot.AccountBrief{ID: 7, ExternalID: "ACME-001", Name: "Acme <Corp>"}
	d := csbot.HomeData{
		Book: csbot.HomeBook{Total: 1, ByBand: map[csbot.Band]int{csbot.BandRed: 1}, Accounts: []csbot.PortfolioEntry{
			{Account: csbot.Account{ID: 7, Name: "Acme <Corp>"}}}},
		Alerts: csbot.HomeAlerts{Total: 2, Items: []csbot.HomeAlert{
			{ID: 1, Account: acme, Kind: csbot.SignalUsageDrop, Severity: csbot.SignalCritical, Evidence: "<!channel> usage down 40%",
				Since: healthNow().Add(-74 * time.Hour)},
			{ID: 2, Account: acme, Kind: csbot.SignalTicketSpike, Severity: csbot.SignalWarning, Since: healthNow().Add(-5 * time.Hour)},
		}},
		Prefs: csbot.NotifyPrefs{Alerts: map[csbot.SignalKind]csbot.Route{csbot.SignalUsageDrop: csbot.RouteDM}},
	}
	v := commands.RenderHomeForTest(bot.Actor{SlackID: "U0CSM1", Known: true, Role: csbot.UserCSM, Name: "Dana Scully"}, d,
		healthNow(), csbot.DefaultPolicy())
	doc := homeDoc(t, v)
	homeWants(t, "the alerts", doc.text(), []string{
		"🔴 *Usage dropped* · *Acme &lt;Corp&gt;* · critical · open for 3 days\n&lt;!channel&gt; usage down 40%",
		"🟠 *Ticket spike* · *Acme &lt;Corp&gt;* · warning · open for 5 hours",
		"🔔 Your own alert routes: Usage dropped: direct message. Every other kind follows your team's policy.",
	}, []string{"<!channel>", "+1 more"})
	if got := homeButtons(doc, "pick:health"); !slices.Equal(got, []string{"7", "7", "7"}) {
		t.Errorf("Health buttons %v, want Acme's on its book line and on both alerts", got)
	}
}

func TestHomeSettingsButtonOpensModalAndSavingRepublishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHomeEnv(ctx, t, homeFiles())

	_, d := e.homeOf(ctx, t, "U0CSM1")
	btn := d.button(t, commands.ActionHomeSettingsForTest)
	if btn.Text != "Notification settings" {
		t.Errorf("settings button %q, want \"Notification settings\"", btn.Text)
	}
	rep := e.click(ctx, t, "U0CSM1", "", btn.BlockID, btn.ActionID, btn.Value)
	if rep.OpenView == nil {
		t.Fatalf("Notification settings = %q, want the settings modal", rep.Text)
	}
	if rep.OpenView.PrivateMetadata != commands.SettingsFromHomeForTest {
		t.Errorf("private_metadata %q, want %q", rep.OpenView.PrivateMetadata, commands.SettingsFromHomeForTest)
	}
	if err := bot.CheckView(*rep.OpenView); err != nil {
		t.Errorf("modal over Slack's limits: %v", err)
	}
	same := settingsModal(ctx, t, e, e.cmds, "U0CSM1", "settings")
	if same.PrivateMetadata != "" {
		t.Errorf("/health settings' modal carries private_metadata %q, want none", same.PrivateMetadata)
	}
	same.PrivateMetadata = rep.OpenView.PrivateMetadata
	if got, want := healthBlocksJSONOf(t, []slack.ModalViewRequest{*rep.OpenView}), healthBlocksJSONOf(t, []slack.ModalViewRequest{same}); got != want {
		t.Errorf("the home's modal differs from /health settings':\n%s\nwant\n%s", got, want)
	}

	// Saving the modal opened from the home publishes the home again,
	// showing the new route; saving /health settings' does not.
	submit := e.reg.views[commands.SettingsCallbackForTest].Submit
	req := e.settingsRequest(ctx, t, "U0CSM1", settingsValues(map[csbot.SignalKind]string{csbot.SignalUsageDrop: "dm"}))
	req.View.PrivateMetadata = commands.SettingsFromHomeForTest
	saved, err := submit(ctx, req)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if !strings.Contains(saved.Text, "Saved your alert settings") {
		t.Errorf("confirmation %q, want the changes saved", saved.Text)
	}
	if saved.PublishHome == nil {
		t.Fatal("saving the modal opened from the home published no home")
	}
	homeWants(t, "the home after saving", homeDoc(t, *saved.PublishHome).text(),
		[]string{"Usage dropped: direct message", "Your book"}, []string{"Every kind of alert reaches you as your team's policy says"})
	if got := e.prefs(ctx, t, "U0CSM1")[csbot.SignalUsageDrop]; got != csbot.RouteDM {
		t.Errorf("stored route of usage drops %q, want dm", got)
	}

	plain := e.settingsRequest(ctx, t, "U0CSM1", settingsValues(map[csbot.SignalKind]string{csbot.SignalUsageDrop: "off"}))
	again, err := submit(ctx, plain)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if again.PublishHome != nil {
		t.Error("saving /health settings' modal published the home")
	}

	// Someone csbot does not know gets the refusal, not a modal.
	if rep := e.click(ctx, t, "U0NOBODY", "", "", commands.ActionHomeSettingsForTest, "open"); rep.OpenView != nil ||
		!strings.Contains(rep.Text, "csbot doesn't know you yet") {
		t.Errorf("settings button of an unknown member = %+v, want the refusal", rep)
	}
}
