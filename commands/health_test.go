package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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

// healthNow is the fixed clock of the /health tests: a Monday morning.
func healthNow() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

// healthToday is healthNow's date.
func healthToday() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }

// healthDays returns healthToday moved by n days.
func healthDays(n int) time.Time { return healthToday().AddDate(0, 0, n) }

// healthCSM is who reads the cards in the golden tests: a CSM in New
// York, for whom 10:00 UTC is still the same day.
func healthCSM() bot.Actor {
	return bot.Actor{SlackID: "U0CSM1", Known: true, Role: csbot.UserCSM, Name: "Dana Scully", TZ: "America/New_York",
		User: csbot.User{SlackID: "U0CSM1", Role: csbot.UserCSM, Name: "Dana Scully", Timezone: "America/New_York"}}
}

// healthRenderer returns commands on no store, for rendering values
// built by hand.
func healthRenderer() *commands.Commands {
	return commands.New(commands.Config{Policy: csbot.DefaultPolicy(), Now: healthNow})
}

// healthHealthyDetail is a healthy high-touch account: good adoption,
// steady usage, promoters, paid invoices, a recent meeting.
func healthHealthyDetail() csbot.AccountDetail {
	a := csbot.Account{ID: 101, ExternalID: "ACME-001", Name: "Acme Corp", Domain: "acme.com", Tier: csbot.TierHigh,
		ARR: 12_000_000, Stage: csbot.StageExpanding, CSMUserID: "U0CSM1", SlackChannelID: "C0ACME1", LicensedSeats: 50,
		CreatedAt: time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)}
	return csbot.AccountDetail{
		Account: a,
		CSM:     csbot.User{SlackID: "U0CSM1", Role: csbot.UserCSM, Name: "Dana Scully"},
		Facts: csbot.AccountFacts{
			AccountID: a.ID, Tier: a.Tier, CreatedAt: a.CreatedAt, LicensedSeats: 50,
			UsageFirstDay: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), LastActiveDay: healthDays(-1),
			ActiveUserDays: 35 * 30, PriorActiveUserDays: 33 * 30,
			TicketsOnRecord: true, Tickets30: 2,
			NPS: []csbot.NPSResponse{
				{ID: 1, AccountID: a.ID, RespondedAt: healthNow().AddDate(0, 0, -40), Score: 9},
				{ID: 2, AccountID: a.ID, RespondedAt: healthNow().AddDate(0, 0, -100), Score: 10},
			},
			InvoicesOnRecord: true,
			LastTouchAt:      healthNow().AddDate(0, 0, -10), LastEBRAt: healthNow().AddDate(0, 0, -60), ExecSponsors: 1,
			ActiveChampions: 1,
			NextRenewal: csbot.Renewal{ID: 501, AccountID: a.ID, RenewalDate: healthDays(120), ARR: 12_000_000,
				AutoRenew: true, Status: csbot.RenewalOpen},
			Previous: csbot.HealthSnapshot{Day: healthDays(-1), Score: 97, Band: csbot.BandGreen},
			Week:     csbot.HealthSnapshot{Day: healthDays(-7), Score: 95, Band: csbot.BandGreen},
			Month:    csbot.HealthSnapshot{Day: healthDays(-30), Score: 90, Band: csbot.BandGreen},
		},
		Contacts: []csbot.Contact{
			{ID: 1, AccountID: a.ID, Name: "Wile E. Coyote", Role: csbot.RoleChampion, Email: "wile@acme.com", Active: true},
			{ID: 2, AccountID: a.ID, Name: "Road Runner", Role: csbot.RoleRenewal, Title: "CFO", Email: "rr@acme.com", Active: true},
		},
		LastTouch: csbot.Touchpoint{ID: 77, AccountID: a.ID, At: healthNow().AddDate(0, 0, -10), Kind: csbot.TouchMeeting,
			Summary: "Quarterly check-in:\nEU rollout on track", UserID: "U0CSM1"},
	}
}

