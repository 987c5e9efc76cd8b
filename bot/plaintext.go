package bot

import (
	"encoding/json"
	"strings"

	"github.com/slack-go/slack"
)

// PlainText renders blocks for a terminal: headers, sections and their
// fields, context lines, dividers and buttons ("[Share in channel]"), with
// mrkdwn references made readable (<@U1|dana> -> @dana, <url|label> ->
// label (url)) and escapes undone. csbot try prints replies with it.
func PlainText(blocks []slack.Block) string {
	raw, err := json.Marshal(blocks)
	if err != nil {
		return ""
	}
	var bs []map[string]any
	if err := json.Unmarshal(raw, &bs); err != nil {
		return ""
	}
	var b strings.Builder
	for _, blk := range bs {
		switch blk["type"] {
		case "header":
			t := Unmrkdwn(textOf(blk["text"]))
			b.WriteString(t + "\n" + strings.Repeat("=", max(3, len([]rune(t)))) + "\n")
		case "section":
			if t := textOf(blk["text"]); t != "" {
				b.WriteString(Unmrkdwn(t) + "\n")
			}
			if fields, ok := blk["fields"].([]any); ok {
				for _, f := range fields {
					b.WriteString("  " + strings.ReplaceAll(Unmrkdwn(textOf(f)), "\n", " ") + "\n")
				}
			}
			if acc, ok := blk["accessory"].(map[string]any); ok {
				if l := elementLabel(acc); l != "" {
					b.WriteString("  " + l + "\n")
				}
			}
		case "context":
			var parts []string
			if els, ok := blk["elements"].([]any); ok {
				for _, e := range els {
					if t := textOf(e); t != "" {
						parts = append(parts, Unmrkdwn(t))
					}
				}
			}
			b.WriteString("  " + strings.Join(parts, " · ") + "\n")
		case "divider":
			b.WriteString(strings.Repeat("-", 40) + "\n")
		case "actions":
			var parts []string
			if els, ok := blk["elements"].([]any); ok {
				for _, e := range els {
					if m, ok := e.(map[string]any); ok {
						if l := elementLabel(m); l != "" {
							parts = append(parts, l)
						}
					}
				}
			}
			b.WriteString(strings.Join(parts, " ") + "\n")
		case "markdown":
			if t, ok := blk["text"].(string); ok {
				b.WriteString(t + "\n")
			}
		}
	}
	return b.String()
}

// textOf returns the text of a text object, or "".
func textOf(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	s, _ := m["text"].(string)
	return s
}

// elementLabel is how a button or select shows in plain text.
func elementLabel(e map[string]any) string {
	switch e["type"] {
	case "button":
		return "[" + Unmrkdwn(textOf(e["text"])) + "]"
	case "static_select", "external_select", "users_select", "conversations_select", "channels_select", "overflow":
		if p := textOf(e["placeholder"]); p != "" {
			return "[" + p + " ▾]"
		}
		return "[▾]"
	}
	return ""
}

// Unmrkdwn makes mrkdwn readable as plain text: references become their
// labels (<@U1> -> @U1, <#C1|general> -> #general, <!here> -> @here,
// <https://x|site> -> site (https://x)) and &amp; &lt; &gt; become & < >.
func Unmrkdwn(s string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '<')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '>')
		if end < 0 {
			break
		}
		b.WriteString(s[:open])
		b.WriteString(readableRef(s[open+1 : open+end]))
		s = s[open+end+1:]
	}
	b.WriteString(s)
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(b.String())
}

// readableRef renders the inside of a <...> reference.
func readableRef(inner string) string {
	target, label, _ := strings.Cut(inner, "|")
	switch {
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
		if label != "" {
			return target[:1] + strings.TrimPrefix(label, target[:1])
		}
		return target
	case strings.HasPrefix(target, "!"):
		if label != "" {
			return label
		}
		name, _, _ := strings.Cut(target[1:], "^")
		return "@" + name
	case label != "":
		return label + " (" + target + ")"
	}
	return target
}
