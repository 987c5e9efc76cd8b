package playground

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/csbot/csbot/bot/slacktest"
)

// What the page sends back is what a person picked or typed, by element
// path; these functions give it the shape Slack gives it: a view's
// state.values and a block action.

// stateValue is an element's entry in state.values, from the values the
// page sent for it (nil: none).
func stateValue(e *elem, vals []string) map[string]any {
	first := ""
	if len(vals) > 0 {
		first = vals[0]
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	options := func() []any {
		out := []any{}
		for _, v := range vals {
			if o, ok := e.findOption(v); ok {
				out = append(out, o.payload())
			}
		}
		return out
	}
	nonEmpty := func() []string {
		out := []string{}
		for _, v := range vals {
			if v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	m := map[string]any{"type": e.Type}
	switch e.Type {
	case "plain_text_input", "email_text_input", "url_text_input", "number_input":
		m["value"] = orNil(first)
	case "static_select", "external_select", "radio_buttons", "overflow":
		m["selected_option"] = nil
		if o, ok := e.findOption(first); ok {
			m["selected_option"] = o.payload()
		}
	case "multi_static_select", "multi_external_select", "checkboxes":
		m["selected_options"] = options()
	case "users_select":
		m["selected_user"] = orNil(first)
	case "multi_users_select":
		m["selected_users"] = nonEmpty()
	case "conversations_select":
		m["selected_conversation"] = orNil(first)
	case "multi_conversations_select":
		m["selected_conversations"] = nonEmpty()
	case "channels_select":
		m["selected_channel"] = orNil(first)
	case "multi_channels_select":
		m["selected_channels"] = nonEmpty()
	case "datepicker":
		m["selected_date"] = orNil(first)
	case "timepicker":
		m["selected_time"] = orNil(first)
	}
	return m
}

// viewState builds a view's state.values from the values the page sent,
// by element path. Elements the page sent nothing for are left out but for
// inputs, which Slack always reports.
func viewState(blocks []*block, sent map[string][]string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, e := range inputElements(blocks) {
		vals, ok := sent[e.Path]
		if !ok && !strings.HasSuffix(e.Path, "/e") {
			continue
		}
		if out[e.BlockID] == nil {
			out[e.BlockID] = map[string]any{}
		}
		out[e.BlockID][e.ActionID] = stateValue(e, vals)
	}
	return out
}

// missingInputs checks a submission as Slack's client does before it
// sends anything: required inputs filled, lengths and numbers within
// bounds. It returns the errors by block_id.
func missingInputs(blocks []*block, sent map[string][]string) map[string]string {
	errs := map[string]string{}
	for _, b := range blocks {
		e := b.Input
		if e == nil || e.Unknown {
			continue
		}
		vals := sent[e.Path]
		filled := false
		for _, v := range vals {
			if strings.TrimSpace(v) != "" {
				filled = true
			}
		}
		if !filled {
			if !b.Optional {
				errs[e.BlockID] = "Please complete this required field."
			}
			continue
		}
		v := vals[0]
		switch e.Type {
		case "plain_text_input":
			n := utf8.RuneCountInString(v)
			if e.MinLength > 0 && n < e.MinLength {
				errs[e.BlockID] = fmt.Sprintf("Please enter at least %d characters.", e.MinLength)
			} else if e.MaxLength > 0 && n > e.MaxLength {
				errs[e.BlockID] = fmt.Sprintf("Please enter no more than %d characters.", e.MaxLength)
			}
		case "number_input":
			f, err := strconv.ParseFloat(v, 64)
			switch {
			case err != nil || (!e.IsDecimalAllowed && strings.ContainsAny(v, ".eE")):
				errs[e.BlockID] = "Please enter a number."
			case e.MinValue != "" && f < parseFloat(e.MinValue):
				errs[e.BlockID] = "Please enter a number of at least " + e.MinValue + "."
			case e.MaxValue != "" && f > parseFloat(e.MaxValue):
				errs[e.BlockID] = "Please enter a number no more than " + e.MaxValue + "."
			}
		}
	}
	return errs
}

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// blockAction is the block action of a click or pick on e, with the
// values the page sent for it.
func blockAction(e *elem, vals []string) slacktest.Action {
	a := slacktest.Action{ActionID: e.ActionID, BlockID: e.BlockID, Type: e.Type, Value: e.Value, Extra: map[string]any{}}
	if e.Type == "button" {
		if e.Text != nil {
			a.Text = e.Text.Text
		}
		if e.Style != "" {
			a.Extra["style"] = e.Style
		}
		if e.URL != "" {
			a.Extra["url"] = e.URL
		}
		return a
	}
	a.Value = ""
	for k, v := range stateValue(e, vals) {
		if k != "type" {
			a.Extra[k] = v
		}
	}
	switch e.Type {
	case "datepicker":
		if e.InitialDate != "" {
			a.Extra["initial_date"] = e.InitialDate
		}
	case "static_select", "radio_buttons":
		if e.InitialOption != nil {
			a.Extra["initial_option"] = e.InitialOption.payload()
		}
	case "plain_text_input", "number_input", "email_text_input", "url_text_input":
		if len(vals) > 0 {
			a.Value = vals[0]
		}
		delete(a.Extra, "value")
	}
	return a
}
