package playground

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// testNames resolves the ids of the mrkdwn tests.
type testNames struct{}

func (testNames) UserName(id string) (string, bool) {
	if id == "U1" {
		return "Dana <Smith>", true
	}
	return "", false
}

func (testNames) ChannelName(id string) (string, bool) {
	if id == "C1" {
		return "acme-corp", true
	}
	return "", false
}

func TestMrkdwn(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello", "hello"},
		{"bold", "*Acme* is red", "<b>Acme</b> is red"},
		{"italic", "_soon_", "<i>soon</i>"},
		{"strike", "~gone~", "<s>gone</s>"},
		{"nested", "*bold _and italic_*", "<b>bold <i>and italic</i></b>"},
		{"italic around bold", "_*both*_", "<i><b>both</b></i>"},
		{"no bold inside words", "2*3*4 and snake_case_name", "2*3*4 and snake_case_name"},
		{"no bold with inner spaces", "* not bold *", "* not bold *"},
		{"bold before punctuation", "(*ARR*), done", "(<b>ARR</b>), done"},
		{"unclosed", "*open", "*open"},
		{"spans stay on their line", "*a\nb*", "*a<br>b*"},
		{"code", "run `csbot try`", `run <code class="md-code">csbot try</code>`},
		{"no formatting in code", "`*x* <@U1>`", `<code class="md-code">*x* &lt;@U1&gt;</code>`},
		{"bold around code", "*see `x`*", `<b>see <code class="md-code">x</code></b>`},
		{"pre", "before\n```\nline 1\n*line* 2\n```\nafter", `before<pre class="md-pre">line 1` + "\n" + `*line* 2` + "\n" + `</pre>after`},
		{"newlines", "a\nb", "a<br>b"},
		{"user mention", "hi <@U1>", `hi <span class="md-mention">@Dana &lt;Smith&gt;</span>`},
		{"unknown user with label", "<@U9|sam>", `<span class="md-mention">@sam</span>`},
		{"unknown user", "<@U9>", `<span class="md-mention">@U9</span>`},
		{"channel with name", "<#C9|acme>", `<span class="md-mention">#acme</span>`},
		{"channel resolved", "<#C1>", `<span class="md-mention">#acme-corp</span>`},
		{"here", "<!here> look", `<span class="md-mention">@here</span> look`},
		{"date fallback", "<!date^1392734382^{date_short}|Feb 18, 2014>", "Feb 18, 2014"},
		{"link with label", "<https://example.com/a?b=1&amp;c=2|the *docs*>",
			`<a class="md-link" href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the *docs*</a>`},
		{"bare link", "<https://example.com>", `<a class="md-link" href="https://example.com" target="_blank" rel="noopener noreferrer">https://example.com</a>`},
		{"mailto", "<mailto:a@b.example|write>", `<a class="md-link" href="mailto:a@b.example" target="_blank" rel="noopener noreferrer">write</a>`},
		{"bold link", "*<https://example.com|docs>*", `<b><a class="md-link" href="https://example.com" target="_blank" rel="noopener noreferrer">docs</a></b>`},
		{"entities", "a &amp; b &lt;c&gt;", "a &amp; b &lt;c&gt;"},
		{"double escaped entity stays text", "&amp;lt;", "&amp;lt;"},
		{"quote", "&gt; quoted\nnot", `<blockquote class="md-quote">quoted</blockquote>not`},
		{"quote lines", "> one\n> two", `<blockquote class="md-quote">one<br>two</blockquote>`},
		{"quote rest", "&gt;&gt;&gt; all\nof this", `<blockquote class="md-quote">all<br>of this</blockquote>`},
		{"emoji", ":warning: late :no_such_emoji:", "⚠️ late :no_such_emoji:"},
		{"emoji name is not italic", ":white_check_mark: done", "✅ done"},
		{"times are not emoji", "09:00:00", "09:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Mrkdwn(tt.in, testNames{})); got != tt.want {
				t.Errorf("Mrkdwn(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

// allowedTags are the only tags Mrkdwn and PlainText write; an href
// holds no quote or angle bracket and starts with a safe scheme.
var allowedTags = regexp.MustCompile(`^(?:</?(?:b|i|s|code|pre|blockquote|span|a)>|<br>|<code class="md-code">|<pre class="md-pre">|` +
	`<blockquote class="md-quote">|<span class="md-mention">|` +
	`<a class="md-link" href="(?:https?://|mailto:)[^"<>]*" target="_blank" rel="noopener noreferrer">)`)

// checkMarkup reports the first tag in out that Mrkdwn would never write.
func checkMarkup(out string) error {
	for i := 0; i < len(out); i++ {
		if out[i] != '<' {
			continue
		}
		m := allowedTags.FindString(out[i:])
		if m == "" {
			return fmt.Errorf("unexpected markup at %q", out[i:min(len(out), i+40)])
		}
		i += len(m) - 1
	}
	return nil
}

// TestMrkdwnNeverMakesMarkupOfText feeds hostile text through Mrkdwn and
// PlainText: whatever it holds, no tag or attribute of its own reaches
// the HTML, and links go only to http, https and mailto.
func TestMrkdwnNeverMakesMarkupOfText(t *testing.T) {
	hostile := []string{
		`<script>alert(1)</script>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`<img src=x onerror=alert(1)>`,
		`<javascript:alert(1)|click me>`,
		`<JaVaScRiPt:alert(1)>`,
		`<data:text/html,<script>alert(1)</script>|x>`,
		`<https://example.com" onmouseover="alert(1)|x>`,
		`<https://example.com|x" onmouseover="alert(1)>`,
		`<@U1|"><script>alert(1)</script>>`,
		`<#C9|"><b>x</b>>`,
		"`<b>code</b>`",
		"```</pre><script>alert(1)</script>```",
		"*&lt;b&gt;bold&lt;/b&gt;*",
		"_\"quoted\" 'single'_",
		"\uE000" + "0" + "\uE001 stray placeholders \uE0010\uE000",
		"\xff\xfe broken utf-8 <b>",
	}
	for _, in := range hostile {
		md := string(Mrkdwn(in, testNames{}))
		if err := checkMarkup(md); err != nil {
			t.Errorf("Mrkdwn(%q) = %s: %v", in, md, err)
		}
		if strings.ContainsAny(md, "\uE000\uE001") {
			t.Errorf("Mrkdwn(%q) = %s: a placeholder leaked", in, md)
		}
		if pt := string(PlainText(in, true)); checkMarkup(pt) != nil || strings.Contains(pt, "<a") {
			t.Errorf("PlainText(%q) = %s: markup from text", in, pt)
		}
	}
	if got, want := string(Mrkdwn("*&lt;b&gt;bold&lt;/b&gt;*", nil)), "<b>&lt;b&gt;bold&lt;/b&gt;</b>"; got != want {
		t.Errorf("Mrkdwn(*&lt;b&gt;bold&lt;/b&gt;*) = %s, want %s", got, want)
	}
	if got, want := string(Mrkdwn("<javascript:alert(1)|click me>", nil)), "click me"; got != want {
		t.Errorf("a javascript: link = %s, want its label as text: %s", got, want)
	}
}

func TestPlainText(t *testing.T) {
	if got, want := string(PlainText("a *b* <c>\n:warning:", true)), "a *b* &lt;c&gt;<br>⚠️"; got != want {
		t.Errorf("PlainText = %s, want %s", got, want)
	}
	if got, want := string(PlainText(":warning:", false)), ":warning:"; got != want {
		t.Errorf("PlainText without emoji = %s, want %s", got, want)
	}
}

func FuzzMrkdwn(f *testing.F) {
	for _, s := range []string{"*a* _b_ ~c~ `d`", "<@U1|x> <#C1> <!here>", "```x```", "&gt; q", "<https://x.example|y>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := string(Mrkdwn(in, testNames{}))
		if strings.ContainsAny(out, "\uE000\uE001") {
			t.Fatalf("Mrkdwn(%q) leaked a placeholder: %s", in, out)
		}
		if err := checkMarkup(out); err != nil {
			t.Fatalf("Mrkdwn(%q) = %s: %v", in, out, err)
		}
	})
}
