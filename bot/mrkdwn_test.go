package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// update rewrites the golden files in testdata: go test ./bot -update.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkGolden compares got with testdata/name, or rewrites the file when
// -update is set.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; run with -update if intended):\n%s", path, diff)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Acme Corp", "Acme Corp"},
		{"R&D <Labs> <!here>", "R&amp;D &lt;Labs&gt; &lt;!here&gt;"},
		{"<@U024BE7LH> <#C024BE7LB|general> <!channel> <!subteam^S1>", "&lt;@U024BE7LH&gt; &lt;#C024BE7LB|general&gt; &lt;!channel&gt; &lt;!subteam^S1&gt;"},
		{"<https://evil.example|click>", "&lt;https://evil.example|click&gt;"},
		{"&amp; already", "&amp;amp; already"},
		{"*bold* _it_ ~s~ `code`", "*bold* _it_ ~s~ `code`"},
		{"Ünïcödé → ✓ 日本", "Ünïcödé → ✓ 日本"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Acme", "*Acme*"},
		{"  R&D <Labs>  ", "*R&amp;D &lt;Labs&gt;*"},
		{"   ", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Bold(tt.in); got != tt.want {
			t.Errorf("Bold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLink(t *testing.T) {
	tests := []struct{ url, label, want string }{
		{"https://crm.example/a/1", "Acme", "<https://crm.example/a/1|Acme>"},
		{"http://crm.example/a?id=1&tab=2", "R&D <Labs>", "<http://crm.example/a?id=1&amp;tab=2|R&amp;D &lt;Labs&gt;>"},
		{"https://crm.example/a?q=<x>|y", "x", "<https://crm.example/a?q=%3Cx%3E%7Cy|x>"},
		{"https://crm.example/", "", "<https://crm.example/>"},
		{"HTTPS://CRM.example/A", "a", "<https://CRM.example/A|a>"},
		{"https://crm.example/a|b", "label|with|pipes", "<https://crm.example/a%7Cb|label|with|pipes>"},
		// Refused: the label (or the url, escaped) as plain text.
		{"javascript:alert(1)", "click <!here>", "click &lt;!here&gt;"},
		{"slack://open", "open", "open"},
		{"mailto:a@b.example", "mail", "mail"},
		{"/relative/path", "rel", "rel"},
		{"https://bank.example@evil.example/", "bank", "bank"},
		{"https://", "empty host", "empty host"},
		{"https://a.example/x y", "space", "space"},
		{"ftp://files.example/x", "", "ftp://files.example/x"},
		{"not a url <!channel>", "", "not a url &lt;!channel&gt;"},
	}
	for _, tt := range tests {
		if got := Link(tt.url, tt.label); got != tt.want {
			t.Errorf("Link(%q, %q) = %q, want %q", tt.url, tt.label, got, tt.want)
		}
	}
}

func TestMentions(t *testing.T) {
	users := []struct{ id, want string }{
		{"U024BE7LH", "<@U024BE7LH>"},
		{"W012A3CDE", "<@W012A3CDE>"},
		{"u024be7lh", "u024be7lh"},
		{"U1><!here", "U1&gt;&lt;!here"},
		{"C024BE7LB", "C024BE7LB"},
		{"U", "U"},
		{"", ""},
		{"U" + strings.Repeat("A", 30), "U" + strings.Repeat("A", 30)},
	}
	for _, tt := range users {
		if got := UserMention(tt.id); got != tt.want {
			t.Errorf("UserMention(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
	channels := []struct{ id, want string }{
		{"C024BE7LB", "<#C024BE7LB>"},
		{"G024BE91L", "<#G024BE91L>"},
		{"D024BE91L", "<#D024BE91L>"},
		{"U024BE7LH", "U024BE7LH"},
		{"C1|x><!channel", "C1|x&gt;&lt;!channel"},
	}
	for _, tt := range channels {
		if got := ChannelMention(tt.id); got != tt.want {
			t.Errorf("ChannelMention(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

// hostileBlocks builds a message the way commands do, from data that tries
// to ping, link and break out of formatting.
func hostileBlocks() []slack.Block {
	account := "R&D <Labs> <!here>"
	note := "call <@U024BE7LH> & <!channel> about <https://evil.example|the invoice> > now"
	subject := "<!subteam^S012AB3CD|@cs-team> refund?? & <#C024BE7LB>"
	text := Bold(account) + "\n" +
		"Note: " + Escape(note) + "\n" +
		"CSM: " + UserMention("U012AB3CD") + " in " + ChannelMention("C0ACME123") + "\n" +
		"CRM: " + Link("https://crm.example/accounts?id=42&tab=<health>", account) + "\n" +
		"Bad link: " + Link("javascript:alert(document.cookie)", "<!everyone> click") + "\n" +
		"Bad mention: " + UserMention("U1><!here")
	return []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, Truncate(account, MaxHeaderText), false, false)),
		slack.NewSectionBlock(
			slack.NewTextBlockObject(slack.MarkdownType, TruncateMrkdwn(text, MaxSectionText), false, false),
			[]*slack.TextBlockObject{
				slack.NewTextBlockObject(slack.MarkdownType, "*Ticket*\n"+Escape(subject), false, false),
				slack.NewTextBlockObject(slack.MarkdownType, "*Owner*\n"+UserMention("not-an-id<!here>"), false, false),
			}, nil),
	}
}

func TestHostileDataGolden(t *testing.T) {
	blocks := hostileBlocks()
	if err := CheckLimits(SurfaceMessage, blocks, "fallback"); err != nil {
		t.Fatalf("CheckLimits: %v", err)
	}
	// Unescaped HTML characters keep the golden file readable; Slack reads
	// both forms the same.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"blocks": blocks}); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	checkGolden(t, "hostile_section.golden.json", got)

	// Only the two mentions csbot meant to make are left; every token the
	// data carried is escaped. (The header is plain_text: Slack shows it
	// verbatim and never parses mentions there.)
	var doc struct {
		Blocks []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	var section struct {
		Text   struct{ Text string } `json:"text"`
		Fields []struct{ Text string }
	}
	if err := json.Unmarshal(doc.Blocks[1], &section); err != nil {
		t.Fatal(err)
	}
	mrkdwn := section.Text.Text
	for _, f := range section.Fields {
		mrkdwn += "\n" + f.Text
	}
	var tokens []string
	for rest := mrkdwn; ; {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		tokens = append(tokens, rest[i:i+j+1])
		rest = rest[i+j+1:]
	}
	want := []string{"<@U012AB3CD>", "<#C0ACME123>", "<https://crm.example/accounts?id=42&amp;tab=%3Chealth%3E|R&amp;D &lt;Labs&gt; &lt;!here&gt;>"}
	if diff := cmp.Diff(want, tokens); diff != "" {
		t.Errorf("mrkdwn tokens (-want +got):\n%s", diff)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "R&D <Labs> <!here>", "&amp;&lt;&gt;", "<@U1>", "<<>>&&", "é<\xff>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("Escape(%q) = %q contains < or >", s, got)
		}
		for i := range len(got) {
			if got[i] != '&' {
				continue
			}
			rest := got[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				t.Fatalf("Escape(%q) = %q has an unescaped & at %d", s, got, i)
			}
		}
		back := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(got)
		if back != s {
			t.Fatalf("unescaping Escape(%q) gives %q", s, back)
		}
		if !bytes.Equal([]byte(Escape(got)), []byte(strings.ReplaceAll(got, "&", "&amp;"))) {
			t.Fatalf("Escape is not stable on its own output for %q", s)
		}
	})
}
