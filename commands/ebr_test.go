package commands_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/csbot/csbot/commands/draft"
	"github.com/csbot/csbot/commands/draft/drafttest"
	"github.com/slack-go/slack"
)

// ebrEnv is the health test world with its commands drafting EBRs with
// the model behind llm (nil: no model configured).
type ebrEnv struct {
	*healthEnv
	llm *drafttest.Server
}

// newEBREnv loads the health book; withModel puts a fake model behind
// the commands, answering within timeout.
func newEBREnv(ctx context.Context, t *testing.T, withModel bool, timeout time.Duration) *ebrEnv {
	t.Helper()
	e := &ebrEnv{healthEnv: newHealthEnv(ctx, t)}
	cfg := commands.Config{Store: e.store, Policy: csbot.DefaultPolicy(), Channels: e.channels, Now: healthNow}
	if withModel {
		e.llm = drafttest.New(t)
		c, ok := draft.New(draft.Config{BaseURL: e.llm.URL(), Model: "test-model", Timeout: timeout, MaxAttempts: 1})
		if !ok {
			t.Fatal("draft.New refused a base URL")
		}
		cfg.Drafter = c
	}
	e.reg = newHealthRegistrar()
	e.cmds = commands.New(cfg)
	e.cmds.Register(e.reg)
	return e
}

// ebr runs /ebr text as slackID in channel: the window it opens, and the
// reply its Then gives once the window is open.
func (e *ebrEnv) ebr(ctx context.Context, t *testing.T, slackID, channel, text string) (opened *slack.ModalViewRequest, then bot.Reply) {
	t.Helper()
	rep, err := e.cmds.Command("/ebr")(ctx, bot.CommandRequest{Request: e.request(ctx, t, slackID, channel), Command: "/ebr", Text: text})
	if err != nil {
		t.Fatalf("/ebr %s: %v", text, err)
	}
	if rep.OpenView == nil {
		return nil, rep
	}
	checkView(t, rep.OpenView)
	if rep.Then == nil {
		t.Fatalf("/ebr %s opened a window with nothing to fill it", text)
	}
	then, err = rep.Then(ctx, "V0EBR")
	if err != nil {
		t.Fatalf("/ebr %s: then: %v", text, err)
	}
	if then.UpdateView != nil {
		checkView(t, then.UpdateView)
	}
	return rep.OpenView, then
}

// modalAction presses a button of the draft window m as slackID.
func (e *ebrEnv) modalAction(ctx context.Context, t *testing.T, slackID string, m *slack.ModalViewRequest, actionID string) bot.Reply {
	t.Helper()
	value := ""
	for _, b := range m.Blocks.BlockSet {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, el := range a.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok && btn.ActionID == actionID {
					value = btn.Value
				}
			}
		}
	}
	if value == "" {
		t.Fatalf("draft window has no %s button", actionID)
	}
	req := bot.ActionRequest{Request: e.request(ctx, t, slackID, ""),
		Action:   slack.BlockAction{ActionID: actionID, BlockID: "ebr_actions", Value: value},
		Callback: slack.InteractionCallback{View: slack.View{ID: "V0EBR", RootViewID: "V0EBR", PrivateMetadata: m.PrivateMetadata}}}
	rep, err := e.reg.action(t, actionID)(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", actionID, err)
	}
	for _, v := range []*slack.ModalViewRequest{rep.OpenView, rep.PushView, rep.UpdateView} {
		if v != nil {
			checkView(t, v)
		}
	}
	return rep
}

// checkView fails the test when v is over Slack's limits.
func checkView(t *testing.T, v *slack.ModalViewRequest) {
	t.Helper()
	if err := bot.CheckView(*v); err != nil {
		t.Errorf("window over Slack's limits: %v", err)
	}
}

// viewText is what a window shows, as plain text.
func viewText(v *slack.ModalViewRequest) string {
	if v == nil {
		return ""
	}
	return bot.PlainText(v.Blocks.BlockSet)
}

// storedVersion reads the draft version a window shows.
func (e *ebrEnv) storedVersion(ctx context.Context, t *testing.T, m *slack.ModalViewRequest) csbot.EBRVersion {
	t.Helper()
	var meta struct {
		Version int64 `json:"v"`
	}
	if err := json.Unmarshal([]byte(m.PrivateMetadata), &meta); err != nil {
		t.Fatalf("draft window metadata %q: %v", m.PrivateMetadata, err)
	}
	v, err := e.store.EBRDraftVersion(ctx, meta.Version)
	if err != nil {
		t.Fatalf("stored draft %d: %v", meta.Version, err)
	}
	return v
}