// healthAtRiskDetail is an account in trouble: usage collapsing, a ticket
// spike, a detractor, an invoice 40 days overdue, outages, its champion
// gone, no renewal contact, renewal in 45 days, and its CSM's override.
func healthAtRiskDetail() csbot.AccountDetail {
	a := csbot.Account{ID: 202, ExternalID: "GLX-042", Name: "Globex & Co. <Intl>", Domain: "globex.example", Tier: csbot.TierHigh,
		ARR: 25_000_000, Stage: csbot.StageRenewing, CSMUserID: "U0CSM2", SlackChannelID: "C0GLOBX", LicensedSeats: 100,
		CreatedAt: time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)}
	return csbot.AccountDetail{
		Account: a,
		CSM:     csbot.User{SlackID: "U0CSM2", Role: csbot.UserCSM, Name: "Fox Mulder"},
		Facts: csbot.AccountFacts{
			AccountID: a.ID, Tier: a.Tier, CreatedAt: a.CreatedAt, LicensedSeats: 100,
			UsageFirstDay: time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC), LastActiveDay: healthDays(-1),
			ActiveUserDays: 10 * 30, PriorActiveUserDays: 40 * 30,
			TicketsOnRecord: true, Tickets30: 15, OpenUrgent: 1, OpenHigh: 2, OldestOpenAt: healthNow().AddDate(0, 0, -40),
			NPS: []csbot.NPSResponse{{ID: 31, AccountID: a.ID, RespondedAt: healthNow().AddDate(0, 0, -20), Score: 3,
				RespondentEmail: "cfo@globex.example", Comment: "Support takes <days> to answer & nobody calls back <!channel>"}},
			InvoicesOnRecord: true,
			Overdue: []csbot.Invoice{{ID: 61, ExternalID: "INV-2026-0912", AccountID: a.ID, DueOn: healthDays(-40),
				Amount: 2_500_000}},
			LastTouchAt: healthNow().AddDate(0, 0, -45),
			Outages: []csbot.Outage{
				{ID: 5, AccountID: a.ID, StartedAt: healthNow().AddDate(0, 0, -3)},
				{ID: 6, StartedAt: healthNow().AddDate(0, 0, -12)},
			},
			InactiveChampions: []csbot.Contact{{ID: 12, AccountID: a.ID, Name: "Hank Scorpio", Role: csbot.RoleChampion}},
			NextRenewal: csbot.Renewal{ID: 502, AccountID: a.ID, RenewalDate: healthDays(45), ARR: 25_000_000,
				Status: csbot.RenewalOpen},
			Previous: csbot.HealthSnapshot{Day: healthDays(-1), Score: 45, Band: csbot.BandYellow},
			Week:     csbot.HealthSnapshot{Day: healthDays(-7), Score: 48, Band: csbot.BandYellow},
			Month:    csbot.HealthSnapshot{Day: healthDays(-30), Score: 62, Band: csbot.BandYellow},
			Override: &csbot.HealthOverride{ID: 3, AccountID: a.ID, Band: csbot.BandYellow,
				Note: "Exec sponsor confirmed budget on our call <@U0BOSS1> & legal is reviewing", By: "U0CSM2",
				CreatedAt: healthNow().AddDate(0, 0, -2), ExpiresAt: healthNow().AddDate(0, 0, 28)},
		},
		Contacts: []csbot.Contact{
			{ID: 13, AccountID: a.ID, Name: "Bill Ing", Role: csbot.RoleBilling, Email: "ap@globex.example", Active: true},
		},
		LastTouch: csbot.Touchpoint{ID: 88, AccountID: a.ID, At: healthNow().AddDate(0, 0, -45), Kind: csbot.TouchEmail,
			Summary: "Sent the renewal quote", UserID: "U0CSM2"},
	}
}

// healthNoDataDetail is a new tech-touch account csbot knows nothing about.
func healthNoDataDetail() csbot.AccountDetail {
	a := csbot.Account{ID: 303, ExternalID: "INI-7", Name: "Initech", Tier: csbot.TierTech, ARR: 480_000,
		Stage: csbot.StageOnboarding, CreatedAt: healthNow().AddDate(0, 0, -5)}
	return csbot.AccountDetail{Account: a, Facts: csbot.AccountFacts{AccountID: a.ID, Tier: a.Tier, CreatedAt: a.CreatedAt}}
}

func TestHealthCardGolden(t *testing.T) {
	t.Parallel()
	c := healthRenderer()
	tests := []struct {
		name    string
		detail  csbot.AccountDetail
		channel *bot.ChannelInfo
	}{
		{"health_healthy", healthHealthyDetail(), &bot.ChannelInfo{ID: "C0ACME1", Name: "acme-corp", Member: true}},
		{"health_at_risk", healthAtRiskDetail(), &bot.ChannelInfo{ID: "C0GLOBX", Name: "globex", Archived: true}},
		{"health_no_data", healthNoDataDetail(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := c.HealthCardForTest(healthCSM(), tt.detail, tt.channel, false)
			checkGoldenReply(t, tt.name, rep)
			if rep.Visibility != bot.Ephemeral || rep.Public {
				t.Errorf("card visibility %v, public %v; want ephemeral and internal", rep.Visibility, rep.Public)
			}
		})
	}
}

func TestHealthCardAtRiskSays(t *testing.T) {
	t.Parallel()
	rep := healthRenderer().HealthCardForTest(healthCSM(), healthAtRiskDetail(), &bot.ChannelInfo{ID: "C0GLOBX", Archived: true}, false)
	all := healthBlocksJSON(t, rep)
	for _, want := range []string{
		"🔴 *", "/100* red", "↘ ",
		"*Override* by <@U0CSM2>", "🟡 yellow", "&lt;@U0BOSS1&gt; &amp; legal",
		"Usage costs", "Invoice overdue", "INV-2026-0912", "Detractor NPS", "Champion left", "Renewal at risk",
		"No renewal contact on file", "in 45 days", "archived: alerts go to the CSM's DM",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("at-risk card lacks %q", want)
		}
	}
	for _, bad := range []string{"<!channel>", "<days>", "<@U0BOSS1>"} {
		if strings.Contains(healthMrkdwn(t, rep), bad) {
			t.Errorf("at-risk card carries %q unescaped", bad)
		}
	}
	if !strings.HasPrefix(rep.Text, "Globex &amp; Co. &lt;Intl&gt;: ") || !strings.Contains(rep.Text, "/100 red, falling") ||
		!strings.Contains(rep.Text, "renewal in 45 days ($250k)") {
		t.Errorf("fallback text = %q, want name, red score, falling trend and renewal", rep.Text)
	}
}

