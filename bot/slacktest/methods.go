package slacktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const maxMessageText = 40000

func (s *Server) authTestLocked() answer {
	return s.withScopesLocked(success(map[string]any{
		"url":                   "https://" + s.cfg.teamDomain + ".slack.com/",
		"team":                  s.cfg.teamDomain,
		"user":                  s.users[s.cfg.botUserID].Name,
		"team_id":               s.cfg.teamID,
		"user_id":               s.cfg.botUserID,
		"bot_id":                s.cfg.botID,
		"is_enterprise_install": false,
	}))
}

// resolveChannelLocked finds the channel a message goes to: a channel id, a
// "#name", or a user id (their DM, as Slack allows).
func (s *Server) resolveChannelLocked(id string) (*channelState, string) {
	if id == "" {
		return nil, "channel_not_found"
	}
	if cs, ok := s.channels[id]; ok {
		return cs, ""
	}
	if name, ok := strings.CutPrefix(id, "#"); ok {
		for _, cid := range s.chanOrder {
			if s.channels[cid].Name == name {
				return s.channels[cid], ""
			}
		}
	}
	if _, ok := s.users[id]; ok {
		return s.channels[s.dmChannelLocked(id)], ""
	}
	return nil, "channel_not_found"
}

// writableLocked checks that the bot may post in cs.
func writableLocked(cs *channelState) string {
	switch {
	case cs.Archived:
		return "is_archived"
	case !cs.im && !cs.Member:
		return "not_in_channel"
	}
	return ""
}

// content is the text, blocks, attachments and metadata of a message.
type content struct {
	text        string
	hasText     bool
	blocks      json.RawMessage
	hasBlocks   bool
	attachments json.RawMessage
	hasAtts     bool
	metadata    *Metadata
	hasMetadata bool
}

// readContent reads and checks a message's content; requireSome asks
// for text, blocks or attachments.
func readContent(r *apiRequest, requireSome bool) (content, answer) {
	var c content
	c.text, c.hasText = r.str("text"), r.has("text")
	c.blocks, c.hasBlocks = r.raw("blocks")
	c.attachments, c.hasAtts = r.raw("attachments")
	if c.hasBlocks {
		msgs, err := validateBlocks(c.blocks, maxMessageBlocks, "/blocks")
		if err != "" {
			return c, fail(err, msgs...)
		}
		if string(compactJSON(c.blocks)) == "[]" && requireSome {
			c.hasBlocks = false
		}
	}
	if c.hasAtts && !json.Valid(c.attachments) {
		return c, fail("invalid_attachments")
	}
	if requireSome && c.text == "" && !c.hasBlocks && !c.hasAtts {
		return c, fail("no_text")
	}
	if utf8.RuneCountInString(c.text) > maxMessageText {
		return c, fail("msg_too_long")
	}
	if raw, ok := r.raw("metadata"); ok {
		var md Metadata
		if err := json.Unmarshal(raw, &md); err != nil {
			return c, fail("invalid_metadata_format")
		}
		if md.EventType == "" {
			return c, fail("invalid_metadata_schema", "missing required field: event_type [json-pointer:/metadata]")
		}
		c.metadata, c.hasMetadata = &md, true
	}
	return c, answer{}
}

func (s *Server) chatPostMessageLocked(r *apiRequest) answer {
	cs, code := s.resolveChannelLocked(r.str("channel"))
	if code != "" {
		return fail(code)
	}
	if code := writableLocked(cs); code != "" {
		return fail(code)
	}
	c, a := readContent(r, true)
	if a.err != "" {
		return a
	}
	threadTS := r.str("thread_ts")
	if threadTS != "" && !slices.ContainsFunc(cs.msgs, func(m Message) bool { return m.TS == threadTS }) {
		threadTS = "" // Slack posts a reply to a missing parent unthreaded
	}
	now := s.now()
	m := Message{
		Channel:  cs.ID,
		TS:       s.nextTSLocked(),
		ThreadTS: threadTS,
		User:     s.cfg.botUserID,
		BotID:    s.cfg.botID,
		Text:     c.text,
		Metadata: c.metadata,
		Via:      "chat.postMessage",
		PostedAt: now,
	}
	if c.hasBlocks {
		m.Blocks = compactJSON(c.blocks)
	}
	if c.hasAtts {
		m.Attachments = compactJSON(c.attachments)
	}
	s.appendMessageLocked(cs, m)
	return success(map[string]any{"channel": cs.ID, "ts": m.TS, "message": s.messageJSON(m)})
}

