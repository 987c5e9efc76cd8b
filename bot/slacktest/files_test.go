package slacktest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
)

func TestFileUploadV2(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	api := newAPI(srv)

	const content = "# ACME EBR\n\nHealth: 72, green. Ünïcödé too.\n"
	sum, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename:       "acme-ebr.md",
		Title:          "ACME EBR draft",
		Content:        content,
		FileSize:       len(content),
		Channel:        "C1",
		InitialComment: "Here is the draft.",
		SnippetType:    "markdown",
		AltTxt:         "the draft",
	})
	if err != nil {
		t.Fatalf("UploadFile: %v", err)
	}
	files := srv.Files()
	if len(files) != 1 {
		t.Fatalf("files = %+v, want one", files)
	}
	f := files[0]
	if sum.ID != f.ID || !strings.HasPrefix(f.ID, "F") || sum.Title != "ACME EBR draft" {
		t.Errorf("UploadFile = %+v, file %s", sum, f.ID)
	}
	if string(f.Content) != content || f.Length != len(content) || f.Filename != "acme-ebr.md" || f.Title != "ACME EBR draft" ||
		f.Channel != "C1" || len(f.Channels) != 1 || f.InitialComment != "Here is the draft." ||
		f.SnippetType != "markdown" || f.AltText != "the draft" || f.UploadedAt.IsZero() || f.SharedAt.IsZero() {
		t.Errorf("file = %+v", f)
	}
	get := srv.Calls("files.getUploadURLExternal")
	if len(get) != 1 || !get[0].OK() || get[0].Param("filename") != "acme-ebr.md" || get[0].Param("length") != strconv.Itoa(len(content)) {
		t.Errorf("files.getUploadURLExternal calls = %+v", get)
	}
	var reserved struct {
		UploadURL string `json:"upload_url"`
	}
	if err := json.Unmarshal(get[0].Response, &reserved); err != nil || !strings.HasPrefix(reserved.UploadURL, strings.TrimSuffix(srv.URL(), "api/")+"upload/") {
		t.Errorf("upload_url = %q (%v), want one on the server's own address", reserved.UploadURL, err)
	}
	// Once completed, the upload URL is spent.
	resp, err := http.Post(reserved.UploadURL, "text/plain", strings.NewReader("again"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("post to a completed upload URL: %d, want 404", resp.StatusCode)
	}

	// A user's DM, opened with conversations.open, is a known channel; a
	// file without a title gets its name as title.
	dm, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil {
		t.Fatalf("OpenConversation: %v", err)
	}
	if _, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename: "notes.txt", Content: "x", FileSize: 1, Channel: dm.ID,
	}); err != nil {
		t.Fatalf("UploadFile to a DM: %v", err)
	}
	if f := srv.Snapshot().Files()[1]; f.Channel != dm.ID || f.Title != "notes.txt" || string(f.Content) != "x" {
		t.Errorf("file in the DM = %+v", f)
	}
}

func TestFileUploadRawBody(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	api := newAPI(srv)

	u, err := api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "a.csv", FileSize: 7})
	if err != nil {
		t.Fatalf("GetUploadURLExternal: %v", err)
	}
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		req, _ := http.NewRequestWithContext(ctx, method, u.UploadURL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s upload URL: %d, want 405", method, resp.StatusCode)
		}
	}
	resp, err := http.Post(u.UploadURL+"x", "application/octet-stream", strings.NewReader("a,b\n1,2"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("post to an unknown upload URL: %d, want 404", resp.StatusCode)
	}
	resp, err = http.Post(u.UploadURL, "application/octet-stream", strings.NewReader("a,b\n1,2"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "OK - 7" {
		t.Errorf("raw upload answered %d %q, want 200 \"OK - 7\"", resp.StatusCode, body)
	}
	c, err := api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: u.FileID, Title: "Numbers"}}, Channel: "C1", ThreadTimestamp: "1700000000.000100",
	})
	if err != nil || len(c.Files) != 1 || c.Files[0].ID != u.FileID || c.Files[0].Title != "Numbers" {
		t.Fatalf("CompleteUploadExternal = %+v, %v", c, err)
	}
	if f := srv.Files(); len(f) != 1 || string(f[0].Content) != "a,b\n1,2" || f[0].ThreadTS != "1700000000.000100" {
		t.Errorf("files = %+v", f)
	}
}

