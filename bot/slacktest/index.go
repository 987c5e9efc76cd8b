package slacktest

// index keeps the readers of the records cheap as the records grow:
// change counters by what a change touches, so that a reader showing part
// of the workspace can tell at once whether its part changed, and the
// ephemeral messages each person sees in each conversation (see
// EphemeralsSeen). It is guarded by Server.mu.
type index struct {
	channels  map[string]uint64 // conversation id -> changes seen in it
	views     map[string]uint64 // user id -> changes of their views
	workspace uint64
	// seen holds, by person and conversation, the ephemeral messages as
	// the person sees them; each list is appended to, and copied when an
	// entry is replaced or deleted, so that a list handed out stays as it
	// was.
	seen   map[seenKey][]Ephemeral
	seenAt map[string]seenKey // ts of a seen ephemeral -> its list
}

type seenKey struct{ user, channel string }

// Revision counts changes by what they touch; a counter only grows. Take
// it before reading what it covers, so that a change between the two is
// not missed.
type Revision struct {
	// Channel counts the changes of what can be seen in one conversation:
	// its messages, the ephemeral messages sent there, the slash commands
	// and interactions sent from it, their acks and the posts to their
	// response URLs.
	Channel uint64
	// Views counts the changes of one user's modals and App Home.
	Views uint64
	// Workspace counts the changes of the list of conversations and their
	// settings, of the users, and of the messages of any conversation.
	Workspace uint64
}

// Revision returns the change counters of channel and of userID's views.
func (s *Server) Revision(channel, userID string) Revision {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Revision{Channel: s.idx.channels[channel], Views: s.idx.views[userID], Workspace: s.idx.workspace}
}

// touchChannelLocked counts a change seen in a conversation.
func (s *Server) touchChannelLocked(id string) {
	if id == "" {
		return
	}
	if s.idx.channels == nil {
		s.idx.channels = make(map[string]uint64)
	}
	s.idx.channels[id]++
}

// messagesChangedLocked counts a change of a conversation's messages.
func (s *Server) messagesChangedLocked(id string) {
	s.touchChannelLocked(id)
	s.idx.workspace++
}

// touchViewsLocked counts a change of a user's views.
func (s *Server) touchViewsLocked(userID string) {
	if s.idx.views == nil {
		s.idx.views = make(map[string]uint64)
	}
	s.idx.views[userID]++
}

// touchWorkspaceLocked counts a change of the conversations or users.
func (s *Server) touchWorkspaceLocked() { s.idx.workspace++ }

// addChannelLocked adds a new conversation.
func (s *Server) addChannelLocked(cs *channelState) {
	s.channels[cs.ID] = cs
	s.chanOrder = append(s.chanOrder, cs.ID)
	s.touchWorkspaceLocked()
}

// ackIndex returns the place in the acks of the first effective ack of
// the envelope whose first delivery had envelope_id firstID.
func (s *Server) ackIndex(firstID string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.envelopes[firstID]
	if e == nil || e.firstID != firstID || e.ack == 0 {
		return 0, false
	}
	return e.ack - 1, true
}

// addSeenLocked adds an ephemeral message to what its user sees.
func (s *Server) addSeenLocked(e Ephemeral) {
	if s.idx.seen == nil {
		s.idx.seen = make(map[seenKey][]Ephemeral)
		s.idx.seenAt = make(map[string]seenKey)
	}
	k := seenKey{e.User, e.Channel}
	s.idx.seen[k] = append(s.idx.seen[k], e)
	s.idx.seenAt[e.TS] = k
}

// seenIndexLocked returns where the ephemeral message ts is in the list
// of what user sees in channel, or -1.
func (s *Server) seenIndexLocked(user, channel, ts string) int {
	k := seenKey{user, channel}
	if ts == "" || s.idx.seenAt[ts] != k {
		return -1
	}
	for i, e := range s.idx.seen[k] {
		if e.TS == ts {
			return i
		}
	}
	return -1
}

// replaceSeenLocked shows e in place of the ephemeral message at i of
// what e's user sees in its channel: it keeps its ts and place.
func (s *Server) replaceSeenLocked(i int, e Ephemeral) {
	k := seenKey{e.User, e.Channel}
	list := append([]Ephemeral(nil), s.idx.seen[k]...)
	list[i].Text, list[i].Blocks, list[i].Via = e.Text, e.Blocks, e.Via
	s.idx.seen[k] = list
}

// deleteSeenLocked removes the ephemeral message ts from what its user
// sees, and reports whether it was seen.
func (s *Server) deleteSeenLocked(ts string) bool {
	k, ok := s.idx.seenAt[ts]
	if !ok {
		return false
	}
	old := s.idx.seen[k]
	list := make([]Ephemeral, 0, len(old))
	for _, e := range old {
		if e.TS != ts {
			list = append(list, e)
		}
	}
	s.idx.seen[k] = list
	delete(s.idx.seenAt, ts)
	return true
}
