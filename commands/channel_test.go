package commands_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/commands"
	"github.com/slack-go/slack"
)

// channelEnv is healthEnv's book with an account that has a CSM and an
// AE but no channel, and the commands on a fake Slack.
type channelEnv struct {
	*healthEnv
	slack *slacktest.Server
	// api is the Slack client the commands call the fake through.
	api *slack.Client
}

func newChannelEnv(ctx context.Context, t *testing.T) *channelEnv {
	t.Helper()
	e := newHealthEnv(ctx, t)
	k, err := csbot.LookupImportKind("accounts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Import(ctx, k, strings.NewReader("external_id,name,tier,arr,stage,csm,ae\nNAK-1,Nakatomi Trading,high,50000,adopting,U0CSM1,U0SALES\n")); err != nil {
		t.Fatal(err)
	}
	srv := slacktest.New(t)
	for _, u := range []string{"U0CSM1", "U0CSM2", "U0SALES", "U0BOSS1", "U0ADMIN"} {
		srv.AddUser(slacktest.User{ID: u, Name: strings.ToLower(u)})
	}
	api := slack.New(srv.BotToken(), slack.OptionAPIURL(srv.URL()))
	e.reg = newHealthRegistrar()
	ce := &channelEnv{healthEnv: e, slack: srv, api: api}
	ce.rewire(api, e.channels)
	return ce
}

// rewire builds the commands anew on sl and channels (nil: none, as on
// the command line) and registers them.
func (e *channelEnv) rewire(sl commands.SlackChannels, channels commands.Channels) {
	e.reg = newHealthRegistrar()
	e.cmds = commands.New(commands.Config{Store: e.store, Policy: csbot.DefaultPolicy(), Channels: channels, Now: healthNow, Slack: sl})
	e.cmds.Register(e.reg)
}

// hookedSlack is the commands' Slack client with hooks that play what
// happens meanwhile: each runs after every call it follows that took
// effect, on the caller's goroutine.
type hookedSlack struct {
	commands.SlackChannels
	afterCreate func(ch *slack.Channel)
	afterJoin   func(id string)
}

func (h *hookedSlack) CreateConversationContext(ctx context.Context, p slack.CreateConversationParams) (*slack.Channel, error) {
	ch, err := h.SlackChannels.CreateConversationContext(ctx, p)
	if f := h.afterCreate; err == nil && f != nil {
		f(ch)
	}
	return ch, err
}

func (h *hookedSlack) JoinConversationContext(ctx context.Context, id string) (*slack.Channel, string, []string, error) {
	ch, warn, warns, err := h.SlackChannels.JoinConversationContext(ctx, id)
	if f := h.afterJoin; err == nil && f != nil {
		f(id)
	}
	return ch, warn, warns, err
}

// hasButton reports whether rep has a button with actionID.
func hasButton(rep bot.Reply, actionID string) bool {
	return slices.ContainsFunc(healthButtons(rep), func(b healthButton) bool { return b.ActionID == actionID })
}

func TestCreateChannelButtonShownOnlyWhereItMayBeUsed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	for _, tt := range []struct {
		who, account string
		shared, want bool
	}{
		{"U0CSM1", "nakatomi", false, true},
		{"U0BOSS1", "nakatomi", false, true},
		{"U0ADMIN", "nakatomi", false, true},
		{"U0SALES", "nakatomi", false, false}, // sales may not
		{"U0NOBODY", "nakatomi", false, false},
		{"U0CSM1", "nakatomi", true, false}, // not on a card posted in a channel
		{"U0CSM1", "acme", false, false},    // Acme has a channel
	} {
		text := tt.account
		if tt.shared {
			text += " public"
		}
		rep := e.health(ctx, t, tt.who, "C0ELSE1", text)
		if got := hasButton(rep, commands.ActionCreateChannelForTest); got != tt.want {
			t.Errorf("/health %s as %s: Create account channel shown %v, want %v", text, tt.who, got, tt.want)
		}
	}
}

