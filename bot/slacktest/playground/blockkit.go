package playground

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The Block Kit the page renders, decoded from the JSON the bot sent. Only
// what the page shows or sends back is decoded; a block or element the
// page does not know is shown as such, never dropped silently.

// textObject is a plain_text or mrkdwn text object.
type textObject struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Emoji    *bool  `json:"emoji,omitempty"`
	Verbatim bool   `json:"verbatim,omitempty"`
}

// option is an option of a select, overflow menu, radio group or checkbox
// group.
type option struct {
	Text        textObject  `json:"text"`
	Value       string      `json:"value"`
	Description *textObject `json:"description,omitempty"`
	URL         string      `json:"url,omitempty"`
}

// payload is the option as Slack sends it back in actions and state.
func (o option) payload() map[string]any {
	m := map[string]any{"text": o.Text, "value": o.Value}
	if o.Description != nil {
		m["description"] = o.Description
	}
	return m
}

type optionGroup struct {
	Label   textObject `json:"label"`
	Options []option   `json:"options"`
}

// confirmDialog is an element's "Are you sure?" dialog.
type confirmDialog struct {
	Title   *textObject `json:"title"`
	Text    *textObject `json:"text"`
	Confirm *textObject `json:"confirm"`
	Deny    *textObject `json:"deny"`
	Style   string      `json:"style"`
}

// element is an interactive element (or an image accessory).
type element struct {
	Type                string         `json:"type"`
	ActionID            string         `json:"action_id"`
	Text                *textObject    `json:"text"`
	Value               string         `json:"value"`
	Style               string         `json:"style"`
	URL                 string         `json:"url"`
	Options             []option       `json:"options"`
	OptionGroups        []optionGroup  `json:"option_groups"`
	InitialOption       *option        `json:"initial_option"`
	InitialOptions      []option       `json:"initial_options"`
	Placeholder         *textObject    `json:"placeholder"`
	InitialValue        string         `json:"initial_value"`
	Multiline           bool           `json:"multiline"`
	MinLength           int            `json:"min_length"`
	MaxLength           int            `json:"max_length"`
	InitialDate         string         `json:"initial_date"`
	InitialTime         string         `json:"initial_time"`
	InitialUser         string         `json:"initial_user"`
	InitialUsers        []string       `json:"initial_users"`
	InitialConversation string         `json:"initial_conversation"`
	InitialChannel      string         `json:"initial_channel"`
	Confirm             *confirmDialog `json:"confirm"`
	ImageURL            string         `json:"image_url"`
	AltText             string         `json:"alt_text"`
	IsDecimalAllowed    bool           `json:"is_decimal_allowed"`
	MinValue            string         `json:"min_value"`
	MaxValue            string         `json:"max_value"`
}

// allOptions returns the element's options, those in groups included.
func (e *element) allOptions() []option {
	out := slices.Clone(e.Options)
	for _, g := range e.OptionGroups {
		out = append(out, g.Options...)
	}
	return out
}

// findOption returns the option with value.
func (e *element) findOption(value string) (option, bool) {
	for _, o := range e.allOptions() {
		if o.Value == value {
			return o, true
		}
	}
	return option{}, false
}

// rawBlock is a block as sent.
type rawBlock struct {
	Type      string            `json:"type"`
	BlockID   string            `json:"block_id"`
	Text      *textObject       `json:"text"`
	Fields    []textObject      `json:"fields"`
	Accessory json.RawMessage   `json:"accessory"`
	Elements  []json.RawMessage `json:"elements"`
	Label     *textObject       `json:"label"`
	Element   json.RawMessage   `json:"element"`
	Hint      *textObject       `json:"hint"`
	Optional  bool              `json:"optional"`
	Dispatch  bool              `json:"dispatch_action"`
	ImageURL  string            `json:"image_url"`
	AltText   string            `json:"alt_text"`
	Title     *textObject       `json:"title"`
}

// contextItem is an element of a context block: text or an image.
type contextItem struct {
	Text    *textObject
	AltText string // of an image
}

// block is a block ready to render.
type block struct {
	Type    string
	BlockID string
	Index   int
	// Section, header and image.
	Text      *textObject
	Fields    []textObject
	Accessory *elem
	// Actions and context.
	Elements []*elem
	Context  []contextItem
	// Input.
	Label    *textObject
	Hint     *textObject
	Optional bool
	Input    *elem
	// Error is the message a submission left on an input block.
	Error string
	// Image.
	AltText string
	// Unknown is set for a block the page cannot show.
	Unknown bool
}

// elem is an element ready to render: the element, and where it is.
type elem struct {
	element
	// Path locates it in its message or view: "3/a" (the accessory of
	// block 3), "3/1" (element 1 of block 3), "3/e" (the element of input
	// block 3).
	Path string
	// BlockID and its own ActionID, generated as Slack does when the bot
	// set none.
	BlockID string
	// Unknown is set for an element the page cannot show.
	Unknown bool
	// People and Channels are the choices of users and conversations
	// selects.
	People   []choice
	Channels []choice
}

// choice is a user or conversation a select offers.
type choice struct {
	ID, Label string
	Selected  bool
}

