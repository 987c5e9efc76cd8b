package slacktest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
)

// Envelope is what a Send method pushed to the bot.
type Envelope struct {
	// ID is the envelope_id of the first delivery; redeliveries get new ids
	// (see Delivery.FirstID).
	ID string
	// Type is slash_commands, interactive or events_api.
	Type string
	// Payload is the envelope's payload.
	Payload json.RawMessage
	// ResponseURL and TriggerID are those issued for the envelope, if any.
	ResponseURL string
	TriggerID   string
	// EventID is the event_id of an events_api envelope.
	EventID string
}

// SlashCommand is a slash command a user typed.
type SlashCommand struct {
	// Command includes the slash: "/health".
	Command   string
	Text      string
	UserID    string
	ChannelID string
	// UserName and ChannelName default to the workspace's records.
	UserName    string
	ChannelName string
}

// SendSlashCommand delivers a slash_commands envelope with a fresh
// response_url and trigger_id. It waits for a live Socket Mode link if none
// is up, and returns ctx's error or ErrClosed if that comes first.
func (s *Server) SendSlashCommand(ctx context.Context, cmd SlashCommand) (Envelope, error) {
	e := s.newEnvelope("slash_commands", true)
	e.channel = cmd.ChannelID
	s.mu.Lock()
	userName := cmd.UserName
	if userName == "" {
		userName = s.users[cmd.UserID].Name
	}
	channelName := cmd.ChannelName
	if channelName == "" {
		if cs, ok := s.channels[cmd.ChannelID]; ok {
			channelName = cs.Name
			if cs.im {
				channelName = "directmessage"
			}
		}
	}
	env := Envelope{
		ID:          e.firstID,
		Type:        e.typ,
		ResponseURL: s.issueResponseURLLocked("commands", e.firstID, cmd.ChannelID, cmd.UserID, ""),
		TriggerID:   s.issueTriggerLocked(cmd.UserID),
	}
	payload := map[string]any{
		"token":                 s.cfg.verificationToken,
		"team_id":               s.cfg.teamID,
		"team_domain":           s.cfg.teamDomain,
		"channel_id":            cmd.ChannelID,
		"channel_name":          channelName,
		"user_id":               cmd.UserID,
		"user_name":             userName,
		"command":               cmd.Command,
		"text":                  cmd.Text,
		"api_app_id":            s.cfg.appID,
		"is_enterprise_install": "false", // Slack sends a string here
		"response_url":          env.ResponseURL,
		"trigger_id":            env.TriggerID,
	}
	s.mu.Unlock()
	return s.sendEnvelope(ctx, e, env, payload)
}

// Interaction is a user's interaction with a message, modal, App Home or
// shortcut.
type Interaction struct {
	// Type is block_actions, view_submission, view_closed, shortcut,
	// message_action or block_suggestion.
	Type   string
	UserID string
	// ChannelID and MessageTS locate the message acted on (block_actions,
	// block_suggestion and message_action on a message). The message itself
	// is embedded when the server has it.
	ChannelID string
	MessageTS string
	// ViewID is the view acted on or submitted (block_actions,
	// block_suggestion, view_submission, view_closed). A view the bot opened
	// is embedded as the server holds it; an unknown or empty id gets a
	// synthesised modal with CallbackID and PrivateMetadata.
	ViewID string
	// CallbackID is the shortcut's or message action's callback_id, or the
	// callback_id of a synthesised view.
	CallbackID      string
	PrivateMetadata string
	// Actions are the block actions of a block_actions interaction.
	Actions []Action
	// ActionID, BlockID and Value describe a block_suggestion: the element
	// and what the user typed.
	ActionID string
	BlockID  string
	Value    string
	// Values is the state of the input blocks: block_id -> action_id ->
	// element state, e.g. {"type": "plain_text_input", "value": "text"}.
	Values map[string]map[string]any
	// Extra fields are set at the top level of the payload last.
	Extra map[string]any
}

// Action is one block action.
type Action struct {
	ActionID string
	// BlockID defaults to a generated id (slack-go needs one to decode the
	// action as a block action).
	BlockID string
	// Type defaults to "button".
	Type  string
	Value string
	// Text is the button's label.
	Text string
	// SelectedValue sets selected_option.value (static_select,
	// external_select...).
	SelectedValue string
	// Extra fields are set on the action last.
	Extra map[string]any
}