func (s *Server) chatPostEphemeralLocked(r *apiRequest) answer {
	cs, code := s.resolveChannelLocked(r.str("channel"))
	if code != "" {
		return fail(code)
	}
	userID := r.str("user")
	if _, ok := s.users[userID]; !ok {
		return fail("user_not_found")
	}
	if code := writableLocked(cs); code != "" {
		return fail(code)
	}
	c, a := readContent(r, true)
	if a.err != "" {
		return a
	}
	e := Ephemeral{
		Channel:  cs.ID,
		User:     userID,
		TS:       s.nextTSLocked(),
		ThreadTS: r.str("thread_ts"),
		Text:     c.text,
		Via:      "chat.postEphemeral",
		At:       s.now(),
	}
	if c.hasBlocks {
		e.Blocks = compactJSON(c.blocks)
	}
	s.ephemerals = append(s.ephemerals, e)
	s.addSeenLocked(e)
	s.touchChannelLocked(e.Channel)
	return success(map[string]any{"message_ts": e.TS})
}

// findMessage returns the index of the message ts in cs, or -1.
func findMessage(cs *channelState, ts string) int {
	return slices.IndexFunc(cs.msgs, func(m Message) bool { return m.TS == ts })
}

func (s *Server) chatUpdateLocked(r *apiRequest) answer {
	cs, code := s.resolveChannelLocked(r.str("channel"))
	if code != "" {
		return fail(code)
	}
	i := findMessage(cs, r.str("ts"))
	if i < 0 {
		return fail("message_not_found")
	}
	if cs.msgs[i].BotID != s.cfg.botID {
		return fail("cant_update_message")
	}
	if cs.Archived {
		return fail("is_archived")
	}
	c, a := readContent(r, false)
	if a.err != "" {
		return a
	}
	if !c.hasText && !c.hasBlocks && !c.hasAtts {
		return fail("no_text")
	}
	m := cs.msgs[i]
	if c.hasText {
		m.Text = c.text
	}
	if c.hasBlocks {
		m.Blocks = compactJSON(c.blocks)
	}
	if c.hasAtts {
		m.Attachments = compactJSON(c.attachments)
	}
	if c.hasMetadata {
		m.Metadata = c.metadata
	}
	m.Edits++
	m.UpdatedAt = s.now()
	s.replaceMessageLocked(cs, i, &m)
	return success(map[string]any{"channel": cs.ID, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m)})
}

// appendMessageLocked posts m in cs.
func (s *Server) appendMessageLocked(cs *channelState, m Message) {
	cs.msgs = append(cs.msgs, m)
	if topLevel(m) {
		cs.posts++
	}
	s.messagesChangedLocked(cs.ID)
}

// replaceMessageLocked replaces (m != nil) or deletes message i, copying the
// slice so that snapshots keep their version.
func (s *Server) replaceMessageLocked(cs *channelState, i int, m *Message) {
	msgs := slices.Clone(cs.msgs)
	if m != nil {
		msgs[i] = *m
	} else {
		if topLevel(msgs[i]) {
			cs.posts--
		}
		msgs = slices.Delete(msgs, i, i+1)
	}
	cs.msgs = msgs
	s.messagesChangedLocked(cs.ID)
}

