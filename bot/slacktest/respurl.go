package slacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// serveResponseURL answers a post to a response_url: at most
// ResponseURLUses posts within ResponseURLTTL, after which Slack answers 404
// with used_url or expired_url. An accepted post takes effect: in_channel
// posts a message, replace_original and delete_original change the message
// the interaction came from, anything else is an ephemeral reply to the
// user.
func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	s.mu.Lock()
	fault := s.takeFaultLocked("response_url")
	s.mu.Unlock()
	if fault != nil && fault.Delay > 0 && !s.pause(r, fault.Delay) {
		return
	}

	s.mu.Lock()
	now := s.now()
	p := ResponsePost{URL: s.base + r.URL.Path, At: now, Body: body, Status: http.StatusOK}
	var fields map[string]json.RawMessage
	jsonErr := json.Unmarshal(body, &fields)
	p.Text = rawString(fields["text"])
	p.ResponseType = rawString(fields["response_type"])
	p.ReplaceOriginal = rawBool(fields["replace_original"])
	p.DeleteOriginal = rawBool(fields["delete_original"])
	if b, ok := fields["blocks"]; ok && string(b) != "null" {
		p.Blocks = compactJSON(b)
	}
	ru := s.respURLs[r.URL.Path]
	if ru != nil {
		ru.uses++
		p.Use = ru.uses
		p.EnvelopeID = ru.envelopeID
	}

	header := http.Header{}
	var out []byte
	switch {
	case fault != nil && (fault.Status != 0 || fault.Error != ""):
		p.Status, header, out, p.Error = faultAnswer(*fault)
	case r.Method != http.MethodPost:
		p.Status, p.Error = http.StatusMethodNotAllowed, "invalid_method"
	case ru == nil:
		p.Status, p.Error = http.StatusNotFound, "invalid_url"
	case ru.uses > ResponseURLUses:
		p.Status, p.Error = http.StatusNotFound, "used_url"
	case now.Sub(ru.issued) > ResponseURLTTL:
		p.Status, p.Error = http.StatusNotFound, "expired_url"
	case jsonErr != nil:
		p.Status, p.Error = http.StatusBadRequest, "invalid_payload"
	default:
		if p.Blocks != nil {
			if msgs, code := validateBlocks(p.Blocks, maxMessageBlocks, "/blocks"); code != "" {
				p.Error = code
				out, _ = json.Marshal(fail(code, msgs...).body())
				break
			}
		}
		s.applyResponseLocked(ru, p, rawString(fields["thread_ts"]))
	}
	if out == nil {
		a := answer{fields: map[string]any{}, err: p.Error}
		out, _ = json.Marshal(a.body())
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json; charset=utf-8")
	}
	s.responses = append(s.responses, p)
	if ru != nil {
		s.touchChannelLocked(ru.channel)
	}
	s.notifyLocked()
	s.mu.Unlock()

	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(out)
}

// applyResponseLocked makes an accepted response_url post visible. A
// replace_original or delete_original acts on the message the interaction
// came from: a channel message, or an ephemeral message its user sees
// there (see EphemeralsSeen); a replace_original whose message is gone
// makes a new ephemeral message, as any other reply.
func (s *Server) applyResponseLocked(ru *responseURL, p ResponsePost, threadTS string) {
	cs, ok := s.channels[ru.channel]
	if !ok && ru.channel != "" {
		cs = &channelState{Channel: Channel{ID: ru.channel}, created: s.unixNow()}
		s.addChannelLocked(cs)
	}
	original := -1
	if cs != nil && ru.messageTS != "" {
		original = findMessage(cs, ru.messageTS)
	}
	switch {
	case p.DeleteOriginal:
		if original >= 0 {
			s.replaceMessageLocked(cs, original, nil)
		} else if ru.messageTS != "" {
			s.deleteSeenLocked(ru.messageTS)
		}
		return
	case p.ReplaceOriginal && original >= 0:
		m := cs.msgs[original]
		m.Text = p.Text
		m.Blocks = p.Blocks
		m.Edits++
		m.UpdatedAt = p.At
		s.replaceMessageLocked(cs, original, &m)
		return
	case p.ResponseType == "in_channel" && cs != nil:
		s.appendMessageLocked(cs, Message{
			Channel:  cs.ID,
			TS:       s.nextTSLocked(),
			ThreadTS: threadTS,
			User:     s.cfg.botUserID,
			BotID:    s.cfg.botID,
			Text:     p.Text,
			Blocks:   p.Blocks,
			Via:      "response_url",
			PostedAt: p.At,
		})
		return
	}
	e := Ephemeral{
		Channel:  ru.channel,
		User:     ru.userID,
		TS:       s.nextTSLocked(),
		ThreadTS: threadTS,
		Text:     p.Text,
		Blocks:   p.Blocks,
		Via:      "response_url",
		At:       p.At,
	}
	seen := -1
	if p.ReplaceOriginal {
		seen = s.seenIndexLocked(ru.userID, ru.channel, ru.messageTS)
	}
	if seen >= 0 {
		e.Replaces = ru.messageTS
		s.replaceSeenLocked(seen, e)
	} else {
		s.addSeenLocked(e)
	}
	s.ephemerals = append(s.ephemerals, e)
}

func rawString(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// rawBool reads true or "true" (Slack accepts both).
func rawBool(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	v, _ := strconv.ParseBool(rawString(raw))
	return v
}
