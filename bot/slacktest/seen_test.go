package slacktest_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
)

// TestEphemeralsSeenAsSlackShowsThem replaces and deletes an ephemeral
// message through response_urls, as the buttons on it do, among other
// messages, and checks what its user sees.
func TestEphemeralsSeenAsSlackShowsThem(t *testing.T) {
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	srv.AddUser(slacktest.User{ID: "U2", Name: "bo"})
	respond := func(url, body string) {
		t.Helper()
		res, err := http.Post(url, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("response_url post %s = %d", body, res.StatusCode)
		}
	}

	respond(srv.IssueResponseURL("C1", "U1", ""), `{"text":"card v1"}`)
	card := srv.Ephemerals()[0]
	if _, err := newAPI(srv).PostEphemeralContext(t.Context(), "C1", "U2", slack.MsgOptionText("for bo", false)); err != nil {
		t.Fatal(err)
	}
	respond(srv.IssueResponseURL("C1", "U1", ""), `{"text":"shared","response_type":"in_channel"}`)
	respond(srv.IssueResponseURL("C1", "U1", card.TS), `{"text":"card v2","replace_original":true}`)
	respond(srv.IssueResponseURL("C1", "U1", ""), `{"text":"another"}`)

	seen := srv.EphemeralsSeen("U1", "C1")
	if len(seen) != 2 || seen[0].TS != card.TS || seen[0].Text != "card v2" || seen[1].Text != "another" {
		t.Fatalf("ana sees %+v, want the card replaced in place, then the other reply", seen)
	}
	if bo := srv.EphemeralsSeen("U2", "C1"); len(bo) != 1 || bo[0].Text != "for bo" {
		t.Errorf("bo sees %+v", bo)
	}
	if n := len(srv.Messages("C1")); n != 1 {
		t.Errorf("%d channel messages, want the in_channel reply", n)
	}

	respond(srv.IssueResponseURL("C1", "U1", card.TS), `{"delete_original":true}`)
	if seen := srv.EphemeralsSeen("U1", "C1"); len(seen) != 1 || seen[0].Text != "another" {
		t.Errorf("after delete_original ana sees %+v", seen)
	}
	if n := len(srv.Ephemerals()); n != 4 {
		t.Errorf("Ephemerals records %d, want every one sent (4)", n)
	}
}

func TestListingAndChanges(t *testing.T) {
	srv := slacktest.New(t)
	changed := srv.Changed()
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	select {
	case <-changed:
	default:
		t.Error("Changed did not signal a channel added")
	}
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana", RealName: "Ana"})
	dm := srv.OpenDM("U1")
	if again := srv.OpenDM("U1"); again != dm {
		t.Errorf("OpenDM opened %s, then %s", dm, again)
	}
	convs := srv.Conversations()
	if len(convs) != 2 || convs[0].ID != "C1" || convs[0].IM || convs[1].ID != dm || !convs[1].IM || convs[1].User != "U1" {
		t.Errorf("Conversations = %+v", convs)
	}
	users := srv.Users()
	if len(users) != 2 || users[0].ID != "U0CSBOT" || users[1].ID != "U1" {
		t.Errorf("Users = %+v, want the bot and ana by id", users)
	}
	if u, ok := srv.User("U1"); !ok || u.RealName != "Ana" {
		t.Errorf("User(U1) = %+v, %v", u, ok)
	}
}

// postResponse posts body to a response_url and checks that it was taken.
func postResponse(t *testing.T, url, body string) {
	t.Helper()
	res, err := http.Post(url, "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("response_url post %s = %d", body, res.StatusCode)
	}
}

// TestEphemeralsSeenAfterAReplaceOfADeletedMessage replaces a channel
// message deleted meanwhile through its response_url: the reply becomes a
// new ephemeral message. A card sent after it, then replaced, shows its
// new version alone: which ephemeral a post replaces is recorded as it is
// applied, so what the user sees does not drift.
func TestEphemeralsSeenAfterAReplaceOfADeletedMessage(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	api := newAPI(srv)

	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("status", false))
	if err != nil {
		t.Fatal(err)
	}
	statusURL := srv.IssueResponseURL("C1", "U1", ts)
	if _, _, err := api.DeleteMessageContext(ctx, "C1", ts); err != nil {
		t.Fatal(err)
	}
	postResponse(t, statusURL, `{"text":"status, refreshed","replace_original":true}`)
	postResponse(t, srv.IssueResponseURL("C1", "U1", ""), `{"text":"card v1"}`)
	eph := srv.Ephemerals()
	if len(eph) != 2 || eph[0].Text != "status, refreshed" || eph[0].Replaces != "" || eph[1].Text != "card v1" {
		t.Fatalf("ephemerals = %+v, want the refreshed status as a new message, then the card", eph)
	}
	v1 := eph[1]
	postResponse(t, srv.IssueResponseURL("C1", "U1", v1.TS), `{"text":"card v2","replace_original":true}`)

	seen := srv.EphemeralsSeen("U1", "C1")
	if len(seen) != 2 || seen[0].Text != "status, refreshed" || seen[1].Text != "card v2" || seen[1].TS != v1.TS {
		t.Errorf("ana sees %+v, want the refreshed status, then card v2 in place of v1", seen)
	}
	if last := srv.Ephemerals()[2]; last.Text != "card v2" || last.Replaces != v1.TS {
		t.Errorf("the record of card v2 = %+v, want it to name v1 as replaced", last)
	}
	if n := len(srv.Messages("C1")); n != 0 {
		t.Errorf("%d channel messages, want none: the status was deleted", n)
	}
}