// SendInteraction delivers an interactive envelope. block_actions on a
// message and message_action carry a fresh response_url; every type but
// view_closed and block_suggestion carries a fresh trigger_id. It waits for
// a live link like SendSlashCommand.
func (s *Server) SendInteraction(ctx context.Context, in Interaction) (Envelope, error) {
	switch in.Type {
	case "block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion":
	default:
		return Envelope{}, fmt.Errorf("slacktest: unknown interaction type %q", in.Type)
	}
	e := s.newEnvelope("interactive", true)
	e.channel = in.ChannelID
	s.mu.Lock()
	env := Envelope{ID: e.firstID, Type: e.typ}
	actionTS := s.nextTSLocked()
	p := map[string]any{
		"type":                  in.Type,
		"token":                 s.cfg.verificationToken,
		"api_app_id":            s.cfg.appID,
		"team":                  map[string]any{"id": s.cfg.teamID, "domain": s.cfg.teamDomain},
		"user":                  s.interactionUserLocked(in.UserID),
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	if in.Type != "view_closed" && in.Type != "block_suggestion" {
		env.TriggerID = s.issueTriggerLocked(in.UserID)
		p["trigger_id"] = env.TriggerID
	}
	onMessage := func() {
		p["container"] = map[string]any{"type": "message", "message_ts": in.MessageTS, "channel_id": in.ChannelID, "is_ephemeral": false}
		p["channel"] = s.channelRefLocked(in.ChannelID)
		p["message"] = s.messageForPayloadLocked(in.ChannelID, in.MessageTS)
	}
	onView := func() {
		p["container"] = map[string]any{"type": "view", "view_id": in.ViewID}
		p["view"] = s.viewForPayloadLocked(in)
	}
	switch in.Type {
	case "block_actions":
		if in.ViewID != "" {
			onView()
		} else {
			onMessage()
			env.ResponseURL = s.issueResponseURLLocked("actions", e.firstID, in.ChannelID, in.UserID, in.MessageTS)
			p["response_url"] = env.ResponseURL
		}
		p["state"] = map[string]any{"values": valuesOrEmpty(in.Values)}
		actions := make([]map[string]any, 0, len(in.Actions))
		for _, a := range in.Actions {
			actions = append(actions, s.actionPayloadLocked(a, actionTS))
		}
		p["actions"] = actions
	case "block_suggestion":
		if in.ViewID != "" {
			onView()
		} else {
			onMessage()
		}
		p["action_id"] = in.ActionID
		p["block_id"] = in.BlockID
		p["value"] = in.Value
	case "view_submission":
		p["view"] = s.viewForPayloadLocked(in)
		p["response_urls"] = []any{}
	case "view_closed":
		p["view"] = s.viewForPayloadLocked(in)
		p["is_cleared"] = false
	case "shortcut":
		p["callback_id"] = in.CallbackID
		p["action_ts"] = actionTS
	case "message_action":
		p["callback_id"] = in.CallbackID
		p["action_ts"] = actionTS
		p["channel"] = s.channelRefLocked(in.ChannelID)
		p["message_ts"] = in.MessageTS
		p["message"] = s.messageForPayloadLocked(in.ChannelID, in.MessageTS)
		env.ResponseURL = s.issueResponseURLLocked("actions", e.firstID, in.ChannelID, in.UserID, in.MessageTS)
		p["response_url"] = env.ResponseURL
	}
	maps.Copy(p, in.Extra)
	s.mu.Unlock()
	return s.sendEnvelope(ctx, e, env, p)
}

// Event is an Events API event.
type Event struct {
	// Type is the inner event's type, e.g. "app_home_opened".
	Type string
	// EventID defaults to a fresh "Ev..." id.
	EventID string
	// Fields are the inner event's other fields; event_ts is added.
	Fields map[string]any
	// ExtSharedChannel sets is_ext_shared_channel on the callback.
	ExtSharedChannel bool
}

// AppHomeOpened returns an app_home_opened event for the user's Home tab;
// SendEvent fills in the DM channel and the published home view.
func AppHomeOpened(userID string) Event {
	return Event{Type: "app_home_opened", Fields: map[string]any{"user": userID, "tab": "home"}}
}

// MemberJoinedChannel returns a member_joined_channel event.
func MemberJoinedChannel(userID, channelID string) Event {
	return Event{Type: "member_joined_channel", Fields: map[string]any{"user": userID, "channel": channelID}}
}

// ChannelShared returns a channel_shared event: the channel was shared with
// connectedTeamID.
func ChannelShared(channelID, connectedTeamID string) Event {
	return Event{Type: "channel_shared", Fields: map[string]any{"channel": channelID, "connected_team_id": connectedTeamID}}
}

// ChannelUnshared returns a channel_unshared event; stillExtShared says
// whether other organisations remain.
func ChannelUnshared(channelID, previousTeamID string, stillExtShared bool) Event {
	return Event{Type: "channel_unshared", Fields: map[string]any{
		"channel": channelID, "previously_connected_team_id": previousTeamID, "is_ext_shared": stillExtShared,
	}}
}

// ChannelIDChanged returns a channel_id_changed event.
func ChannelIDChanged(oldID, newID string) Event {
	return Event{Type: "channel_id_changed", Fields: map[string]any{"old_channel_id": oldID, "new_channel_id": newID}}
}

// SendEvent delivers an events_api envelope wrapping ev in an event_callback.
// It waits for a live link like SendSlashCommand.
func (s *Server) SendEvent(ctx context.Context, ev Event) (Envelope, error) {
	if ev.Type == "" {
		return Envelope{}, fmt.Errorf("slacktest: event without a type")
	}
	e := s.newEnvelope("events_api", false)
	s.mu.Lock()
	inner := map[string]any{"type": ev.Type}
	maps.Copy(inner, ev.Fields)
	inner["event_ts"] = s.nextTSLocked()
	switch ev.Type {
	case "app_home_opened":
		user, _ := inner["user"].(string)
		if _, ok := inner["channel"]; !ok {
			inner["channel"] = s.dmChannelLocked(user)
		}
		if _, ok := inner["view"]; !ok {
			if v := s.homeViewLocked(user); v != nil {
				inner["view"] = json.RawMessage(v.JSON)
			}
		}
	case "member_joined_channel":
		ch, _ := inner["channel"].(string)
		if _, ok := inner["channel_type"]; !ok {
			inner["channel_type"] = "C"
			if cs, ok := s.channels[ch]; ok && cs.Private {
				inner["channel_type"] = "G"
			}
		}
		if _, ok := inner["team"]; !ok {
			inner["team"] = s.cfg.teamID
		}
	}
	if ev.EventID == "" {
		ev.EventID = fmt.Sprintf("Ev%08X", s.nextSeqLocked())
	}
	env := Envelope{ID: e.firstID, Type: e.typ, EventID: ev.EventID}
	ctxJSON, _ := json.Marshal(map[string]any{"id": ev.EventID, "team": s.cfg.teamID})
	payload := map[string]any{
		"token":      s.cfg.verificationToken,
		"team_id":    s.cfg.teamID,
		"api_app_id": s.cfg.appID,
		"event":      inner,
		"type":       "event_callback",
		"event_id":   ev.EventID,
		"event_time": s.unixNow(),
		"authorizations": []any{map[string]any{
			"enterprise_id":         nil,
			"team_id":               s.cfg.teamID,
			"user_id":               s.cfg.botUserID,
			"is_bot":                true,
			"is_enterprise_install": false,
		}},
		"is_ext_shared_channel": ev.ExtSharedChannel,
		"event_context":         "4-" + base64.RawURLEncoding.EncodeToString(ctxJSON),
	}
	s.mu.Unlock()
	return s.sendEnvelope(ctx, e, env, payload)
}

func (s *Server) sendEnvelope(ctx context.Context, e *envelope, env Envelope, payload map[string]any) (Envelope, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Envelope{}, fmt.Errorf("slacktest: encode %s payload: %w", e.typ, err)
	}
	e.payload = raw
	env.Payload = raw
	if err := s.deliver(ctx, e, e.firstID, 0); err != nil {
		return env, err
	}
	return env, nil
}