func TestCreateChannelButtonCreatesInvitesLinksAndPins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	nak := e.accountID(ctx, t, "NAK-1")
	value := strconv.FormatInt(nak, 10)

	if rep := e.click(ctx, t, "U0SALES", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, value); !strings.Contains(rep.Text, "Only the account's CSM, their manager or an admin") {
		t.Errorf("a salesperson's click = %q, want a refusal", rep.Text)
	}
	if got := e.slack.Calls("conversations.create"); len(got) != 0 {
		t.Fatalf("a refused click called conversations.create %d times", len(got))
	}

	rep := e.click(ctx, t, "U0CSM1", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, value)
	a, err := e.store.AccountByID(ctx, nak)
	if err != nil {
		t.Fatal(err)
	}
	ch, ok := e.slack.Channel(a.SlackChannelID)
	if !ok || ch.Name != "acct-nakatomi-trading" || ch.Private || !ch.Member {
		t.Fatalf("account linked to %q (%+v), want a new public channel acct-nakatomi-trading the bot is in; reply %q", a.SlackChannelID, ch, rep.Text)
	}
	if want := []string{"U0CSM1", "U0SALES"}; !slices.Equal(e.slack.Members(ch.ID), want) {
		t.Errorf("members %v, want the CSM and the AE %v", e.slack.Members(ch.ID), want)
	}
	msgs := e.slack.Messages(ch.ID)
	pins := e.slack.Pins(ch.ID)
	if len(msgs) != 1 || !slices.Equal(pins, []string{msgs[0].TS}) {
		t.Fatalf("messages %+v, pins %v; want one pinned summary", msgs, pins)
	}
	for _, want := range []string{"*Nakatomi Trading*'s channel", "\nNakatomi Trading: ", "High touch", "CSM <@U0CSM1>", "AE <@U0SALES>", "`/health Nakatomi Trading`"} {
		if !strings.Contains(msgs[0].Text, want) {
			t.Errorf("pinned summary %q lacks %q", msgs[0].Text, want)
		}
	}
	for _, want := range []string{"Created <#" + ch.ID + ">", "*Nakatomi Trading*", "<@U0CSM1> and <@U0SALES> are in it", "summary is pinned"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("reply %q lacks %q", rep.Text, want)
		}
	}
	if linked := oneAuditEntry(ctx, t, e.store, "channel_linked"); linked.Actor != "U0CSM1" || linked.AccountID != nak || linked.Channel != ch.ID {
		t.Errorf("link entry = %+v, want U0CSM1 linking %s to Nakatomi", linked, ch.ID)
	}
	if clicks := auditEntries(ctx, t, e.store, "action:"+commands.ActionCreateChannelForTest); len(clicks) != 2 ||
		clicks[0].Actor != "U0CSM1" || clicks[0].AccountID != nak || clicks[1].Actor != "U0SALES" || clicks[1].AccountID != nak {
		t.Errorf("button entries = %+v, want the refused click and U0CSM1's on Nakatomi", clicks)
	}

	// Once it has one, the card offers no more, and a stale button says so.
	if card := e.health(ctx, t, "U0CSM1", "C0ELSE1", "nakatomi"); hasButton(card, commands.ActionCreateChannelForTest) {
		t.Error("the card still offers to create a channel")
	}
	again := e.click(ctx, t, "U0CSM1", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, value)
	if !strings.Contains(again.Text, "has a channel already: <#"+ch.ID+">") || len(e.slack.Calls("conversations.create")) != 1 {
		t.Errorf("second click = %q after %d creates, want it told and no second channel", again.Text, len(e.slack.Calls("conversations.create")))
	}
}

