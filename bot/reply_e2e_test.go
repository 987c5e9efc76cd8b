package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
)

// testModal is a small modal saying text.
func testModal(callbackID, text string) *slack.ModalViewRequest {
	return &slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: callbackID,
		Title:      slack.NewTextBlockObject(slack.PlainTextType, "csbot", false, false),
		Blocks:     slack.Blocks{BlockSet: []slack.Block{mrkdwnSection(text)}},
	}
}

func mrkdwnSection(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

// receive returns the next value of ch, or fails the test when ctx ends
// first.
func receive[T any](ctx context.Context, t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
		panic("unreachable")
	}
}

// viewByID returns the current version of a view.
func viewByID(s slacktest.Snapshot, id string) (slacktest.View, bool) {
	for _, v := range s.Views() {
		if v.ID == id {
			return v, true
		}
	}
	return slacktest.View{}, false
}

// waitForView waits for a view with callbackID and returns it.
func waitForView(ctx context.Context, t testing.TB, srv *slacktest.Server, callbackID string) slacktest.View {
	t.Helper()
	var found slacktest.View
	if _, err := srv.WaitFor(ctx, func(s slacktest.Snapshot) bool {
		for _, v := range s.Views() {
			if v.CallbackID == callbackID {
				found = v
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no %s view: %v", callbackID, err)
	}
	return found
}

func TestThenUpdatesTheModalItOpened(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	const drafted = "The draft is ready: ACME Corp., 2026-Q3."
	thenIDs := make(chan string, 4)
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/ebr", func(context.Context, CommandRequest) (Reply, error) {
			return Reply{
				OpenView: testModal("ebr", "Drafting the review..."),
				Then: func(_ context.Context, viewID string) (Reply, error) {
					thenIDs <- viewID
					if viewID == "" {
						return Reply{Text: drafted}, nil
					}
					return Reply{UpdateView: testModal("ebr", "*ACME Corp.* review, 2026-Q3")}, nil
				},
			}, nil
		})
	})

	env := h.command(ctx, t, "/ebr", "acme", csm, acme)
	id := receive(ctx, t, thenIDs, "Then")
	h.waitDone(ctx, t, 1)
	open := h.srv.Calls("views.open")
	if len(open) != 1 || !open[0].OK() || open[0].Param("trigger_id") != env.TriggerID {
		t.Fatalf("views.open calls = %+v, want one with the command's trigger_id", open)
	}
	var opened struct {
		View struct {
			ID string `json:"id"`
		} `json:"view"`
	}
	if err := json.Unmarshal(open[0].Response, &opened); err != nil || id == "" || id != opened.View.ID {
		t.Fatalf("Then got view id %q, want the opened view's %q (%v)", id, opened.View.ID, err)
	}
	update := h.srv.Calls("views.update")
	if len(update) != 1 || !update[0].OK() || update[0].Param("view_id") != id || !strings.Contains(string(update[0].JSON), "review, 2026-Q3") {
		t.Errorf("views.update calls = %+v, want one replacing view %s with the review", update, id)
	}
	if v, ok := viewByID(h.srv.Snapshot(), id); !ok || !strings.Contains(string(v.Blocks), "review, 2026-Q3") || strings.Contains(string(v.Blocks), "Drafting") {
		t.Errorf("view %s = %s, want the review in place of the placeholder", id, v.Blocks)
	}
	if posts := postsFor(h.srv.Snapshot(), env.ID); len(posts) != 0 {
		t.Errorf("replies = %+v, want none: the modal is the answer", posts)
	}

	// When the modal cannot open, Then learns it and its message reaches
	// the user instead, after the apology.
	h.srv.FailNext("views.open", 1, slacktest.Fault{Error: "expired_trigger_id"})
	env = h.command(ctx, t, "/ebr", "acme", csm, acme)
	if id := receive(ctx, t, thenIDs, "Then"); id != "" {
		t.Errorf("Then got view id %q after views.open failed, want \"\"", id)
	}
	h.waitDone(ctx, t, 1)
	var texts []string
	for _, p := range postsFor(h.srv.Snapshot(), env.ID) {
		texts = append(texts, p.Text)
	}
	if len(texts) != 2 || !strings.Contains(texts[0], "couldn't open") || texts[1] != drafted {
		t.Errorf("replies = %q, want the apology then Then's message", texts)
	}
	if n := len(h.srv.Calls("views.update")); n != 1 {
		t.Errorf("%d views.update calls, want no new one", n)
	}
	if len(thenIDs) != 0 {
		t.Error("Then ran more than once per reply")
	}
}