// topLevel reports whether m is outside a thread, or a thread's parent.
func topLevel(m Message) bool { return m.ThreadTS == "" || m.ThreadTS == m.TS }

func (s *Server) chatDeleteLocked(r *apiRequest) answer {
	cs, code := s.resolveChannelLocked(r.str("channel"))
	if code != "" {
		return fail(code)
	}
	ts := r.str("ts")
	i := findMessage(cs, ts)
	if i < 0 {
		return fail("message_not_found")
	}
	if cs.msgs[i].BotID != s.cfg.botID {
		return fail("cant_delete_message")
	}
	s.replaceMessageLocked(cs, i, nil)
	return success(map[string]any{"channel": cs.ID, "ts": ts})
}

// messageJSON renders a message as conversations.history and chat.* do.
func (s *Server) messageJSON(m Message) map[string]any {
	out := map[string]any{
		"type":   "message",
		"text":   m.Text,
		"user":   m.User,
		"bot_id": m.BotID,
		"app_id": s.cfg.appID,
		"ts":     m.TS,
		"team":   s.cfg.teamID,
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.Attachments != nil {
		out["attachments"] = m.Attachments
	}
	if m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	if m.Edits > 0 {
		out["edited"] = map[string]any{"user": m.User, "ts": formatTS(m.UpdatedAt.UnixMicro())}
	}
	return out
}

func (s *Server) viewsOpenLocked(r *apiRequest, push bool) answer {
	tid := r.str("trigger_id")
	t, found := s.triggers[tid]
	switch {
	case tid == "" || !found:
		return fail("invalid_trigger_id")
	case t.used:
		return fail("exchanged_trigger_id")
	case s.now().Sub(t.issued) > s.cfg.triggerTTL:
		return fail("expired_trigger_id")
	}
	view, a := readView(r, "modal")
	if a.err != "" {
		return a
	}
	if ext, _ := view["external_id"].(string); ext != "" && s.viewByExternalIDLocked(ext) != nil {
		return fail("duplicate_external_id")
	}
	root, prev := "", ""
	if push {
		for _, id := range slices.Backward(s.viewOrder) {
			if v := s.views[id]; v.Type == "modal" && v.UserID == t.userID {
				root, prev = v.RootViewID, v.ID
				break
			}
		}
	}
	t.used = true
	v := s.storeViewLocked(nil, view, t.userID, root, prev)
	return success(map[string]any{"view": v.JSON})
}

func (s *Server) viewsUpdateLocked(r *apiRequest) answer {
	var v *View
	if id := r.str("view_id"); id != "" {
		v = s.views[id]
	} else if ext := r.str("external_id"); ext != "" {
		v = s.viewByExternalIDLocked(ext)
	} else {
		return fail("invalid_arguments", "either view_id or external_id is required")
	}
	if v == nil {
		return fail("not_found")
	}
	if h := r.str("hash"); h != "" && h != v.Hash {
		return fail("hash_conflict")
	}
	view, a := readView(r, v.Type)
	if a.err != "" {
		return a
	}
	v = s.storeViewLocked(v, view, v.UserID, v.RootViewID, v.PreviousViewID)
	return success(map[string]any{"view": v.JSON})
}

func (s *Server) viewsPublishLocked(r *apiRequest) answer {
	userID := r.str("user_id")
	if _, ok := s.users[userID]; !ok {
		return fail("user_not_found")
	}
	view, a := readView(r, "home")
	if a.err != "" {
		return a
	}
	old := s.homeViewLocked(userID)
	if h := r.str("hash"); h != "" && old != nil && h != old.Hash {
		return fail("hash_conflict")
	}
	v := s.storeViewLocked(old, view, userID, "", "")
	return success(map[string]any{"view": v.JSON})
}

func (s *Server) homeViewLocked(userID string) *View {
	for _, id := range s.viewOrder {
		if v := s.views[id]; v.Type == "home" && v.UserID == userID {
			return v
		}
	}
	return nil
}

func (s *Server) viewByExternalIDLocked(ext string) *View {
	for _, id := range s.viewOrder {
		if v := s.views[id]; v.ExternalID == ext {
			return v
		}
	}
	return nil
}

// readView reads the "view" parameter and checks it against Slack's limits
// for its type (modal or home).
func readView(r *apiRequest, wantType string) (map[string]any, answer) {
	raw, ok := r.raw("view")
	if !ok {
		return nil, fail("invalid_arguments", "missing required field: view")
	}
	var view map[string]any
	if err := json.Unmarshal(raw, &view); err != nil || view == nil {
		return nil, fail("invalid_arguments", "view must be an object [json-pointer:/view]")
	}
	typ, _ := view["type"].(string)
	if typ != wantType {
		return nil, fail("invalid_arguments", fmt.Sprintf("must be %q [json-pointer:/view/type]", wantType))
	}
	if msgs := validateView(view, raw); len(msgs) > 0 {
		return nil, fail("invalid_arguments", msgs...)
	}
	return view, answer{}
}

// storeViewLocked creates (old == nil) or replaces a view and renders it as
// Slack returns it.
func (s *Server) storeViewLocked(old *View, view map[string]any, userID, root, prev string) *View {
	now := s.now()
	v := &View{UserID: userID, CreatedAt: now}
	if old != nil {
		v.ID, v.CreatedAt = old.ID, old.CreatedAt
	} else {
		v.ID = fmt.Sprintf("V%010d", s.nextSeqLocked())
		s.viewOrder = append(s.viewOrder, v.ID)
	}
	if root == "" {
		root = v.ID
	}
	v.Type, _ = view["type"].(string)
	v.CallbackID, _ = view["callback_id"].(string)
	v.ExternalID, _ = view["external_id"].(string)
	v.PrivateMetadata, _ = view["private_metadata"].(string)
	if title, ok := view["title"].(map[string]any); ok {
		v.Title, _ = title["text"].(string)
	}
	v.Hash = fmt.Sprintf("%d.%s", now.Unix(), randomHex(4))
	v.RootViewID, v.PreviousViewID = root, prev
	v.UpdatedAt = now

	out := map[string]any{
		"id":                    v.ID,
		"team_id":               s.cfg.teamID,
		"type":                  v.Type,
		"blocks":                []any{},
		"private_metadata":      "",
		"callback_id":           "",
		"external_id":           "",
		"state":                 map[string]any{"values": map[string]any{}},
		"hash":                  v.Hash,
		"clear_on_close":        false,
		"notify_on_close":       false,
		"close":                 nil,
		"submit":                nil,
		"root_view_id":          root,
		"previous_view_id":      nil,
		"app_id":                s.cfg.appID,
		"app_installed_team_id": s.cfg.teamID,
		"bot_id":                s.cfg.botID,
	}
	if prev != "" {
		out["previous_view_id"] = prev
	}
	for k, val := range view {
		out[k] = val
	}
	v.JSON, _ = json.Marshal(out)
	v.Blocks, _ = json.Marshal(out["blocks"])
	s.views[v.ID] = v
	s.touchViewsLocked(userID)
	return v
}

func (s *Server) conversationsInfoLocked(r *apiRequest) answer {
	cs, found := s.channels[r.str("channel")]
	if !found {
		return fail("channel_not_found")
	}
	return success(map[string]any{"channel": s.channelJSON(cs)})
}

func (s *Server) conversationsOpenLocked(r *apiRequest) answer {
	if id := r.str("channel"); id != "" {
		cs, found := s.channels[id]
		if !found {
			return fail("channel_not_found")
		}
		return success(map[string]any{"channel": s.channelJSON(cs), "no_op": true, "already_open": true})
	}
	var users []string
	for u := range strings.SplitSeq(r.str("users"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return fail("users_list_not_supplied")
	}
	for _, u := range users {
		if _, found := s.users[u]; !found {
			return fail("user_not_found")
		}
	}
	var id string
	already := false
	if len(users) == 1 {
		_, already = s.dms[users[0]]
		id = s.dmChannelLocked(users[0])
	} else {
		slices.Sort(users)
		name := "mpdm-" + strings.Join(users, "--") + "-1"
		for _, cid := range s.chanOrder {
			if s.channels[cid].Name == name {
				id, already = cid, true
			}
		}
		if id == "" {
			id = fmt.Sprintf("G%010d", s.nextSeqLocked())
			s.addChannelLocked(&channelState{Channel: Channel{ID: id, Name: name, Private: true, Member: true}, created: s.unixNow()})
		}
	}
	ch := map[string]any{"id": id}
	if r.boolean("return_im") {
		ch = s.channelJSON(s.channels[id])
	}
	return success(map[string]any{"channel": ch, "no_op": already, "already_open": already})
}

// dmChannelLocked returns the DM channel between the bot and userID,
// creating it on first use.
func (s *Server) dmChannelLocked(userID string) string {
	if id, found := s.dms[userID]; found {
		return id
	}
	id := fmt.Sprintf("D%010d", s.nextSeqLocked())
	s.dms[userID] = id
	s.addChannelLocked(&channelState{Channel: Channel{ID: id, Member: true}, im: true, imUser: userID, created: s.unixNow()})
	return id
}

func (s *Server) conversationsJoinLocked(r *apiRequest) answer {
	cs, found := s.channels[r.str("channel")]
	switch {
	case !found:
		return fail("channel_not_found")
	case cs.im || cs.Private:
		return fail("method_not_supported_for_channel_type")
	case cs.Archived:
		return fail("is_archived")
	}
	a := answer{}
	if cs.Member {
		a.warning = "already_in_channel"
	}
	cs.Member = true
	s.touchWorkspaceLocked()
	a.fields = map[string]any{"channel": s.channelJSON(cs)}
	return a
}

func (s *Server) conversationsHistoryLocked(r *apiRequest) answer {
	cs, found := s.channels[r.str("channel")]
	if !found {
		return fail("channel_not_found")
	}
	if !cs.im && !cs.Member {
		return fail("not_in_channel")
	}
	inclusive := r.boolean("inclusive")
	latest, oldest := int64(1<<62), int64(0)
	if v := r.str("latest"); v != "" {
		latest = parseTS(v)
	}
	if v := r.str("oldest"); v != "" {
		oldest = parseTS(v)
	}
	limit := 100
	if n, err := strconv.Atoi(r.str("limit")); err == nil && n > 0 {
		limit = min(n, 999)
	}
	skip := 0
	if c := r.str("cursor"); c != "" {
		b, err := base64.StdEncoding.DecodeString(c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if err != nil || err2 != nil {
			return fail("invalid_cursor")
		}
		skip = n
	}
	var all []map[string]any
	for _, m := range slices.Backward(cs.msgs) {
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			continue // replies live in conversations.replies
		}
		ts := parseTS(m.TS)
		if ts > latest || ts < oldest || (!inclusive && (ts == latest || ts == oldest)) {
			continue
		}
		all = append(all, s.messageJSON(m))
	}
	page := all[min(skip, len(all)):]
	hasMore := len(page) > limit
	page = page[:min(limit, len(page))]
	next := ""
	if hasMore {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(skip+limit)))
	}
	if page == nil {
		page = []map[string]any{}
	}
	return success(map[string]any{
		"messages":          page,
		"has_more":          hasMore,
		"pin_count":         0,
		"response_metadata": map[string]any{"next_cursor": next},
	})
}

