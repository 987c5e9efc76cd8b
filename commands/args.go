package commands

import (
	"github.com/csbot/csbot"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxArgText is the most text a command reads; longer input is refused
// with a hint rather than searched for.
const maxArgText = 500

// argKind says what a word of a command's text is.
type argKind int

const (
	argWord    argKind = iota // a bare word, or a quoted phrase
	argUser                   // a user mention: <@U123> or <@U123|name>
	argChannel                // a channel reference: <#C123> or <#C123|name>
	argSpecial                // <!here>, <!channel>, <!subteam^S1|@team>...
)

// arg is one word of a command's text, with Slack's escaped references
// decoded (the manifest sets should_escape, so mentions arrive as
// <@U123|name>).
type arg struct {
	Kind argKind
	// Text is the word (quotes removed) or, for a reference, its label
	// ("name" of <@U123|name>), else its id.
	Text string
	// ID is the user or channel id of a reference.
	ID string
	// Quoted is whether the word was in quotes (then it is never a
	// keyword).
	Quoted bool
}

// keyword reports whether a is the unquoted word w, ignoring case.
func (a arg) keyword(w string) bool {
	return a.Kind == argWord && !a.Quoted && strings.EqualFold(a.Text, w)
}

// parseArgs splits a command's text into words: whitespace separates them,
// "double", “curly” or 'single' quotes keep a phrase together, and
// <...> references are decoded. It never fails: an unclosed quote runs to
// the end, a malformed reference is a word.
func parseArgs(text string) []arg {
	var out []arg
	s := text
	for {
		s = strings.TrimLeftFunc(s, isSpace)
		if s == "" {
			return out
		}
		r, size := utf8.DecodeRuneInString(s)
		if closing, ok := closingQuote(r); ok {
			body := s[size:]
			end := strings.IndexRune(body, closing)
			if r == '"' && end < 0 {
				end = strings.IndexRune(body, '”')
			}
			var word string
			if end < 0 {
				word, s = body, ""
			} else {
				_, csize := utf8.DecodeRuneInString(body[end:])
				word, s = body[:end], body[end+csize:]
			}
			if w := strings.TrimFunc(word, isSpace); w != "" {
				out = append(out, arg{Kind: argWord, Text: w, Quoted: true})
			}
			continue
		}
		if r == '<' {
			if end := strings.IndexByte(s, '>'); end > 0 {
				if a, ok := reference(s[1:end]); ok {
					out = append(out, a)
					s = s[end+1:]
					continue
				}
			}
		}
		end := strings.IndexFunc(s, isSpace)
		if end < 0 {
			end = len(s)
		}
		out = append(out, arg{Kind: argWord, Text: s[:end]})
		s = s[end:]
	}
}

// closingQuote returns the quote that closes an opening quote r.
func closingQuote(r rune) (rune, bool) {
	switch r {
	case '"':
		return '"', true
	case '“':
		return '”', true
	case '\'':
		return '\'', true
	case '‘':
		return '’', true
	}
	return 0, false
}

// reference decodes the inside of <...>: @U123|label, #C123|label,
// !here, and the links Slack makes of what looks like a web address or an
// e-mail address (http://acme.com|acme.com, mailto:rr@acme.com|rr@acme.com),
// which read as the words typed.
func reference(inner string) (arg, bool) {
	if inner == "" {
		return arg{}, false
	}
	id, label, _ := strings.Cut(inner, "|")
	for _, scheme := range []string{"http://", "https://", "mailto:"} {
		if len(id) > len(scheme) && strings.EqualFold(id[:len(scheme)], scheme) {
			if label == "" {
				label = strings.TrimPrefix(id, id[:len("mailto:")])
				if scheme != "mailto:" {
					label = id
				}
			}
			if strings.TrimFunc(label, isSpace) == "" {
				return arg{}, false
			}
			return arg{Kind: argWord, Text: label}, true
		}
	}
	switch inner[0] {
	case '@':
		id = id[1:]
		if !csbot.IsSlackUserID(id) {
			return arg{}, false
		}
		return arg{Kind: argUser, ID: id, Text: orElse(label, id)}, true
	case '#':
		id = id[1:]
		if !csbot.IsSlackChannelID(id) {
			return arg{}, false
		}
		return arg{Kind: argChannel, ID: id, Text: orElse(label, id)}, true
	case '!':
		return arg{Kind: argSpecial, Text: inner}, true
	}
	return arg{}, false
}

func orElse(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// isSpace is unicode.IsSpace plus the zero-width space Slack clients
// sometimes paste.
func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' }

// joinWords puts words back together with single spaces: the query of a
// lookup typed over several words ("acme corp").
func joinWords(args []arg) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.Text
	}
	return strings.Join(parts, " ")
}
