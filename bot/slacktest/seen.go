package slacktest

// EphemeralsSeen returns the ephemeral messages userID sees in channel,
// oldest first, as Slack's client shows them. Ephemerals records every
// ephemeral as it was sent; here a response_url post with replace_original,
// answering an interaction with an ephemeral message, replaces that
// message in place (it keeps its ts and place; the record of the post's
// message names it in Replaces), and one with delete_original removes it.
//
// The list is the server's own, kept up to date as the posts arrive; it
// must not be modified.
func (s *Server) EphemeralsSeen(userID, channel string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.idx.seen[seenKey{userID, channel}]
	return list[:len(list):len(list)]
}