func TestCreateChannelButtonMatchesAnExistingChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	// A public channel of that name that csbot is not in yet, and an
	// archived one in the way of another account.
	e.slack.AddChannel(slacktest.Channel{ID: "C0NAKATOMI", Name: "acct-nakatomi-trading"})
	e.slack.AddChannel(slacktest.Channel{ID: "C0OLDINI", Name: "acct-initech-europe", Archived: true})
	e.slack.AddMembers("C0NAKATOMI", "U0CSM1")
	nak := e.accountID(ctx, t, "NAK-1")

	rep := e.click(ctx, t, "U0CSM1", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, strconv.FormatInt(nak, 10))
	a, err := e.store.AccountByID(ctx, nak)
	if err != nil {
		t.Fatal(err)
	}
	if a.SlackChannelID != "C0NAKATOMI" || !strings.Contains(rep.Text, "existed already") {
		t.Fatalf("linked to %q, reply %q; want the existing C0NAKATOMI", a.SlackChannelID, rep.Text)
	}
	if ch, _ := e.slack.Channel("C0NAKATOMI"); !ch.Member {
		t.Error("csbot did not join the existing channel")
	}
	if want := []string{"U0CSM1", "U0SALES"}; !slices.Equal(e.slack.Members("C0NAKATOMI"), want) {
		t.Errorf("members %v, want %v (the CSM was there already)", e.slack.Members("C0NAKATOMI"), want)
	}
	if len(e.slack.Pins("C0NAKATOMI")) != 1 {
		t.Error("no summary pinned in the existing channel")
	}

	ini := e.accountID(ctx, t, "INI-EU")
	rep = e.click(ctx, t, "U0CSM1", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, strconv.FormatInt(ini, 10))
	if !strings.Contains(rep.Text, "#acct-initech-europe exists but is archived") {
		t.Errorf("reply for an archived namesake = %q, want it explained", rep.Text)
	}
	if a, _ := e.store.AccountByID(ctx, ini); a.SlackChannelID != "" {
		t.Errorf("Initech Europe linked to %s, want no channel", a.SlackChannelID)
	}
}

func TestSyncChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	e.slack.AddChannel(slacktest.Channel{ID: "C0INIAS", Name: "acct-initech-asia", Member: true})

	// A dry run says what it would do, and does nothing.
	dry, err := e.cmds.SyncChannels(ctx, commands.ChannelOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	outcomes := map[string]commands.ChannelOutcome{}
	for _, r := range dry {
		outcomes[r.Account.ExternalID] = r.Outcome
	}
	want := map[string]commands.ChannelOutcome{"INI-AS": commands.ChannelWouldMatch, "INI-EU": commands.ChannelWouldCreate,
		"NAK-1": commands.ChannelWouldCreate, "UMB-9": commands.ChannelWouldCreate}
	if !maps.Equal(outcomes, want) {
		t.Errorf("dry run outcomes %v, want %v", outcomes, want)
	}
	for _, m := range []string{"conversations.create", "conversations.invite", "conversations.join", "chat.postMessage", "pins.add"} {
		if n := len(e.slack.Calls(m)); n != 0 {
			t.Errorf("the dry run called %s %d times", m, n)
		}
	}
	if left, _ := e.store.AccountsWithoutChannel(ctx); len(left) != 4 {
		t.Errorf("after the dry run %d accounts without a channel, want 4", len(left))
	}

	res, err := e.cmds.SyncChannels(ctx, commands.ChannelOptions{Private: true})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results, want 4", len(res))
	}
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Account.Name, r.Err)
			continue
		}
		a, _ := e.store.AccountByID(ctx, r.Account.ID)
		if a.SlackChannelID != r.ChannelID || r.ChannelID == "" {
			t.Errorf("%s linked to %q, result says %q", r.Account.Name, a.SlackChannelID, r.ChannelID)
		}
		if r.Account.ExternalID == "INI-AS" {
			if r.Outcome != commands.ChannelMatched || r.ChannelID != "C0INIAS" {
				t.Errorf("Initech Asia: %+v, want the existing C0INIAS matched", r)
			}
			continue
		}
		if ch, _ := e.slack.Channel(r.ChannelID); r.Outcome != commands.ChannelCreated || !ch.Private || ch.Name != r.Name {
			t.Errorf("%s: outcome %v, channel %+v; want a new private channel %s", r.Account.Name, r.Outcome, ch, r.Name)
		}
		if !r.Pinned {
			t.Errorf("%s: no summary pinned (%v)", r.Account.Name, r.Notes)
		}
	}
	if n := len(e.slack.Calls("conversations.create")); n != 3 {
		t.Errorf("%d channels created, want 3 (Initech Asia's existed)", n)
	}
	if n := len(e.slack.Calls("conversations.list")); n != 2 {
		t.Errorf("conversations.list called %d times, want once by each run", n)
	}
	// Nothing is left to do.
	if again, err := e.cmds.SyncChannels(ctx, commands.ChannelOptions{}); err != nil || len(again) != 0 {
		t.Errorf("second sync = %d results, %v; want none", len(again), err)
	}
}