func TestHealthCardSharedHasNoShareButton(t *testing.T) {
	t.Parallel()
	c := healthRenderer()
	private := c.HealthCardForTest(healthCSM(), healthHealthyDetail(), nil, false)
	shared := c.HealthCardForTest(healthCSM(), healthHealthyDetail(), nil, true)
	if shared.Visibility != bot.InChannel {
		t.Errorf("shared card visibility = %v, want in channel", shared.Visibility)
	}
	if shared.Public {
		t.Error("shared card is marked Public: it holds internal data, the guard must see it")
	}
	if got := healthActionIDs(t, private); !strings.Contains(got, commands.ActionShareForTest) {
		t.Errorf("private card buttons %s, want a Share button", got)
	}
	if got := healthActionIDs(t, shared); strings.Contains(got, commands.ActionShareForTest) ||
		!strings.Contains(got, commands.ActionOverrideForTest) || !strings.Contains(got, "pick:renewals") {
		t.Errorf("shared card buttons %s, want Renewals and Override but no Share", got)
	}
}

func TestHealthCardHostileName(t *testing.T) {
	t.Parallel()
	d := healthHealthyDetail()
	d.Account.Name = strings.Repeat("<!here> R&D ", 40)
	d.Contacts[1].Name = "<@U0EVIL1>"
	d.LastTouch.Summary = strings.Repeat("<https://evil.example|click> ", 50)
	rep := healthRenderer().HealthCardForTest(healthCSM(), d, nil, false)
	if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
		t.Fatalf("card over Slack's limits: %v", err)
	}
	all := healthMrkdwn(t, rep)
	if !strings.Contains(all, "&lt;!here&gt; R&amp;D") {
		t.Errorf("card lacks the escaped name:\n%s", all)
	}
	for _, bad := range []string{"<!here>", "<@U0EVIL1>", "<https://evil.example"} {
		if strings.Contains(all, bad) {
			t.Errorf("card carries %q unescaped", bad)
		}
	}
}

// healthPortfolio is a book of n accounts, worst first, as the store
// returns it.
func healthPortfolio(n int) []csbot.PortfolioEntry {
	var out []csbot.PortfolioEntry
	for i := range n {
		e := csbot.PortfolioEntry{
			Account: csbot.Account{ID: int64(1000 + i), Name: fmt.Sprintf("Account %02d", i+1), Tier: csbot.TierLow,
				ARR: csbot.Cents(1_000_000 * (i + 1)), CSMUserID: "U0CSM1"},
			Health: csbot.HealthSnapshot{Day: healthToday(), Score: 20 + 3*i},
			NextRenewal: csbot.Renewal{ID: int64(5000 + i), RenewalDate: healthDays(10*i - 5), ARR: csbot.Cents(1_000_000 * (i + 1)),
				Status: csbot.RenewalOpen},
		}
		e.Health.Band = csbot.DefaultPolicy().Tier(csbot.TierLow).Bands.Band(e.Health.Score)
		switch i {
		case 3:
			e.Account.Name = "R&D <Labs>"
		case 4:
			e.Health.Day = healthDays(-6)
		case 5:
			e.NextRenewal = csbot.Renewal{}
		case n - 1:
			e.Health = csbot.HealthSnapshot{}
		}
		out = append(out, e)
	}
	return out
}

func TestHealthPortfolioGolden(t *testing.T) {
	t.Parallel()
	c := healthRenderer()
	entries := healthPortfolio(30)
	rep := c.PortfolioForTest(healthCSM(), "U0CSM1", entries, 0)
	checkGoldenReply(t, "health_portfolio", rep)
	if n := len(rep.Blocks); n > 45 {
		t.Errorf("a portfolio page has %d blocks, want room under the 50 allowed", n)
	}

	next := c.PortfolioForTest(healthCSM(), "U0CSM1", entries, commands.PortfolioPageForTest)
	ids := healthActionIDs(t, next)
	if strings.Contains(ids, commands.ActionMoreForTest) {
		t.Errorf("last page buttons %s, want no Show more", ids)
	}
	if got := strings.Count(ids, "pick:health"); got != 30-commands.PortfolioPageForTest {
		t.Errorf("last page has %d accounts, want %d", got, 30-commands.PortfolioPageForTest)
	}
	if !strings.Contains(healthBlocksJSON(t, next), "Account 30") {
		t.Error("last page lacks the last account")
	}

	empty := c.PortfolioForTest(healthCSM(), "U0CSM1", nil, 0)
	if !strings.Contains(empty.Text, "You have no accounts") || !strings.Contains(empty.Text, "/health acme") {
		t.Errorf("empty portfolio says %q, want a friendly line with how to look an account up", empty.Text)
	}
	other := c.PortfolioForTest(healthCSM(), "U0OTHER", nil, 0)
	if !strings.Contains(other.Text, "<@U0OTHER> has no accounts") {
		t.Errorf("someone else's empty portfolio says %q", other.Text)
	}
}

func TestHealthOverrideModalGolden(t *testing.T) {
	t.Parallel()
	m := commands.OverrideModalForTest(healthHealthyDetail().Account, 30)
	checkGoldenReply(t, "health_override_modal", bot.Reply{OpenView: &m})
	if m.CallbackID != commands.OverrideCallbackTest || m.PrivateMetadata != "101" {
		t.Errorf("modal callback %q, metadata %q; want %q and the account id", m.CallbackID, m.PrivateMetadata, commands.OverrideCallbackTest)
	}
	odd := commands.OverrideModalForTest(healthHealthyDetail().Account, 45)
	if got := healthBlocksJSONOf(t, odd.Blocks.BlockSet); !strings.Contains(got, `"initial_option":{"text":{"type":"plain_text","text":"30 days"`) {
		t.Errorf("a policy lifetime of 45 days is not a choice; want 30 preset, got %s", got)
	}
}

