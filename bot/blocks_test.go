package bot

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/csbot/csbot/bot/slacktest"
)

// Block builders for the limit tables. Text is made of "é", two bytes a
// character, so that a byte count would break every limit.

func limChars(n int) string { return strings.Repeat("é", n) }

func limMrkdwn(n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, limChars(n), false, false)
}

func limPlain(n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, limChars(n), false, false)
}

func limSections(n int) []slack.Block {
	out := make([]slack.Block, n)
	for i := range out {
		out[i] = slack.NewSectionBlock(limMrkdwn(1), nil, nil)
	}
	return out
}

func limSectionOf(textLen int) []slack.Block {
	return []slack.Block{slack.NewSectionBlock(limMrkdwn(textLen), nil, nil)}
}

func limFieldsOf(n, each int) []slack.Block {
	fields := make([]*slack.TextBlockObject, n)
	for i := range fields {
		fields[i] = limMrkdwn(each)
	}
	return []slack.Block{slack.NewSectionBlock(nil, fields, nil)}
}

func limHeaderOf(n int) []slack.Block { return []slack.Block{slack.NewHeaderBlock(limPlain(n))} }

func limButton(textLen, valueLen int) []slack.Block {
	b := slack.NewButtonBlockElement("act", strings.Repeat("v", valueLen), limPlain(textLen))
	return []slack.Block{slack.NewActionBlock("", b)}
}

func limActionsOf(n int) []slack.Block {
	els := make([]slack.BlockElement, n)
	for i := range els {
		els[i] = slack.NewButtonBlockElement(fmt.Sprintf("a%d", i), "v", limPlain(3))
	}
	return []slack.Block{slack.NewActionBlock("", els...)}
}

func limContextOf(n int) []slack.Block {
	els := make([]slack.MixedElement, n)
	for i := range els {
		els[i] = limMrkdwn(5)
	}
	return []slack.Block{slack.NewContextBlock("", els...)}
}

// limitCase is a payload at or around one of Slack's limits.
type limitCase struct {
	name   string
	kind   Surface
	blocks []slack.Block
	text   string
	// title and meta are the modal's title and private_metadata (views).
	title, meta string
	ok          bool
	// tooLong: the error is ErrMessageTooLong rather than ErrInvalidBlocks.
	tooLong bool
}

func limitCases() []limitCase {
	return []limitCase{
		{name: "50 blocks in a message", kind: SurfaceMessage, blocks: limSections(50), ok: true},
		{name: "51 blocks in a message", kind: SurfaceMessage, blocks: limSections(51)},
		{name: "100 blocks in a modal", kind: SurfaceModal, blocks: limSections(100), ok: true},
		{name: "101 blocks in a modal", kind: SurfaceModal, blocks: limSections(101)},
		{name: "100 blocks in a home tab", kind: SurfaceHome, blocks: limSections(100), ok: true},
		{name: "101 blocks in a home tab", kind: SurfaceHome, blocks: limSections(101)},
		{name: "section text 3000", blocks: limSectionOf(3000), ok: true},
		{name: "section text 3001", blocks: limSectionOf(3001)},
		{name: "section text empty", blocks: limSectionOf(0)},
		{name: "10 fields", blocks: limFieldsOf(10, 1), ok: true},
		{name: "11 fields", blocks: limFieldsOf(11, 1)},
		{name: "field 2000", blocks: limFieldsOf(2, 2000), ok: true},
		{name: "field 2001", blocks: limFieldsOf(2, 2001)},
		{name: "header 150", blocks: limHeaderOf(150), ok: true},
		{name: "header 151", blocks: limHeaderOf(151)},
		{name: "button text 75", blocks: limButton(75, 1), ok: true},
		{name: "button text 76", blocks: limButton(76, 1)},
		{name: "button value 2000", blocks: limButton(5, 2000), ok: true},
		{name: "button value 2001", blocks: limButton(5, 2001)},
		{name: "25 actions", blocks: limActionsOf(25), ok: true},
		{name: "26 actions", blocks: limActionsOf(26)},
		{name: "10 context elements", blocks: limContextOf(10), ok: true},
		{name: "11 context elements", blocks: limContextOf(11)},
		{name: "duplicate block_id", blocks: []slack.Block{
			slack.NewSectionBlock(limMrkdwn(1), nil, nil, slack.SectionBlockOptionBlockID("b")),
			slack.NewSectionBlock(limMrkdwn(1), nil, nil, slack.SectionBlockOptionBlockID("b")),
		}},
		{name: "fallback text 4000", text: limChars(4000), blocks: limSections(1), ok: true},
		{name: "fallback text 4001", text: limChars(4001), blocks: limSections(1), tooLong: true},
		{name: "modal title 24", kind: SurfaceModal, blocks: limSections(1), title: limChars(24), ok: true},
		{name: "modal title 25", kind: SurfaceModal, blocks: limSections(1), title: limChars(25)},
		{name: "private_metadata 3000", kind: SurfaceModal, blocks: limSections(1), meta: limChars(3000), ok: true},
		{name: "private_metadata 3001", kind: SurfaceModal, blocks: limSections(1), meta: limChars(3001)},
	}
}

