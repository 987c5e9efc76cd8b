package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack's Block Kit limits, in characters (Unicode code points, which is
// how Slack counts them) or items. Payloads beyond them are refused with
// invalid_blocks (messages) or invalid_arguments (views).
const (
	MaxMessageBlocks   = 50    // blocks in a message
	MaxViewBlocks      = 100   // blocks in a modal or Home tab
	MaxSectionText     = 3000  // section text
	MaxSectionFields   = 10    // fields in a section
	MaxFieldText       = 2000  // each section field
	MaxHeaderText      = 150   // header text
	MaxButtonText      = 75    // button label
	MaxButtonValue     = 2000  // button value
	MaxActionsElements = 25    // elements in an actions block
	MaxContextElements = 10    // elements in a context block
	MaxModalTitle      = 24    // modal title, submit and close labels
	MaxPrivateMetadata = 3000  // view private_metadata
	MaxFallbackText    = 4000  // a message's top-level text
	MaxMarkdownText    = 12000 // markdown block text
	MaxID              = 255   // block_id, action_id, callback_id, external_id
	MaxURL             = 3000  // button and image URLs
	MaxOptions         = 100   // options in a select
	MaxOptionText      = 75    // option label
	MaxOptionValue     = 150   // option value
	MaxPlaceholder     = 150   // placeholder text
	MaxLabel           = 2000  // input label and hint, image alt text and title
)

// Ellipsis is what Truncate and its friends put where they cut.
const Ellipsis = "…"

// Surface is where blocks are shown, which sets how many are allowed.
type Surface int

const (
	// SurfaceMessage is a message: 50 blocks and a fallback text.
	SurfaceMessage Surface = iota
	// SurfaceModal is a modal view: 100 blocks.
	SurfaceModal
	// SurfaceHome is an App Home tab: 100 blocks.
	SurfaceHome
)

// String returns "message", "modal" or "home".
func (s Surface) String() string {
	switch s {
	case SurfaceMessage:
		return "message"
	case SurfaceModal:
		return "modal"
	case SurfaceHome:
		return "home"
	}
	return fmt.Sprintf("Surface(%d)", int(s))
}

// maxBlocks is the block limit of the surface.
func (s Surface) maxBlocks() int {
	if s == SurfaceMessage {
		return MaxMessageBlocks
	}
	return MaxViewBlocks
}

// LimitError is one of Slack's limits broken. It matches ErrMessageTooLong
// when the fallback text is too long and ErrInvalidBlocks otherwise.
type LimitError struct {
	// Path is the JSON pointer of the offending value, as Slack reports it:
	// "/blocks/3/text/text", "/text", "/view/title/text".
	Path string
	// Got is the length found: characters, or items for arrays.
	Got int
	// Max is the limit; Min is set (to 1) when the value may not be empty.
	Max, Min int
	// Reason says what else is wrong when the problem is not a length
	// ("duplicate block_id", "section needs text or fields").
	Reason string
}

// Error describes the problem without quoting the content.
func (e *LimitError) Error() string {
	switch {
	case e.Reason != "":
		return fmt.Sprintf("%s: %s", e.Path, e.Reason)
	case e.Got < e.Min:
		return fmt.Sprintf("%s: empty, needs at least %d", e.Path, e.Min)
	}
	return fmt.Sprintf("%s: %d over the limit of %d", e.Path, e.Got, e.Max)
}

// Is matches ErrMessageTooLong for the fallback text and ErrInvalidBlocks
// for the rest.
func (e *LimitError) Is(target error) bool {
	if e.Path == "/text" {
		return target == ErrMessageTooLong
	}
	return target == ErrInvalidBlocks
}

// maxLimitErrors caps how many problems CheckLimits reports.
const maxLimitErrors = 10

// CheckLimits checks blocks for the surface kind, and text (a message's
// fallback text; pass "" for views), against Slack's limits, counting
// characters as Slack does. It returns nil when Slack would accept them, or
// the problems found (up to 10, as *LimitError joined with errors.Join),
// which match ErrInvalidBlocks or, for the text, ErrMessageTooLong.
// Use CheckView for a view's title and metadata.
func CheckLimits(kind Surface, blocks []slack.Block, text string) error {
	var c limitChecker
	c.text("/text", text, 0, MaxFallbackText)
	c.blocks("/blocks", blocks, kind.maxBlocks())
	return c.err()
}

// CheckView checks a modal view against Slack's limits: title,
// submit and close labels (24), private_metadata (3000), ids, and its blocks
// (100). It returns nil or the problems found, which match ErrInvalidBlocks.
func CheckView(v slack.ModalViewRequest) error {
	var c limitChecker
	if v.Type == slack.VTModal {
		if v.Title == nil {
			c.add(&LimitError{Path: "/view/title", Reason: "a modal needs a title"})
		} else {
			c.text("/view/title/text", v.Title.Text, 1, MaxModalTitle)
		}
		if v.Submit != nil {
			c.text("/view/submit/text", v.Submit.Text, 1, MaxModalTitle)
		}
		if v.Close != nil {
			c.text("/view/close/text", v.Close.Text, 1, MaxModalTitle)
		}
	}
	c.text("/view/private_metadata", v.PrivateMetadata, 0, MaxPrivateMetadata)
	c.text("/view/callback_id", v.CallbackID, 0, MaxID)
	c.text("/view/external_id", v.ExternalID, 0, MaxID)
	c.blocks("/view/blocks", v.Blocks.BlockSet, MaxViewBlocks)
	return c.err()
}