// healthBlocksJSON returns rep's blocks as JSON, to search.
func healthBlocksJSON(t *testing.T, rep bot.Reply) string {
	t.Helper()
	return healthBlocksJSONOf(t, rep.Blocks)
}

// healthBlocksJSONOf returns blocks as JSON, with <, > and & as they are
// (not as JSON's \u003c escapes).
func healthBlocksJSONOf[B any](t *testing.T, blocks []B) string {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw))
}

// healthMrkdwn returns every mrkdwn text of rep, and its fallback text:
// what Slack parses for mentions and links.
func healthMrkdwn(t *testing.T, rep bot.Reply) string {
	t.Helper()
	var texts []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "mrkdwn" {
				if s, ok := v["text"].(string); ok {
					texts = append(texts, s)
				}
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
	raw, err := json.Marshal(rep.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var blocks any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	walk(blocks)
	return strings.Join(append(texts, rep.Text), "\n")
}

// healthActionIDs lists the action_ids of rep's buttons, with their values:
// "pick:health=101 health_share=101".
func healthActionIDs(t *testing.T, rep bot.Reply) string {
	t.Helper()
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(healthBlocksJSON(t, rep)), &blocks); err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(e any) {
		if m, ok := e.(map[string]any); ok && m["type"] == "button" {
			out = append(out, fmt.Sprintf("%v=%v", m["action_id"], m["value"]))
		}
	}
	for _, b := range blocks {
		add(b["accessory"])
		if els, ok := b["elements"].([]any); ok {
			for _, e := range els {
				add(e)
			}
		}
	}
	return strings.Join(out, " ")
}

// The store is what the commands read and write.
var _ commands.Store = (*store.Store)(nil)

// healthBook is the small book the handler tests load, CSV by import
// kind: a manager and two CSMs, a salesperson and an admin; accounts with
// a linked channel, two that share a prefix, one without a CSM.
func healthBook() map[string]string {
	return map[string]string{
		"users": `slack_id,role,name,email,manager_slack_id,timezone
U0BOSS1,manager,Walter Skinner,skinner@vendor.example,,America/New_York
U0CSM1,csm,Dana Scully,scully@vendor.example,U0BOSS1,America/New_York
U0CSM2,csm,Fox Mulder,mulder@vendor.example,U0BOSS1,
U0SALES,sales,Sam Sales,sam@vendor.example,,
U0ADMIN,admin,Ada Admin,ada@vendor.example,,
`,
		"accounts": `external_id,name,tier,arr,domain,stage,csm,ae,channel,licensed_seats
ACME-001,Acme Corp,high,120000,acme.com,expanding,U0CSM1,U0SALES,C0ACME1,50
GLX-042,Globex International,high,250000,globex.example,renewing,U0CSM2,,C0GLOBX,100
INI-EU,Initech Europe,low,30000,initech.eu,adopting,U0CSM1,,,20
INI-AS,Initech Asia,low,20000,initech.asia,adopting,U0CSM1,,,
UMB-9,Umbrella Corporation,tech,4800,,onboarding,,,,
`,
		"contacts": `account_external_id,name,role,email,title,active
ACME-001,Road Runner,renewal,rr@acme.com,CFO,true
GLX-042,Bill Ing,billing,ap@globex.example,,true
`,
		"renewals": `external_id,account_external_id,renewal_date,arr,auto_renew,status
R-ACME,ACME-001,2027-03-23,120000,true,open
R-GLX,GLX-042,2027-01-07,250000,false,open
`,
		"invoices": `external_id,account_external_id,due_on,amount,issued_on,paid_on
INV-1,GLX-042,2026-10-14,25000,2026-09-14,
INV-2,ACME-001,2026-10-01,10000,2026-09-01,2026-09-20
`,
		"touchpoints": `account_external_id,at,kind,summary,user
ACME-001,2026-11-13T15:00:00Z,meeting,Quarterly check-in,U0CSM1
GLX-042,2026-10-09T15:00:00Z,email,Sent the renewal quote,U0CSM2
`,
	}
}

// healthEnv is a /health handler test's world: a store on a database of
// its own with a book loaded and scored, the commands on it (clock fixed
// at healthNow), the handlers they registered, and what Slack says of
// channels.
type healthEnv struct {
	store    *store.Store
	cmds     *commands.Commands
	reg      *healthRegistrar
	channels healthChannels
}

// newHealthEnv loads healthBook into a fresh database.
func newHealthEnv(ctx context.Context, t *testing.T) *healthEnv {
	t.Helper()
	s := newHealthStore(ctx, t)
	book := healthBook()
	for _, kind := range csbot.ImportKindNames() {
		text, ok := book[kind]
		if !ok {
			continue
		}
		k, err := csbot.LookupImportKind(kind)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx, k, strings.NewReader(text)); err != nil {
			t.Fatalf("import %s: %v", kind, err)
		}
	}
	healthScore(ctx, t, s)
	return newHealthEnvOn(t, s)
}