func TestSyncChannelsRefusesToShareAChannelBetweenAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	// Acme is linked to C0ACME1, which Slack calls acct-nakatomi-trading.
	e.slack.AddChannel(slacktest.Channel{ID: "C0ACME1", Name: "acct-nakatomi-trading", Member: true})
	res, err := e.cmds.SyncChannels(ctx, commands.ChannelOptions{Pattern: "acct-{name}"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Account.ExternalID != "NAK-1" {
			continue
		}
		if r.Err == nil || !strings.Contains(r.Err.Error(), "already the channel of Acme Corp") {
			t.Errorf("Nakatomi: %+v, want it refused: the channel is Acme's", r)
		}
	}
	if a, _ := e.store.AccountByExternalID(ctx, "ACME-001"); a.SlackChannelID != "C0ACME1" {
		t.Errorf("Acme's channel is now %q, want C0ACME1 kept", a.SlackChannelID)
	}
	if _, err := e.cmds.SyncChannels(ctx, commands.ChannelOptions{Pattern: "acct"}); err == nil {
		t.Error("a pattern naming no account was accepted")
	}
}

func TestE2ECreateAccountChannel(t *testing.T) {
	t.Parallel()
	ctx := e2eContext(t)
	w := e2eStart(ctx, t, e2eOptions{})
	ini := w.accountID(ctx, t, "INI-EU")

	post := w.ask(ctx, t, e2eCSM, e2eChannel, "/health", "initech europe")
	d := e2eCard(t, "/health initech europe", post, "Initech Europe")
	var create *e2eButton
	for _, b := range d.buttons() {
		if b.ActionID == commands.ActionCreateChannelForTest {
			create = &b
		}
	}
	if create == nil || create.Value != ini || create.Text != "Create account channel" {
		t.Fatalf("the card's buttons %+v lack Create account channel for %s", d.buttons(), ini)
	}
	reply := w.response(ctx, t, w.click(ctx, t, e2eCSM, e2eChannel, "", *create))

	a, err := w.store.AccountByExternalID(ctx, "INI-EU")
	if err != nil {
		t.Fatal(err)
	}
	ch, ok := w.srv.Channel(a.SlackChannelID)
	if !ok || ch.Name != "acct-initech-europe" || !ch.Member {
		t.Fatalf("Initech Europe linked to %q (%+v); reply %q", a.SlackChannelID, ch, reply.Text)
	}
	if !strings.Contains(reply.Text, "Created <#"+ch.ID+"> for *Initech Europe*") || reply.ResponseType != "ephemeral" {
		t.Errorf("reply %q (%s), want an ephemeral confirmation", reply.Text, reply.ResponseType)
	}
	if got := w.srv.Members(ch.ID); !slices.Equal(got, []string{e2eCSM}) {
		t.Errorf("members %v, want the CSM", got)
	}
	msgs := w.srv.Messages(ch.ID)
	if len(msgs) != 1 || !slices.Equal(w.srv.Pins(ch.ID), []string{msgs[0].TS}) || !strings.Contains(msgs[0].Text, "Initech Europe: ") {
		t.Errorf("messages %+v, pins %v; want the pinned summary", msgs, w.srv.Pins(ch.ID))
	}
	snap := w.finish(t)
	for _, m := range []string{"conversations.create", "conversations.invite", "chat.postMessage", "pins.add"} {
		if n := len(snap.Calls(m)); n != 1 {
			t.Errorf("%s called %d times, want once", m, n)
		}
	}
	entries, err := w.store.Audit(ctx, csbot.AuditFilter{AccountID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" by "+e.Actor)
	}
	for _, want := range []string{"command:/health by U0CSM1", "action:channel_create by U0CSM1", "channel_linked by U0CSM1"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log of Initech Europe %v lacks %q", actions, want)
		}
	}
}

// channelLinks returns the channel_linked audit entries of the account.
func channelLinks(ctx context.Context, t *testing.T, e *channelEnv, accountID int64) []csbot.AuditEntry {
	t.Helper()
	var out []csbot.AuditEntry
	for _, en := range auditEntries(ctx, t, e.store, "channel_linked") {
		if en.AccountID == accountID {
			out = append(out, en)
		}
	}
	return out
}

func TestSyncChannelsKeepsALinkMadeMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	nak := e.accountID(ctx, t, "NAK-1")
	// While the sync creates Nakatomi's channel, someone types
	// `/health link nakatomi` in C0BYHAND.
	created := ""
	h := &hookedSlack{SlackChannels: e.api}
	h.afterCreate = func(ch *slack.Channel) {
		if ch.Name != "acct-nakatomi-trading" {
			return
		}
		created = ch.ID
		if _, err := e.store.LinkChannel(ctx, nak, "C0BYHAND", "U0CSM1"); err != nil {
			t.Errorf("LinkChannel meanwhile: %v", err)
		}
	}
	e.rewire(h, e.channels)

	res, err := e.cmds.SyncChannels(ctx, commands.ChannelOptions{})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if a, _ := e.store.AccountByID(ctx, nak); a.SlackChannelID != "C0BYHAND" {
		t.Errorf("Nakatomi linked to %q, want the C0BYHAND linked meanwhile kept", a.SlackChannelID)
	}
	if created == "" {
		t.Fatal("the sync created no channel for Nakatomi")
	}
	if msgs, pins, members := e.slack.Messages(created), e.slack.Pins(created), e.slack.Members(created); len(msgs) != 0 || len(pins) != 0 || len(members) != 0 {
		t.Errorf("the channel Nakatomi no longer needs got messages %+v, pins %v, members %v; want none", msgs, pins, members)
	}
	if links := channelLinks(ctx, t, e, nak); len(links) != 1 || links[0].Channel != "C0BYHAND" {
		t.Errorf("Nakatomi's channel_linked entries %+v, want only the link by hand", links)
	}
	others := 0
	for _, r := range res {
		if r.Account.ID != nak {
			if r.Outcome == commands.ChannelCreated && r.Err == nil && r.Pinned {
				others++
			}
			continue
		}
		if r.Outcome != commands.ChannelLinkedMeanwhile || r.Err != nil || r.ChannelID != "C0BYHAND" || r.Pinned || len(r.Invited) != 0 {
			t.Errorf("Nakatomi's result %+v, want ChannelLinkedMeanwhile with C0BYHAND and nothing done", r)
		}
		if !slices.ContainsFunc(r.Notes, func(n string) bool {
			return strings.Contains(n, "#acct-nakatomi-trading") && strings.Contains(n, "not linked")
		}) {
			t.Errorf("Nakatomi's notes %q don't tell of the channel left unused", r.Notes)
		}
	}
	if others != 3 {
		t.Errorf("%d other accounts got a channel, want 3: %+v", others, res)
	}
}

func TestCreateChannelButtonTwoClicksAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	nak := e.accountID(ctx, t, "NAK-1")
	value := strconv.FormatInt(nak, 10)
	// The CSM's manager clicks too, while the CSM's click is creating the
	// channel.
	var second bot.Reply
	h := &hookedSlack{SlackChannels: e.api}
	h.afterCreate = func(*slack.Channel) {
		h.afterCreate = nil
		second = e.click(ctx, t, "U0BOSS1", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, value)
	}
	e.rewire(h, e.channels)
	first := e.click(ctx, t, "U0CSM1", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, value)

	a, err := e.store.AccountByID(ctx, nak)
	if err != nil {
		t.Fatal(err)
	}
	ch, ok := e.slack.Channel(a.SlackChannelID)
	if !ok || ch.Name != "acct-nakatomi-trading" {
		t.Fatalf("Nakatomi linked to %q (%+v); replies %q and %q", a.SlackChannelID, ch, first.Text, second.Text)
	}
	if msgs, pins := e.slack.Messages(ch.ID), e.slack.Pins(ch.ID); len(msgs) != 1 || len(pins) != 1 {
		t.Errorf("%d messages and %d pins in the channel, want one pinned summary", len(msgs), len(pins))
	}
	if n := len(e.slack.Calls("conversations.invite")); n != 2 {
		t.Errorf("conversations.invite called %d times, want twice (the CSM and the AE, once)", n)
	}
	if links := channelLinks(ctx, t, e, nak); len(links) != 1 {
		t.Errorf("Nakatomi's channel_linked entries %+v, want one", links)
	}
	if !strings.Contains(second.Text, "<#"+ch.ID+">") || !strings.Contains(second.Text, "summary is pinned") {
		t.Errorf("the click that linked the channel says %q", second.Text)
	}
	if !strings.Contains(first.Text, "*Nakatomi Trading* got a channel meanwhile: <#"+ch.ID+">") || strings.Contains(first.Text, "pinned") {
		t.Errorf("the click that lost the race says %q, want it told the account got a channel meanwhile", first.Text)
	}
}

