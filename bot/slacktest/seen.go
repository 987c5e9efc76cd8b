package slacktest

import (
	"net/http"
	"slices"
	"strings"
)

// EphemeralsSeen returns the ephemeral messages userID sees in channel,
// oldest first, as Slack's client shows them. Ephemerals records every
// ephemeral as it was sent; here a response_url post with replace_original,
// answering an interaction with an ephemeral message, replaces that
// message in place (it keeps its ts), and one with delete_original removes
// it.
func (s *Server) EphemeralsSeen(userID, channel string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	isEphemeral := make(map[string]bool, len(s.ephemerals))
	for _, e := range s.ephemerals {
		isEphemeral[e.TS] = true
	}

	// Each response_url post that made an ephemeral, in order: those that
	// neither deleted the original, nor replaced a channel message, nor
	// posted in the channel (see applyResponseLocked).
	type origin struct {
		target  string // the ephemeral it replaces, if any
		replace bool
	}
	var made []origin
	deleted := map[string]bool{}
	for _, p := range s.responses {
		if p.Status != http.StatusOK || p.Error != "" {
			continue
		}
		var target, where string
		if ru := s.respURLs[strings.TrimPrefix(p.URL, s.base)]; ru != nil {
			target, where = ru.messageTS, ru.channel
		}
		switch {
		case p.DeleteOriginal:
			if isEphemeral[target] {
				deleted[target] = true
			}
			continue
		case p.ReplaceOriginal && where != "" && target != "" && !isEphemeral[target]:
			continue // a channel message was replaced
		case p.ResponseType == "in_channel" && where != "":
			continue // posted in the channel
		}
		made = append(made, origin{target: target, replace: p.ReplaceOriginal && isEphemeral[target]})
	}

	var out []Ephemeral
	at := map[string]int{} // ts -> index in out
	next := 0
	for _, e := range s.ephemerals {
		var from *origin
		if e.Via == "response_url" && next < len(made) {
			from = &made[next]
			next++
		}
		if e.User != userID || e.Channel != channel {
			continue
		}
		if from != nil && from.replace {
			if i, ok := at[from.target]; ok {
				out[i].Text, out[i].Blocks, out[i].Via = e.Text, e.Blocks, e.Via
				continue
			}
		}
		at[e.TS] = len(out)
		out = append(out, e)
	}
	return slices.DeleteFunc(out, func(e Ephemeral) bool { return deleted[e.TS] })
}