// CheckHome is CheckView for an App Home tab (views.publish).
func CheckHome(v slack.HomeTabViewRequest) error {
	var c limitChecker
	c.text("/view/private_metadata", v.PrivateMetadata, 0, MaxPrivateMetadata)
	c.text("/view/callback_id", v.CallbackID, 0, MaxID)
	c.text("/view/external_id", v.ExternalID, 0, MaxID)
	c.blocks("/view/blocks", v.Blocks.BlockSet, MaxViewBlocks)
	return c.err()
}

// limitChecker collects limit errors.
type limitChecker struct {
	errs []error
	more int
}

func (c *limitChecker) add(e *LimitError) {
	if len(c.errs) >= maxLimitErrors {
		c.more++
		return
	}
	c.errs = append(c.errs, e)
}

func (c *limitChecker) err() error {
	if c.more > 0 {
		c.errs = append(c.errs, fmt.Errorf("and %d more over the limits: %w", c.more, ErrInvalidBlocks))
	}
	return errors.Join(c.errs...)
}

// text checks a string's length in characters.
func (c *limitChecker) text(path, s string, minLen, maxLen int) {
	n := utf8.RuneCountInString(s)
	if n < minLen || n > maxLen {
		c.add(&LimitError{Path: path, Got: n, Max: maxLen, Min: minLen})
	}
}

// count checks an array's length.
func (c *limitChecker) count(path string, n, maxLen int) {
	if n > maxLen {
		c.add(&LimitError{Path: path, Got: n, Max: maxLen})
	}
}

// blocks checks blocks as Slack receives them: marshalled to JSON, so that
// every block type slack-go knows is seen the same way.
func (c *limitChecker) blocks(path string, blocks []slack.Block, maxBlocks int) {
	c.count(path, len(blocks), maxBlocks)
	if len(blocks) == 0 {
		return
	}
	raw, err := json.Marshal(blocks)
	if err != nil {
		c.add(&LimitError{Path: path, Reason: "cannot be encoded: " + err.Error()})
		return
	}
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil {
		c.add(&LimitError{Path: path, Reason: "not an array of objects"})
		return
	}
	seen := make(map[string]bool, len(list))
	for i, b := range list {
		p := fmt.Sprintf("%s/%d", path, i)
		if id, _ := b["block_id"].(string); id != "" {
			c.text(p+"/block_id", id, 0, MaxID)
			if seen[id] {
				c.add(&LimitError{Path: p + "/block_id", Reason: "duplicate block_id"})
			}
			seen[id] = true
		}
		c.block(p, b)
	}
}

// block checks one block.
func (c *limitChecker) block(p string, b map[string]any) {
	switch b["type"] {
	case "section":
		text, hasText := b["text"].(map[string]any)
		fields, hasFields := b["fields"].([]any)
		if !hasText && !hasFields {
			c.add(&LimitError{Path: p, Reason: "section needs text or fields"})
		}
		if hasText {
			c.textObject(p+"/text", text, MaxSectionText)
		}
		c.count(p+"/fields", len(fields), MaxSectionFields)
		for j, f := range fields {
			if fo, ok := f.(map[string]any); ok {
				c.textObject(fmt.Sprintf("%s/fields/%d", p, j), fo, MaxFieldText)
			}
		}
		if acc, ok := b["accessory"].(map[string]any); ok {
			c.element(p+"/accessory", acc)
		}
	case "header":
		text, _ := b["text"].(map[string]any)
		c.textObject(p+"/text", text, MaxHeaderText)
	case "actions":
		els, _ := b["elements"].([]any)
		c.count(p+"/elements", len(els), MaxActionsElements)
		for j, e := range els {
			if eo, ok := e.(map[string]any); ok {
				c.element(fmt.Sprintf("%s/elements/%d", p, j), eo)
			}
		}
	case "context":
		els, _ := b["elements"].([]any)
		c.count(p+"/elements", len(els), MaxContextElements)
	case "input":
		label, _ := b["label"].(map[string]any)
		c.textObject(p+"/label", label, MaxLabel)
		if hint, ok := b["hint"].(map[string]any); ok {
			c.textObject(p+"/hint", hint, MaxLabel)
		}
		if el, ok := b["element"].(map[string]any); ok {
			c.element(p+"/element", el)
		}
	case "image":
		alt, _ := b["alt_text"].(string)
		c.text(p+"/alt_text", alt, 0, MaxLabel)
		u, _ := b["image_url"].(string)
		c.text(p+"/image_url", u, 0, MaxURL)
		if title, ok := b["title"].(map[string]any); ok {
			c.textObject(p+"/title", title, MaxLabel)
		}
	case "markdown":
		s, _ := b["text"].(string)
		c.text(p+"/text", s, 1, MaxMarkdownText)
	}
}