func TestCreateChannelButtonOnlyForTheAccountsPeople(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	nak := e.accountID(ctx, t, "NAK-1")
	value := strconv.FormatInt(nak, 10)

	// Fox is a CSM, but not Nakatomi's; Sam is its AE.
	for _, who := range []string{"U0CSM2", "U0SALES"} {
		rep := e.click(ctx, t, who, "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, value)
		if !strings.Contains(rep.Text, "Only the account's CSM, their manager or an admin") {
			t.Errorf("%s's click = %q, want a polite refusal", who, rep.Text)
		}
	}
	if n := len(e.slack.Calls("conversations.create")); n != 0 {
		t.Fatalf("refused clicks called conversations.create %d times", n)
	}
	if a, _ := e.store.AccountByID(ctx, nak); a.SlackChannelID != "" {
		t.Fatalf("a refused click linked %s", a.SlackChannelID)
	}
	clicks := auditEntries(ctx, t, e.store, "action:"+commands.ActionCreateChannelForTest)
	if len(clicks) != 2 {
		t.Fatalf("button entries %+v, want the two refusals", clicks)
	}
	for _, c := range clicks {
		if c.AccountID != nak {
			t.Errorf("the refusal of %s is recorded with account %d, want Nakatomi (%d)", c.Actor, c.AccountID, nak)
		}
	}

	// Dana's manager may.
	rep := e.click(ctx, t, "U0BOSS1", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, value)
	a, _ := e.store.AccountByID(ctx, nak)
	if a.SlackChannelID == "" || !strings.Contains(rep.Text, "Created <#"+a.SlackChannelID+">") {
		t.Errorf("the manager's click = %q, Nakatomi linked to %q; want a new channel", rep.Text, a.SlackChannelID)
	}
}

func TestSyncChannelsLeavesTheGeneralChannelAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	k, err := csbot.LookupImportKind("accounts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Import(ctx, k, strings.NewReader("external_id,name,tier,arr,stage,csm\nGEN-1,General,low,1000,adopting,U0CSM1\n")); err != nil {
		t.Fatal(err)
	}
	// The workspace's general channel, renamed.
	e.slack.AddChannel(slacktest.Channel{ID: "C0GENERAL", Name: "acct-general", Member: true})
	e.slack.SetGeneral("C0GENERAL")
	gen := e.accountID(ctx, t, "GEN-1")

	for _, dry := range []bool{true, false} {
		res, err := e.cmds.SyncChannels(ctx, commands.ChannelOptions{DryRun: dry})
		if err != nil {
			t.Fatalf("sync (dry run %v): %v", dry, err)
		}
		i := slices.IndexFunc(res, func(r commands.ChannelResult) bool { return r.Account.ID == gen })
		if i < 0 {
			t.Fatalf("sync (dry run %v): no result for General", dry)
		}
		if r := res[i]; r.Outcome != commands.ChannelFailed || r.Err == nil || !strings.Contains(r.Err.Error(), "#acct-general is the workspace's general channel") {
			t.Errorf("sync (dry run %v): General's result %+v, want it refused: that is the general channel", dry, r)
		}
	}
	if a, _ := e.store.AccountByID(ctx, gen); a.SlackChannelID != "" {
		t.Errorf("General linked to %s, want no channel", a.SlackChannelID)
	}
	if msgs, pins, members := e.slack.Messages("C0GENERAL"), e.slack.Pins("C0GENERAL"), e.slack.Members("C0GENERAL"); len(msgs) != 0 || len(pins) != 0 || len(members) != 0 {
		t.Errorf("the general channel got messages %+v, pins %v, members %v; want none", msgs, pins, members)
	}
}