// startModalStack runs a runtime whose /handoff opens a modal and whose
// "handoff_more" button in it pushes a second one, whose submission
// updates the first; it opens the first and returns its id.
func startModalStack(ctx context.Context, t *testing.T, h *harness, pushed chan<- string) (rootID string) {
	t.Helper()
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/handoff", func(context.Context, CommandRequest) (Reply, error) {
			return Reply{OpenView: testModal("handoff", "Step 1: the account")}, nil
		})
		rt.HandleAction("handoff_more", func(_ context.Context, req ActionRequest) (Reply, error) {
			if req.Callback.View.ID == "" {
				return Reply{}, errors.New("action outside a modal")
			}
			return Reply{
				PushView: testModal("handoff_more", "Step 2: the contact"),
				Then: func(_ context.Context, viewID string) (Reply, error) {
					pushed <- viewID
					return Reply{}, nil
				},
			}, nil
		})
		rt.HandleView("handoff_more", ViewHandler{
			Submit: func(_ context.Context, req ViewRequest) (Reply, error) {
				return Reply{ViewID: req.View.RootViewID, UpdateView: testModal("handoff", "Step 1: the account, contact Ana")}, nil
			},
		})
	})
	h.command(ctx, t, "/handoff", "", csm, acme)
	return waitForView(ctx, t, h.srv, "handoff").ID
}

// pushFrom clicks "handoff_more" in the modal rootID.
func pushFrom(ctx context.Context, t *testing.T, h *harness, rootID string) slacktest.Envelope {
	t.Helper()
	env, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "block_actions", UserID: csm, ViewID: rootID,
		Actions: []slacktest.Action{{ActionID: "handoff_more", Text: "Add a contact"}}})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestBlockActionInAModalPushesAModal(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	pushed := make(chan string, 1)
	root := startModalStack(ctx, t, h, pushed)

	env := pushFrom(ctx, t, h, root)
	id := receive(ctx, t, pushed, "Then of the push")
	push := h.srv.Calls("views.push")
	if len(push) != 1 || !push[0].OK() || push[0].Param("trigger_id") != env.TriggerID || env.TriggerID == "" {
		t.Fatalf("views.push calls = %+v, want one with the click's trigger_id %q", push, env.TriggerID)
	}
	snap := h.srv.Snapshot()
	v, ok := viewByID(snap, id)
	if !ok || id == root || v.CallbackID != "handoff_more" || v.RootViewID != root || v.PreviousViewID != root ||
		!strings.Contains(string(v.Blocks), "Step 2") {
		t.Errorf("pushed view %q = %+v, want step 2 on top of %s", id, v, root)
	}
	if r, _ := viewByID(snap, root); !strings.Contains(string(r.Blocks), "Step 1: the account") {
		t.Errorf("root view = %s, want it untouched", r.Blocks)
	}
	if n := len(snap.Calls("views.open")); n != 1 {
		t.Errorf("%d views.open calls, want only the first modal's", n)
	}
}

func TestViewSubmissionUpdatesTheRootModal(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	pushed := make(chan string, 1)
	root := startModalStack(ctx, t, h, pushed)
	pushFrom(ctx, t, h, root)
	top := receive(ctx, t, pushed, "Then of the push")

	env, err := h.srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: csm, ViewID: top})
	if err != nil {
		t.Fatal(err)
	}
	h.ack(ctx, t, env)
	call, err := h.srv.WaitForCall(ctx, "views.update", nil)
	if err != nil || !call.OK() || call.Param("view_id") != root || !strings.Contains(string(call.JSON), "contact Ana") {
		t.Fatalf("views.update = %+v, %v; want the root view %s updated, not the submitted %s", call, err, root, top)
	}
	snap := h.srv.Snapshot()
	if r, _ := viewByID(snap, root); !strings.Contains(string(r.Blocks), "contact Ana") {
		t.Errorf("root view = %s, want the contact in it", r.Blocks)
	}
	if v, _ := viewByID(snap, top); !strings.Contains(string(v.Blocks), "Step 2") {
		t.Errorf("submitted view = %s, want it untouched", v.Blocks)
	}
}

