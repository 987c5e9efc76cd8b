package slacktest

import (
	"slices"
	"strings"
)

// Conversation is a channel, private channel or direct message of the fake
// workspace, as Conversations lists it.
type Conversation struct {
	Channel
	// IM marks the direct message between the bot and User.
	IM   bool
	User string
	// Posts counts its messages outside threads (thread parents included,
	// replies not).
	Posts int
}

// Conversations returns every conversation in the order it was created:
// the channels added, the direct messages opened, and any channel a
// response_url or conversations.open brought into being.
func (s *Server) Conversations() []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conversation, 0, len(s.chanOrder))
	for _, id := range s.chanOrder {
		cs := s.channels[id]
		out = append(out, Conversation{Channel: cs.Channel, IM: cs.im, User: cs.imUser, Posts: cs.posts})
	}
	return out
}

// Users returns every member of the workspace, the bot included, by id.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// User returns the member with id.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	return u, ok
}

// OpenDM returns the id of the direct message between the bot and userID,
// opening it if needed, as the Slack client does when a user clicks on the
// app.
func (s *Server) OpenDM(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, open := s.dms[userID]
	id := s.dmChannelLocked(userID)
	if !open {
		s.notifyLocked()
	}
	return id
}

// Changed returns a channel that is closed at the server's next change:
// a Web API call, a delivery, an ack, a connection, a response_url post,
// a channel or user added. Take it before reading the records, so that no
// change between the read and the wait is missed.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}