// modal returns the modal view of a case.
func (tc limitCase) modal() slack.ModalViewRequest {
	title := tc.title
	if title == "" {
		title = "Health"
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Blocks:          slack.Blocks{BlockSet: tc.blocks},
		PrivateMetadata: tc.meta,
	}
}

func (tc limitCase) home() slack.HomeTabViewRequest {
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: tc.blocks}, PrivateMetadata: tc.meta}
}

// check runs the checker for the case's surface.
func (tc limitCase) check() error {
	switch tc.kind {
	case SurfaceModal:
		return CheckView(tc.modal())
	case SurfaceHome:
		return CheckHome(tc.home())
	}
	return CheckLimits(tc.kind, tc.blocks, tc.text)
}

func TestCheckLimits(t *testing.T) {
	for _, tc := range limitCases() {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check()
			if tc.ok {
				if err != nil {
					t.Fatalf("check = %v, want nil", err)
				}
				return
			}
			want := ErrInvalidBlocks
			if tc.tooLong {
				want = ErrMessageTooLong
			}
			var le *LimitError
			if !errors.Is(err, want) || !errors.As(err, &le) || le.Path == "" {
				t.Fatalf("check = %v, want a *LimitError matching %v", err, want)
			}
			if strings.Contains(err.Error(), "é") {
				t.Errorf("error %q quotes the content", err)
			}
		})
	}
}

func TestCheckLimitsReportsPaths(t *testing.T) {
	blocks := append(limSections(2), limHeaderOf(151)[0], slack.NewSectionBlock(nil, []*slack.TextBlockObject{limMrkdwn(1), limMrkdwn(2001)}, nil))
	err := CheckLimits(SurfaceMessage, blocks, "")
	for _, want := range []string{"/blocks/2/text/text: 151 over the limit of 150", "/blocks/3/fields/1/text: 2001 over the limit of 2000"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckLimits = %v, want it to mention %q", err, want)
		}
	}
	// Many problems are summed up, not listed forever.
	many := make([]slack.Block, 30)
	for i := range many {
		many[i] = limHeaderOf(200)[0]
	}
	err = CheckLimits(SurfaceMessage, many, "")
	if err == nil || !strings.Contains(err.Error(), "and 20 more") || !errors.Is(err, ErrInvalidBlocks) {
		t.Errorf("CheckLimits(30 bad headers) = %v", err)
	}
}

// TestCheckLimitsAgreesWithFakeSlack sends every block case through the
// real slack-go client to the fake Slack, which enforces the same limits
// independently: what CheckLimits accepts, it accepts; what CheckLimits
// refuses, it refuses with invalid_blocks (messages) or invalid_arguments
// (views). The fallback text is left out: CheckLimits holds it to the 4,000
// characters Slack recommends, while Slack only refuses past 40,000.
func TestCheckLimitsAgreesWithFakeSlack(t *testing.T) {
	ctx := posterContext(t)
	srv := slacktest.New(t)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
	srv.AddUser(slacktest.User{ID: "U1", Name: "ana"})
	api := newPosterSlackClient(srv, nil)
	for _, tc := range limitCases() {
		if tc.text != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			var err error
			wantCode := "invalid_blocks"
			switch tc.kind {
			case SurfaceModal:
				_, err = api.OpenViewContext(ctx, srv.IssueTriggerID("U1"), tc.modal())
				wantCode = "invalid_arguments"
			case SurfaceHome:
				_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: tc.home()})
				wantCode = "invalid_arguments"
			default:
				_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(tc.blocks...))
			}
			if tc.ok {
				if err != nil {
					t.Fatalf("fake Slack refused what CheckLimits accepts: %v", err)
				}
				return
			}
			if errors.Is(err, slack.ErrBlockIDNotUnique) {
				return // slack-go itself refuses it before sending
			}
			se, ok := errors.AsType[slack.SlackErrorResponse](err)
			if !ok || se.Err != wantCode {
				t.Fatalf("fake Slack answered %v, want %s for what CheckLimits refuses", err, wantCode)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello", 6, "hello"},
		{"hello", 4, "hel…"},
		{"hello", 1, "…"},
		{"hello", 0, ""},
		{"hello", -3, ""},
		{"", 3, ""},
		{"ééééé", 3, "éé…"},
		{"日本語のテキスト", 4, "日本語…"},
		{"ab cd", 4, "ab…"},
		{"a\u0301bcd", 3, "a\u0301…"}, // counted as Slack does: code points
		{"👍👍👍", 2, "👍…"},
	}
	for _, tt := range tests {
		got := Truncate(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if !utf8.ValidString(got) || (tt.max > 0 && utf8.RuneCountInString(got) > tt.max) {
			t.Errorf("Truncate(%q, %d) = %q: invalid or too long", tt.in, tt.max, got)
		}
	}
}