func TestChannelPostIsGuarded(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	post := func(channel string) *ChannelPost {
		return &ChannelPost{Channel: channel, Text: "Handoff: ACME Corp. to onboarding",
			Blocks: []slack.Block{mrkdwnSection("*Handoff*: ACME Corp. to onboarding")}}
	}
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/handoff", func(_ context.Context, req CommandRequest) (Reply, error) {
			how, channel, _ := strings.Cut(req.Text, " ")
			switch how {
			case "blocks":
				return Reply{Text: "Handoff posted.", Blocks: []slack.Block{mrkdwnSection("*Handoff posted.*")}, Post: post(channel)}, nil
			case "modal":
				return Reply{OpenView: testModal("handoff", "Handoff posted."), Post: post(channel)}, nil
			}
			return Reply{Text: "Handoff posted.", Post: post(channel)}, nil
		})
	})
	posted := func(channel string) []slacktest.Message {
		var out []slacktest.Message
		for _, m := range h.srv.Messages(channel) {
			if m.Text == "Handoff: ACME Corp. to onboarding" {
				out = append(out, m)
			}
		}
		return out
	}

	reply := h.response(ctx, t, h.command(ctx, t, "/handoff", "text "+acme, csm, acme))
	h.waitDone(ctx, t, 1)
	if reply.Text != "Handoff posted." {
		t.Errorf("reply = %q, want no note", reply.Text)
	}
	msgs := posted(acme)
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Blocks), "*Handoff*: ACME Corp.") {
		t.Errorf("messages in %s = %+v, want the post with its blocks", acme, msgs)
	}

	reply = h.response(ctx, t, h.command(ctx, t, "/handoff", "text "+shared, csm, acme))
	h.waitDone(ctx, t, 1)
	if !strings.HasPrefix(reply.Text, "Handoff posted.") || !strings.HasSuffix(reply.Text, "_"+notePostFailed+"_") {
		t.Errorf("reply = %q, want it to end with the note", reply.Text)
	}
	if msgs := h.srv.Messages(shared); len(msgs) != 0 {
		t.Errorf("messages in the shared channel = %+v, want none", msgs)
	}

	// A reply with blocks gets the note as a context block: Slack would
	// not show it in the fallback text.
	reply = h.response(ctx, t, h.command(ctx, t, "/handoff", "blocks "+shared, csm, acme))
	h.waitDone(ctx, t, 1)
	var blocks []map[string]any
	if err := json.Unmarshal(reply.Blocks, &blocks); err != nil || len(blocks) != 2 || blocks[1]["type"] != "context" ||
		!strings.Contains(string(reply.Blocks), "could not post it in the channel") {
		t.Errorf("reply blocks = %s, want the section and the note in a context block", reply.Blocks)
	}

	// The post does not depend on the modal: it is made when the modal
	// fails to open.
	h.srv.FailNext("views.open", 1, slacktest.Fault{Error: "expired_trigger_id"})
	reply = h.response(ctx, t, h.command(ctx, t, "/handoff", "modal "+acme, csm, acme))
	h.waitDone(ctx, t, 1)
	if !strings.Contains(reply.Text, "couldn't open") {
		t.Errorf("reply = %q, want the apology for the modal", reply.Text)
	}
	if msgs := posted(acme); len(msgs) != 2 {
		t.Errorf("%d posts in %s, want the second one made despite the modal", len(msgs), acme)
	}
}

