package playground

import (
	"html"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Names resolves the ids in mentions to what Slack shows for them.
type Names interface {
	// UserName returns the name shown for a user id ("Dana Smith").
	UserName(id string) (string, bool)
	// ChannelName returns a channel's name, without the "#".
	ChannelName(id string) (string, bool)
}

// Mrkdwn renders Slack mrkdwn as the HTML Slack's client would show: *bold*,
// _italic_, ~strike~, `code`, ```preformatted```, > quotes, line breaks,
// <@U123> as @name, <#C123|name> as #name, <!here> as @here, <url|label>
// as a link (http, https and mailto only), :emoji: shortcodes Slack knows
// as emoji, and Slack's three entities (&amp; &lt; &gt;). Everything else
// is text: nothing in text becomes markup. names may be nil.
func Mrkdwn(text string, names Names) template.HTML {
	r := mrkdwnRenderer{names: names}
	return template.HTML(r.render(text))
}

// PlainText renders a plain_text object's text: escaped, line breaks
// kept, and emoji shortcodes shown as emoji when emoji is set.
func PlainText(text string, emoji bool) template.HTML {
	s := html.EscapeString(text)
	if emoji {
		s = replaceEmoji(s)
	}
	return template.HTML(strings.ReplaceAll(s, "\n", "<br>"))
}

// Placeholders stand for the pieces rendered apart (code, links,
// mentions) while the text around them is formatted: open, the piece's
// index in decimal, close. Both are private-use characters, which are
// removed from the input first.
const (
	atomOpen  = '\uE000'
	atomClose = '\uE001'
)

type mrkdwnRenderer struct {
	names Names
	atoms []string // rendered HTML, by index
	pre   map[int]bool
}

// atom stores rendered HTML and returns its placeholder.
func (r *mrkdwnRenderer) atom(h string, block bool) string {
	i := len(r.atoms)
	r.atoms = append(r.atoms, h)
	if block {
		if r.pre == nil {
			r.pre = map[int]bool{}
		}
		r.pre[i] = true
	}
	return string(atomOpen) + strconv.Itoa(i) + string(atomClose)
}

func (r *mrkdwnRenderer) render(text string) string {
	text = strings.Map(func(c rune) rune {
		if c == atomOpen || c == atomClose {
			return unicode.ReplacementChar
		}
		return c
	}, strings.ToValidUTF8(text, string(unicode.ReplacementChar)))
	text = r.extractPre(text)
	text = r.extractCode(text)
	text = r.extractControls(text)
	s := html.EscapeString(unescapeSlack(text))
	s = replaceEmoji(s)
	for _, f := range []struct {
		marker      rune
		open, close string
	}{{'*', "<b>", "</b>"}, {'_', "<i>", "</i>"}, {'~', "<s>", "</s>"}} {
		s = applyMarker(s, f.marker, f.open, f.close)
	}
	s = r.lines(s)
	return r.substitute(s)
}

// extractPre renders ```preformatted``` blocks.
func (r *mrkdwnRenderer) extractPre(text string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, "```")
		if i < 0 {
			break
		}
		j := strings.Index(text[i+3:], "```")
		if j < 0 {
			break
		}
		body := strings.TrimPrefix(text[i+3:i+3+j], "\n")
		b.WriteString(text[:i])
		b.WriteString(r.atom(`<pre class="md-pre">`+html.EscapeString(unescapeSlack(body))+`</pre>`, true))
		text = text[i+3+j+3:]
	}
	b.WriteString(text)
	return b.String()
}

// extractCode renders `code` spans, which do not cross lines.
func (r *mrkdwnRenderer) extractCode(text string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '`')
		if i < 0 {
			break
		}
		rest := text[i+1:]
		j := strings.IndexAny(rest, "`\n"+string(atomOpen))
		if j <= 0 || rest[j] != '`' {
			// No closing backtick on this line before a preformatted
			// block, or an empty span: text.
			b.WriteString(text[:i+1])
			text = rest
			continue
		}
		b.WriteString(text[:i])
		b.WriteString(r.atom(`<code class="md-code">`+html.EscapeString(unescapeSlack(rest[:j]))+`</code>`, false))
		text = rest[j+1:]
	}
	b.WriteString(text)
	return b.String()
}

// extractControls renders Slack's control sequences: <@U123>,
// <#C123|name>, <!here>, <!subteam^S1|@team>, <!date^...|fallback> and
// links. A "<" in Slack text always opens one (a literal one is sent as
// &lt;); one that is never closed is text.
func (r *mrkdwnRenderer) extractControls(text string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '<')
		if i < 0 {
			break
		}
		j := strings.IndexAny(text[i+1:], "<>\n"+string(atomOpen))
		if j < 0 || text[i+1+j] != '>' {
			b.WriteString(text[:i+1])
			text = text[i+1:]
			continue
		}
		b.WriteString(text[:i])
		b.WriteString(r.atom(r.control(text[i+1:i+1+j]), false))
		text = text[i+1+j+1:]
	}
	b.WriteString(text)
	return b.String()
}