// newHealthStore opens a store on a fresh database.
func newHealthStore(ctx context.Context, t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(ctx, pgtest.NewDatabase(ctx, t), nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// healthScore scores every account at healthNow and saves the snapshots,
// as csbot score does.
func healthScore(ctx context.Context, t *testing.T, s *store.Store) {
	t.Helper()
	facts, err := s.AccountFacts(ctx, healthNow())
	if err != nil {
		t.Fatalf("AccountFacts: %v", err)
	}
	scores, _ := csbot.ScoreAll(facts, csbot.DefaultPolicy(), healthNow())
	if _, err := s.SaveScores(ctx, scores); err != nil {
		t.Fatalf("SaveScores: %v", err)
	}
}

// newHealthEnvOn builds the commands on s and registers them.
func newHealthEnvOn(t *testing.T, s *store.Store) *healthEnv {
	t.Helper()
	e := &healthEnv{store: s, reg: newHealthRegistrar(), channels: healthChannels{
		"C0ARCH1": {ID: "C0ARCH1", Name: "old-acme", Archived: true},
		"C0EXT01": {ID: "C0EXT01", Name: "acme-shared", ExtShared: true},
	}}
	e.cmds = commands.New(commands.Config{Store: s, Policy: csbot.DefaultPolicy(), Channels: e.channels, Now: healthNow})
	e.cmds.Register(e.reg)
	return e
}

// healthChannels is what Slack says of channels: those not listed are
// ordinary channels the bot is in.
type healthChannels map[string]bot.ChannelInfo

// Channel implements commands.Channels.
func (h healthChannels) Channel(_ context.Context, id string, _ time.Duration) (bot.ChannelInfo, error) {
	if info, ok := h[id]; ok {
		return info, nil
	}
	return bot.ChannelInfo{ID: id, Member: true}, nil
}

// healthRegistrar records the handlers the commands register.
type healthRegistrar struct {
	commands map[string]bot.CommandFunc
	actions  map[string]bot.ActionFunc
	views    map[string]bot.ViewHandler
	events   map[string]bot.EventFunc
}

func newHealthRegistrar() *healthRegistrar {
	return &healthRegistrar{commands: map[string]bot.CommandFunc{}, actions: map[string]bot.ActionFunc{},
		views: map[string]bot.ViewHandler{}, events: map[string]bot.EventFunc{}}
}

func (r *healthRegistrar) HandleCommand(command string, fn bot.CommandFunc) { r.commands[command] = fn }
func (r *healthRegistrar) HandleAction(prefix string, fn bot.ActionFunc)    { r.actions[prefix] = fn }
func (r *healthRegistrar) HandleView(id string, h bot.ViewHandler)          { r.views[id] = h }
func (r *healthRegistrar) HandleEvent(typ string, fn bot.EventFunc)         { r.events[typ] = fn }

// action returns the handler of actionID, the longest prefix winning as
// in the runtime.
func (r *healthRegistrar) action(t *testing.T, actionID string) bot.ActionFunc {
	t.Helper()
	best := ""
	for p := range r.actions {
		if strings.HasPrefix(actionID, p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		t.Fatalf("no handler registered for action %q", actionID)
	}
	return r.actions[best]
}

// healthActor returns who the Slack id is, as the runtime would tell.
func (e *healthEnv) actor(ctx context.Context, t *testing.T, slackID string) bot.Actor {
	t.Helper()
	a, err := bot.ResolveActor(ctx, e.store, slackID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// request is a request by slackID in the channel.
func (e *healthEnv) request(ctx context.Context, t *testing.T, slackID, channel string) bot.Request {
	t.Helper()
	return bot.Request{Actor: e.actor(ctx, t, slackID), UserID: slackID, ChannelID: channel, TeamID: "T0TEST"}
}

// health runs /health text as slackID in the channel.
func (e *healthEnv) health(ctx context.Context, t *testing.T, slackID, channel, text string) bot.Reply {
	t.Helper()
	fn := e.cmds.Command("/health")
	rep, err := fn(ctx, bot.CommandRequest{Request: e.request(ctx, t, slackID, channel), Command: "/health", Text: text})
	if err != nil {
		t.Fatalf("/health %s: %v", text, err)
	}
	if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
		t.Errorf("/health %s: reply over Slack's limits: %v", text, err)
	}
	return rep
}

// click presses the button with actionID and value as slackID, in a
// message in the channel, in the block blockID.
func (e *healthEnv) click(ctx context.Context, t *testing.T, slackID, channel, blockID, actionID, value string) bot.Reply {
	t.Helper()
	req := bot.ActionRequest{Request: e.request(ctx, t, slackID, channel),
		Action: slack.BlockAction{ActionID: actionID, BlockID: blockID, Value: value}}
	rep, err := e.reg.action(t, actionID)(ctx, req)
	if err != nil {
		t.Fatalf("action %s=%s: %v", actionID, value, err)
	}
	if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
		t.Errorf("action %s: reply over Slack's limits: %v", actionID, err)
	}
	return rep
}

// accountID returns the internal id of the account with the CRM id.
func (e *healthEnv) accountID(ctx context.Context, t *testing.T, extID string) int64 {
	t.Helper()
	a, err := e.store.AccountByExternalID(ctx, extID)
	if err != nil {
		t.Fatalf("account %s: %v", extID, err)
	}
	return a.ID
}

// healthHeader returns the text of rep's header block, "" when none: the
// name of the account a health card shows.
func healthHeader(rep bot.Reply) string {
	if len(rep.Blocks) == 0 {
		return ""
	}
	if h, ok := rep.Blocks[0].(*slack.HeaderBlock); ok && h.Text != nil {
		return h.Text.Text
	}
	return ""
}

// healthButtons returns the buttons of rep: action_id, value and block_id.
func healthButtons(rep bot.Reply) []healthButton {
	var out []healthButton
	for _, b := range rep.Blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Accessory != nil && b.Accessory.ButtonElement != nil {
				out = append(out, healthButton{b.Accessory.ButtonElement.ActionID, b.Accessory.ButtonElement.Value, b.BlockID})
			}
		case *slack.ActionBlock:
			for _, el := range b.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok {
					out = append(out, healthButton{btn.ActionID, btn.Value, b.BlockID})
				}
			}
		}
	}
	return out
}