// OptionSelected reports whether the element starts with value selected.
func (e *elem) OptionSelected(value string) bool {
	if e.InitialOption != nil && e.InitialOption.Value == value {
		return true
	}
	return slices.ContainsFunc(e.InitialOptions, func(o option) bool { return o.Value == value })
}

// Stateful reports whether the element keeps a value in a view's state.
func (e *elem) Stateful() bool {
	switch e.Type {
	case "button", "overflow", "image", "workflow_button":
		return false
	}
	return !e.Unknown
}

// blockPath is the path of a block's element: "a" for the accessory, "e"
// for an input's element, or the index in elements.
func blockPath(block int, which string) string { return strconv.Itoa(block) + "/" + which }

// parseBlocks decodes blocks as sent; a block that does not decode is
// shown as unknown. It returns nil for JSON that is not an array.
func parseBlocks(raw json.RawMessage) []*block {
	if len(raw) == 0 {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]*block, 0, len(items))
	for i, item := range items {
		out = append(out, parseBlock(item, i))
	}
	return out
}

func parseBlock(raw json.RawMessage, i int) *block {
	var rb rawBlock
	if err := json.Unmarshal(raw, &rb); err != nil {
		var t struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(raw, &t)
		return &block{Type: t.Type, Index: i, Unknown: true}
	}
	b := &block{Type: rb.Type, BlockID: rb.BlockID, Index: i, Text: rb.Text, Fields: rb.Fields,
		Label: rb.Label, Hint: rb.Hint, Optional: rb.Optional, AltText: rb.AltText}
	elementAt := func(raw json.RawMessage, which string) *elem {
		e := &elem{Path: blockPath(i, which), BlockID: b.generatedID()}
		if err := json.Unmarshal(raw, &e.element); err != nil || e.Type == "" {
			e.Unknown = true
			return e
		}
		if e.ActionID == "" {
			e.ActionID = "a" + strings.ReplaceAll(e.Path, "/", "-")
		}
		if !safeURL(e.URL) {
			e.URL = "" // a link button opens http, https and mailto only
		}
		switch e.Type {
		case "button", "overflow", "static_select", "multi_static_select", "users_select", "multi_users_select", "conversations_select",
			"multi_conversations_select", "channels_select", "multi_channels_select", "datepicker",
			"timepicker", "radio_buttons", "checkboxes", "plain_text_input", "number_input",
			"email_text_input", "url_text_input", "image":
		default:
			e.Unknown = true
		}
		return e
	}
	switch rb.Type {
	case "section":
		if len(rb.Accessory) > 0 && string(rb.Accessory) != "null" {
			b.Accessory = elementAt(rb.Accessory, "a")
		}
	case "actions":
		for j, el := range rb.Elements {
			b.Elements = append(b.Elements, elementAt(el, strconv.Itoa(j)))
		}
	case "context":
		for _, el := range rb.Elements {
			var item struct {
				Type    string `json:"type"`
				Text    string `json:"text"`
				Emoji   *bool  `json:"emoji"`
				AltText string `json:"alt_text"`
			}
			if json.Unmarshal(el, &item) != nil {
				continue
			}
			if item.Type == "image" {
				b.Context = append(b.Context, contextItem{AltText: item.AltText})
				continue
			}
			b.Context = append(b.Context, contextItem{Text: &textObject{Type: item.Type, Text: item.Text, Emoji: item.Emoji}})
		}
	case "input":
		if len(rb.Element) > 0 {
			b.Input = elementAt(rb.Element, "e")
		}
	case "image":
		b.Text = rb.Title
	case "header", "divider":
	default:
		b.Unknown = true
	}
	return b
}

// ID returns the block's block_id, or the one Slack would give it (see
// generatedID).
func (b *block) ID() string { return b.generatedID() }

// generatedID returns the block's block_id, or the one Slack would
// generate for it: fixed for the block's place, as Slack's is for a
// stored message.
func (b *block) generatedID() string {
	if b.BlockID != "" {
		return b.BlockID
	}
	return "b" + strconv.Itoa(b.Index)
}

// findElement returns the element at path in blocks, checking that its
// action_id is actionID when given; when the blocks changed since the page
// showed them, it looks for actionID elsewhere.
func findElement(blocks []*block, path, actionID string) (*elem, error) {
	var all []*elem
	for _, b := range blocks {
		if b.Accessory != nil {
			all = append(all, b.Accessory)
		}
		all = append(all, b.Elements...)
		if b.Input != nil {
			all = append(all, b.Input)
		}
	}
	for _, e := range all {
		if e.Path == path && (actionID == "" || e.ActionID == actionID) {
			return e, nil
		}
	}
	if actionID != "" {
		for _, e := range all {
			if e.ActionID == actionID {
				return e, nil
			}
		}
	}
	return nil, fmt.Errorf("no element %s (%s): the message or view changed; look again", path, actionID)
}

// inputElements returns the elements whose values make a view's state:
// the inputs, and the selects, pickers and groups elsewhere in it.
func inputElements(blocks []*block) []*elem {
	var out []*elem
	for _, b := range blocks {
		for _, e := range append([]*elem{b.Accessory, b.Input}, b.Elements...) {
			if e != nil && e.Stateful() {
				out = append(out, e)
			}
		}
	}
	return out
}
