package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCodeBlocks(t *testing.T) {
	const zwsp = "\u200b"
	lines := func(n int, line string) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(line)
		}
		return b.String()
	}
	for _, tt := range []struct {
		name  string
		text  string
		limit int
		// sep is what the parts rejoin with: "\n" when every cut falls at a
		// line end (which is dropped), "" when lines are cut.
		sep       string
		wantParts int // 0: any number
	}{
		{name: "empty", text: "", limit: 10, wantParts: 1},
		{name: "short", text: "# ACME\n\nHealth 72", limit: 100, wantParts: 1},
		{name: "exactly the limit", text: strings.Repeat("a", 20), limit: 20, wantParts: 1},
		{name: "at line ends", text: lines(10, "0123456789"), limit: 25, sep: "\n", wantParts: 5},
		{name: "trailing newline", text: lines(10, "0123456789") + "\n", limit: 25, sep: "\n"},
		{name: "one long line", text: strings.Repeat("abcdefghij", 10), limit: 25, wantParts: 4},
		{name: "runes cut", text: strings.Repeat("é日本🙂", 40), limit: 7},
		{name: "runes at line ends", text: lines(30, "éèê日本🙂"), limit: 40, sep: "\n"},
		{name: "backticks", text: "```go\nfmt.Println()\n```\n````\n`````` and `` and `", limit: 1000, wantParts: 1},
		{name: "backticks cut", text: strings.Repeat("x```y````", 50), limit: 16},
		{name: "the real limit", text: lines(400, strings.Repeat("ü", 20)), limit: codeBlockText, sep: "\n", wantParts: 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parts := codeBlocks(tt.text, tt.limit)
			if tt.wantParts != 0 && len(parts) != tt.wantParts {
				t.Errorf("%d parts, want %d: %q", len(parts), tt.wantParts, parts)
			}
			for i, p := range parts {
				if len(p) > tt.limit {
					t.Errorf("part %d is %d bytes, over the limit of %d", i, len(p), tt.limit)
				}
				if !utf8.ValidString(p) {
					t.Errorf("part %d is not valid UTF-8 (a rune was split): %q", i, p)
				}
				if strings.Contains(p, "```") {
					t.Errorf("part %d holds a triple backtick, which would end its code block: %q", i, p)
				}
				if i < len(parts)-1 && p == "" {
					t.Errorf("part %d is empty", i)
				}
			}
			joined := strings.Join(parts, tt.sep)
			if got := strings.ReplaceAll(joined, zwsp, ""); got != tt.text {
				t.Errorf("parts rejoin to\n%q\nwant\n%q", got, tt.text)
			}
		})
	}
}
