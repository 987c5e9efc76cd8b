package bot

import (
	"testing"

	"github.com/slack-go/slack"
)

func TestUnmrkdwn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"R&amp;D &lt;Labs&gt;", "R&D <Labs>"},
		{"CSM <@U123>", "CSM @U123"},
		{"CSM <@U123|dana>", "CSM @dana"},
		{"in <#C123|acme-corp>", "in #acme-corp"},
		{"<!here> now", "@here now"},
		{"<!subteam^S1|@cs-team>", "@cs-team"},
		{"see <https://x.example/a|the doc>", "see the doc (https://x.example/a)"},
		{"<https://x.example>", "https://x.example"},
		{"unclosed <@U1", "unclosed <@U1"},
		{"a < b", "a < b"},
	}
	for _, tt := range tests {
		if got := Unmrkdwn(tt.in); got != tt.want {
			t.Errorf("Unmrkdwn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlainText(t *testing.T) {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Acme & Co", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Score* 42 &lt;red&gt;", false, false),
			[]*slack.TextBlockObject{
				slack.NewTextBlockObject(slack.MarkdownType, "*Tier*\nhigh", false, false),
				slack.NewTextBlockObject(slack.MarkdownType, "*CSM*\n<@U1|dana>", false, false),
			}, nil),
		slack.NewDividerBlock(),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "one", false, false),
			slack.NewTextBlockObject(slack.PlainTextType, "two", false, false)),
		slack.NewActionBlock("", slack.NewButtonBlockElement("a", "1", slack.NewTextBlockObject(slack.PlainTextType, "Renewals", false, false)),
			slack.NewButtonBlockElement("b", "1", slack.NewTextBlockObject(slack.PlainTextType, "Share in channel", false, false))),
	}
	want := "Acme & Co\n=========\n*Score* 42 <red>\n  *Tier* high\n  *CSM* @dana\n" +
		"----------------------------------------\n  one · two\n[Renewals] [Share in channel]\n"
	if got := PlainText(blocks); got != want {
		t.Errorf("PlainText =\n%s\nwant\n%s", got, want)
	}
}