// goodSections is a model's answer for every section.
func goodSections() map[string]string {
	return map[string]string{
		csbot.EBRSummary:      "Acme Corp stayed with us through the quarter.",
		csbot.EBROutcomes:     "The team kept using the product.",
		csbot.EBRAdoption:     "Adoption held steady.",
		csbot.EBRSupportPart:  "Support was quiet.",
		csbot.EBRSatisfied:    "No new survey answers came in.",
		csbot.EBRRisksAndAsks: "We ask for an exec sponsor.",
		csbot.EBRNext:         "The renewal comes up next spring.",
	}
}

func TestEBRWithoutAModelDraftsFromTheTemplateAndSaysWhy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEBREnv(ctx, t, false, 0)

	opened, then := e.ebr(ctx, t, "U0CSM1", "D0CSM1", "acme")
	if !strings.Contains(viewText(opened), "Drafting the EBR of *Acme Corp*") {
		t.Errorf("the window opens saying it drafts; it shows:\n%s", viewText(opened))
	}
	m := then.UpdateView
	if m == nil {
		t.Fatalf("no draft filled in: %+v", then)
	}
	text := viewText(m)
	p, err := csbot.ParseEBRPeriod("", healthToday(), time.January)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Acme Corp · " + p.Label, "Version 1", "csbot's template", "no language model is configured",
		"Executive summary", "Outcomes against goals", "Adoption and usage", "Support experience", "Satisfaction", "Risks and asks", "What comes next"} {
		if !strings.Contains(text, want) {
			t.Errorf("draft window lacks %q:\n%s", want, text)
		}
	}
	v := e.storedVersion(ctx, t, m)
	if v.Version != 1 || v.Draft.Source != "template" || v.By != "U0CSM1" || v.Period != p || v.Facts.Account.Name != "Acme Corp" {
		t.Errorf("stored %+v", v)
	}
	if len(v.Draft.Flagged) != 0 {
		t.Errorf("the template's own figures are flagged: %+v", v.Draft.Flagged)
	}
}

func TestEBRWithAModelFlagsAnInventedFigure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEBREnv(ctx, t, true, 10*time.Second)
	s := goodSections()
	s[csbot.EBRSummary] = "Acme Corp grew to $9.9M in ARR this quarter."
	e.llm.Enqueue(drafttest.Sections(s))

	_, then := e.ebr(ctx, t, "U0CSM1", "C0ACME1", "")
	text := viewText(then.UpdateView)
	for _, want := range []string{"drafted by test-model", "150 tokens", "Check these figures", "“$9.9M” (Executive summary)", "$9.9M"} {
		if !strings.Contains(text, want) {
			t.Errorf("draft window lacks %q:\n%s", want, text)
		}
	}
	v := e.storedVersion(ctx, t, then.UpdateView)
	if v.Draft.Source != "llm" || v.Draft.Model == "" || v.PromptTokens != 100 || v.CompletionTokens != 50 || v.PromptHash == "" {
		t.Errorf("stored %+v", v)
	}
	if len(v.Draft.Flagged) != 1 || v.Draft.Flagged[0].Text != "$9.9M" {
		t.Errorf("flagged %+v, want the invented $9.9M", v.Draft.Flagged)
	}
	// The prompt is Acme's alone.
	reqs := e.llm.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests to the model", len(reqs))
	}
	var prompt strings.Builder
	for _, m := range reqs[0].Messages {
		prompt.WriteString(m.Content)
	}
	for _, other := range []string{"Globex", "GLX-042", "Initech", "Umbrella", "rr@acme.com"} {
		if strings.Contains(prompt.String(), other) {
			t.Errorf("the prompt holds %q", other)
		}
	}
}

func TestEBRFallsBackToTheTemplateWhenTheModelFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		reply drafttest.Reply
		note  string
	}{
		{"slow", drafttest.Slow(5*time.Second, drafttest.Sections(goodSections())), "did not answer in time"},
		{"server error", drafttest.ServerError(), "could not be reached"},
		{"not JSON", drafttest.Text("I'd rather write a poem."), "answer could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEBREnv(ctx, t, true, 500*time.Millisecond)
			e.llm.SetFallback(tt.reply)
			_, then := e.ebr(ctx, t, "U0CSM1", "D0CSM1", "acme")
			text := viewText(then.UpdateView)
			if !strings.Contains(text, "csbot's template") || !strings.Contains(text, tt.note) {
				t.Errorf("want a template draft saying %q:\n%s", tt.note, text)
			}
			if v := e.storedVersion(ctx, t, then.UpdateView); v.Draft.Source != "template" || !strings.Contains(v.Draft.Note, tt.note) {
				t.Errorf("stored %+v", v.Draft)
			}
		})
	}
}

func TestEBRReadsThePeriodAndTheAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEBREnv(ctx, t, false, 0)
	ninety, err := csbot.ParseEBRPeriod("last 90 days", healthToday(), time.January)
	if err != nil {
		t.Fatal(err)
	}

	_, then := e.ebr(ctx, t, "U0CSM1", "D0CSM1", "acme corp last 90 days")
	if v := e.storedVersion(ctx, t, then.UpdateView); v.Period != ninety || v.Facts.Account.Name != "Acme Corp" {
		t.Errorf("/ebr acme corp last 90 days drafted %s for %+v", v.Facts.Account.Name, v.Period)
	}
	_, then = e.ebr(ctx, t, "U0CSM1", "C0ACME1", "2026-Q2")
	if v := e.storedVersion(ctx, t, then.UpdateView); v.Facts.Account.Name != "Acme Corp" || v.Period.Start != time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("/ebr 2026-Q2 in Acme's channel drafted %s for %+v", v.Facts.Account.Name, v.Period)
	}

	// Mistakes get help, and nothing opens.
	for text, want := range map[string]string{
		"acme 2026-Q5": "2026-Q5",
		"help":         "drafts an executive business review",
		"":             "Which account?",
		"zzzqqq":       "No account matches",
	} {
		opened, rep := e.ebr(ctx, t, "U0CSM1", "D0CSM1", text)
		if opened != nil || !strings.Contains(rep.Text, want) {
			t.Errorf("/ebr %q: opened=%v text=%q, want %q", text, opened != nil, rep.Text, want)
		}
	}

	// "Did you mean" keeps the period typed.
	_, rep := e.ebr(ctx, t, "U0CSM1", "D0CSM1", "initech last 90 days")
	var btn *slack.ButtonBlockElement
	for _, b := range rep.Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Accessory != nil && s.Accessory.ButtonElement != nil {
			btn = s.Accessory.ButtonElement
			break
		}
	}
	if btn == nil || !strings.HasPrefix(btn.ActionID, "ebr_pick:") {
		t.Fatalf("/ebr initech: want a pick-list carrying the period, got %q %+v", rep.Text, btn)
	}
	picked := e.click(ctx, t, "U0CSM1", "D0CSM1", "picklist-0", btn.ActionID, btn.Value)
	if picked.OpenView == nil || picked.Then == nil {
		t.Fatalf("picking an account opens nothing: %+v", picked)
	}
	filled, err := picked.Then(ctx, "V0EBR")
	if err != nil {
		t.Fatal(err)
	}
	if v := e.storedVersion(ctx, t, filled.UpdateView); v.Period != ninety || !strings.HasPrefix(v.Facts.Account.Name, "Initech") {
		t.Errorf("picked draft is of %s for %+v, want last 90 days", v.Facts.Account.Name, v.Period)
	}
}

func TestEBRButtonOnHealthOpensTheDraft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEBREnv(ctx, t, false, 0)
	card := e.health(ctx, t, "U0CSM1", "D0CSM1", "acme")
	acme := strconv.FormatInt(e.accountID(ctx, t, "ACME-001"), 10)
	if !strings.Contains(healthActionIDs(t, card), "pick:ebr="+acme) {
		t.Fatalf("health card has no Draft EBR button: %s", healthActionIDs(t, card))
	}
	rep := e.click(ctx, t, "U0CSM1", "D0CSM1", "health_actions", "pick:ebr", acme)
	if rep.OpenView == nil || rep.Then == nil || rep.ReplaceOriginal {
		t.Fatalf("Draft EBR: %+v", rep)
	}
	filled, err := rep.Then(ctx, "V0EBR")
	if err != nil {
		t.Fatal(err)
	}
	if v := e.storedVersion(ctx, t, filled.UpdateView); v.Facts.Account.Name != "Acme Corp" {
		t.Errorf("drafted %s", v.Facts.Account.Name)
	}
}