// parseTS turns "1700000000.000100" into microseconds.
func parseTS(ts string) int64 {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	frac = (frac + "000000")[:6]
	f, _ := strconv.ParseInt(frac, 10, 64)
	return s*1e6 + f
}

func (s *Server) channelJSON(cs *channelState) map[string]any {
	if cs.im {
		return map[string]any{
			"id":              cs.ID,
			"created":         cs.created,
			"is_im":           true,
			"is_org_shared":   false,
			"context_team_id": s.cfg.teamID,
			"user":            cs.imUser,
			"is_user_deleted": s.users[cs.imUser].Deleted,
			"priority":        0,
			"is_archived":     false,
			"is_open":         true,
		}
	}
	shared := []string{s.cfg.teamID}
	shared = append(shared, cs.ConnectedTeamIDs...)
	pending := []string{}
	if cs.PendingExtShared {
		pending = append(pending, cs.ConnectedTeamIDs...)
	}
	topic := map[string]any{"value": "", "creator": "", "last_set": 0}
	return map[string]any{
		"id":                    cs.ID,
		"name":                  cs.Name,
		"name_normalized":       cs.Name,
		"is_channel":            !cs.Private,
		"is_group":              cs.Private,
		"is_im":                 false,
		"is_mpim":               strings.HasPrefix(cs.Name, "mpdm-"),
		"is_private":            cs.Private,
		"created":               cs.created,
		"creator":               "",
		"is_archived":           cs.Archived,
		"is_general":            cs.ID == s.admin.general,
		"unlinked":              0,
		"is_shared":             cs.Shared || cs.ExtShared || cs.OrgShared,
		"is_org_shared":         cs.OrgShared,
		"is_ext_shared":         cs.ExtShared,
		"is_pending_ext_shared": cs.PendingExtShared,
		"pending_shared":        pending,
		"shared_team_ids":       shared,
		"context_team_id":       s.cfg.teamID,
		"conversation_host_id":  s.cfg.teamID,
		"is_member":             cs.Member,
		"topic":                 topic,
		"purpose":               topic,
		"previous_names":        []string{},
		"updated":               cs.created * 1000,
	}
}