func TestFileUploadErrors(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddChannel(slacktest.Channel{ID: "C2", Name: "outsider"})
	api := newAPI(srv)
	complete := func(id, channel string) error {
		_, err := api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
			Files: []slack.FileSummary{{ID: id}}, Channel: channel,
		})
		return err
	}

	if err := complete("F0NOSUCH", "C1"); slackError(err) != "file_not_found" {
		t.Errorf("completing an unknown file: %v, want file_not_found", err)
	}
	u, err := api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "a.txt", FileSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := complete(u.FileID, "C1"); slackError(err) != "file_not_found" {
		t.Errorf("completing a file never uploaded: %v, want file_not_found", err)
	}
	if err := api.UploadToURL(ctx, slack.UploadToURLParameters{UploadURL: u.UploadURL, Filename: "a.txt", Content: "abc"}); err != nil {
		t.Fatalf("UploadToURL: %v", err)
	}
	for _, tt := range []struct{ channel, want string }{
		{"C0NOSUCH", "channel_not_found"},
		{"U0NOSUCH", "channel_not_found"},
		{"C2", "not_in_channel"},
	} {
		if err := complete(u.FileID, tt.channel); slackError(err) != tt.want {
			t.Errorf("completing into %s: %v, want %s", tt.channel, err, tt.want)
		}
	}
	if len(srv.Files()) != 0 {
		t.Fatalf("files after refusals = %+v", srv.Files())
	}
	// Refusals leave the upload pending: completing it right works, once.
	if err := complete(u.FileID, "C1"); err != nil {
		t.Fatalf("completing into C1: %v", err)
	}
	if err := complete(u.FileID, "C1"); slackError(err) != "file_not_found" {
		t.Errorf("completing a file twice: %v, want file_not_found", err)
	}
	if f := srv.Files(); len(f) != 1 || f[0].Channel != "C1" || string(f[0].Content) != "abc" {
		t.Errorf("files = %+v", f)
	}

	// Faults apply to both methods like to any other.
	params := slack.UploadFileParameters{Filename: "b.txt", Content: "hello", FileSize: 5, Channel: "C1"}
	srv.FailNext("files.getUploadURLExternal", 1, slacktest.Fault{Error: "missing_scope"})
	if _, err := api.UploadFileContext(ctx, params); slackError(err) != "missing_scope" {
		t.Errorf("UploadFile with files.getUploadURLExternal failing: %v, want missing_scope", err)
	}
	srv.FailNext("files.completeUploadExternal", 1, slacktest.Fault{Error: "file_uploads_disabled"})
	if _, err := api.UploadFileContext(ctx, params); slackError(err) != "file_uploads_disabled" {
		t.Errorf("UploadFile with files.completeUploadExternal failing: %v, want file_uploads_disabled", err)
	}
	if len(srv.Files()) != 1 {
		t.Errorf("files after faults = %+v, want the one earlier file", srv.Files())
	}
	calls := srv.Calls("files.completeUploadExternal")
	if last := calls[len(calls)-1]; last.Error != "file_uploads_disabled" || last.Fault == nil {
		t.Errorf("last files.completeUploadExternal call = %+v, want the injected fault", last)
	}
	if _, err := api.UploadFileContext(ctx, params); err != nil {
		t.Errorf("UploadFile after the faults: %v", err)
	}

	// A bad token is refused before anything is reserved.
	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(srv.URL()))
	if _, err := bad.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "a.txt", FileSize: 1}); slackError(err) != "invalid_auth" {
		t.Errorf("GetUploadURLExternal with a bad token: %v, want invalid_auth", err)
	}
}

func TestGetUploadURLExternalChecksItsArguments(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t)
	for _, form := range []string{"length=3", "filename=a.txt", "filename=a.txt&length=0", "filename=a.txt&length=abc"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"files.getUploadURLExternal", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+srv.BotToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || got.OK || got.Error != "invalid_arguments" {
			t.Errorf("%s: %+v, %v; want invalid_arguments", form, got, err)
		}
	}
}