func TestEBRWindowButtons(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEBREnv(ctx, t, false, 0)
	_, then := e.ebr(ctx, t, "U0CSM1", "D0CSM1", "acme")
	m := then.UpdateView

	// Regenerate: the window says it drafts, then shows version 2.
	rep := e.modalAction(ctx, t, "U0CSM1", m, "ebr_regenerate")
	if !strings.Contains(viewText(rep.UpdateView), "Drafting version 2") || rep.Then == nil {
		t.Fatalf("Regenerate: %s", viewText(rep.UpdateView))
	}
	next, err := rep.Then(ctx, "V0EBR")
	if err != nil {
		t.Fatal(err)
	}
	v2 := e.storedVersion(ctx, t, next.UpdateView)
	if v2.Version != 2 || !strings.Contains(viewText(next.UpdateView), "Version 2") {
		t.Errorf("regenerated version %d:\n%s", v2.Version, viewText(next.UpdateView))
	}
	m = next.UpdateView

	// Show the data: the fact sheet over the window.
	rep = e.modalAction(ctx, t, "U0CSM1", m, "ebr_data")
	if rep.PushView == nil || !strings.Contains(viewText(rep.PushView), "Acme Corp") || !strings.Contains(viewText(rep.PushView), "Health") {
		t.Errorf("Show the data: %s", viewText(rep.PushView))
	}

	// Edit: a form with each section, saved as an edited version that
	// flags a figure the data lacks, shown in the window under it.
	rep = e.modalAction(ctx, t, "U0CSM1", m, "ebr_edit")
	form := rep.PushView
	if form == nil {
		t.Fatalf("Edit opens no form: %+v", rep)
	}
	if in := modalInput(t, form, "sec_executive_summary"); in.Element.(*slack.PlainTextInputBlockElement).InitialValue != v2.Draft.Sections[csbot.EBRSummary] {
		t.Errorf("the summary is not prefilled")
	}
	values := map[string]map[string]slack.BlockAction{}
	for _, key := range csbot.EBRSections() {
		values["sec_"+key] = map[string]slack.BlockAction{"text": {Value: v2.Draft.Sections[key]}}
	}
	values["sec_executive_summary"]["text"] = slack.BlockAction{Value: "Our edit: Acme saved $4.2M with us."}
	sub := bot.ViewRequest{Request: e.request(ctx, t, "U0CSM2", ""), View: slack.View{ID: "V0EDIT", RootViewID: "V0EBR",
		CallbackID: "ebr_edit", PrivateMetadata: form.PrivateMetadata, State: &slack.ViewState{Values: values}}}
	h := e.reg.views["ebr_edit"]
	if problems, err := h.Validate(ctx, sub); err != nil || problems != nil {
		t.Fatalf("validate edit: %v %v", problems, err)
	}
	saved, err := h.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if saved.ViewID != "V0EBR" || saved.UpdateView == nil {
		t.Fatalf("the edit does not update the window under it: %+v", saved)
	}
	v3 := e.storedVersion(ctx, t, saved.UpdateView)
	if v3.Version != 3 || !v3.Edited || v3.By != "U0CSM2" || len(v3.Draft.Flagged) != 1 || v3.Draft.Flagged[0].Text != "$4.2M" {
		t.Errorf("edited version: %+v", v3)
	}
	if text := viewText(saved.UpdateView); !strings.Contains(text, "Saved your edit as version 3") || !strings.Contains(text, "Our edit") {
		t.Errorf("window after the edit:\n%s", text)
	}

	// An empty edit is refused on the form.
	empty := map[string]map[string]slack.BlockAction{}
	sub.View.State = &slack.ViewState{Values: empty}
	if problems, _ := h.Validate(ctx, sub); problems["sec_executive_summary"] == "" {
		t.Errorf("an empty draft is accepted: %v", problems)
	}

	// Post to channel: /ebr was typed in a DM, so it goes to Acme's
	// channel.
	m = saved.UpdateView
	rep = e.modalAction(ctx, t, "U0CSM1", m, "ebr_post")
	if rep.Post == nil || rep.Post.Channel != "C0ACME1" || !strings.Contains(bot.PlainText(rep.Post.Blocks), "Our edit") {
		t.Errorf("Post to channel: %+v", rep.Post)
	} else if err := bot.CheckLimits(bot.SurfaceMessage, rep.Post.Blocks, rep.Post.Text); err != nil {
		t.Errorf("post over Slack's limits: %v", err)
	}
	if !strings.Contains(viewText(rep.UpdateView), "Posted in") {
		t.Errorf("the window does not say it posted:\n%s", viewText(rep.UpdateView))
	}

	// Export as Markdown: a file for the user.
	rep = e.modalAction(ctx, t, "U0CSM1", m, "ebr_export")
	if u := rep.Upload; u == nil || !strings.HasPrefix(u.Filename, "acme-corp-ebr-") || !strings.HasSuffix(u.Filename, "-v3.md") ||
		!strings.Contains(u.Content, "# EBR draft: Acme Corp") || !strings.Contains(u.Content, "Our edit") {
		t.Errorf("Export: %+v", rep.Upload)
	}
}

func TestEBRIsNotPostedInASharedChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEBREnv(ctx, t, false, 0)
	// Typed in a channel shared with another organisation: the window
	// opens (only its user sees it), but the post is refused.
	_, then := e.ebr(ctx, t, "U0CSM1", "C0EXT01", "acme")
	rep := e.modalAction(ctx, t, "U0CSM1", then.UpdateView, "ebr_post")
	if rep.Post != nil {
		t.Errorf("posted into a shared channel: %+v", rep.Post)
	}
	if !strings.Contains(viewText(rep.UpdateView), "shared with another organisation") {
		t.Errorf("the window does not say why:\n%s", viewText(rep.UpdateView))
	}
}

func FuzzEBRArgs(f *testing.F) {
	for _, s := range []string{"acme", "acme 2026-Q3", "acme corp last 90 days", "2026-Q5", "q3 labs", "acme h1", "acme 400d", "last days"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		words := strings.Fields(text)
		query, p, err := commands.SplitEBRArgsForTest(words, healthToday(), time.April)
		if err != nil {
			if query != "" {
				t.Errorf("%q: an error with account %q", text, query)
			}
			return
		}
		if !p.End.After(p.Start) || p.Label == "" {
			t.Errorf("%q: period %+v", text, p)
		}
		if query != "" && !strings.HasPrefix(strings.Join(words, " "), query) {
			t.Errorf("%q: account %q is not what the words start with", text, query)
		}
	})
}

func FuzzSplitMrkdwn(f *testing.F) {
	f.Add("*Executive summary*\nAcme &amp; friends grew.", 10)
	f.Add(strings.Repeat("word ", 1000), 3000)
	f.Add(strings.Repeat("é", 50), 7)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if limit < 8 || limit > 5000 || !utf8.ValidString(text) {
			return
		}
		parts := commands.SplitMrkdwnForTest(text, limit)
		var words []string
		for _, p := range parts {
			if n := utf8.RuneCountInString(p); n > limit {
				t.Fatalf("part of %d runes over %d", n, limit)
			}
			if !utf8.ValidString(p) {
				t.Fatalf("part %q is not UTF-8", p)
			}
			words = append(words, strings.Fields(p)...)
		}
		if strings.Join(words, "") != strings.Join(strings.Fields(text), "") {
			t.Fatalf("text lost in the split: %q -> %q", text, parts)
		}
	})
}

func TestEBRIsForMembersCsbotKnows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEBREnv(ctx, t, false, 0)
	opened, rep := e.ebr(ctx, t, "U0STRANGER", "D0X", "acme")
	if opened != nil || !strings.Contains(rep.Text, "Only members of the customer success team that csbot knows") {
		t.Errorf("/ebr by a stranger: opened=%v %q", opened != nil, rep.Text)
	}
	// A window opened by a CSM does nothing for a stranger's click.
	_, then := e.ebr(ctx, t, "U0CSM1", "D0CSM1", "acme")
	for _, action := range []string{"ebr_regenerate", "ebr_edit", "ebr_post"} {
		rep := e.modalAction(ctx, t, "U0STRANGER", then.UpdateView, action)
		if rep.UpdateView != nil || rep.PushView != nil || rep.Post != nil || !strings.Contains(rep.Text, "Only members") {
			t.Errorf("%s by a stranger: %+v", action, rep)
		}
	}
}

func TestEBRPostsInTheAccountsOwnChannelFromAnotherAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEBREnv(ctx, t, false, 0)
	// Typed in Globex's channel: Acme's draft goes to Acme's channel.
	_, then := e.ebr(ctx, t, "U0CSM1", "C0GLOBX", "acme")
	if rep := e.modalAction(ctx, t, "U0CSM1", then.UpdateView, "ebr_post"); rep.Post == nil || rep.Post.Channel != "C0ACME1" {
		t.Errorf("post from Globex's channel: %+v, want Acme's channel", rep.Post)
	}
	// Typed in a channel linked to no account: posted there.
	_, then = e.ebr(ctx, t, "U0CSM1", "C0ELSE1", "acme")
	if rep := e.modalAction(ctx, t, "U0CSM1", then.UpdateView, "ebr_post"); rep.Post == nil || rep.Post.Channel != "C0ELSE1" {
		t.Errorf("post from an unlinked channel: %+v, want that channel", rep.Post)
	}
}
