package playground

import (
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// TestReplyInACommandAckIsShownInert answers a slash command with a reply
// in its ack, buttons included: the page shows it to the person, its
// buttons disabled (such a reply has no ts to act on), and says why.
func TestReplyInACommandAckIsShownInert(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	p.bot.mu.Lock()
	p.bot.ackCommand = func(slack.SlashCommand) any {
		return slack.Msg{Text: "Which account?", Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mk("Which *account*?"), nil, nil),
			slack.NewActionBlock("pick", slack.NewButtonBlockElement("acme", "acme", plain("Acme"))),
		}}}
	}
	p.bot.mu.Unlock()
	var answer map[string]any
	if code := p.post(t, "/api/command", map[string]string{"as": userDana, "in": chanAcme, "text": "/health"}, &answer); code != http.StatusOK {
		t.Fatalf("POST /api/command = %d %v", code, answer)
	}
	html := p.page(t, "as="+userDana+"&in="+chanAcme)
	for _, want := range []string{
		`<div class="msg ephemeral" data-channel="` + chanAcme + `" data-ts="">`,
		`<fieldset class="inert" disabled>`,
		`data-action-id="acme">Acme</button>`,
		`the playground cannot act on its buttons`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if i, j := strings.Index(html, `<fieldset class="inert" disabled>`), strings.Index(html, `data-action-id="acme"`); i < 0 || j < i {
		t.Error("the button is not in the disabled fieldset")
	}
}

// TestSubmissionAnsweredWithAView submits a form the bot answers with
// response_action "update", then "push": the page shows the new view in
// place of the form, then on top of it, as Slack does.
func TestSubmissionAnsweredWithAView(t *testing.T) {
	ctx := testContext(t)
	p := newTestPlayground(ctx, t, nil)
	step := func(title string) *slack.ModalViewRequest {
		return &slack.ModalViewRequest{Type: slack.VTModal, Title: plain(title), Submit: plain("Next"), CallbackID: "wizard",
			Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(mk("This is *"+title+"*"), nil, nil)}}}
	}
	p.bot.mu.Lock()
	answered := 0
	p.bot.answerSubmission = func(slack.InteractionCallback) any {
		answered++ // the bot answers one submission at a time
		if answered == 1 {
			return slack.NewUpdateViewSubmissionResponse(step("Step 2"))
		}
		return slack.NewPushViewSubmissionResponse(step("Step 3"))
	}
	p.bot.mu.Unlock()
	v, err := p.bot.api.OpenViewContext(ctx, p.sim.IssueTriggerID(userDana), *step("Step 1"))
	if err != nil {
		t.Fatal(err)
	}
	q := "as=" + userDana + "&in=" + chanAcme

	var sub submitAnswer
	if code := p.post(t, "/api/submit", map[string]any{"as": userDana, "view": v.ID, "state": map[string][]string{}}, &sub); code != http.StatusOK || sub.Closed {
		t.Fatalf("first submission = %d %+v, want the form kept open", code, sub)
	}
	if html := p.page(t, q); !strings.Contains(html, `<h2 id="modal-title">Step 2</h2>`) || strings.Contains(html, `data-close="back" title="Back"`) {
		t.Errorf("after response_action update the page does not show step 2 in place of the form:\n%s", html)
	}
	if code := p.post(t, "/api/submit", map[string]any{"as": userDana, "view": v.ID, "state": map[string][]string{}}, &sub); code != http.StatusOK || sub.Closed {
		t.Fatalf("second submission = %d %+v, want the form kept open", code, sub)
	}
	html := p.page(t, q)
	if !strings.Contains(html, `<h2 id="modal-title">Step 3</h2>`) || !strings.Contains(html, `data-close="back" title="Back"`) {
		t.Errorf("after response_action push the page does not show step 3 on top of step 2:\n%s", html)
	}
	if strings.Contains(p.logs.String(), "level=WARN") {
		t.Errorf("warnings logged:\n%s", p.logs)
	}
}