// textObject checks a text object {"type": ..., "text": ...}: not empty,
// at most maxLen characters. A missing object is left to Slack's schema.
func (c *limitChecker) textObject(p string, t map[string]any, maxLen int) {
	if t == nil {
		return
	}
	s, _ := t["text"].(string)
	c.text(p+"/text", s, 1, maxLen)
}

// element checks an interactive element: buttons, selects and their
// options, ids, placeholders.
func (c *limitChecker) element(p string, e map[string]any) {
	if id, _ := e["action_id"].(string); id != "" {
		c.text(p+"/action_id", id, 0, MaxID)
	}
	if ph, ok := e["placeholder"].(map[string]any); ok {
		c.textObject(p+"/placeholder", ph, MaxPlaceholder)
	}
	switch e["type"] {
	case "button":
		text, _ := e["text"].(map[string]any)
		c.textObject(p+"/text", text, MaxButtonText)
		v, _ := e["value"].(string)
		c.text(p+"/value", v, 0, MaxButtonValue)
		u, _ := e["url"].(string)
		c.text(p+"/url", u, 0, MaxURL)
	case "static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes":
		opts, _ := e["options"].([]any)
		c.count(p+"/options", len(opts), MaxOptions)
		for j, o := range opts {
			oo, _ := o.(map[string]any)
			op := fmt.Sprintf("%s/options/%d", p, j)
			text, _ := oo["text"].(map[string]any)
			c.textObject(op+"/text", text, MaxOptionText)
			v, _ := oo["value"].(string)
			c.text(op+"/value", v, 0, MaxOptionValue)
		}
	}
}

// Truncate returns s cut to at most maxLen characters (code points), ending
// in an ellipsis when it was cut: the cut falls on a character boundary and
// white space before the ellipsis is dropped. Use it for plain_text (headers,
// buttons, titles); for mrkdwn use TruncateMrkdwn. maxLen < 1 gives "".
func Truncate(s string, maxLen int) string {
	if maxLen < 1 {
		return ""
	}
	if utf8.RuneCountInString(s) <= maxLen {
		return s
	}
	return strings.TrimRightFunc(PrefixRunes(s, maxLen-1), unicode.IsSpace) + Ellipsis
}

// TruncateMrkdwn is Truncate for mrkdwn text: it never cuts inside an
// entity (&amp;) or a <...> token (mention, link, date), which would leave a
// broken token in the message, but before it.
func TruncateMrkdwn(s string, maxLen int) string {
	if maxLen < 1 {
		return ""
	}
	if utf8.RuneCountInString(s) <= maxLen {
		return s
	}
	cut := PrefixRunes(s, maxLen-1)
	if i := strings.LastIndexByte(cut, '<'); i >= 0 && !strings.Contains(cut[i:], ">") {
		cut = cut[:i]
	}
	if i := strings.LastIndexByte(cut, '&'); i >= 0 && !strings.Contains(cut[i:], ";") && len(cut)-i < 8 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, unicode.IsSpace) + Ellipsis
}

// prefixRunes returns the first n code points of s.
func PrefixRunes(s string, n int) string {
	i := 0
	for range n {
		if i >= len(s) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

// FitSection returns a mrkdwn section block showing text, cut with
// TruncateMrkdwn to Slack's 3000 characters when longer. Text is used as
// is: escape data with Escape first. Empty text, which Slack refuses,
// becomes a single space.
func FitSection(text string) *slack.SectionBlock {
	if text == "" {
		text = " "
	}
	return slack.NewSectionBlock(
		slack.NewTextBlockObject(slack.MarkdownType, TruncateMrkdwn(text, MaxSectionText), false, false),
		nil, nil)
}

// PageBlocks splits blocks for a surface allowing maxBlocks (for example
// MaxMessageBlocks) into the page to show now and the rest. When everything
// fits, page is blocks and rest is nil. Otherwise page leaves one slot free
// for the caller's "Show more" actions block, and does not end on a header
// or divider (those move to the next page with what they introduce).
func PageBlocks(blocks []slack.Block, maxBlocks int) (page, rest []slack.Block) {
	if len(blocks) <= maxBlocks {
		return blocks, nil
	}
	n := max(maxBlocks-1, 1)
	for n > 1 && isSeparator(blocks[n-1]) {
		n--
	}
	return blocks[:n:n], blocks[n:]
}

// isSeparator reports whether b only introduces or separates what follows.
func isSeparator(b slack.Block) bool {
	switch b.BlockType() {
	case slack.MBTHeader, slack.MBTDivider:
		return true
	}
	return false
}
