package slacktest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxChannelName is Slack's limit on a channel name's length.
const maxChannelName = 80

// adminState is what the fake workspace knows of channels beyond their
// settings: who is in them (the bot's own membership is Channel.Member),
// what is pinned, and which is the general channel.
type adminState struct {
	members map[string][]string // channel id -> user ids, in the order they joined
	pins    map[string][]string // channel id -> message ts, in the order pinned
	general string              // the id of the workspace's general channel; "" when none
}

// SetGeneral makes channel the workspace's general channel (the one every
// member is in, #general unless renamed): conversations.info and
// conversations.list say is_general of it, and of no other. "" makes none
// general, as when the fake starts.
func (s *Server) SetGeneral(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admin.general = channel
	s.notifyLocked()
}

// WithScopes makes auth.test answer with an x-oauth-scopes header listing
// scopes, as Slack does for the bot token; without it the header is not
// sent.
func WithScopes(scopes ...string) Option {
	return func(c *config) { c.scopes = slices.Clone(scopes) }
}

// SetScopes changes the scopes auth.test reports (see WithScopes); none
// stops the header.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.scopes = slices.Clone(scopes)
}

// withScopesLocked adds the x-oauth-scopes header to an auth.test answer.
func (s *Server) withScopesLocked(a answer) answer {
	if len(s.cfg.scopes) > 0 {
		a.header = http.Header{"X-Oauth-Scopes": {strings.Join(s.cfg.scopes, ",")}}
	}
	return a
}

// AddMembers puts users in channel, as if they had joined it.
func (s *Server) AddMembers(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range users {
		s.addMemberLocked(channel, u)
	}
	s.notifyLocked()
}

// Members returns the users in channel (invited by the bot or added with
// AddMembers), in the order they joined; the bot itself is not listed
// (see Channel.Member).
func (s *Server) Members(channel string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.admin.members[channel])
}

// Pins returns the timestamps of the messages pinned in channel, in the
// order pinned.
func (s *Server) Pins(channel string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.admin.pins[channel])
}

func (s *Server) addMemberLocked(channel, user string) bool {
	if slices.Contains(s.admin.members[channel], user) {
		return false
	}
	if s.admin.members == nil {
		s.admin.members = make(map[string][]string)
	}
	s.admin.members[channel] = append(s.admin.members[channel], user)
	return true
}

// channelNameError checks a new channel's name as Slack does.
func channelNameError(name string) string {
	switch {
	case name == "":
		return "invalid_name_required"
	case len(name) > maxChannelName:
		return "invalid_name_maxlength"
	case strings.Trim(name, "-_") == "":
		return "invalid_name_punctuation"
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return "invalid_name_specials"
		}
	}
	return ""
}

func (s *Server) conversationsCreateLocked(r *apiRequest) answer {
	name := r.str("name")
	if code := channelNameError(name); code != "" {
		return fail(code)
	}
	for _, id := range s.chanOrder {
		if cs := s.channels[id]; !cs.im && cs.Name == name {
			return fail("name_taken") // archived channels keep their names too
		}
	}
	private := r.boolean("is_private")
	id := fmt.Sprintf("C%010d", s.nextSeqLocked())
	s.addChannelLocked(&channelState{Channel: Channel{ID: id, Name: name, Private: private, Member: true}, created: s.unixNow()})
	ch := s.channelJSON(s.channels[id])
	ch["creator"] = s.cfg.botUserID
	return success(map[string]any{"channel": ch})
}

// conversationTypes reads conversations.list's types: public_channel
// unless told.
func conversationTypes(v string) (map[string]bool, bool) {
	types := map[string]bool{}
	if strings.TrimSpace(v) == "" {
		types["public_channel"] = true
		return types, true
	}
	for t := range strings.SplitSeq(v, ",") {
		switch t = strings.TrimSpace(t); t {
		case "public_channel", "private_channel", "mpim", "im":
			types[t] = true
		default:
			return nil, false
		}
	}
	return types, true
}

func (s *Server) conversationsListLocked(r *apiRequest) answer {
	types, ok := conversationTypes(r.str("types"))
	if !ok {
		return fail("invalid_types")
	}
	limit := 100
	if n, err := strconv.Atoi(r.str("limit")); err == nil && n > 0 {
		limit = min(n, 1000)
	}
	skip := 0
	if c := r.str("cursor"); c != "" {
		b, err := base64.StdEncoding.DecodeString(c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "next:"))
		if err != nil || err2 != nil || n < 0 {
			return fail("invalid_cursor")
		}
		skip = n
	}
	excludeArchived := r.boolean("exclude_archived")
	var all []map[string]any
	for _, id := range s.chanOrder {
		cs := s.channels[id]
		var kind string
		switch {
		case cs.im:
			kind = "im"
		case strings.HasPrefix(cs.Name, "mpdm-"):
			kind = "mpim"
		case cs.Private:
			kind = "private_channel"
		default:
			kind = "public_channel"
		}
		// Private conversations are listed only to their members.
		if !types[kind] || (kind != "public_channel" && !cs.Member) || (excludeArchived && cs.Archived) {
			continue
		}
		all = append(all, s.channelJSON(cs))
	}
	page := all[min(skip, len(all)):]
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = base64.StdEncoding.EncodeToString([]byte("next:" + strconv.Itoa(skip+limit)))
	}
	if page == nil {
		page = []map[string]any{}
	}
	return success(map[string]any{"channels": page, "response_metadata": map[string]any{"next_cursor": next}})
}

func (s *Server) conversationsInviteLocked(r *apiRequest) answer {
	cs, found := s.channels[r.str("channel")]
	switch {
	case !found:
		return fail("channel_not_found")
	case cs.im:
		return fail("method_not_supported_for_channel_type")
	case cs.Archived:
		return fail("is_archived")
	case !cs.Member:
		return fail("not_in_channel")
	}
	var users []string
	for u := range strings.SplitSeq(r.str("users"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return fail("no_user")
	}
	for _, u := range users {
		switch user, ok := s.users[u]; {
		case u == s.cfg.botUserID:
			return fail("cant_invite_self")
		case !ok || user.Deleted:
			return fail("user_not_found")
		case user.Bot:
			return fail("cant_invite")
		case user.Stranger:
			return fail("user_is_restricted")
		}
	}
	added := 0
	for _, u := range users {
		if s.addMemberLocked(cs.ID, u) {
			added++
		}
	}
	if added == 0 {
		return fail("already_in_channel")
	}
	return success(map[string]any{"channel": s.channelJSON(cs)})
}

func (s *Server) pinsAddLocked(r *apiRequest) answer {
	cs, found := s.channels[r.str("channel")]
	if !found {
		return fail("channel_not_found")
	}
	ts := r.str("timestamp")
	switch {
	case ts == "":
		return fail("no_item_specified")
	case !cs.im && !cs.Member:
		return fail("not_in_channel")
	case findMessage(cs, ts) < 0:
		return fail("message_not_found")
	case slices.Contains(s.admin.pins[cs.ID], ts):
		return fail("already_pinned")
	}
	if s.admin.pins == nil {
		s.admin.pins = make(map[string][]string)
	}
	s.admin.pins[cs.ID] = append(s.admin.pins[cs.ID], ts)
	return success(map[string]any{})
}