// issueTriggerLocked returns a fresh trigger_id for userID.
func (s *Server) issueTriggerLocked(userID string) string {
	id := fmt.Sprintf("%d.%d.%s", 1000000000+s.nextSeqLocked(), 4200000000, randomHex(16))
	s.triggers[id] = &trigger{userID: userID, issued: s.now()}
	return id
}

// issueResponseURLLocked returns a fresh response_url under /commands/ or
// /actions/, like hooks.slack.com's.
func (s *Server) issueResponseURLLocked(kind, envelopeID, channel, userID, messageTS string) string {
	path := fmt.Sprintf("/%s/%s/%d/%s", kind, s.cfg.teamID, 1000000+s.nextSeqLocked(), randomHex(12))
	s.respURLs[path] = &responseURL{
		envelopeID: envelopeID,
		channel:    channel,
		userID:     userID,
		messageTS:  messageTS,
		issued:     s.now(),
	}
	return s.base + path
}

func (s *Server) interactionUserLocked(id string) map[string]any {
	u, ok := s.users[id]
	teamID := s.cfg.teamID
	if ok {
		teamID = u.TeamID
	}
	return map[string]any{"id": id, "username": u.Name, "name": u.Name, "team_id": teamID}
}

func (s *Server) channelRefLocked(id string) map[string]any {
	name := ""
	if cs, ok := s.channels[id]; ok {
		name = cs.Name
		if cs.im {
			name = "directmessage"
		}
	}
	return map[string]any{"id": id, "name": name}
}

