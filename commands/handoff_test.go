package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/slack-go/slack"
)

// handoffOnboardingChannel is where the handoff tests' handoffs go besides
// the account's channel.
const handoffOnboardingChannel = "C0ONBRD"

// handoffRegistrar records the handlers the commands register, shortcuts
// included.
type handoffRegistrar struct {
	*healthRegistrar
	shortcuts map[string]bot.ShortcutFunc
}

func (r *handoffRegistrar) HandleShortcut(id string, fn bot.ShortcutFunc) { r.shortcuts[id] = fn }

// handoffEnv is the world of a /handoff test: healthEnv's book, with two
// onboarding people and more contacts, and the commands set to post in
// the onboarding channel.
type handoffEnv struct {
	*healthEnv
	shortcuts map[string]bot.ShortcutFunc
}

// newHandoffEnv returns a handoffEnv on a fresh database.
func newHandoffEnv(ctx context.Context, t *testing.T) *handoffEnv {
	t.Helper()
	e := newHealthEnv(ctx, t)
	for kind, text := range map[string]string{
		"users": `slack_id,role,name,email,manager_slack_id,timezone
U0ONB1,onboarding,Olive Onboard,olive@vendor.example,U0BOSS1,
U0ONB2,onboarding,Otto Onboard,otto@vendor.example,U0BOSS1,
`,
		"contacts": `account_external_id,name,role,email,title,active
ACME-001,Wile E. Coyote,champion,wile@acme.com,Head of Ops,true
GLX-042,Hank Scorpio,champion,hank@globex.example,CEO,true
`,
	} {
		k, err := csbot.LookupImportKind(kind)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Import(ctx, k, strings.NewReader(text)); err != nil {
			t.Fatalf("import %s: %v", kind, err)
		}
	}
	reg := &handoffRegistrar{healthRegistrar: newHealthRegistrar(), shortcuts: map[string]bot.ShortcutFunc{}}
	e.reg = reg.healthRegistrar
	e.cmds = commands.New(commands.Config{Store: e.store, Policy: csbot.DefaultPolicy(), Channels: e.channels, Now: healthNow,
		OnboardingChannel: handoffOnboardingChannel})
	e.cmds.Register(reg)
	return &handoffEnv{healthEnv: e, shortcuts: reg.shortcuts}
}

// handoff runs /handoff text as slackID in the channel.
func (e *handoffEnv) handoff(ctx context.Context, t *testing.T, slackID, channel, text string) bot.Reply {
	t.Helper()
	fn := e.cmds.Command("/handoff")
	if fn == nil {
		t.Fatal("no /handoff")
	}
	rep, err := fn(ctx, bot.CommandRequest{Request: e.request(ctx, t, slackID, channel), Command: "/handoff", Text: text})
	if err != nil {
		t.Fatalf("/handoff %s: %v", text, err)
	}
	e.checkReply(t, rep)
	return rep
}

// checkReply checks a reply against Slack's limits.
func (e *handoffEnv) checkReply(t *testing.T, rep bot.Reply) {
	t.Helper()
	if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
		t.Errorf("reply over Slack's limits: %v", err)
	}
	if rep.OpenView != nil {
		if err := bot.CheckView(*rep.OpenView); err != nil {
			t.Errorf("modal over Slack's limits: %v", err)
		}
	}
}

// view is a submission of the modal callback with metadata and values by
// slackID.
func (e *handoffEnv) view(ctx context.Context, t *testing.T, slackID, callback, metadata string, values map[string]map[string]slack.BlockAction) bot.ViewRequest {
	t.Helper()
	return bot.ViewRequest{Request: e.request(ctx, t, slackID, ""),
		View: slack.View{CallbackID: callback, PrivateMetadata: metadata, State: &slack.ViewState{Values: values}}}
}

// validate runs the Validate of the modal callback.
func (e *handoffEnv) validate(ctx context.Context, t *testing.T, req bot.ViewRequest) map[string]string {
	t.Helper()
	h, ok := e.reg.views[req.View.CallbackID]
	if !ok || h.Validate == nil {
		t.Fatalf("no Validate for %s", req.View.CallbackID)
	}
	errs, err := h.Validate(ctx, req)
	if err != nil {
		t.Fatalf("Validate %s: %v", req.View.CallbackID, err)
	}
	for k, msg := range errs {
		if msg == "" {
			t.Errorf("empty error on %s", k)
		}
	}
	return errs
}

