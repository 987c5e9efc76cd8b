package slacktest_test

import (
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/csbot/csbot/bot/slacktest"
)

// TestViewSubmissionAckUpdatesOrPushes acks view submissions with
// response_action update and push: the simulator replaces the modal, or
// pushes the new one on top of it, as Slack does; a view Slack would
// refuse changes nothing.
func TestViewSubmissionAckUpdatesOrPushes(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	modal := func(title string) *slack.ModalViewRequest {
		return &slack.ModalViewRequest{Type: slack.VTModal, Title: plain(title), Submit: plain("Next"), CallbackID: "wizard",
			Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(plain(title+" body"), nil, nil)}}}
	}
	first, err := newAPI(srv).OpenViewContext(ctx, srv.IssueTriggerID("U1"), *modal("Step 1"))
	if err != nil {
		t.Fatal(err)
	}
	client := startSocketClient(ctx, t, srv)
	submit := func(viewID string, answer *slack.ViewSubmissionResponse) {
		t.Helper()
		env, err := srv.SendInteraction(ctx, slacktest.Interaction{Type: "view_submission", UserID: "U1", ViewID: viewID})
		if err != nil {
			t.Fatal(err)
		}
		evt := nextEvent(ctx, t, client, socketmode.EventTypeInteractive)
		if err := client.Ack(*evt.Request, answer); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.WaitForAck(ctx, env.ID); err != nil {
			t.Fatal(err)
		}
	}

	submit(first.ID, slack.NewUpdateViewSubmissionResponse(modal("Step 2")))
	views := srv.Views()
	if len(views) != 1 || views[0].ID != first.ID || views[0].Title != "Step 2" || views[0].Hash == first.Hash {
		t.Fatalf("after update: %+v, want the modal replaced in place by step 2", views)
	}

	submit(first.ID, slack.NewPushViewSubmissionResponse(modal("Step 3")))
	views = srv.Views()
	if len(views) != 2 || views[1].Title != "Step 3" || views[1].PreviousViewID != first.ID || views[1].RootViewID != first.ID || views[1].UserID != "U1" {
		t.Fatalf("after push: %+v, want step 3 pushed on the modal", views)
	}

	bad := modal("")
	bad.Title = nil
	submit(views[1].ID, slack.NewUpdateViewSubmissionResponse(bad))
	if again := srv.Views(); len(again) != 2 || again[1].Title != "Step 3" || again[1].Hash != views[1].Hash {
		t.Errorf("a view without a title changed the views: %+v", again)
	}
}
