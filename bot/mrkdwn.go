package bot

import (
	"github.com/csbot/csbot"
	"net/url"
	"strings"
)

// Escape makes s safe to put into mrkdwn (section text, fields, context
// elements, fallback text) as plain data: it replaces the three characters
// Slack's formatting rules say to escape, & with &amp;, < with &lt; and >
// with &gt;, and nothing else. After it, s can no longer form a mention
// (<@U123>, <!here>, <!channel>), a link or a date token, so an account
// named "R&D <Labs> <!here>" renders as exactly that and pings nobody.
//
// Formatting characters (*, _, ~, `) stay as they are: Slack has no escape
// for them, and at worst they change emphasis.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Bold returns s escaped and wrapped in *...* so that it renders bold.
// Slack only renders emphasis whose markers touch non-space characters, so
// surrounding white space is trimmed; an empty or blank s gives "".
func Bold(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "*" + Escape(s) + "*"
}

// Link returns a mrkdwn link <url|label> to rawURL showing label, escaped.
// Only absolute http and https URLs with a host and without user
// information are linked; for anything else (javascript:, slack://, mailto:,
// relative or unparsable URLs, "https://bank.example@evil.example") Link
// refuses to make a link and returns the escaped label alone, or the escaped
// URL text when the label is empty, so bad data degrades to plain text.
func Link(rawURL, label string) string {
	u, ok := safeURL(rawURL)
	if !ok {
		if strings.TrimSpace(label) == "" {
			return Escape(rawURL)
		}
		return Escape(label)
	}
	if label == "" {
		return "<" + u + ">"
	}
	// A label cannot end the link early: ">" is escaped, and "|" after the
	// first one is part of the label.
	return "<" + u + "|" + Escape(label) + ">"
}

// safeURL checks rawURL and returns it in the form that goes between < and
// > in mrkdwn.
func safeURL(rawURL string) (string, bool) {
	raw := strings.TrimSpace(rawURL)
	if raw == "" || strings.ContainsAny(raw, " \t\r\n") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return "", false
	}
	s := u.String()
	// "|" would start the label; < and > end or start tokens. The query and
	// fragment keep their raw characters, so encode those three here, then
	// escape & as Slack asks for URLs.
	s = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E").Replace(s)
	return Escape(s), true
}

// UserMention returns <@id>, which mentions (and notifies) the Slack user
// id. id must look like a Slack user id (U or W, then upper-case letters and
// digits); anything else is returned escaped, as plain text that mentions
// nobody.
func UserMention(id string) string {
	if !csbot.IsSlackUserID(id) {
		return Escape(id)
	}
	return "<@" + id + ">"
}

// ChannelMention returns <#id>, a link to the conversation id. id must look
// like a Slack conversation id (C, G or D, then upper-case letters and
// digits); anything else is returned escaped, as plain text.
func ChannelMention(id string) string {
	if !csbot.IsSlackChannelID(id) {
		return Escape(id)
	}
	return "<#" + id + ">"
}