// submit validates then submits, failing when Validate refuses.
func (e *handoffEnv) submit(ctx context.Context, t *testing.T, req bot.ViewRequest) bot.Reply {
	t.Helper()
	if errs := e.validate(ctx, t, req); errs != nil {
		t.Fatalf("Validate %s refused: %v", req.View.CallbackID, errs)
	}
	rep, err := e.reg.views[req.View.CallbackID].Submit(ctx, req)
	if err != nil {
		t.Fatalf("Submit %s: %v", req.View.CallbackID, err)
	}
	e.checkReply(t, rep)
	return rep
}

// openModal returns rep's modal, failing when it has none.
func openModal(t *testing.T, rep bot.Reply) slack.ModalViewRequest {
	t.Helper()
	if rep.OpenView == nil {
		t.Fatalf("got %q, want a modal", rep.Text)
	}
	return *rep.OpenView
}

// metaOf reads a handoff modal's metadata.
func metaOf(t *testing.T, v slack.ModalViewRequest) commands.HandoffMetaForTest {
	t.Helper()
	m, err := commands.ParseHandoffMetaForTest(v.PrivateMetadata)
	if err != nil {
		t.Fatalf("modal metadata %q: %v", v.PrivateMetadata, err)
	}
	return m
}

// initialValue returns the initial value of the modal's plain text input
// block, "" when none.
func initialValue(v slack.ModalViewRequest, block string) string {
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok && in.BlockID == block {
			if el, ok := in.Element.(*slack.PlainTextInputBlockElement); ok {
				return el.InitialValue
			}
		}
	}
	return ""
}

// hasBlock reports whether the modal has the block.
func hasBlock(v slack.ModalViewRequest, block string) bool {
	return slices.ContainsFunc(v.Blocks.BlockSet, func(b slack.Block) bool {
		in, ok := b.(*slack.InputBlock)
		return ok && in.BlockID == block
	})
}

// createHandoff posts a handoff for the account through the modal, as
// slackID, and returns its id.
func (e *handoffEnv) createHandoff(ctx context.Context, t *testing.T, slackID, extID string, extra ...string) int64 {
	t.Helper()
	id := e.accountID(ctx, t, extID)
	meta := commands.EncodeHandoffMetaForTest(commands.HandoffMetaForTest{Account: id})
	e.submit(ctx, t, e.view(ctx, t, slackID, commands.HandoffCallbackForTest, meta, handoffGoodValues(extra...)))
	h, err := e.store.OpenHandoffOf(ctx, id)
	if err != nil {
		t.Fatalf("OpenHandoffOf(%s) after the submission: %v", extID, err)
	}
	return h.ID
}

func TestHandoffOpensTheModalForWritersOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	acme := e.accountID(ctx, t, "ACME-001")
	for _, who := range []string{"U0SALES", "U0CSM1", "U0BOSS1", "U0ADMIN"} {
		v := openModal(t, e.handoff(ctx, t, who, "C0ELSE1", "acme"))
		if v.CallbackID != commands.HandoffCallbackForTest || metaOf(t, v).Account != acme {
			t.Errorf("%s: modal %q with metadata %q, want the handoff modal for Acme", who, v.CallbackID, v.PrivateMetadata)
		}
		if hasBlock(v, "account") || !hasBlock(v, "stakeholder_champion") || !hasBlock(v, "stakeholder_renewal") ||
			hasBlock(v, "stakeholder_billing") || !hasBlock(v, "stakeholder_billing_new") {
			t.Errorf("%s: the modal's blocks don't follow Acme's contacts", who)
		}
		js := healthBlocksJSONOf(t, v.Blocks.BlockSet)
		for _, want := range []string{"Wile E. Coyote (Head of Ops)", "Road Runner (CFO)", `"initial_option":{"text":{"type":"plain_text","text":"High touch","emoji":false},"value":"high"}`} {
			if !strings.Contains(js, want) {
				t.Errorf("%s: modal lacks %s", who, want)
			}
		}
	}
	for who, want := range map[string]string{
		"U0ONB1":   "onboarding receives them",
		"U0NOBODY": "doesn't know you",
	} {
		rep := e.handoff(ctx, t, who, "C0ELSE1", "acme")
		if rep.OpenView != nil || !strings.Contains(rep.Text, want) || rep.Visibility != bot.Ephemeral {
			t.Errorf("%s ran /handoff acme: %+v, want an ephemeral refusal saying %q", who, rep, want)
		}
	}
	// The shortcuts refuse the same people.
	for id, fn := range e.shortcuts {
		rep, err := fn(ctx, bot.ShortcutRequest{Request: e.request(ctx, t, "U0ONB1", "C0ELSE1"), CallbackID: id,
			Message: &slack.Message{Msg: slack.Msg{Text: "Acme Corp signed", Timestamp: "1700000000.000100"}}})
		if err != nil || rep.OpenView != nil || !strings.Contains(rep.Text, "onboarding receives them") {
			t.Errorf("shortcut %s by onboarding: %+v, %v; want a refusal", id, rep, err)
		}
	}
	if len(e.shortcuts) != 2 {
		t.Errorf("shortcuts registered: %v, want new_handoff and message_to_handoff", slices.Sorted(maps.Keys(e.shortcuts)))
	}
}

func TestHandoffWithoutAnAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	// In Acme's channel: Acme.
	v := openModal(t, e.handoff(ctx, t, "U0SALES", "C0ACME1", ""))
	if m := metaOf(t, v); m.Account != e.accountID(ctx, t, "ACME-001") || hasBlock(v, "account") {
		t.Errorf("/handoff in Acme's channel: metadata %+v, want Acme's modal", m)
	}
	// Elsewhere, and from the global shortcut: the account to type.
	v = openModal(t, e.handoff(ctx, t, "U0SALES", "C0ELSE1", ""))
	if metaOf(t, v).Account != 0 || !hasBlock(v, "account") || !hasBlock(v, "create_account") || !hasBlock(v, "arr") {
		t.Errorf("/handoff elsewhere: want the modal asking for the account")
	}
	rep, err := e.shortcuts[commands.ShortcutNewHandoffFT](ctx, bot.ShortcutRequest{Request: e.request(ctx, t, "U0CSM1", ""),
		CallbackID: commands.ShortcutNewHandoffFT})
	if err != nil {
		t.Fatal(err)
	}
	if v := openModal(t, rep); !hasBlock(v, "account") {
		t.Error("the New handoff shortcut's modal doesn't ask for the account")
	}
	// A name that matches nothing: the modal, with the name to correct
	// or create.
	v = openModal(t, e.handoff(ctx, t, "U0SALES", "C0ELSE1", "Initrode Global"))
	if initialValue(v, "account") != "Initrode Global" || !strings.Contains(healthBlocksJSONOf(t, v.Blocks.BlockSet), "No account in csbot matches") {
		t.Errorf("/handoff Initrode Global: account prefill %q; want the name and a note", initialValue(v, "account"))
	}
	// Two matches: a pick-list whose buttons open the modal.
	rep = e.handoff(ctx, t, "U0SALES", "C0ELSE1", "initech")
	if rep.OpenView != nil || len(healthButtons(rep)) != 2 {
		t.Fatalf("/handoff initech: %+v, want a pick-list of two", rep)
	}
	b := healthButtons(rep)[0]
	if v := openModal(t, e.click(ctx, t, "U0SALES", "C0ELSE1", b.BlockID, b.ActionID, b.Value)); metaOf(t, v).Account == 0 {
		t.Error("picking from the list didn't open the modal for the account")
	}
	if rep := e.handoff(ctx, t, "U0SALES", "C0ELSE1", "help"); !strings.Contains(rep.Text, "/handoff status") {
		t.Errorf("/handoff help = %q", rep.Text)
	}
}

func TestHandoffValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	acme := e.accountID(ctx, t, "ACME-001")
	fixed := commands.EncodeHandoffMetaForTest(commands.HandoffMetaForTest{Account: acme})
	typed := commands.EncodeHandoffMetaForTest(commands.HandoffMetaForTest{})
	wile := e.contactID(ctx, t, acme, "Wile E. Coyote")
	for _, tt := range []struct {
		name, who, meta string
		values          map[string]map[string]slack.BlockAction
		want            map[string]string // block_id: part of the message
	}{
		{"complete", "U0SALES", fixed, handoffGoodValues("stakeholder_champion", strconv.FormatInt(wile, 10)), nil},
		{"missing goals", "U0SALES", fixed, handoffGoodValues(csbot.HandoffGoals, ""), map[string]string{"goals": "what the customer wants"}},
		{"go-live before the start", "U0SALES", fixed, handoffGoodValues(csbot.HandoffGoLive, "2026-11-01"), map[string]string{"go_live": "before the contract starts"}},
		{"stakeholder line without a name", "U0SALES", fixed, handoffGoodValues("stakeholder_exec_sponsor_new", "ceo@acme.com"),
			map[string]string{"stakeholder_exec_sponsor_new": "start with the person's name"}},
		{"contact of another account", "U0SALES", fixed, handoffGoodValues("stakeholder_champion", strconv.FormatInt(e.contactID(ctx, t, e.accountID(ctx, t, "GLX-042"), "Hank Scorpio"), 10)),
			map[string]string{"stakeholder_champion": "isn't on file"}},
		{"onboarding may not", "U0ONB1", fixed, handoffGoodValues(), map[string]string{"goals": "onboarding receives them"}},
		{"typed account found", "U0SALES", typed, handoffGoodValues("account", "acme.com"), nil},
		{"typed account unknown", "U0SALES", typed, handoffGoodValues("account", "Initrode Global"),
			map[string]string{"account": "tick “Create this as a new account” below"}},
		{"typed account misspelt", "U0SALES", typed, handoffGoodValues("account", "Umbrela Corporatoin"),
			map[string]string{"account": "Did you mean Umbrella Corporation?"}},
		{"typed account ambiguous", "U0SALES", typed, handoffGoodValues("account", "initech"), map[string]string{"account": "2 accounts match"}},
		{"typed account to create", "U0SALES", typed, handoffGoodValues("account", "Initrode Global", "create_account", "create", "arr", "48000"), nil},
		{"create without a tier", "U0SALES", typed, handoffGoodValues("account", "Initrode Global", "create_account", "create", csbot.HandoffTier, ""),
			map[string]string{"tier": "tier"}},
		{"create an existing name", "U0SALES", typed, handoffGoodValues("account", "acme corp", "create_account", "create"),
			map[string]string{"account": "in csbot already"}},
		{"seats and stakeholders at once", "U0CSM1", fixed, handoffGoodValues(csbot.HandoffSeats, "many", "stakeholder_billing_new", "Bill <bill@>"),
			map[string]string{"seats": "whole number", "stakeholder_billing_new": "isn't an e-mail address"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := e.validate(ctx, t, e.view(ctx, t, tt.who, commands.HandoffCallbackForTest, tt.meta, tt.values))
			if len(errs) != len(tt.want) {
				t.Errorf("errors %v, want on %v", errs, tt.want)
			}
			for block, part := range tt.want {
				if !strings.Contains(errs[block], part) {
					t.Errorf("error on %s = %q, want it to say %q (all: %v)", block, errs[block], part, errs)
				}
			}
		})
	}
	// Nothing was stored by validating.
	if _, err := e.store.OpenHandoffOf(ctx, acme); !errors.Is(err, csbot.ErrNotFound) {
		t.Errorf("a handoff exists after validation alone: %v", err)
	}
}

// contactID returns the id of the account's active contact named name.
func (e *handoffEnv) contactID(ctx context.Context, t *testing.T, account int64, name string) int64 {
	t.Helper()
	d, err := e.store.AccountDetail(ctx, account, healthNow())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Contacts {
		if c.Name == name {
			return c.ID
		}
	}
	t.Fatalf("account %d has no contact %q", account, name)
	return 0
}

func TestHandoffSubmitStoresAndPosts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	acme := e.accountID(ctx, t, "ACME-001")
	wile := e.contactID(ctx, t, acme, "Wile E. Coyote")
	meta := commands.EncodeHandoffMetaForTest(commands.HandoffMetaForTest{Account: acme})
	rep := e.submit(ctx, t, e.view(ctx, t, "U0SALES", commands.HandoffCallbackForTest, meta, handoffGoodValues(
		csbot.HandoffGoals, "Go live <!here> fast & well",
		csbot.HandoffOwner, "U0ONB1",
		"stakeholder_champion", strconv.FormatInt(wile, 10),
		"stakeholder_billing_new", "Bill Payer <ap@acme.com>, AP lead",
	)))
	want := "Handoff for *Acme Corp* posted in <#C0ACME1> and the onboarding channel; onboarding is asked to acknowledge it. Missing: no exec sponsor named."
	if rep.Text != want || rep.Visibility != bot.Ephemeral {
		t.Errorf("Submit replied %q, want %q", rep.Text, want)
	}
	h, err := e.store.OpenHandoffOf(ctx, acme)
	if err != nil {
		t.Fatalf("OpenHandoffOf: %v", err)
	}
	if h.Author != "U0SALES" || h.Owner != "U0ONB1" || h.State != csbot.HandoffOpen || h.Seats != 250 ||
		h.GoLive.Format("2006-01-02") != "2027-02-15" || h.Tier != csbot.TierHigh {
		t.Errorf("stored %+v", h)
	}
	if strings.Contains(h.Goals, "<!here>") || !strings.Contains(h.Goals, "here") || !strings.Contains(h.Goals, "& well") {
		t.Errorf("goals stored as %q, want the mention made inert", h.Goals)
	}
	var roles []string
	for _, s := range h.Stakeholders {
		roles = append(roles, string(s.Role)+":"+s.Name)
		if s.Role == csbot.RoleChampion && s.ContactID != wile {
			t.Errorf("champion %+v, want contact %d", s, wile)
		}
	}
	slices.Sort(roles)
	if !slices.Equal(roles, []string{"billing:Bill Payer", "champion:Wile E. Coyote"}) {
		t.Errorf("stakeholders %v", roles)
	}
	// The store posts it: one notification per place.
	posts, err := e.store.RecentNotifications(ctx, csbot.NotifyHandoff, 20)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range posts {
		got[n.Key] = n.Channel
	}
	prefix := "handoff:" + strconv.FormatInt(h.ID, 10) + ":"
	if got[prefix+"account"] != "C0ACME1" || got[prefix+"onboarding"] != handoffOnboardingChannel {
		t.Errorf("handoff notifications %v, want %saccount in C0ACME1 and %sonboarding in %s", got, prefix, prefix, handoffOnboardingChannel)
	}
	// A second one for Acme is refused while this one is open.
	errs := e.validate(ctx, t, e.view(ctx, t, "U0CSM1", commands.HandoffCallbackForTest, meta, handoffGoodValues()))
	if !strings.Contains(errs["goals"], "has a handoff open already") {
		t.Errorf("a second handoff for Acme: errors %v, want one on goals", errs)
	}
}

func TestHandoffCreatesAnUnknownAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	req := e.view(ctx, t, "U0SALES", commands.HandoffCallbackForTest, "{}", handoffGoodValues(
		"account", "Initrode Global", "create_account", "create", "arr", "48,000", csbot.HandoffTier, "low"))
	rep := e.submit(ctx, t, req)
	res, err := e.store.FindAccounts(ctx, "Initrode Global", 3)
	if err != nil || len(res.Matches) != 1 {
		t.Fatalf("FindAccounts(Initrode Global) = %+v, %v; want the new account", res, err)
	}
	a := res.Matches[0].Account
	if a.Tier != csbot.TierLow || a.ARR != 4_800_000 || a.AEUserID != "U0SALES" || a.Stage != csbot.StageOnboarding || !strings.HasPrefix(a.ExternalID, "slack-") {
		t.Errorf("created %+v", a)
	}
	if !strings.HasPrefix(rep.Text, "Added *Initrode Global* to csbot as a new account (CRM id "+a.ExternalID+"). Handoff for *Initrode Global* posted in the onboarding channel") {
		t.Errorf("Submit replied %q", rep.Text)
	}
	if h, err := e.store.OpenHandoffOf(ctx, a.ID); err != nil || h.Author != "U0SALES" {
		t.Errorf("handoff of the new account: %+v, %v", h, err)
	}
	// Submitting the same form again finds the name taken.
	if errs := e.validate(ctx, t, req); !strings.Contains(errs["account"], "in csbot already") {
		t.Errorf("second creation: errors %v", errs)
	}
}

func TestHandoffMessageShortcutPrefills(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	shortcut := e.shortcuts[commands.ShortcutMessageHandoffFT]
	run := func(channel, text string) slack.ModalViewRequest {
		t.Helper()
		rep, err := shortcut(ctx, bot.ShortcutRequest{Request: e.request(ctx, t, "U0SALES", channel), CallbackID: commands.ShortcutMessageHandoffFT,
			Message: &slack.Message{Msg: slack.Msg{Text: text, Timestamp: "1700000000.000100", User: "U0SALES"}}})
		if err != nil {
			t.Fatalf("shortcut: %v", err)
		}
		e.checkReply(t, rep)
		return openModal(t, rep)
	}
	v := run("C0ELSE1", "Closed-won: *Globex International* signed today &amp; wants SSO <!here> <@U0CSM2>")
	if got := initialValue(v, "account"); got != "Globex International" {
		t.Errorf("account prefilled %q, want Globex International", got)
	}
	notes := initialValue(v, "notes")
	if strings.Contains(notes, "<!here>") || strings.Contains(notes, "&amp;") || !strings.Contains(notes, "signed today & wants SSO @\u2060here") {
		t.Errorf("notes prefilled %q, want the message as plain, inert text", notes)
	}
	if m := metaOf(t, v); m.Channel != "C0ELSE1" || m.TS != "1700000000.000100" || m.Account != 0 {
		t.Errorf("metadata %+v, want the message's channel and ts", m)
	}
	if !strings.Contains(healthBlocksJSONOf(t, v.Blocks.BlockSet), "Hank Scorpio (CEO)") {
		t.Error("the guessed account's contacts are not offered")
	}
	// A message naming no account, in Acme's channel: Acme.
	if got := initialValue(run("C0ACME1", "they signed! kickoff next week"), "account"); got != "Acme Corp" {
		t.Errorf("account prefilled %q in Acme's channel, want Acme Corp", got)
	}
	// Nothing to go on: the account is left to type.
	if got := initialValue(run("C0ELSE1", "they signed! kickoff next week"), "account"); got != "" {
		t.Errorf("account prefilled %q, want none", got)
	}
	// The prefilled form submits as any other.
	values := handoffGoodValues("account", "Globex International", csbot.HandoffNotes, notes)
	rep := e.submit(ctx, t, e.view(ctx, t, "U0SALES", commands.HandoffCallbackForTest, v.PrivateMetadata, values))
	if !strings.Contains(rep.Text, "Handoff for *Globex International* posted in <#C0GLOBX>") {
		t.Errorf("Submit replied %q", rep.Text)
	}
}