func TestUploadGoesToTheUsersDM(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	h := newHarness(ctx, t)
	const (
		comment = "Here is the draft of ACME Corp.'s review."
		short   = "# ACME Corp. EBR, 2026-Q3\n\nHealth 72, green. Zoë Ångström is the champion.\n"
	)
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "Line %03d: renewal notes for ACME Corp., health 72, green; owner Zoë.\n", i)
	}
	long := b.String()
	if len(long) <= 2*codeBlockText {
		t.Fatalf("long content is %d bytes, want more than two code blocks' worth", len(long))
	}
	h.start(ctx, t, nil, func(rt *Runtime) {
		rt.HandleCommand("/ebr", func(_ context.Context, req CommandRequest) (Reply, error) {
			content := short
			if req.Text == "long" {
				content = long
			}
			return Reply{Text: "Your draft is in your DM.", Upload: &FileUpload{
				Filename: "acme-ebr.md", Title: "ACME Corp. EBR, 2026-Q3", Content: content, Comment: comment,
			}}, nil
		})
	})
	api := slack.New(h.srv.BotToken(), slack.OptionAPIURL(h.srv.URL()))
	dm, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{csm}})
	if err != nil {
		t.Fatalf("open the DM: %v", err)
	}

	reply := h.response(ctx, t, h.command(ctx, t, "/ebr", "acme", csm, acme))
	h.waitDone(ctx, t, 1)
	if reply.Text != "Your draft is in your DM." {
		t.Errorf("reply = %q, want no note", reply.Text)
	}
	files := h.srv.Files()
	if len(files) != 1 {
		t.Fatalf("files = %+v, want one", files)
	}
	if f := files[0]; f.Channel != dm.ID || string(f.Content) != short || f.Title != "ACME Corp. EBR, 2026-Q3" ||
		f.Filename != "acme-ebr.md" || f.InitialComment != comment || f.SnippetType != "markdown" {
		t.Errorf("file = %+v, want the draft shared in the DM %s", f, dm.ID)
	}
	if msgs := h.srv.Messages(dm.ID); len(msgs) != 0 {
		t.Errorf("DM messages = %+v, want none besides the file", msgs)
	}

	// Slack refuses files: the content comes as a code block.
	h.srv.FailNext("files.getUploadURLExternal", 1, slacktest.Fault{Error: "missing_scope"})
	reply = h.response(ctx, t, h.command(ctx, t, "/ebr", "acme", csm, acme))
	h.waitDone(ctx, t, 1)
	if reply.Text != "Your draft is in your DM." {
		t.Errorf("reply = %q, want no note: the content reached the user", reply.Text)
	}
	msgs := h.srv.Messages(dm.ID)
	if len(msgs) != 1 || msgs[0].Text != comment+"\n```"+short+"```" {
		t.Errorf("DM messages = %+v, want the comment and the content in a code block", msgs)
	}

	// A long one comes in several code blocks that together hold it all.
	h.srv.FailNext("files.getUploadURLExternal", 1, slacktest.Fault{Error: "missing_scope"})
	h.response(ctx, t, h.command(ctx, t, "/ebr", "long", csm, acme))
	h.waitDone(ctx, t, 1)
	msgs = h.srv.Messages(dm.ID)[1:]
	if len(msgs) < 3 {
		t.Fatalf("%d messages for %d bytes, want at least 3", len(msgs), len(long))
	}
	var parts []string
	for i, m := range msgs {
		text := m.Text
		if i == 0 {
			var ok bool
			if text, ok = strings.CutPrefix(text, comment+"\n"); !ok {
				t.Errorf("first message does not start with the comment: %.80q", m.Text)
			}
		}
		body, ok := strings.CutPrefix(text, "```")
		if body, ok2 := strings.CutSuffix(body, "```"); ok && ok2 && len(body) <= codeBlockText {
			parts = append(parts, body)
			continue
		}
		t.Errorf("message %d is not one code block within the limit: %d bytes, %.80q", i, len(text), text)
	}
	if got := strings.Join(parts, "\n"); got != long {
		t.Errorf("the code blocks hold %d bytes, want the %d of the content", len(got), len(long))
	}
	if n := len(h.srv.Files()); n != 1 {
		t.Errorf("%d files, want only the first", n)
	}
}