// control renders the inside of one <...> sequence.
func (r *mrkdwnRenderer) control(c string) string {
	target, label, hasLabel := strings.Cut(c, "|")
	label = unescapeSlack(label)
	mention := func(text string) string {
		return `<span class="md-mention">` + html.EscapeString(text) + `</span>`
	}
	switch {
	case strings.HasPrefix(target, "@"):
		id := target[1:]
		if r.names != nil {
			if name, ok := r.names.UserName(id); ok {
				return mention("@" + name)
			}
		}
		if hasLabel && label != "" {
			return mention("@" + strings.TrimPrefix(label, "@"))
		}
		return mention("@" + id)
	case strings.HasPrefix(target, "#"):
		id := target[1:]
		if hasLabel && label != "" {
			return mention("#" + label)
		}
		if r.names != nil {
			if name, ok := r.names.ChannelName(id); ok {
				return mention("#" + name)
			}
		}
		return mention("#" + id)
	case strings.HasPrefix(target, "!"):
		cmd, _, _ := strings.Cut(target[1:], "^")
		switch cmd {
		case "here", "channel", "everyone":
			return mention("@" + cmd)
		case "subteam":
			if hasLabel && label != "" {
				return mention(label)
			}
			return mention("@team")
		case "date":
			return html.EscapeString(label)
		}
		if hasLabel {
			return html.EscapeString(label)
		}
		return html.EscapeString("<" + unescapeSlack(c) + ">")
	}
	href := unescapeSlack(target)
	text := href
	if hasLabel && label != "" {
		text = label
	}
	if !safeURL(href) {
		return html.EscapeString(text)
	}
	return `<a class="md-link" href="` + html.EscapeString(href) + `" target="_blank" rel="noopener noreferrer">` +
		html.EscapeString(text) + `</a>`
}

// safeURL reports whether a link may point at href: http, https or
// mailto only, never javascript: or data:.
func safeURL(href string) bool {
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return true
	}
	return false
}

// unescapeSlack decodes the three entities Slack escapes in text.
func unescapeSlack(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return slackEntities.Replace(s)
}

var slackEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// applyMarker turns marker-delimited spans of escaped text into open
// ... close. A span opens at the start of the text or after a space or
// punctuation, with no space after the marker; it closes at the next
// marker on the same line that has no space before it and is followed by
// the end, a space or punctuation. It never crosses a tag of an
// enclosing span.
func applyMarker(s string, marker rune, open, closeTag string) string {
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		if rs[i] == marker && opens(rs, i, marker) {
			if j := closing(rs, i, marker); j > 0 {
				b.WriteString(open)
				b.WriteString(string(rs[i+1 : j]))
				b.WriteString(closeTag)
				i = j
				continue
			}
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

// maxSpan bounds how far a span may run, so that a long line of markers
// that never close costs linear time, not quadratic.
const maxSpan = 2000

func opens(rs []rune, i int, marker rune) bool {
	if i > 0 && !boundary(rs[i-1]) {
		return false
	}
	return i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) && rs[i+1] != marker
}

// closing returns the index of the marker closing the span opened at i,
// or -1.
func closing(rs []rune, i int, marker rune) int {
	depth := 0 // tags of spans inside this one
	for j := i + 1; j < len(rs) && j-i <= maxSpan && rs[j] != '\n'; j++ {
		switch {
		case rs[j] == '<':
			// One of the tags applyMarker wrote: the text's own "<" is
			// escaped by now.
			end := j
			for end < len(rs) && rs[end] != '>' {
				end++
			}
			if j+1 < len(rs) && rs[j+1] == '/' {
				depth--
				if depth < 0 {
					return -1
				}
			} else {
				depth++
			}
			j = end
		case rs[j] == marker && depth == 0 && j > i+1 && !unicode.IsSpace(rs[j-1]) &&
			(j+1 == len(rs) || boundary(rs[j+1])):
			return j
		}
	}
	return -1
}

// boundary reports whether c may stand next to a formatting marker on its
// outer side.
func boundary(c rune) bool {
	if c == atomOpen || c == atomClose {
		return false
	}
	return unicode.IsSpace(c) || unicode.IsPunct(c) || unicode.IsSymbol(c)
}

// lines renders quotes (lines starting with ">", or everything after
// ">>>") and line breaks. A line break next to a preformatted block is
// dropped: the block stands on its own lines.
func (r *mrkdwnRenderer) lines(s string) string {
	const gt = "&gt;"
	var b strings.Builder
	inQuote, rest := false, false
	prev := ""
	for i, l := range strings.Split(s, "\n") {
		quoted := rest
		if !rest {
			if q, ok := strings.CutPrefix(l, gt+gt+gt); ok {
				quoted, rest, l = true, true, strings.TrimPrefix(q, " ")
			} else if q, ok := strings.CutPrefix(l, gt); ok {
				quoted, l = true, strings.TrimPrefix(q, " ")
			}
		}
		switch {
		case quoted && !inQuote:
			b.WriteString(`<blockquote class="md-quote">`)
		case !quoted && inQuote:
			b.WriteString(`</blockquote>`)
		case i > 0 && !r.nextToPre(prev, l):
			b.WriteString("<br>")
		}
		inQuote = quoted
		b.WriteString(l)
		prev = l
	}
	if inQuote {
		b.WriteString(`</blockquote>`)
	}
	return b.String()
}

// nextToPre reports whether the break between prev and next touches a
// preformatted block.
func (r *mrkdwnRenderer) nextToPre(prev, next string) bool {
	return r.isPreAtom(strings.TrimSpace(prev), false) || r.isPreAtom(strings.TrimSpace(next), true)
}

// isPreAtom reports whether s ends (or, with atStart, starts) with the
// placeholder of a preformatted block.
func (r *mrkdwnRenderer) isPreAtom(s string, atStart bool) bool {
	if len(r.pre) == 0 || s == "" {
		return false
	}
	var body string
	if atStart {
		rest, ok := strings.CutPrefix(s, string(atomOpen))
		if !ok {
			return false
		}
		body, _, ok = strings.Cut(rest, string(atomClose))
		if !ok {
			return false
		}
	} else {
		rest, ok := strings.CutSuffix(s, string(atomClose))
		if !ok {
			return false
		}
		i := strings.LastIndex(rest, string(atomOpen))
		if i < 0 {
			return false
		}
		body = rest[i+len(string(atomOpen)):]
	}
	n, err := strconv.Atoi(body)
	return err == nil && r.pre[n]
}

// substitute puts the rendered pieces in place of their placeholders.
func (r *mrkdwnRenderer) substitute(s string) string {
	if len(r.atoms) == 0 {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexRune(s, atomOpen)
		if i < 0 {
			break
		}
		rest := s[i+len(string(atomOpen)):]
		j := strings.IndexRune(rest, atomClose)
		n, err := strconv.Atoi(rest[:max(j, 0)])
		if j < 0 || err != nil || n >= len(r.atoms) {
			// Cannot happen: the input's own private-use characters are
			// replaced first. Drop the stray character.
			b.WriteString(s[:i])
			s = rest
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(r.atoms[n])
		s = rest[j+len(string(atomClose)):]
	}
	b.WriteString(s)
	return b.String()
}

// emoji maps the shortcodes csbot and common Slack messages use to the
// emoji Slack shows; others stay as typed.
var emoji = map[string]string{
	"warning": "⚠️", "white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "no_entry": "⛔",
	"information_source": "ℹ️", "hourglass_flowing_sand": "⏳", "hourglass": "⌛", "page_facing_up": "📄",
	"pencil2": "✏️", "memo": "📝", "red_circle": "🔴", "large_yellow_circle": "🟡", "large_green_circle": "🟢",
	"white_circle": "⚪", "large_blue_circle": "🔵", "rotating_light": "🚨", "bell": "🔔", "calendar": "📅",
	"date": "📅", "chart_with_downwards_trend": "📉", "chart_with_upwards_trend": "📈", "tada": "🎉",
	"arrow_right": "➡️", "arrow_up": "⬆️", "arrow_down": "⬇️", "eyes": "👀", "wave": "👋", "zzz": "💤",
	"fire": "🔥", "moneybag": "💰", "handshake": "🤝", "mag": "🔎", "thumbsup": "👍", "+1": "👍",
	"point_right": "👉", "lock": "🔒", "link": "🔗", "star": "⭐", "sparkles": "✨", "speech_balloon": "💬",
	"busts_in_silhouette": "👥", "bust_in_silhouette": "👤", "small_red_triangle": "🔺",
	"small_red_triangle_down": "🔻", "repeat": "🔁", "clipboard": "📋", "bar_chart": "📊", "email": "📧",
	"telephone_receiver": "📞", "spiral_calendar_pad": "🗓️", "alarm_clock": "⏰", "robot_face": "🤖",
}

// replaceEmoji replaces :shortcodes: that emoji knows.
func replaceEmoji(s string) string {
	if !strings.Contains(s, ":") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], ':')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		if e, ok := emoji[name]; ok {
			b.WriteString(s[:i])
			b.WriteString(e)
			s = s[i+1+j+1:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	b.WriteString(s)
	return b.String()
}