func TestHandoffOpenOneIsShownAndAmended(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	id := e.createHandoff(ctx, t, "U0SALES", "ACME-001", csbot.HandoffOwner, "U0ONB1")
	value := strconv.FormatInt(id, 10)

	rep := e.handoff(ctx, t, "U0CSM1", "C0ELSE1", "acme")
	if rep.OpenView != nil || !strings.Contains(rep.Text, "*Acme Corp* already has a handoff, from <@U0SALES>") {
		t.Fatalf("/handoff acme with one open: %+v", rep)
	}
	buttons := healthButtons(rep)
	if len(buttons) != 2 || buttons[0].ActionID != commands.ActionHandoffViewForTest || buttons[1].ActionID != commands.ActionHandoffAmendFT ||
		buttons[0].Value != value || buttons[1].Value != value {
		t.Fatalf("buttons %+v, want View and Amend of %d", buttons, id)
	}
	if all := healthBlocksJSON(t, rep); !strings.Contains(all, "waiting for onboarding since today") {
		t.Errorf("summary lacks its state:\n%s", bot.PlainText(rep.Blocks))
	}

	view := e.click(ctx, t, "U0ONB2", "C0ELSE1", "handoff_open", commands.ActionHandoffViewForTest, value)
	all := bot.PlainText(view.Blocks)
	for _, want := range []string{"Handoff: Acme Corp", "Cut store onboarding from 6 weeks to 2", "250 seats", "go-live Feb 15, 2027", "Onboarding owner: @U0ONB1"} {
		if !strings.Contains(all, want) {
			t.Errorf("View lacks %q:\n%s", want, all)
		}
	}

	if rep := e.click(ctx, t, "U0ONB1", "C0ELSE1", "handoff_open", commands.ActionHandoffAmendFT, value); rep.OpenView != nil {
		t.Error("onboarding may amend a handoff")
	}
	v := openModal(t, e.click(ctx, t, "U0SALES", "C0ELSE1", "handoff_open", commands.ActionHandoffAmendFT, value))
	if m := metaOf(t, v); m.Amend != id || m.Account != e.accountID(ctx, t, "ACME-001") {
		t.Errorf("amend modal metadata %+v", m)
	}
	if initialValue(v, "goals") != "Cut store onboarding from 6 weeks to 2" || initialValue(v, "risks") != "IT is stretched until January" {
		t.Errorf("amend modal not prefilled: goals %q", initialValue(v, "goals"))
	}
	rep = e.submit(ctx, t, e.view(ctx, t, "U0SALES", commands.HandoffCallbackForTest, v.PrivateMetadata,
		handoffGoodValues(csbot.HandoffGoals, "Cut store onboarding to 10 days", csbot.HandoffOwner, "U0ONB1",
			"stakeholder_exec_sponsor_new", "Ella Exec <ella@acme.com>")))
	if !strings.HasPrefix(rep.Text, "Amended the handoff for *Acme Corp*") {
		t.Errorf("amend replied %q", rep.Text)
	}
	hv, err := e.store.HandoffView(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if hv.Handoff.Goals != "Cut store onboarding to 10 days" || hv.Amendments != 1 || hv.Handoff.Author != "U0SALES" ||
		!slices.ContainsFunc(hv.Handoff.Stakeholders, func(s csbot.Stakeholder) bool { return s.Name == "Ella Exec" }) {
		t.Errorf("after the amendment: %+v, %d amendments", hv.Handoff, hv.Amendments)
	}
	if _, err := e.store.OpenHandoffOf(ctx, e.accountID(ctx, t, "ACME-001")); err != nil {
		t.Errorf("OpenHandoffOf after the amendment: %v", err)
	}
}

func TestHandoffStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	e.createHandoff(ctx, t, "U0SALES", "ACME-001")
	// Globex's was written on the Thursday before: two business days ago.
	glx := e.accountID(ctx, t, "GLX-042")
	if _, err := e.store.CreateHandoff(ctx, csbot.Handoff{AccountID: glx, Author: "U0CSM1", Owner: "U0ONB1", Goals: "g",
		SuccessCriteria: "s", Products: "p"}, handoffOnboardingChannel, healthNow().AddDate(0, 0, -4)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		who     string
		want    []string
		notWant []string
	}{
		{"U0SALES", []string{"*Your open handoffs*, waiting for onboarding: 1", "*Acme Corp* · since today · from <@U0SALES> · no owner yet"}, []string{"Globex"}},
		{"U0CSM1", []string{"*Your open handoffs*, waiting for onboarding: 1", "*Globex International* · 2 business days · from <@U0CSM1> · owner <@U0ONB1>"}, []string{"Acme"}},
		{"U0ONB2", []string{"*Open handoffs* waiting for onboarding: 2", "Globex International", "Acme Corp"}, nil},
		{"U0BOSS1", []string{"*Open handoffs* waiting for onboarding: 2"}, nil},
		{"U0CSM2", []string{"None of the handoffs you wrote or own"}, nil},
	} {
		rep := e.handoff(ctx, t, tt.who, "C0ELSE1", "status")
		all := rep.Text + healthBlocksJSON(t, rep)
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("/handoff status as %s lacks %q:\n%s", tt.who, w, rep.Text)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(all, w) {
				t.Errorf("/handoff status as %s shows %q:\n%s", tt.who, w, rep.Text)
			}
		}
		if rep.Visibility != bot.Ephemeral {
			t.Errorf("/handoff status as %s is not ephemeral", tt.who)
		}
	}
	// The oldest first.
	rep := e.handoff(ctx, t, "U0ONB1", "C0ELSE1", "status")
	if strings.Index(rep.Text, "Globex") > strings.Index(rep.Text, "Acme") {
		t.Errorf("status not oldest first:\n%s", rep.Text)
	}
}

