package commands

import (
	"github.com/csbot/csbot"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []arg
	}{
		{"empty", "", nil},
		{"only space", " \t\n ", nil},
		{"one word", "acme", []arg{{Kind: argWord, Text: "acme"}}},
		{"words and runs of space", "  acme   corp\tpublic ", []arg{
			{Kind: argWord, Text: "acme"}, {Kind: argWord, Text: "corp"}, {Kind: argWord, Text: "public"}}},
		{"user mention with label", "<@U123ABC|dana>", []arg{{Kind: argUser, ID: "U123ABC", Text: "dana"}}},
		{"user mention without label", "<@W0ABC12>", []arg{{Kind: argUser, ID: "W0ABC12", Text: "W0ABC12"}}},
		{"channel reference", "<#C123ABC|acme-corp>", []arg{{Kind: argChannel, ID: "C123ABC", Text: "acme-corp"}}},
		{"private channel reference", "<#G0PRIV1>", []arg{{Kind: argChannel, ID: "G0PRIV1", Text: "G0PRIV1"}}},
		{"special mention", "<!here>", []arg{{Kind: argSpecial, Text: "!here"}}},
		{"subteam", "<!subteam^S012|@cs>", []arg{{Kind: argSpecial, Text: "!subteam^S012|@cs"}}},
		{"lower-case id is a word", "<@u123>", []arg{{Kind: argWord, Text: "<@u123>"}}},
		{"short id is a word", "<@U1>", []arg{{Kind: argWord, Text: "<@U1>"}}},
		{"unclosed reference is a word", "<@U123ABC acme", []arg{{Kind: argWord, Text: "<@U123ABC"}, {Kind: argWord, Text: "acme"}}},
		{"empty reference is a word", "<>", []arg{{Kind: argWord, Text: "<>"}}},
		{"a domain Slack made a link", "<http://acme.com|acme.com> public", []arg{{Kind: argWord, Text: "acme.com"}, {Kind: argWord, Text: "public"}}},
		{"a URL Slack made a link", "<https://www.acme.com/about>", []arg{{Kind: argWord, Text: "https://www.acme.com/about"}}},
		{"an e-mail Slack made a link", "<mailto:rr@acme.com|rr@acme.com>", []arg{{Kind: argWord, Text: "rr@acme.com"}}},
		{"an e-mail link without label", "<mailto:rr@acme.com>", []arg{{Kind: argWord, Text: "rr@acme.com"}}},
		{"mention and words", "link <#C0ACME1|acme> now", []arg{
			{Kind: argWord, Text: "link"}, {Kind: argChannel, ID: "C0ACME1", Text: "acme"}, {Kind: argWord, Text: "now"}}},
		{"straight double quotes", `"acme corp" public`, []arg{
			{Kind: argWord, Text: "acme corp", Quoted: true}, {Kind: argWord, Text: "public"}}},
		{"single quotes", `'acme corp'`, []arg{{Kind: argWord, Text: "acme corp", Quoted: true}}},
		{"curly double quotes", "“acme corp” public", []arg{
			{Kind: argWord, Text: "acme corp", Quoted: true}, {Kind: argWord, Text: "public"}}},
		{"curly single quotes", "‘acme corp’", []arg{{Kind: argWord, Text: "acme corp", Quoted: true}}},
		{"straight open, curly close", "\"acme corp” x", []arg{
			{Kind: argWord, Text: "acme corp", Quoted: true}, {Kind: argWord, Text: "x"}}},
		{"unclosed quote runs to the end", `"acme corp public`, []arg{{Kind: argWord, Text: "acme corp public", Quoted: true}}},
		{"empty quotes vanish", `"" acme`, []arg{{Kind: argWord, Text: "acme"}}},
		{"quoted keyword is not a keyword", `"help"`, []arg{{Kind: argWord, Text: "help", Quoted: true}}},
		{"apostrophe inside a word", "o'reilly media", []arg{{Kind: argWord, Text: "o'reilly"}, {Kind: argWord, Text: "media"}}},
		{"unicode", "Société Générale 日本", []arg{
			{Kind: argWord, Text: "Société"}, {Kind: argWord, Text: "Générale"}, {Kind: argWord, Text: "日本"}}},
		{"zero-width spaces separate", "acme\u200bcorp\u200b", []arg{{Kind: argWord, Text: "acme"}, {Kind: argWord, Text: "corp"}}},
		{"non-breaking space separates", "acme\u00a0corp", []arg{{Kind: argWord, Text: "acme"}, {Kind: argWord, Text: "corp"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseArgs(tt.text)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseArgs(%q) differs (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestParseArgsVeryLongText(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("acme ", 10_000)
	got := parseArgs(text)
	if len(got) != 10_000 {
		t.Fatalf("parseArgs of 10,000 words gave %d args", len(got))
	}
	long := strings.Repeat("x", 100_000)
	if got := parseArgs(long); len(got) != 1 || got[0].Text != long {
		t.Errorf("parseArgs of one 100,000-byte word gave %d args", len(got))
	}
}

func TestKeyword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    arg
		w    string
		want bool
	}{
		{arg{Kind: argWord, Text: "HELP"}, "help", true},
		{arg{Kind: argWord, Text: "Public"}, "public", true},
		{arg{Kind: argWord, Text: "help", Quoted: true}, "help", false},
		{arg{Kind: argUser, ID: "U123", Text: "help"}, "help", false},
		{arg{Kind: argWord, Text: "helps"}, "help", false},
	}
	for _, tt := range tests {
		if got := tt.a.keyword(tt.w); got != tt.want {
			t.Errorf("%+v.keyword(%q) = %v, want %v", tt.a, tt.w, got, tt.want)
		}
	}
}

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"", "acme", `"acme corp" public`, "“acme corp”", "‘x’", `"unclosed`, "<@U123|dana>", "<#C123|acme>",
		"<!here>", "<@U1", "<>", "<#>", "<@>", "link <#C0ACME1>", "acme\u200bcorp", "\u200b\u200b", "\"”", "'",
		"<@U123ABC|>", "<#C123ABC||>", "\xff\xfe", "a\x00b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		args := parseArgs(text)
		if len(args) > utf8.RuneCountInString(text) {
			t.Fatalf("parseArgs(%q) gave %d args, more than its %d characters", text, len(args), utf8.RuneCountInString(text))
		}
		for i, a := range args {
			if a.Text == "" {
				t.Errorf("parseArgs(%q)[%d] = %+v: empty Text", text, i, a)
			}
			switch a.Kind {
			case argUser:
				if !csbot.IsSlackUserID(a.ID) {
					t.Errorf("parseArgs(%q)[%d] = %+v: user id is not a Slack user id", text, i, a)
				}
			case argChannel:
				if !csbot.IsSlackChannelID(a.ID) {
					t.Errorf("parseArgs(%q)[%d] = %+v: channel id is not a Slack channel id", text, i, a)
				}
			case argWord, argSpecial:
				if a.ID != "" {
					t.Errorf("parseArgs(%q)[%d] = %+v: a word with an id", text, i, a)
				}
			default:
				t.Errorf("parseArgs(%q)[%d] = %+v: unknown kind", text, i, a)
			}
			if !a.Quoted && a.Kind == argWord && strings.IndexFunc(a.Text, isSpace) >= 0 {
				t.Errorf("parseArgs(%q)[%d] = %+v: an unquoted word with space in it", text, i, a)
			}
		}
	})
}
