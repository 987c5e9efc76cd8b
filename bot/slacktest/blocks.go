package slacktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Slack's Block Kit limits the fake enforces, so a bot that would be refused
// with invalid_blocks by Slack is refused here too.
const (
	maxMessageBlocks   = 50
	maxViewBlocks      = 100
	maxSectionText     = 3000
	maxSectionFields   = 10
	maxFieldText       = 2000
	maxHeaderText      = 150
	maxActionsElements = 25
	maxContextElements = 10
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxActionID        = 255
	maxBlockID         = 255
	maxOptionText      = 75
	maxOptionValue     = 150
	maxOptions         = 100
	maxLabel           = 2000
	maxPlaceholder     = 150
	maxModalTitle      = 24
	maxModalButton     = 24
	maxPrivateMetadata = 3000
	maxCallbackID      = 255
)

// validateBlocks checks a blocks array against Slack's limits. It returns
// the problems, as Slack words them in response_metadata.messages, and the
// error code ("" when the blocks are fine).
func validateBlocks(raw json.RawMessage, limit int, ptr string) ([]string, string) {
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return []string{"must be an array of objects [json-pointer:" + ptr + "]"}, "invalid_blocks_format"
	}
	var v validator
	if len(blocks) > limit {
		v.addf(ptr, "no more than %d items allowed", limit)
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		p := fmt.Sprintf("%s/%d", ptr, i)
		typ, _ := b["type"].(string)
		if typ == "" {
			v.addf(p, "missing required field: type")
			continue
		}
		if id, _ := b["block_id"].(string); id != "" {
			v.maxLen(p+"/block_id", id, maxBlockID)
			if seen[id] {
				v.addf(p+"/block_id", "block_id must be unique")
			}
			seen[id] = true
		}
		switch typ {
		case "section":
			text, hasText := b["text"].(map[string]any)
			fields, hasFields := b["fields"].([]any)
			if !hasText && !hasFields {
				v.addf(p, "must provide either text or fields")
			}
			if hasText {
				v.textObject(p+"/text", text, 1, maxSectionText)
			}
			if hasFields {
				if len(fields) > maxSectionFields {
					v.addf(p+"/fields", "no more than %d items allowed", maxSectionFields)
				}
				for j, f := range fields {
					if fo, ok := f.(map[string]any); ok {
						v.textObject(fmt.Sprintf("%s/fields/%d", p, j), fo, 1, maxFieldText)
					}
				}
			}
			if acc, ok := b["accessory"].(map[string]any); ok {
				v.element(p+"/accessory", acc)
			}
		case "header":
			text, _ := b["text"].(map[string]any)
			v.textObject(p+"/text", text, 1, maxHeaderText)
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) > maxActionsElements {
				v.addf(p+"/elements", "no more than %d items allowed", maxActionsElements)
			}
			for j, e := range els {
				if eo, ok := e.(map[string]any); ok {
					v.element(fmt.Sprintf("%s/elements/%d", p, j), eo)
				}
			}
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) > maxContextElements {
				v.addf(p+"/elements", "no more than %d items allowed", maxContextElements)
			}
		case "input":
			label, _ := b["label"].(map[string]any)
			v.textObject(p+"/label", label, 1, maxLabel)
			if el, ok := b["element"].(map[string]any); ok {
				v.element(p+"/element", el)
			}
		}
	}
	if len(v.msgs) > 0 {
		return v.msgs, "invalid_blocks"
	}
	return nil, ""
}

// validateView checks a modal or home view against Slack's limits and
// returns the problems.
func validateView(view map[string]any, raw json.RawMessage) []string {
	var v validator
	typ, _ := view["type"].(string)
	if typ == "modal" {
		title, ok := view["title"].(map[string]any)
		if !ok {
			v.addf("/view/title", "missing required field: title")
		}
		v.textObject("/view/title", title, 1, maxModalTitle)
		for _, k := range []string{"submit", "close"} {
			if t, ok := view[k].(map[string]any); ok {
				v.textObject("/view/"+k, t, 1, maxModalButton)
			}
		}
	}
	if pm, _ := view["private_metadata"].(string); pm != "" {
		v.maxLen("/view/private_metadata", pm, maxPrivateMetadata)
	}
	if cb, _ := view["callback_id"].(string); cb != "" {
		v.maxLen("/view/callback_id", cb, maxCallbackID)
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(raw, &obj)
	if blocks, ok := obj["blocks"]; ok {
		msgs, _ := validateBlocks(blocks, maxViewBlocks, "/view/blocks")
		v.msgs = append(v.msgs, msgs...)
		var bl []map[string]any
		_ = json.Unmarshal(blocks, &bl)
		for _, b := range bl {
			if b["type"] == "input" && typ == "modal" && view["submit"] == nil {
				v.addf("/view/submit", "must provide submit when view has input blocks")
				break
			}
		}
	}
	return v.msgs
}

type validator struct{ msgs []string }

func (v *validator) addf(ptr, format string, args ...any) {
	v.msgs = append(v.msgs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

func (v *validator) maxLen(ptr, s string, limit int) {
	if utf8.RuneCountInString(s) > limit {
		v.addf(ptr, "must be less than %d characters", limit+1)
	}
}

// textObject checks a {"type": ..., "text": ...} object's text length.
func (v *validator) textObject(ptr string, t map[string]any, minLen, limit int) {
	if t == nil {
		return
	}
	s, _ := t["text"].(string)
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLen:
		v.addf(ptr+"/text", "must be more than %d characters", minLen-1)
	case n > limit:
		v.addf(ptr+"/text", "must be less than %d characters", limit+1)
	}
}

// element checks an interactive element (buttons, selects).
func (v *validator) element(ptr string, e map[string]any) {
	if id, _ := e["action_id"].(string); id != "" {
		v.maxLen(ptr+"/action_id", id, maxActionID)
	}
	if ph, ok := e["placeholder"].(map[string]any); ok {
		v.textObject(ptr+"/placeholder", ph, 1, maxPlaceholder)
	}
	switch e["type"] {
	case "button":
		text, _ := e["text"].(map[string]any)
		v.textObject(ptr+"/text", text, 1, maxButtonText)
		if val, _ := e["value"].(string); val != "" {
			v.maxLen(ptr+"/value", val, maxButtonValue)
		}
	case "static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes":
		opts, _ := e["options"].([]any)
		if len(opts) > maxOptions {
			v.addf(ptr+"/options", "no more than %d items allowed", maxOptions)
		}
		for j, o := range opts {
			oo, _ := o.(map[string]any)
			op := fmt.Sprintf("%s/options/%d", ptr, j)
			text, _ := oo["text"].(map[string]any)
			v.textObject(op+"/text", text, 1, maxOptionText)
			if val, _ := oo["value"].(string); val != "" {
				v.maxLen(op+"/value", val, maxOptionValue)
			}
		}
	}
}

// compactJSON returns raw without insignificant whitespace.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