func (s *Server) messageForPayloadLocked(channel, ts string) any {
	if cs, ok := s.channels[channel]; ok {
		for _, m := range cs.msgs {
			if m.TS == ts {
				return s.messageJSON(m)
			}
		}
	}
	return map[string]any{"type": "message", "ts": ts, "text": ""}
}

func (s *Server) viewForPayloadLocked(in Interaction) map[string]any {
	var v map[string]any
	if stored, ok := s.views[in.ViewID]; ok {
		_ = json.Unmarshal(stored.JSON, &v)
	}
	if v == nil {
		id := in.ViewID
		if id == "" {
			id = fmt.Sprintf("V%010d", s.nextSeqLocked())
		}
		v = map[string]any{
			"id":                    id,
			"team_id":               s.cfg.teamID,
			"type":                  "modal",
			"title":                 map[string]any{"type": "plain_text", "text": "csbot"},
			"blocks":                []any{},
			"private_metadata":      in.PrivateMetadata,
			"callback_id":           in.CallbackID,
			"hash":                  fmt.Sprintf("%d.%s", s.unixNow(), randomHex(4)),
			"clear_on_close":        false,
			"notify_on_close":       false,
			"root_view_id":          id,
			"previous_view_id":      nil,
			"external_id":           "",
			"app_id":                s.cfg.appID,
			"app_installed_team_id": s.cfg.teamID,
			"bot_id":                s.cfg.botID,
		}
	}
	if in.CallbackID != "" {
		v["callback_id"] = in.CallbackID
	}
	if in.PrivateMetadata != "" {
		v["private_metadata"] = in.PrivateMetadata
	}
	v["state"] = map[string]any{"values": valuesOrEmpty(in.Values)}
	return v
}

func (s *Server) actionPayloadLocked(a Action, actionTS string) map[string]any {
	typ := a.Type
	if typ == "" {
		typ = "button"
	}
	blockID := a.BlockID
	if blockID == "" {
		blockID = randomHex(3)
	}
	m := map[string]any{"action_id": a.ActionID, "block_id": blockID, "type": typ, "action_ts": actionTS}
	if a.Value != "" {
		m["value"] = a.Value
	}
	if typ == "button" {
		m["text"] = map[string]any{"type": "plain_text", "text": a.Text, "emoji": true}
	}
	if a.SelectedValue != "" {
		m["selected_option"] = map[string]any{
			"text":  map[string]any{"type": "plain_text", "text": a.SelectedValue, "emoji": true},
			"value": a.SelectedValue,
		}
	}
	maps.Copy(m, a.Extra)
	return m
}

func valuesOrEmpty(v map[string]map[string]any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}