func TestHandoffAcknowledge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	id := strconv.FormatInt(e.createHandoff(ctx, t, "U0SALES", "ACME-001"), 10)
	for _, who := range []string{"U0SALES", "U0CSM1", "U0NOBODY"} {
		rep := e.click(ctx, t, who, handoffOnboardingChannel, "handoff_actions", commands.ActionHandoffAckForTest, id)
		if !strings.Contains(rep.Text, "Only onboarding, CS managers and admins") {
			t.Errorf("%s acknowledged: %q, want a refusal", who, rep.Text)
		}
	}
	// The refusals are audited with the account.
	refused := auditEntries(ctx, t, e.store, "action:"+commands.ActionHandoffAckForTest)
	if len(refused) != 3 {
		t.Errorf("%d refused acknowledgements audited, want 3", len(refused))
	}
	for _, entry := range refused {
		if entry.AccountID != e.accountID(ctx, t, "ACME-001") {
			t.Errorf("refused acknowledgement audited without Acme: %+v", entry)
		}
	}
	rep := e.click(ctx, t, "U0ONB1", handoffOnboardingChannel, "handoff_actions", commands.ActionHandoffAckForTest, id)
	if rep.Text != "Acknowledged the handoff for *Acme Corp*; <@U0SALES> is told." || rep.Visibility != bot.Ephemeral {
		t.Errorf("acknowledge replied %q", rep.Text)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	v, err := e.store.HandoffView(ctx, n)
	if err != nil || v.Handoff.State != csbot.HandoffAcknowledged || v.Handoff.AckedBy != "U0ONB1" {
		t.Errorf("after acknowledging: %+v, %v", v.Handoff, err)
	}
	if rep := e.click(ctx, t, "U0ONB2", handoffOnboardingChannel, "handoff_actions", commands.ActionHandoffAckForTest, id); rep.Text != "Already acknowledged by <@U0ONB1> on Nov 23, 2026." {
		t.Errorf("second acknowledgement replied %q", rep.Text)
	}
	if rep := e.click(ctx, t, "U0ONB1", handoffOnboardingChannel, "handoff_actions", commands.ActionHandoffAckForTest, id); !strings.Contains(rep.Text, "You acknowledged") {
		t.Errorf("acknowledging again replied %q", rep.Text)
	}
	if rep := e.click(ctx, t, "U0ONB1", handoffOnboardingChannel, "handoff_actions", commands.ActionHandoffAckForTest, "999999"); rep.Text != "That handoff is no longer in csbot." {
		t.Errorf("acknowledging a missing handoff replied %q", rep.Text)
	}
	// Acknowledged, it no longer counts as waiting.
	if rep := e.handoff(ctx, t, "U0SALES", "C0ELSE1", "status"); !strings.Contains(rep.Text, "None of the handoffs") {
		t.Errorf("status after acknowledging: %q", rep.Text)
	}
}