type healthButton struct{ ActionID, Value, BlockID string }

func TestHealthCardFromTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "globex")
	all := healthBlocksJSON(t, rep)
	for _, want := range []string{"Globex International", "$250,000", "<@U0CSM2>", "Renewing", "Invoice overdue", "INV-1",
		"Jan 7, 2027", "in 45 days", "No renewal contact on file", "email", "Sent the renewal quote", "<#C0GLOBX>"} {
		if !strings.Contains(all, want) {
			t.Errorf("Globex card lacks %q:\n%s", want, bot.PlainText(rep.Blocks))
		}
	}
	if !strings.HasPrefix(rep.Text, "Globex International: ") || !strings.Contains(rep.Text, "renewal in 45 days ($250k)") {
		t.Errorf("fallback text %q", rep.Text)
	}
	acme := e.health(ctx, t, "U0CSM1", "C0ELSE1", "acme")
	if all := healthBlocksJSON(t, acme); !strings.Contains(all, "Road Runner, CFO (rr@acme.com)") || !strings.Contains(all, "auto-renews") {
		t.Errorf("Acme card lacks its renewal contact or auto-renewal:\n%s", bot.PlainText(acme.Blocks))
	}
}

func TestHealthUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	for _, text := range []string{"help", "HELP", "?", "<!here>", "acme <@U0CSM2>", "<@U0CSM2> public", "link",
		strings.Repeat("acme ", 200)} {
		rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", text)
		if !strings.Contains(rep.Text, "/health") || !rep.Public || len(rep.Blocks) > 0 || rep.Visibility != bot.Ephemeral {
			t.Errorf("/health %.40s = %+v, want a public ephemeral usage text", text, rep)
		}
	}
	if rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "help"); !strings.Contains(rep.Text, "`/health link acme`") {
		t.Errorf("/health help = %q, want examples", rep.Text)
	}
	if rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", strings.Repeat("x", 501)); !strings.Contains(rep.Text, "too long") {
		t.Errorf("/health <501 characters> = %q, want it called too long", rep.Text)
	}
}

func TestHealthWithoutAnAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)

	if got := healthHeader(e.health(ctx, t, "U0CSM2", "C0ACME1", "")); got != "Acme Corp" {
		t.Errorf("/health in Acme's channel gave header %q, want Acme's card", got)
	}
	for _, ch := range []string{"D0CSM1", "C0ELSE1"} {
		rep := e.health(ctx, t, "U0CSM1", ch, "")
		if !strings.HasPrefix(rep.Text, "Your portfolio: 3 accounts") {
			t.Errorf("/health in %s = %q, want the caller's portfolio of 3 accounts", ch, rep.Text)
		}
		if n := len(healthButtons(rep)); n != 3 {
			t.Errorf("/health in %s: portfolio has %d buttons, want one an account", ch, n)
		}
	}
	rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "<@U0CSM2|fox>")
	if !strings.Contains(rep.Text, "<@U0CSM2>'s portfolio: 1 account") || !strings.Contains(healthBlocksJSON(t, rep), "Globex International") {
		t.Errorf("/health @fox = %q, want Fox's portfolio of Globex", rep.Text)
	}
	if rep := e.health(ctx, t, "U0SALES", "D0SALES", ""); !strings.Contains(rep.Text, "You have no accounts") {
		t.Errorf("/health by someone without accounts = %q, want a friendly line", rep.Text)
	}
	if got := healthHeader(e.health(ctx, t, "U0CSM1", "D0CSM1", "<#C0GLOBX|globex>")); got != "Globex International" {
		t.Errorf("/health #globex gave header %q, want Globex's card", got)
	}
	if rep := e.health(ctx, t, "U0CSM1", "D0CSM1", "<#C0NONE1|nothing>"); !strings.Contains(rep.Text, "No account is linked to <#C0NONE1>") {
		t.Errorf("/health #nothing = %q", rep.Text)
	}
	if rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "public"); !rep.Public || !strings.Contains(rep.Text, "No account is linked") {
		t.Errorf("/health public in an unlinked channel = %q, want a hint", rep.Text)
	}
}

func TestHealthUnknownCallerMayLookUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	if got := healthHeader(e.health(ctx, t, "U0NOBODY", "C0ELSE1", "acme")); got != "Acme Corp" {
		t.Errorf("an unknown member's /health acme gave header %q, want the card", got)
	}
	rep := e.health(ctx, t, "U0NOBODY", "C0NEW01", "link acme")
	if !strings.Contains(rep.Text, "Only CSMs, CS managers and admins") {
		t.Errorf("an unknown member's /health link = %q, want a refusal", rep.Text)
	}
	if got, err := e.store.AccountsByChannel(ctx, "C0NEW01"); err != nil || len(got) != 0 {
		t.Errorf("after a refused link the channel has %v (%v), want no account", got, err)
	}
}