func TestTruncateMrkdwn(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"see <@U024BE7LH> now", 20, "see <@U024BE7LH> now"},
		{"see <@U024BE7LH> now", 10, "see…"},
		{"see <@U024BE7LH> now", 18, "see <@U024BE7LH>…"},
		{"R&amp;D labs", 5, "R…"},
		{"R&amp;D labs", 7, "R&amp;…"},
		{"a <https://x.example|label> b", 12, "a…"},
	}
	for _, tt := range tests {
		if got := TruncateMrkdwn(tt.in, tt.max); got != tt.want {
			t.Errorf("TruncateMrkdwn(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("R&amp;D &lt;Labs&gt; <@U1> <https://a.example|x>", 10)
	f.Add("ééé", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n %= 5000
		for _, got := range []string{Truncate(s, n), TruncateMrkdwn(s, n)} {
			if utf8.ValidString(s) && !utf8.ValidString(got) {
				t.Fatalf("cut %q to %d: invalid UTF-8 %q", s, n, got)
			}
			if n > 0 && utf8.RuneCountInString(got) > n || n <= 0 && got != "" {
				t.Fatalf("cut %q to %d: %q is too long", s, n, got)
			}
		}
	})
}

func TestFitSection(t *testing.T) {
	long := Escape(strings.Repeat("R&D <Labs> ", 400)) // 6,800 characters escaped
	b := FitSection(long)
	if err := CheckLimits(SurfaceMessage, []slack.Block{b}, ""); err != nil {
		t.Fatalf("FitSection result over the limits: %v", err)
	}
	got := b.Text.Text
	if n := utf8.RuneCountInString(got); n > MaxSectionText || !strings.HasSuffix(got, Ellipsis) {
		t.Errorf("FitSection: %d characters, ends %q", n, got[len(got)-10:])
	}
	if strings.Count(got, "&") != strings.Count(got, "&amp;")+strings.Count(got, "&lt;")+strings.Count(got, "&gt;") {
		t.Errorf("FitSection cut through an entity: ...%q", got[len(got)-20:])
	}
	if b := FitSection("short *text*"); b.Text.Text != "short *text*" || b.Text.Type != slack.MarkdownType {
		t.Errorf("FitSection(short) = %+v", b.Text)
	}
	if err := CheckLimits(SurfaceMessage, []slack.Block{FitSection("")}, ""); err != nil {
		t.Errorf("FitSection(\"\") is refused: %v", err)
	}
}

func TestPageBlocks(t *testing.T) {
	page, rest := PageBlocks(limSections(50), MaxMessageBlocks)
	if len(page) != 50 || rest != nil {
		t.Errorf("50 blocks: page %d, rest %d; want all on one page", len(page), len(rest))
	}
	all := limSections(120)
	page, rest = PageBlocks(all, MaxMessageBlocks)
	if len(page) != 49 || len(rest) != 71 {
		t.Errorf("120 blocks: page %d, rest %d; want 49 (a slot for Show more), 71", len(page), len(rest))
	}
	// A page does not end on a header or divider.
	all[47] = slack.NewHeaderBlock(limPlain(5))
	all[48] = slack.NewDividerBlock()
	page, rest = PageBlocks(all, MaxMessageBlocks)
	if len(page) != 47 || rest[0] != all[47] {
		t.Errorf("page ends with %d blocks, want 47 with the header moved on", len(page))
	}
	// Paging through covers every block once, each page within the limit
	// with its Show more button.
	var seen int
	for rest := all; len(rest) > 0; {
		page, rest = PageBlocks(rest, MaxMessageBlocks)
		if len(page) == 0 {
			t.Fatal("empty page")
		}
		more := slack.NewActionBlock("more", slack.NewButtonBlockElement("show_more", "p", limPlain(9)))
		if err := CheckLimits(SurfaceMessage, append(page, more), ""); err != nil {
			t.Fatalf("page over the limits: %v", err)
		}
		seen += len(page)
	}
	if seen != len(all) {
		t.Errorf("pages hold %d blocks, want %d", seen, len(all))
	}
}