func TestHandoffReassign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	n := e.createHandoff(ctx, t, "U0SALES", "ACME-001", csbot.HandoffOwner, "U0ONB1")
	id := strconv.FormatInt(n, 10)
	if rep := e.click(ctx, t, "U0SALES", handoffOnboardingChannel, "handoff_actions", commands.ActionHandoffReassignFT, id); rep.OpenView != nil ||
		!strings.Contains(rep.Text, "Only onboarding") {
		t.Errorf("sales reassigning: %+v, want a refusal", rep)
	}
	rep := e.click(ctx, t, "U0ONB1", handoffOnboardingChannel, "handoff_actions", commands.ActionHandoffReassignFT, id)
	e.checkReply(t, rep)
	v := openModal(t, rep)
	if v.CallbackID != commands.ReassignCallbackForTest || v.PrivateMetadata != id {
		t.Fatalf("reassign modal %q metadata %q", v.CallbackID, v.PrivateMetadata)
	}
	if errs := e.validate(ctx, t, e.view(ctx, t, "U0ONB1", commands.ReassignCallbackForTest, id, handoffValues(csbot.HandoffOwner, ""))); errs["owner"] == "" {
		t.Errorf("reassigning to nobody: errors %v", errs)
	}
	if errs := e.validate(ctx, t, e.view(ctx, t, "U0SALES", commands.ReassignCallbackForTest, id, handoffValues(csbot.HandoffOwner, "U0ONB2"))); errs["owner"] == "" {
		t.Errorf("sales submitting a reassignment: errors %v", errs)
	}
	rep = e.submit(ctx, t, e.view(ctx, t, "U0BOSS1", commands.ReassignCallbackForTest, id, handoffValues(csbot.HandoffOwner, "U0ONB2")))
	if rep.Text != "The handoff for *Acme Corp* is now <@U0ONB2>'s to take; its posts are updated." {
		t.Errorf("reassign replied %q", rep.Text)
	}
	if hv, err := e.store.HandoffView(ctx, n); err != nil || hv.Handoff.Owner != "U0ONB2" {
		t.Errorf("after reassigning: owner %q, %v", hv.Handoff.Owner, err)
	}
}

func TestHandoffQuestion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newHandoffEnv(ctx, t)
	id := strconv.FormatInt(e.createHandoff(ctx, t, "U0SALES", "ACME-001"), 10)
	req := bot.ActionRequest{Request: e.request(ctx, t, "U0ONB1", handoffOnboardingChannel),
		Action: slack.BlockAction{ActionID: commands.ActionHandoffQuestionFT, BlockID: "handoff_actions", Value: id},
		Callback: slack.InteractionCallback{Container: slack.Container{Type: "message", ChannelID: handoffOnboardingChannel,
			MessageTs: "1700000000.000100"}}}
	rep, err := e.reg.action(t, commands.ActionHandoffQuestionFT)(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	e.checkReply(t, rep)
	v := openModal(t, rep)
	var meta struct {
		Handoff string `json:"-"`
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	}
	if err := json.Unmarshal([]byte(v.PrivateMetadata), &meta); err != nil || v.CallbackID != commands.QuestionCallbackForTest ||
		meta.Channel != handoffOnboardingChannel || meta.TS != "1700000000.000100" {
		t.Fatalf("question modal %q metadata %q (%v)", v.CallbackID, v.PrivateMetadata, err)
	}
	if errs := e.validate(ctx, t, e.view(ctx, t, "U0ONB1", commands.QuestionCallbackForTest, v.PrivateMetadata, handoffValues("question", " "))); errs["question"] == "" {
		t.Errorf("an empty question: errors %v", errs)
	}
	rep = e.submit(ctx, t, e.view(ctx, t, "U0ONB1", commands.QuestionCallbackForTest, v.PrivateMetadata,
		handoffValues("question", "Who runs SSO <!channel>?\nAnd when?")))
	tr := rep.Post
	if tr == nil || tr.Channel != handoffOnboardingChannel || tr.TS != "1700000000.000100" {
		t.Fatalf("question reply thread %+v, want a reply under the handoff in %s", tr, handoffOnboardingChannel)
	}
	for _, want := range []string{"<@U0ONB1> asks <@U0SALES> about this handoff:", "> Who runs SSO ‹!channel›?\n> And when?"} {
		if !strings.Contains(tr.Text, want) {
			t.Errorf("thread reply lacks %q:\n%s", want, tr.Text)
		}
	}
	if !strings.Contains(rep.Text, "Asked <@U0SALES> in the thread of the handoff for *Acme Corp*") {
		t.Errorf("confirmation %q", rep.Text)
	}
}
