package slacktest

import "encoding/json"

// applyViewAckLocked does what Slack does with the ack of a view_submission
// that answers with response_action "update" (the submitted modal is
// replaced by the ack's view, under the same id) or "push" (the ack's view
// is pushed on top of it). A view Slack would refuse, or a submission of a
// view the server does not know, changes nothing. Other answers ("errors",
// "clear", none) are the client's to show. s.mu must be held.
func (s *Server) applyViewAckLocked(e *envelope, payload json.RawMessage) {
	if e.typ != "interactive" || len(payload) == 0 {
		return
	}
	var sub struct {
		Type string `json:"type"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		View struct {
			ID string `json:"id"`
		} `json:"view"`
	}
	if json.Unmarshal(e.payload, &sub) != nil || sub.Type != "view_submission" {
		return
	}
	var ack struct {
		ResponseAction string          `json:"response_action"`
		View           json.RawMessage `json:"view"`
	}
	if json.Unmarshal(payload, &ack) != nil || (ack.ResponseAction != "update" && ack.ResponseAction != "push") {
		return
	}
	old := s.views[sub.View.ID]
	if old == nil || old.Type != "modal" {
		return
	}
	var view map[string]any
	if json.Unmarshal(ack.View, &view) != nil || view == nil {
		return
	}
	if typ, _ := view["type"].(string); typ != "modal" || len(validateView(view, ack.View)) > 0 {
		return
	}
	if ext, _ := view["external_id"].(string); ext != "" {
		if other := s.viewByExternalIDLocked(ext); other != nil && (ack.ResponseAction == "push" || other.ID != old.ID) {
			return // duplicate_external_id
		}
	}
	if ack.ResponseAction == "update" {
		s.storeViewLocked(old, view, old.UserID, old.RootViewID, old.PreviousViewID)
		return
	}
	s.storeViewLocked(nil, view, old.UserID, old.RootViewID, old.ID)
}
