package slacktest

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// WithHostCheck keeps web pages out of the server, for a server a browser
// on the same machine could reach: it refuses (403) a request whose Host
// header is neither an IP address nor "localhost" (with or without a
// port), as a page of another site reaching the server through a DNS name
// of its own would send (DNS rebinding), and a request, WebSocket
// upgrades included, whose Origin header names another origin than the
// server's, as a page of another site sends. Slack clients pass: they
// send no Origin, or, for slack-go's Socket Mode link, Slack's own
// (SlackClientOrigin), which a page of another site cannot claim.
func WithHostCheck() Option {
	return func(c *config) { c.hostCheck = true }
}

// SlackClientOrigin is the Origin slack-go's Socket Mode client sends
// when it opens its link.
const SlackClientOrigin = "https://api.slack.com"

// checkHost wraps next with the checks of WithHostCheck.
func checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "slacktest answers on its IP address or localhost only", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != SlackClientOrigin && !sameOrigin(o, r.Host) {
			http.Error(w, "slacktest refuses requests from another origin", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names an IP address or
// localhost, with or without a port.
func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}

// sameOrigin reports whether an Origin header is the origin of a page
// served from host (a Host header): http or https, on that host and port.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, host)
}
