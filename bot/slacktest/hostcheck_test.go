package slacktest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/socketmode"

	"github.com/csbot/csbot/bot/slacktest"
)

// TestHostCheckKeepsWebPagesOut checks WithHostCheck: a request for
// another host name (DNS rebinding) or from a page of another origin is
// refused, a WebSocket upgrade from another origin too, while Slack
// clients work as before; without the option nothing is refused.
func TestHostCheckKeepsWebPagesOut(t *testing.T) {
	ctx := testContext(t)
	srv := slacktest.New(t, slacktest.WithHostCheck())
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	base, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(base.Host, ":")
	post := func(srv *slacktest.Server, host, origin string) int {
		t.Helper()
		form := url.Values{"token": {srv.BotToken()}, "channel": {"C1"}, "text": {"hi"}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"chat.postMessage", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tt := range []struct {
		host, origin string
		want         int
	}{
		{"", "", http.StatusOK},
		{"localhost:" + port, "", http.StatusOK},
		{"[::1]:" + port, "", http.StatusOK},
		{"127.0.0.1", "", http.StatusOK},
		{"", "http://" + base.Host, http.StatusOK},
		{"evil.example:" + port, "", http.StatusForbidden},
		{"evil.example", "", http.StatusForbidden},
		{"127.0.0.1.evil.example:" + port, "", http.StatusForbidden},
		{"", "http://evil.example", http.StatusForbidden},
		{"", "null", http.StatusForbidden},
	} {
		if got := post(srv, tt.host, tt.origin); got != tt.want {
			t.Errorf("Host %q Origin %q: %d, want %d", tt.host, tt.origin, got, tt.want)
		}
	}
	if n := len(srv.Messages("C1")); n != 5 {
		t.Errorf("%d messages posted, want the 5 requests let through", n)
	}

	// Socket Mode: a page of another origin cannot open the link; a
	// Slack client can.
	_, link, err := newAPI(srv).StartSocketModeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := websocket.DefaultDialer.DialContext(ctx, link, http.Header{"Origin": {"http://evil.example"}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a WebSocket upgrade from another origin = %v, %v; want 403", res, err)
	}
	_, link, err = newAPI(srv).StartSocketModeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, link, nil)
	if err != nil {
		t.Fatalf("a Slack client's WebSocket upgrade: %v", err)
	}
	defer ws.Close()
	if _, err := srv.WaitForConnection(ctx, 2); err != nil {
		t.Error(err)
	}
	// slack-go's own client, which sends Slack's origin.
	client := socketmode.New(newAPI(srv), socketmode.OptionLog(discardLogger()))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- client.RunContext(runCtx) }()
	if _, err := srv.WaitForConnection(ctx, 3); err != nil {
		t.Errorf("slack-go's Socket Mode client: %v", err)
	}
	stop()
	<-done

	open := slacktest.New(t)
	open.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	if got := post(open, "evil.example", "http://evil.example"); got != http.StatusOK {
		t.Errorf("without WithHostCheck: %d, want 200", got)
	}
}
