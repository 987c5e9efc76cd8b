package playground

import (
	"encoding/json"
	"sync"

	"github.com/csbot/csbot/bot/slacktest"
)

// modals is what the page knows of the modals beyond the simulator's
// records: which ones the person closed (by submitting or cancelling) and
// the errors the bot put on their fields. The simulator records what the
// bot opened, pushed and updated; a person's open modals are the stack of
// their latest views.open and the views.push after it, less those closed.
type modals struct {
	mu     sync.Mutex
	closed map[string]bool              // view id -> closed
	errors map[string]map[string]string // view id -> block_id -> message
	hashes map[string]string            // view id -> hash the errors were given for
}

func newModals() *modals {
	return &modals{closed: map[string]bool{}, errors: map[string]map[string]string{}, hashes: map[string]string{}}
}

// stack returns user's open modals, the root first and the one shown
// last.
func (m *modals) stack(views []slacktest.View, user string) []slacktest.View {
	var stack []slacktest.View
	for _, v := range views {
		if v.Type != "modal" || v.UserID != user {
			continue
		}
		if v.PreviousViewID == "" {
			stack = stack[:0] // views.open starts a new stack
		}
		stack = append(stack, v)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	open := stack[:0]
	for _, v := range stack {
		if !m.closed[v.ID] {
			open = append(open, v)
		}
	}
	return open
}

// close marks views closed.
func (m *modals) close(ids ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		m.closed[id] = true
		delete(m.errors, id)
	}
}

// setErrors records the errors the bot gave for a submission of view v.
func (m *modals) setErrors(v slacktest.View, errs map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(errs) == 0 {
		delete(m.errors, v.ID)
		return
	}
	m.errors[v.ID] = errs
	m.hashes[v.ID] = v.Hash
}

// errorsOf returns the errors shown on view v: those of its last
// submission, while the bot has not updated it since.
func (m *modals) errorsOf(v slacktest.View) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hashes[v.ID] != v.Hash {
		return nil
	}
	return m.errors[v.ID]
}

// viewInfo is what the page reads of a view's JSON besides its blocks.
type viewInfo struct {
	Title         textObject  `json:"title"`
	Submit        *textObject `json:"submit"`
	Close         *textObject `json:"close"`
	NotifyOnClose bool        `json:"notify_on_close"`
	ClearOnClose  bool        `json:"clear_on_close"`
}

func readViewInfo(v slacktest.View) viewInfo {
	var info viewInfo
	_ = json.Unmarshal(v.JSON, &info)
	return info
}

// submissionAck is the part of a view_submission ack the page acts on.
type submissionAck struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}