func TestHealthPublicAndShare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	rep := e.health(ctx, t, "U0CSM1", "C0ELSE1", "acme public")
	if healthHeader(rep) != "Acme Corp" || rep.Visibility != bot.InChannel || rep.Public {
		t.Errorf("/health acme public: header %q, visibility %v, public %v; want Acme's card in the channel, internal",
			healthHeader(rep), rep.Visibility, rep.Public)
	}
	for _, b := range healthButtons(rep) {
		if b.ActionID == commands.ActionShareForTest {
			t.Error("a card posted in the channel has a Share button")
		}
	}
	if here := e.health(ctx, t, "U0CSM1", "C0ACME1", "public"); healthHeader(here) != "Acme Corp" || here.Visibility != bot.InChannel {
		t.Errorf("/health public in Acme's channel: header %q, visibility %v; want Acme's card in the channel",
			healthHeader(here), here.Visibility)
	}

	private := e.health(ctx, t, "U0CSM1", "C0ELSE1", "acme")
	var share healthButton
	for _, b := range healthButtons(private) {
		if b.ActionID == commands.ActionShareForTest {
			share = b
		}
	}
	if share.Value == "" {
		t.Fatal("the private card has no Share button")
	}
	shared := e.click(ctx, t, "U0CSM1", "C0ELSE1", share.BlockID, share.ActionID, share.Value)
	if healthHeader(shared) != "Acme Corp" || shared.Visibility != bot.InChannel || shared.ReplaceOriginal || shared.Public {
		t.Errorf("Share gave header %q, visibility %v, replace %v, public %v; want Acme's card as a new in-channel message",
			healthHeader(shared), shared.Visibility, shared.ReplaceOriginal, shared.Public)
	}
	if gone := e.click(ctx, t, "U0CSM1", "C0ELSE1", share.BlockID, share.ActionID, "999999"); !strings.Contains(gone.Text, "no longer in csbot") {
		t.Errorf("Share of a missing account = %q", gone.Text)
	}
}

func TestHealthLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)

	rep := e.health(ctx, t, "U0CSM2", "C0NEW01", "link globex")
	if !strings.HasPrefix(rep.Text, "Linked <#C0NEW01> to *Globex International*: its alerts and reminders will be posted here.") {
		t.Fatalf("/health link globex = %q", rep.Text)
	}
	if !strings.Contains(rep.Text, "<#C0GLOBX>") {
		t.Errorf("/health link globex = %q, want it to name the channel it was linked to before", rep.Text)
	}
	if got := healthHeader(e.health(ctx, t, "U0CSM1", "C0NEW01", "")); got != "Globex International" {
		t.Errorf("/health in the newly linked channel gave %q, want Globex's card", got)
	}

	rep = e.health(ctx, t, "U0BOSS1", "C0NEW01", "link acme")
	if !strings.Contains(rep.Text, "no longer linked to *Globex International*") {
		t.Errorf("relinking the channel to Acme = %q, want it to say Globex was unlinked", rep.Text)
	}

	for _, tt := range []struct{ who, channel, text, want string }{
		{"U0SALES", "C0NEW02", "link acme", "Only CSMs, CS managers and admins"},
		{"U0CSM1", "D0CSM1", "link acme", "not in a direct message"},
		{"U0ADMIN", "C0ARCH1", "link acme", "archived"},
		{"U0CSM1", "C0NEW02", "link", "Which account?"},
		{"U0CSM1", "C0NEW02", "link <@U0CSM2>", "Name the account"},
	} {
		rep := e.health(ctx, t, tt.who, tt.channel, tt.text)
		if !strings.Contains(rep.Text, tt.want) || !rep.Public {
			t.Errorf("/health %s by %s in %s = %q, want a public refusal with %q", tt.text, tt.who, tt.channel, rep.Text, tt.want)
		}
	}
	for _, ch := range []string{"C0NEW02", "C0ARCH1"} {
		if got, err := e.store.AccountsByChannel(ctx, ch); err != nil || len(got) != 0 {
			t.Errorf("after refused links %s has %v (%v), want no account", ch, got, err)
		}
	}

	rep = e.health(ctx, t, "U0ADMIN", "C0EXT01", "link acme")
	if !strings.HasPrefix(rep.Text, "Linked <#C0EXT01>") || !strings.Contains(rep.Text, "shared with another organisation") {
		t.Errorf("/health link in a shared channel = %q, want linked with a warning", rep.Text)
	}
}

func TestHealthLinkThroughPickList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	rep := e.health(ctx, t, "U0CSM1", "C0INIT1", "link initech")
	btns := healthButtons(rep)
	if len(btns) != 2 || btns[0].ActionID != "pick:link" {
		t.Fatalf("/health link initech gave buttons %+v, want a pick-list leading to link", btns)
	}
	done := e.click(ctx, t, "U0CSM1", "C0INIT1", btns[0].BlockID, btns[0].ActionID, btns[0].Value)
	if !strings.HasPrefix(done.Text, "Linked <#C0INIT1> to *Initech ") {
		t.Errorf("picking an Initech to link = %q", done.Text)
	}
	got, err := e.store.AccountsByChannel(ctx, "C0INIT1")
	if err != nil || len(got) != 1 || strconv.FormatInt(got[0].ID, 10) != btns[0].Value {
		t.Errorf("channel's accounts after linking = %v (%v), want the picked one", got, err)
	}
	// The pick-list's button checks the role again: a salesperson's click
	// (on a list they could not have had) links nothing.
	refused := e.click(ctx, t, "U0SALES", "C0INIT2", btns[1].BlockID, btns[1].ActionID, btns[1].Value)
	if !strings.Contains(refused.Text, "Only CSMs") {
		t.Errorf("a salesperson's pick to link = %q, want a refusal", refused.Text)
	}
}

func TestHealthChannelIDChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	fn := e.reg.events["channel_id_changed"]
	if fn == nil {
		t.Fatal("no handler for channel_id_changed")
	}
	rep, err := fn(ctx, bot.EventRequest{Type: "channel_id_changed",
		Inner: json.RawMessage(`{"type":"channel_id_changed","old_channel_id":"C0ACME1","new_channel_id":"C0ACME9","event_ts":"1.2"}`)})
	if err != nil {
		t.Fatalf("channel_id_changed: %v", err)
	}
	if rep.Text != "" || len(rep.Blocks) > 0 {
		t.Errorf("channel_id_changed replied %+v, want nothing", rep)
	}
	if got := healthHeader(e.health(ctx, t, "U0CSM1", "C0ACME9", "")); got != "Acme Corp" {
		t.Errorf("/health in the channel's new id gave %q, want Acme's card", got)
	}
	if rep := e.health(ctx, t, "U0CSM1", "C0ACME1", ""); healthHeader(rep) != "" {
		t.Errorf("/health under the old id still gave %q", healthHeader(rep))
	}
	if _, err := fn(ctx, bot.EventRequest{Type: "channel_id_changed", Inner: json.RawMessage(`{"old_channel_id":"x"}`)}); err != nil {
		t.Errorf("channel_id_changed without ids: %v, want it ignored", err)
	}
}

func TestHealthDemoBook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newHealthStore(ctx, t)
	demo := csbot.NewDemo(csbot.DemoOptions{Accounts: 120, Seed: 7, Now: healthNow()})
	if err := s.ImportDemo(ctx, demo, nil); err != nil {
		t.Fatalf("import demo: %v", err)
	}
	for _, days := range []int{7, 0} {
		at := healthNow().AddDate(0, 0, -days)
		facts, err := s.AccountFacts(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		scores, _ := csbot.ScoreAll(facts, csbot.DefaultPolicy(), at)
		if _, err := s.SaveScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
	}
	e := newHealthEnvOn(t, s)

	csm, err := s.BusiestCSM(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := s.Portfolio(ctx, []string{csm.SlackID})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) <= commands.PortfolioPageForTest {
		t.Fatalf("the busiest demo CSM has %d accounts, too few for a second page", len(entries))
	}
	first := e.health(ctx, t, csm.SlackID, "D0DEMO1", "")
	btns := healthButtons(first)
	if len(btns) != commands.PortfolioPageForTest+1 {
		t.Fatalf("first page has %d buttons, want %d accounts and Show more", len(btns), commands.PortfolioPageForTest)
	}
	if want := strconv.FormatInt(entries[0].Account.ID, 10); btns[0].Value != want {
		t.Errorf("first account of the page is %s, want the worst, %s", btns[0].Value, want)
	}
	more := btns[len(btns)-1]
	if more.ActionID != commands.ActionMoreForTest {
		t.Fatalf("last button %+v, want Show more", more)
	}
	second := e.click(ctx, t, csm.SlackID, "D0DEMO1", more.BlockID, more.ActionID, more.Value)
	if second.ReplaceOriginal {
		t.Error("Show more replaced the first page, want a new message")
	}
	got := healthButtons(second)
	if len(got) == 0 || got[0].Value != strconv.FormatInt(entries[commands.PortfolioPageForTest].Account.ID, 10) {
		t.Errorf("second page starts with %+v, want account %d", got, entries[commands.PortfolioPageForTest].Account.ID)
	}
	if bad := e.click(ctx, t, csm.SlackID, "D0DEMO1", more.BlockID, more.ActionID, "U0X:notanumber"); !strings.Contains(bad.Text, "no longer works") {
		t.Errorf("Show more with a broken value = %q", bad.Text)
	}

	// Every demo account's card fits Slack's limits (checked by health),
	// and the accounts planted with risks show open signals.
	risks := demo.Risks()
	for _, id := range demo.Healthy() {
		risks[id] = nil
	}
	for extID, planted := range risks {
		rep := e.health(ctx, t, csm.SlackID, "D0DEMO1", extID)
		if healthHeader(rep) == "" {
			t.Errorf("/health %s gave no card: %q", extID, rep.Text)
			continue
		}
		quiet := strings.Contains(healthMrkdwn(t, rep), "*Open signals*\nNone right now.")
		if len(planted) > 0 && quiet {
			t.Errorf("/health %s (planted with %v) shows no open signals", extID, planted)
		}
	}
}

// Slack turns a domain or an e-mail address typed after a command into a
// link (should_escape); the account is found all the same.
func TestHealthFindsAnAccountByALinkedDomain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHealthEnv(ctx, t)
	for _, text := range []string{"<http://acme.com|acme.com>", "<mailto:rr@acme.com|rr@acme.com>", "<https://www.acme.com/pricing>"} {
		if got := healthHeader(e.health(ctx, t, "U0CSM1", "D0CSM1", text)); !strings.Contains(got, "Acme Corp") {
			t.Errorf("/health %s shows %q, want Acme Corp", text, got)
		}
	}
}