func (s *Server) usersInfoLocked(r *apiRequest) answer {
	u, found := s.users[r.str("user")]
	if !found {
		return fail("user_not_found")
	}
	return success(map[string]any{"user": s.userJSON(u)})
}

func (s *Server) userJSON(u User) map[string]any {
	tz, label, offset := u.TZ, "", 0
	if tz == "" {
		tz = "America/Los_Angeles" // Slack's default
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		name, off := s.now().In(loc).Zone()
		label, offset = name, off
	} else {
		label = tz
	}
	realName := u.RealName
	if realName == "" {
		realName = u.Name
	}
	profile := map[string]any{
		"real_name":               realName,
		"real_name_normalized":    realName,
		"display_name":            u.Name,
		"display_name_normalized": u.Name,
		"team":                    u.TeamID,
		"avatar_hash":             "g0000000000",
		"image_24":                "https://a.slack-edge.com/80588/img/avatars/user_shapes/ava_0001-24.png",
		"image_72":                "https://a.slack-edge.com/80588/img/avatars/user_shapes/ava_0001-72.png",
	}
	if u.Email != "" {
		profile["email"] = u.Email
	}
	out := map[string]any{
		"id":                  u.ID,
		"team_id":             u.TeamID,
		"name":                u.Name,
		"deleted":             u.Deleted,
		"color":               "9f69e7",
		"real_name":           realName,
		"tz":                  tz,
		"tz_label":            label,
		"tz_offset":           offset,
		"profile":             profile,
		"is_admin":            u.Admin,
		"is_owner":            false,
		"is_primary_owner":    false,
		"is_restricted":       u.Restricted || u.UltraRestricted,
		"is_ultra_restricted": u.UltraRestricted,
		"is_bot":              u.Bot,
		"is_app_user":         false,
		"updated":             s.unixNow(),
		"is_email_confirmed":  u.Email != "",
	}
	if u.Stranger {
		out["is_stranger"] = true
	}
	return out
}