func TestCreateChannelButtonChecksAMatchedChannelBeforePosting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	// Slack's list says nothing of it, but the guard has just learnt that
	// the channel is shared with the customer.
	e.slack.AddChannel(slacktest.Channel{ID: "C0NAKATOMI", Name: "acct-nakatomi-trading", Member: true})
	e.channels["C0NAKATOMI"] = bot.ChannelInfo{ID: "C0NAKATOMI", Name: "acct-nakatomi-trading", ExtShared: true, Member: true}
	nak := e.accountID(ctx, t, "NAK-1")

	rep := e.click(ctx, t, "U0CSM1", "C0ELSE1", "health_actions", commands.ActionCreateChannelForTest, strconv.FormatInt(nak, 10))
	if a, _ := e.store.AccountByID(ctx, nak); a.SlackChannelID != "C0NAKATOMI" {
		t.Errorf("Nakatomi linked to %q, want C0NAKATOMI", a.SlackChannelID)
	}
	if msgs, pins := e.slack.Messages("C0NAKATOMI"), e.slack.Pins("C0NAKATOMI"); len(msgs) != 0 || len(pins) != 0 {
		t.Errorf("a shared channel got messages %+v and pins %v, want none", msgs, pins)
	}
	if !strings.Contains(rep.Text, "shared with another organisation") || strings.Contains(rep.Text, "summary is pinned") {
		t.Errorf("reply %q, want it told no summary was posted in the shared channel", rep.Text)
	}
}

func TestSyncChannelsChecksAMatchedChannelBeforePosting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newChannelEnv(ctx, t)
	e.slack.AddChannel(slacktest.Channel{ID: "C0NAKATOMI", Name: "acct-nakatomi-trading"})
	// The channel is shared with the customer after the sync listed the
	// channels; on the command line there is no guard, so conversations.info
	// must tell.
	h := &hookedSlack{SlackChannels: e.api}
	h.afterJoin = func(id string) {
		if id == "C0NAKATOMI" {
			e.slack.AddChannel(slacktest.Channel{ID: "C0NAKATOMI", Name: "acct-nakatomi-trading", Member: true,
				ExtShared: true, ConnectedTeamIDs: []string{"T0CUSTOMER"}})
		}
	}
	e.rewire(h, nil)
	nak := e.accountID(ctx, t, "NAK-1")

	res, err := e.cmds.SyncChannels(ctx, commands.ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(res, func(r commands.ChannelResult) bool { return r.Account.ID == nak })
	if i < 0 {
		t.Fatal("no result for Nakatomi")
	}
	if r := res[i]; r.Outcome != commands.ChannelMatched || r.ChannelID != "C0NAKATOMI" || r.Pinned ||
		!slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "shared with another organisation") }) {
		t.Errorf("Nakatomi's result %+v, want C0NAKATOMI linked, no summary, a note why", r)
	}
	if msgs := e.slack.Messages("C0NAKATOMI"); len(msgs) != 0 {
		t.Errorf("the shared channel got messages %+v, want none", msgs)
	}
	if len(e.slack.Calls("conversations.info")) == 0 {
		t.Error("the sync never asked conversations.info")
	}
}

// The card offers "Create account channel" to the account's CSM, managers
// and admins, and not to another CSM or to sales.
func TestCreateChannelButtonShownToTheAccountsPeople(t *testing.T) {
	t.Parallel()
	d := healthNoDataDetail()
	d.Account.CSMUserID = "U0CSM1"
	as := func(id string, role csbot.UserRole) bot.Actor {
		return bot.Actor{SlackID: id, Known: true, Role: role, User: csbot.User{SlackID: id, Role: role}}
	}
	for _, tt := range []struct {
		actor bot.Actor
		want  bool
	}{
		{as("U0CSM1", csbot.UserCSM), true},
		{as("U0CSM2", csbot.UserCSM), false},
		{as("U0BOSS1", csbot.UserManager), true},
		{as("U0ADMIN", csbot.UserAdmin), true},
		{as("U0SALES", csbot.UserSales), false},
	} {
		rep := healthRenderer().HealthCardForTest(tt.actor, d, nil, false)
		if got := strings.Contains(healthBlocksJSON(t, rep), "Create account channel"); got != tt.want {
			t.Errorf("%s (%s) sees the button: %v, want %v", tt.actor.SlackID, tt.actor.Role, got, tt.want)
		}
	}
}
