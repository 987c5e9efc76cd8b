package bot

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// Visibility says who sees a reply.
type Visibility int

const (
	// Ephemeral: only the person who asked. The zero value.
	Ephemeral Visibility = iota
	// InChannel: everyone in the channel, guard permitting.
	InChannel
)

// Reply is what a handler answers. The runtime delivers it: through the
// response_url when there is one, else through the Sender (ephemeral to
// the user in the channel, or in a DM), and opens, updates or publishes the
// views it carries. A zero Reply sends nothing.
//
// Replies hold internal data unless Public is set, so the channel guard
// applies: an InChannel reply to a channel shared with another organisation
// (or one csbot cannot check) goes to the requesting user alone, with a
// note why, and no internal reply reaches a guest or an external user.
type Reply struct {
	// Text is the message, or its fallback when there are blocks. Escape
	// data in it (see Escape).
	Text   string
	Blocks []slack.Block
	// Visibility is Ephemeral unless set.
	Visibility Visibility
	// Public marks a reply without internal data (help, pong, apologies):
	// it may go anywhere.
	Public bool
	// ReplaceOriginal replaces the message a block action came from
	// (response_url only).
	ReplaceOriginal bool
	// OpenView opens a modal with the request's trigger_id (which Slack
	// honours for 3 s: return it before any slow work, then use Then).
	OpenView *slack.ModalViewRequest
	// PushView pushes a modal on top of the one the interaction came from
	// (views.push with the trigger_id); closing it goes back to that one.
	PushView *slack.ModalViewRequest
	// UpdateView replaces the modal the interaction came from, or the one
	// ViewID names.
	UpdateView *slack.ModalViewRequest
	// ViewID, if set, is the modal UpdateView replaces instead of the
	// interaction's: the root of a stack (slack.View.RootViewID) when a
	// pushed modal's submission updates the modal under it.
	ViewID string
	// PublishHome publishes the user's App Home tab.
	PublishHome *slack.HomeTabViewRequest
	// Post, when set, is posted in a channel (or a thread of it) besides
	// the reply. The channel guard applies: it is not posted in a channel
	// shared with another organisation, or one csbot cannot check, and the
	// reply says so.
	Post *ChannelPost
	// Upload, when set, is a file for the user: shared in their direct
	// message with the app (files.uploadV2), or, when Slack refuses files,
	// sent to them there as code blocks.
	Upload *FileUpload
	// Then, when set, runs once the reply is delivered, with the id of the
	// modal it opened, pushed or updated ("" when none or when Slack
	// refused it); its own reply is delivered in turn, its UpdateView
	// replacing that modal. It is how slow work shows progress: open a
	// modal saying "Drafting..." at once, and fill it in from Then.
	Then func(ctx context.Context, viewID string) (Reply, error)
}

// ChannelPost is a message posted in a channel, or as a reply in a thread
// of it when TS is set.
type ChannelPost struct {
	Channel string
	TS      string // the thread's parent message, if any
	// Text is mrkdwn (escape data in it, see Escape), or the fallback of
	// Blocks.
	Text   string
	Blocks []slack.Block
}

// FileUpload is a text file given to a user.
type FileUpload struct {
	// Filename is the file's name with its extension ("acme-ebr.md");
	// Title what Slack shows.
	Filename string
	Title    string
	Content  string
	// Comment is the message the file is shared with.
	Comment string
}

// hasMessage reports whether r carries a message to send.
func (r Reply) hasMessage() bool { return r.Text != "" || len(r.Blocks) > 0 }

// Request is what every handler is told about the delivery that called it.
type Request struct {
	// Actor is the person who asked (see Actor).
	Actor Actor
	// UserID, ChannelID and TeamID are Slack ids; ChannelID is empty for
	// interactions outside a channel (modals, the App Home, global
	// shortcuts).
	UserID    string
	ChannelID string
	TeamID    string
	// TriggerID opens a modal within 3 s of the interaction; ResponseURL
	// takes up to 5 replies within 30 minutes. Either may be empty.
	TriggerID   string
	ResponseURL string
	// RetryAttempt is Slack's retry_attempt: more than 0 when Slack
	// redelivered the envelope (the runtime has made sure that no earlier
	// delivery of it was handled).
	RetryAttempt int
	// Received, Acked and Started time the envelope: when the runtime
	// read it, acknowledged it and gave it a handler.
	Received time.Time
	Acked    time.Time
	Started  time.Time
}

// CommandRequest is a slash command.
type CommandRequest struct {
	Request
	// Command includes the slash: "/health". Text is what followed it,
	// with mentions escaped (<@U123>, <#C123|name>) since the manifest sets
	// should_escape.
	Command string
	Text    string
}

// ActionRequest is a click or a selection in a message, modal or App Home
// (block_actions).
type ActionRequest struct {
	Request
	// Action is the one element acted on.
	Action slack.BlockAction
	// Callback is the whole payload: the message or view acted on, and
	// the state of its inputs.
	Callback slack.InteractionCallback
}

// ViewRequest is a modal submitted (view_submission) or closed
// (view_closed).
type ViewRequest struct {
	Request
	// View is the modal as Slack holds it; View.State.Values holds the
	// inputs by block_id and action_id, View.PrivateMetadata what the
	// handler stored in it.
	View slack.View
}

// ShortcutRequest is a global shortcut (shortcut) or a message shortcut
// (message_action).
type ShortcutRequest struct {
	Request
	CallbackID string
	// Message is the message a message shortcut was used on; nil for a
	// global shortcut.
	Message *slack.Message
}

// SuggestionRequest asks for the options of an external select as the
// user types (block_suggestion).
type SuggestionRequest struct {
	Request
	ActionID string
	BlockID  string
	// Value is what the user has typed.
	Value string
	// View is the modal the select is in, if any.
	View slack.View
}

// EventRequest is an Events API event.
type EventRequest struct {
	// Type is the event's type, e.g. "app_home_opened".
	Type    string
	EventID string
	// UserID and ChannelID are the event's user and channel, when it has
	// them.
	UserID    string
	ChannelID string
	// Actor is the event's user as the runtime knows them (with Slack's
	// time zone when csbot has none on file), for an event with a user
	// Slack could tell about; zero otherwise.
	Actor Actor
	// Inner is the event as Slack sent it; Data is slack-go's decoding of
	// it (e.g. *slackevents.AppHomeOpenedEvent).
	Inner json.RawMessage
	Data  any
	// RetryAttempt and Received are as in Request.
	RetryAttempt int
	Received     time.Time
}

// CommandFunc handles a slash command.
type CommandFunc func(ctx context.Context, req CommandRequest) (Reply, error)

// ActionFunc handles a block action.
type ActionFunc func(ctx context.Context, req ActionRequest) (Reply, error)

// ShortcutFunc handles a global or message shortcut. Its reply usually
// opens a modal (Reply.OpenView).
type ShortcutFunc func(ctx context.Context, req ShortcutRequest) (Reply, error)

// SuggestionFunc returns the options of an external select. It runs before
// the ack, within the runtime's AckBudget (ctx carries the deadline): read
// the database, call no Web API. At most 100 options are sent.
type SuggestionFunc func(ctx context.Context, req SuggestionRequest) ([]*slack.OptionBlockObject, error)

// EventFunc handles an Events API event. A reply with a message goes to
// the event's user in its channel (or to their DM); PublishHome publishes
// their App Home.
type EventFunc func(ctx context.Context, req EventRequest) (Reply, error)

// ViewHandler handles the submissions of one kind of modal.
type ViewHandler struct {
	// Validate, if set, runs before the ack within the runtime's
	// AckBudget (ctx carries the deadline; database reads are fine, Web
	// API calls are not) and returns the errors to show in the modal, by
	// block_id. Any error keeps the modal open with the user's input; none
	// closes it and Submit runs.
	Validate func(ctx context.Context, req ViewRequest) (map[string]string, error)
	// Submit does the work after the ack. The modal has closed; reply with
	// a message (sent to the user) or nothing.
	Submit func(ctx context.Context, req ViewRequest) (Reply, error)
	// Closed, if set, runs when the user closes a modal opened with
	// notify_on_close.
	Closed func(ctx context.Context, req ViewRequest) error
}

// maxSuggestions is Slack's limit on the options of an external select.
const maxSuggestions = 100

// maxAckPayload is a little under the 20 KB slack-go refuses to ack.
const maxAckPayload = 19 * 1024

// What the user is told. Each is short, says what happened and what to do.
const (
	msgFailed      = "Sorry, something went wrong on csbot's side and I couldn't finish that. It has been logged; please try again in a moment."
	msgDatabase    = "Sorry, csbot can't reach its database right now, so I can't answer that. Please try again in a few minutes."
	msgSlackCheck  = "Sorry, csbot couldn't check your Slack account just now, so I can't answer that. Please try again in a moment."
	msgOutsider    = "Sorry, csbot is an internal tool of the customer success team, so it isn't available to guests or to people from other organisations."
	msgOldButton   = "Sorry, that button no longer works. Run the command again to get a fresh one."
	msgUnknownForm = "Sorry, csbot no longer knows that form, so nothing was saved. Please start again."
	noteShared     = "Only you can see this: this channel is shared with another organisation, so csbot keeps internal data out of it."
	noteUnverified = "Only you can see this: csbot couldn't check who else is in this channel, so it kept internal data out of it."
)

// notice returns a short public, ephemeral reply.
func notice(text string) Reply { return Reply{Text: text, Public: true} }

// CommandSpec is a slash command csbot declares in manifest.yml.
type CommandSpec struct {
	Command     string
	Description string
	UsageHint   string
}

// ShortcutSpec is a shortcut csbot declares in manifest.yml.
type ShortcutSpec struct {
	CallbackID string
	// Type is "global" or "message".
	Type        string
	Name        string
	Description string
}

// ManifestSpec is what manifest.yml must declare: the app's slash
// commands, shortcuts, bot events and bot scopes.
type ManifestSpec struct {
	Commands  []CommandSpec
	Shortcuts []ShortcutSpec
	BotEvents []string
	BotScopes []string
}

// Manifest returns what csbot declares to Slack; manifest.yml holds the
// same, and a test keeps them equal. Run refuses a handler for a command,
// shortcut or event not declared here, and answers a declared one without
// a handler with "not available yet".
func Manifest() ManifestSpec {
	return ManifestSpec{
		Commands: []CommandSpec{
			{"/health", "An account's health: score, drivers, risks and next renewal", "[account name, id or domain | link <account> | help]"},
			{"/renewals", "Upcoming renewals with ARR, health and renewal contact", "[days | @user | team | all | at-risk | 2027-Q1 | account]"},
			{"/handoff", "Hand a closed deal over to onboarding, or see open handoffs", "[account | status]"},
			{"/ebr", "Draft an executive business review from an account's data", "[account] [2026-Q3 | last 90 days | H1]"},
			{"/csbot", "Check that csbot is up, and list what it can do", "[ping | help]"},
		},
		Shortcuts: []ShortcutSpec{
			{CallbackID: "new_handoff", Type: "global", Name: "New handoff", Description: "Hand a closed deal over to onboarding"},
			{CallbackID: "message_to_handoff", Type: "message", Name: "Turn into handoff", Description: "Start a handoff prefilled from this message"},
		},
		BotEvents: []string{"app_home_opened", "member_joined_channel", "channel_shared", "channel_unshared", "channel_id_changed"},
		// What the code calls: chat.postMessage/postEphemeral/update
		// (chat:write), conversations.info on every kind of conversation
		// (channels:read, groups:read, im:read, mpim:read), users.info
		// (users:read), DMs to users (im:write), and the poster's look into
		// recent history before re-posting a send whose outcome is unknown
		// (channels:history, groups:history, im:history), and joining a
		// public account channel to post its alerts (channels:join), and
		// giving a user an EBR draft as a Markdown file (files:write).
		// Account channels (csbot channels sync, "Create account channel"):
		// conversations.list to find one of the name already there
		// (channels:read, groups:read), conversations.create and
		// conversations.invite of the CSM and AE in a public channel
		// (channels:manage) or a private one (groups:write), and pins.add
		// of the account's summary (pins:write).
		BotScopes: []string{
			"commands", "chat:write",
			"channels:read", "groups:read", "im:read", "mpim:read",
			"users:read", "im:write",
			"channels:history", "groups:history", "im:history",
			"channels:join", "files:write",
			"channels:manage", "groups:write", "pins:write",
		},
	}
}

// registry holds the handlers.
type registry struct {
	mu          sync.RWMutex
	commands    map[string]CommandFunc
	actions     map[string]ActionFunc // by action_id prefix
	views       map[string]ViewHandler
	shortcuts   map[string]ShortcutFunc
	suggestions map[string]SuggestionFunc
	events      map[string]EventFunc
	// builtinEvents are the events the runtime handles itself.
	builtinEvents []string
}

func newRegistry() *registry {
	return &registry{
		commands:    make(map[string]CommandFunc),
		actions:     make(map[string]ActionFunc),
		views:       make(map[string]ViewHandler),
		shortcuts:   make(map[string]ShortcutFunc),
		suggestions: make(map[string]SuggestionFunc),
		events:      make(map[string]EventFunc),
	}
}

// mustKey panics on an empty key or a nil handler, as http.ServeMux does
// on a bad pattern: both are mistakes in the wiring, found at start.
func mustKey(what, key string, nilHandler bool) {
	if key == "" {
		panic("bot: " + what + " registered with an empty key")
	}
	if nilHandler {
		panic("bot: " + what + " " + key + " registered with a nil handler")
	}
}

// HandleCommand routes the slash command (with its slash, "/health") to
// fn, replacing any earlier handler. The command must be declared in
// Manifest.
func (r *Runtime) HandleCommand(command string, fn CommandFunc) {
	mustKey("command", command, fn == nil)
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	r.reg.commands[command] = observed(r.metrics, kindCommand, command, fn)
}

// HandleAction routes the block actions whose action_id starts with
// prefix to fn; the longest matching prefix wins. Put what the handler
// needs in the action_id's tail or the element's value.
func (r *Runtime) HandleAction(actionIDPrefix string, fn ActionFunc) {
	mustKey("action", actionIDPrefix, fn == nil)
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	r.reg.actions[actionIDPrefix] = observed(r.metrics, kindAction, actionIDPrefix, fn)
}

// HandleView routes the submissions (and closings) of modals with
// callbackID to h.
func (r *Runtime) HandleView(callbackID string, h ViewHandler) {
	mustKey("view", callbackID, h.Validate == nil && h.Submit == nil && h.Closed == nil)
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	r.reg.views[callbackID] = observedView(r.metrics, callbackID, h)
}

// HandleShortcut routes the global or message shortcut with callbackID to
// fn. The shortcut must be declared in Manifest.
func (r *Runtime) HandleShortcut(callbackID string, fn ShortcutFunc) {
	mustKey("shortcut", callbackID, fn == nil)
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	r.reg.shortcuts[callbackID] = observed(r.metrics, kindShortcut, callbackID, fn)
}

// HandleSuggestion routes the block_suggestion requests of the external
// select with actionID to fn.
func (r *Runtime) HandleSuggestion(actionID string, fn SuggestionFunc) {
	mustKey("suggestion", actionID, fn == nil)
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	r.reg.suggestions[actionID] = observed(r.metrics, kindSuggestion, actionID, fn)
}

// HandleEvent routes the Events API events of eventType to fn, replacing
// any earlier handler. The runtime's own handling of the event (dropping
// the guard's cache on channel_shared, say) happens in any case. The event
// must be declared in Manifest.
func (r *Runtime) HandleEvent(eventType string, fn EventFunc) {
	mustKey("event", eventType, fn == nil)
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	r.reg.events[eventType] = observed(r.metrics, kindEvent, eventType, fn)
}

// Handlers lists what the runtime has a handler for, sorted.
type Handlers struct {
	Commands    []string
	Shortcuts   []string
	Events      []string
	Actions     []string
	Views       []string
	Suggestions []string
}

// Handlers returns what the runtime handles now: the built-ins and the
// registered handlers.
func (r *Runtime) Handlers() Handlers {
	g := r.reg
	g.mu.RLock()
	defer g.mu.RUnlock()
	events := append(sortedKeys(g.events), g.builtinEvents...)
	slices.Sort(events)
	return Handlers{
		Commands:    sortedKeys(g.commands),
		Shortcuts:   sortedKeys(g.shortcuts),
		Events:      slices.Compact(events),
		Actions:     sortedKeys(g.actions),
		Views:       sortedKeys(g.views),
		Suggestions: sortedKeys(g.suggestions),
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkDeclared returns an error naming every command, shortcut and event
// with a handler that Manifest does not declare: Slack would never deliver
// them.
func (g *registry) checkDeclared() error {
	spec := Manifest()
	g.mu.RLock()
	defer g.mu.RUnlock()
	var bad []string
	for c := range g.commands {
		if !slices.ContainsFunc(spec.Commands, func(s CommandSpec) bool { return s.Command == c }) {
			bad = append(bad, "command "+c)
		}
	}
	for s := range g.shortcuts {
		if !slices.ContainsFunc(spec.Shortcuts, func(sp ShortcutSpec) bool { return sp.CallbackID == s }) {
			bad = append(bad, "shortcut "+s)
		}
	}
	for e := range g.events {
		if !slices.Contains(spec.BotEvents, e) {
			bad = append(bad, "event "+e)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return fmt.Errorf("bot: handlers for what manifest.yml does not declare (add them to bot.Manifest and manifest.yml): %s", strings.Join(bad, ", "))
}

// unhandled lists the declared commands and shortcuts without a handler.
func (g *registry) unhandled() []string {
	spec := Manifest()
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []string
	for _, c := range spec.Commands {
		if g.commands[c.Command] == nil {
			out = append(out, "command "+c.Command)
		}
	}
	for _, s := range spec.Shortcuts {
		if g.shortcuts[s.CallbackID] == nil {
			out = append(out, "shortcut "+s.CallbackID)
		}
	}
	return out
}

func (g *registry) command(c string) CommandFunc {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.commands[c]
}

// action returns the handler with the longest prefix of actionID.
func (g *registry) action(actionID string) ActionFunc {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var best string
	var fn ActionFunc
	for p, f := range g.actions {
		if strings.HasPrefix(actionID, p) && len(p) > len(best) {
			best, fn = p, f
		}
	}
	return fn
}

func (g *registry) view(callbackID string) ViewHandler {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.views[callbackID]
}

func (g *registry) shortcut(callbackID string) ShortcutFunc {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.shortcuts[callbackID]
}

func (g *registry) suggestion(actionID string) SuggestionFunc {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.suggestions[actionID]
}

func (g *registry) event(t string) EventFunc {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.events[t]
}

// declaredCommand reports whether Manifest declares the command.
func declaredCommand(c string) bool {
	return slices.ContainsFunc(Manifest().Commands, func(s CommandSpec) bool { return s.Command == c })
}

// target is where a reply goes.
type target struct {
	user        string
	channel     string
	responseURL string
	triggerID   string
	viewID      string
	// userChecked: the guard has let this user in already.
	userChecked bool
}

// dispatch runs the handler of in and delivers its reply.
func (r *Runtime) dispatch(ctx context.Context, in *inbound) {
	in.key = deliveryKey(in)
	switch {
	case in.command != nil:
		r.onCommand(ctx, in)
	case in.interaction != nil:
		r.onInteraction(ctx, in)
	case in.event != nil:
		r.onEvent(ctx, in)
	}
}

func (r *Runtime) onCommand(ctx context.Context, in *inbound) {
	c := in.command
	t := target{user: c.UserID, channel: c.ChannelID, responseURL: c.ResponseURL, triggerID: c.TriggerID}
	log := in.log.With("kind", "slash_command", "command", c.Command, "user", c.UserID, "channel", c.ChannelID)
	if !r.claim(ctx, log, in, t) {
		return
	}
	actor, ok := r.admitUser(ctx, log, &t)
	if !ok {
		return
	}
	fn := r.reg.command(c.Command)
	if fn == nil {
		log.Info("no handler for command")
		if declaredCommand(c.Command) {
			r.deliver(ctx, log, t, notice(fmt.Sprintf("`%s` isn't available yet. Type `/csbot help` to see what works today.", Escape(c.Command))))
		} else {
			r.deliver(ctx, log, t, notice(fmt.Sprintf("Sorry, I don't know `%s`. Type `/csbot help` to see what I can do.", Escape(c.Command))))
		}
		return
	}
	req := CommandRequest{Request: r.request(in, actor, t, c.TeamID), Command: c.Command, Text: c.Text}
	reply, _ := r.call(log, func() (Reply, error) { return fn(ctx, req) })
	r.deliver(ctx, log, t, reply)
}

// interactionChannel returns the channel an interaction happened in, or "".
func interactionChannel(cb *slack.InteractionCallback) string {
	if cb.Channel.ID != "" {
		return cb.Channel.ID
	}
	return cb.Container.ChannelID
}

func (r *Runtime) onInteraction(ctx context.Context, in *inbound) {
	cb := in.interaction
	t := target{user: cb.User.ID, channel: interactionChannel(cb), responseURL: cb.ResponseURL, triggerID: cb.TriggerID, viewID: cb.View.ID}
	log := in.log.With("kind", string(cb.Type), "user", cb.User.ID, "channel", t.channel)
	if !r.claim(ctx, log, in, t) {
		return
	}
	actor, ok := r.admitUser(ctx, log, &t)
	if !ok {
		return
	}
	base := r.request(in, actor, t, cb.Team.ID)
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		if len(cb.ActionCallback.BlockActions) == 0 {
			return
		}
		a := *cb.ActionCallback.BlockActions[0]
		log = log.With("action_id", a.ActionID)
		fn := r.reg.action(a.ActionID)
		if fn == nil {
			log.Info("no handler for action")
			r.deliver(ctx, log, t, notice(msgOldButton))
			return
		}
		req := ActionRequest{Request: base, Action: a, Callback: *cb}
		reply, _ := r.call(log, func() (Reply, error) { return fn(ctx, req) })
		r.deliver(ctx, log, t, reply)

	case slack.InteractionTypeViewSubmission:
		log = log.With("callback_id", cb.View.CallbackID)
		h := r.reg.view(cb.View.CallbackID)
		if h.Submit == nil {
			if h.Validate == nil {
				log.Info("no handler for view submission")
				r.deliver(ctx, log, t, notice(msgUnknownForm))
			}
			return
		}
		req := ViewRequest{Request: base, View: cb.View}
		reply, _ := r.call(log, func() (Reply, error) { return h.Submit(ctx, req) })
		r.deliver(ctx, log, t, reply)

	case slack.InteractionTypeViewClosed:
		h := r.reg.view(cb.View.CallbackID)
		if h.Closed == nil {
			return
		}
		req := ViewRequest{Request: base, View: cb.View}
		_, _ = r.call(log.With("callback_id", cb.View.CallbackID), func() (Reply, error) { return Reply{}, h.Closed(ctx, req) })

	case slack.InteractionTypeShortcut, slack.InteractionTypeMessageAction:
		log = log.With("callback_id", cb.CallbackID)
		fn := r.reg.shortcut(cb.CallbackID)
		if fn == nil {
			log.Info("no handler for shortcut")
			r.deliver(ctx, log, t, notYetShortcut(cb))
			return
		}
		req := ShortcutRequest{Request: base, CallbackID: cb.CallbackID}
		if cb.Type == slack.InteractionTypeMessageAction {
			m := cb.Message
			req.Message = &m
		}
		reply, _ := r.call(log, func() (Reply, error) { return fn(ctx, req) })
		r.deliver(ctx, log, t, reply)

	default:
		log.Debug("interaction type not handled")
	}
}

// notYetShortcut answers a declared shortcut that has no handler yet: in
// a small modal for a global shortcut, ephemerally for a message one.
func notYetShortcut(cb *slack.InteractionCallback) Reply {
	const text = "This shortcut isn't available yet. Type `/csbot help` to see what works today."
	if cb.Type == slack.InteractionTypeMessageAction {
		return notice(text)
	}
	return Reply{Public: true, OpenView: &slack.ModalViewRequest{
		Type:  slack.VTModal,
		Title: slack.NewTextBlockObject(slack.PlainTextType, "csbot", false, false),
		Close: slack.NewTextBlockObject(slack.PlainTextType, "OK", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		}},
	}}
}

// innerEvent is the part of an inner event the runtime reads.
type innerEvent struct {
	Type         string          `json:"type"`
	User         json.RawMessage `json:"user"`
	Channel      json.RawMessage `json:"channel"`
	Tab          string          `json:"tab"`
	OldChannelID string          `json:"old_channel_id"`
	NewChannelID string          `json:"new_channel_id"`
}

// idOf reads an id that Slack sends either as a string or as an object
// with an "id".
func idOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.ID
}

func (r *Runtime) onEvent(ctx context.Context, in *inbound) {
	cb, ok := in.event.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || cb.InnerEvent == nil {
		return
	}
	var ev innerEvent
	if err := json.Unmarshal(*cb.InnerEvent, &ev); err != nil {
		in.log.Warn("event not understood", "event_id", cb.EventID, "err", err)
		return
	}
	user, channel := idOf(ev.User), idOf(ev.Channel)
	log := in.log.With("kind", "event", "event", ev.Type, "event_id", cb.EventID)
	// The runtime's own handling is idempotent and local to this replica:
	// it runs for every delivery.
	r.onBuiltinEvent(log, ev, channel)
	if !r.claim(ctx, log, in, target{}) {
		return
	}
	fn := r.reg.event(ev.Type)
	if fn == nil {
		if ev.Type == "app_home_opened" && ev.Tab == "home" {
			r.deliver(ctx, log, target{user: user}, Reply{Public: true, PublishHome: defaultHome()})
		}
		return
	}
	req := EventRequest{
		Type: ev.Type, EventID: cb.EventID, UserID: user, ChannelID: channel,
		Inner: *cb.InnerEvent, Data: in.event.InnerEvent.Data, RetryAttempt: in.retry, Received: in.received,
	}
	if user != "" {
		if u, err := r.guard.User(ctx, user); err == nil && !u.Outsider() {
			if a, err := r.resolveActor(ctx, u); err == nil {
				req.Actor = a
			}
		}
	}
	reply, ok := r.call(log, func() (Reply, error) { return fn(ctx, req) })
	if ok {
		r.deliver(ctx, log, target{user: user, channel: channel}, reply)
	}
}

// onBuiltinEvent keeps the guard's cache true to the channels' sharing.
func (r *Runtime) onBuiltinEvent(log *slog.Logger, ev innerEvent, channel string) {
	switch ev.Type {
	case "channel_shared", "channel_unshared", "member_joined_channel":
		if channel != "" {
			r.guard.Forget(channel)
			log.Debug("guard cache dropped", "channel", channel)
		}
	case "channel_id_changed":
		r.guard.Forget(ev.OldChannelID, ev.NewChannelID)
		log.Info("channel id changed", "old", ev.OldChannelID, "new", ev.NewChannelID)
	}
}

// defaultHome is the App Home tab until a feature publishes its own.
func defaultHome() *slack.HomeTabViewRequest {
	return &slack.HomeTabViewRequest{
		Type: slack.VTHomeTab,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "csbot", false, false)),
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
				"I keep the customer success team's accounts in view: health, renewals, handoffs and reviews. Type `/csbot help` to see what I can do.",
				false, false), nil, nil),
		}},
	}
}

// request returns the Request of a delivery.
func (r *Runtime) request(in *inbound, a Actor, t target, teamID string) Request {
	return Request{
		Actor: a, UserID: t.user, ChannelID: t.channel, TeamID: teamID,
		TriggerID: t.triggerID, ResponseURL: t.responseURL, RetryAttempt: in.retry,
		Received: in.received, Acked: in.acked, Started: in.started,
	}
}

// claim takes on in, once across deliveries and replicas. It reports
// false for a delivery already taken on, and when the database cannot
// say: then the user gets an apology.
func (r *Runtime) claim(ctx context.Context, log *slog.Logger, in *inbound, t target) bool {
	cctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	first, err := r.deliveries.ClaimDelivery(cctx, in.key, r.cfg.Now())
	if err != nil {
		log.Error("claim delivery: database unavailable", "err", err)
		if t.user != "" || t.responseURL != "" {
			r.deliver(ctx, log, t, notice(msgDatabase))
		}
		return false
	}
	if !first {
		in.duplicate = true
		log.Info("delivery already handled; skipped", "retry_attempt", in.retry, "key", in.key)
		return false
	}
	return true
}

// admitUser lets in a member of the team and tells who they are; guests
// and external users get a polite refusal, and a failed check an apology.
func (r *Runtime) admitUser(ctx context.Context, log *slog.Logger, t *target) (Actor, bool) {
	u, err := r.guard.User(ctx, t.user)
	if err != nil {
		log.Error("check user", "err", err)
		r.deliver(ctx, log, *t, notice(msgSlackCheck))
		return Actor{}, false
	}
	if u.Outsider() {
		log.Info("refused: guest or external user", "restricted", u.Restricted, "ultra_restricted", u.UltraRestricted, "stranger", u.Stranger)
		r.deliver(ctx, log, *t, notice(msgOutsider))
		return Actor{}, false
	}
	t.userChecked = true
	a, err := r.resolveActor(ctx, u)
	if err != nil {
		log.Error("look up user: database unavailable", "err", err)
		r.deliver(ctx, log, *t, notice(msgDatabase))
		return Actor{}, false
	}
	return a, true
}

// call runs a handler. A panic or an error is logged once and becomes an
// apology; ok is false then.
func (r *Runtime) call(log *slog.Logger, fn func() (Reply, error)) (reply Reply, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("handler panicked", "panic", p, "stack", string(debug.Stack()))
			reply, ok = notice(msgFailed), false
		}
	}()
	reply, err := fn()
	if err != nil {
		log.Error("handler failed", "err", err)
		return notice(msgFailed), false
	}
	return reply, true
}

// deliver sends a reply where it belongs, guarded, then runs its Then.
func (r *Runtime) deliver(ctx context.Context, log *slog.Logger, t target, rep Reply) {
	if !rep.Public && t.user != "" && !t.userChecked {
		u, err := r.guard.User(ctx, t.user)
		switch {
		case err != nil:
			log.Warn("check user before replying; reply withheld", "err", err)
			return
		case u.Outsider():
			log.Info("reply withheld from a guest or external user")
			return
		}
		t.userChecked = true
	}
	viewID := r.deliverViews(ctx, log, t, &rep)
	if p := rep.Post; p != nil {
		if err := r.postInChannel(ctx, *p); err != nil {
			log.Warn("channel post not made", "channel", p.Channel, "err", err)
			rep = withNote(rep, notePostFailed)
		}
	}
	if u := rep.Upload; u != nil && t.user != "" {
		if err := r.upload(ctx, log, t.user, *u); err != nil {
			log.Error("file for the user not sent", "err", withoutURLs(err))
			rep = withNote(rep, noteUploadFailed)
		}
	}
	if rep.hasMessage() {
		r.sendReply(ctx, log, t, rep)
	}
	if rep.Then == nil {
		return
	}
	next, _ := r.call(log, func() (Reply, error) { return rep.Then(ctx, viewID) })
	t.viewID, t.triggerID = viewID, ""
	r.deliver(ctx, log, t, next)
}

// deliverViews opens, pushes, updates and publishes the views rep carries,
// and returns the id of the modal it opened, pushed or updated last.
func (r *Runtime) deliverViews(ctx context.Context, log *slog.Logger, t target, rep *Reply) (viewID string) {
	if rep.OpenView != nil {
		v, err := r.api.OpenViewContext(ctx, t.triggerID, *rep.OpenView)
		if err != nil {
			log.Error("views.open", "err", err)
			if !rep.hasMessage() {
				*rep = withoutViews(*rep, notice("Sorry, that took too long and the form couldn't open. Please try again."))
			}
		} else if v != nil {
			viewID = v.ID
		}
	}
	if rep.PushView != nil {
		v, err := r.api.PushViewContext(ctx, t.triggerID, *rep.PushView)
		if err != nil {
			log.Error("views.push", "err", err)
			if !rep.hasMessage() {
				*rep = withoutViews(*rep, notice("Sorry, that took too long and the form couldn't open. Please try again."))
			}
		} else if v != nil {
			viewID = v.ID
		}
	}
	if rep.UpdateView != nil {
		id := cmp.Or(rep.ViewID, t.viewID)
		if _, err := r.api.UpdateViewContext(ctx, *rep.UpdateView, "", "", id); err != nil {
			log.Error("views.update", "view", id, "err", err)
		} else {
			viewID = id
		}
	}
	if rep.PublishHome != nil && t.user != "" {
		if _, err := r.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: t.user, View: *rep.PublishHome}); err != nil {
			log.Error("views.publish", "err", err)
		}
	}
	return viewID
}

// withoutViews is msg in place of rep, keeping rep's Then (which learns
// that no modal opened), channel post and file, and none of its views.
func withoutViews(rep, msg Reply) Reply {
	msg.Then, msg.Post, msg.Upload = rep.Then, rep.Post, rep.Upload
	return msg
}

// sendReply sends rep's message: through the response_url when there is
// one, else ephemerally in the channel, else in the user's DM.
func (r *Runtime) sendReply(ctx context.Context, log *slog.Logger, t target, rep Reply) {
	if rep.Visibility == InChannel && !rep.Public {
		rep = r.guardChannel(ctx, log, t, rep)
	}
	if err := CheckLimits(SurfaceMessage, rep.Blocks, rep.Text); err != nil {
		log.Error("reply over Slack's limits", "err", err)
		rep = notice(msgFailed)
	}
	if t.responseURL != "" {
		err := r.postResponse(ctx, t.responseURL, rep)
		if err == nil {
			return
		}
		log.Warn("response_url post failed; sending through the Web API", "err", err)
	}
	m := Message{Channel: t.channel, Text: rep.Text, Blocks: rep.Blocks, Priority: PriorityInteractive}
	switch {
	case t.channel == "":
		m.Channel = t.user // their DM with the app
	case rep.Visibility == Ephemeral:
		m.EphemeralUser = t.user
	}
	if m.Channel == "" || (rep.Visibility == Ephemeral && t.channel != "" && t.user == "") {
		log.Warn("reply has nowhere to go")
		return
	}
	_, err := r.sender.Send(ctx, m)
	if err != nil && m.EphemeralUser != "" && (errors.Is(err, ErrNotInChannel) || errors.Is(err, ErrChannelNotFound) || errors.Is(err, ErrUserNotInChannel)) {
		m.Channel, m.EphemeralUser = t.user, ""
		_, err = r.sender.Send(ctx, m)
	}
	if err != nil {
		log.Error("send reply", "err", err)
	}
}

// What a reply ends with when its channel post or file could not be made.
const (
	notePostFailed   = "csbot could not post it in the channel (the channel is shared outside the company, or Slack refused); please post it there yourself."
	noteUploadFailed = "csbot could not send you the file just now; please try again in a moment."
)

// postInChannel makes p after the channel guard's check.
func (r *Runtime) postInChannel(ctx context.Context, p ChannelPost) error {
	ch, err := r.guard.Channel(ctx, p.Channel, ChannelRecheck)
	if err != nil {
		return fmt.Errorf("check channel: %w", err)
	}
	if ch.External() {
		return errors.New("the channel is shared with another organisation")
	}
	if err := CheckLimits(SurfaceMessage, p.Blocks, p.Text); err != nil {
		return err
	}
	_, err = r.sender.Send(ctx, Message{Channel: p.Channel, ThreadTS: p.TS, Text: p.Text, Blocks: p.Blocks, Priority: PriorityInteractive})
	return err
}

// guardChannel keeps an internal in-channel reply out of a channel shared
// with another organisation, or one it cannot check: it goes to the user
// alone, with a note why.
func (r *Runtime) guardChannel(ctx context.Context, log *slog.Logger, t target, rep Reply) Reply {
	if t.channel == "" {
		rep.Visibility = Ephemeral
		return rep
	}
	ch, err := r.guard.Channel(ctx, t.channel, ChannelRecheck)
	switch {
	case err != nil:
		log.Warn("check channel; reply kept private", "err", err)
		return privately(rep, noteUnverified)
	case ch.External():
		log.Info("channel shared with another organisation; reply kept private")
		return privately(rep, noteShared)
	}
	return rep
}

// privately turns rep into an ephemeral reply with note at its end.
func privately(rep Reply, note string) Reply {
	rep.Visibility = Ephemeral
	return withNote(rep, note)
}

// withNote puts note at the end of rep: in italics after its text, or, as
// Slack shows only the blocks of a message that has them, in a context
// block after its blocks.
func withNote(rep Reply, note string) Reply {
	if len(rep.Blocks) == 0 {
		rep.Text = strings.TrimSpace(rep.Text + "\n\n_" + note + "_")
		return rep
	}
	blocks := slices.Clone(rep.Blocks)
	if len(blocks) >= MaxMessageBlocks {
		blocks = blocks[:MaxMessageBlocks-1]
	}
	rep.Blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, note, false, false)))
	return rep
}

// responseBody is a post to a response_url.
type responseBody struct {
	Text            string        `json:"text,omitempty"`
	Blocks          []slack.Block `json:"blocks,omitempty"`
	ResponseType    string        `json:"response_type"`
	ReplaceOriginal bool          `json:"replace_original"`
}

// postResponse posts rep to a response_url.
func (r *Runtime) postResponse(ctx context.Context, url string, rep Reply) error {
	body := responseBody{Text: rep.Text, Blocks: rep.Blocks, ResponseType: "ephemeral", ReplaceOriginal: rep.ReplaceOriginal}
	if rep.Visibility == InChannel {
		body.ResponseType = "in_channel"
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode reply: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("response_url: %w", withoutURLs(err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("response_url: %w", withoutURLs(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ok struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal(answer, &ok)
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("response_url: HTTP %d %s", resp.StatusCode, ok.Error)
	case ok.OK != nil && !*ok.OK:
		return fmt.Errorf("response_url: %s", ok.Error)
	}
	return nil
}

// answersInAck reports whether in's answer must travel in its ack.
func (r *Runtime) answersInAck(in *inbound) bool {
	cb := in.interaction
	if cb == nil {
		return false
	}
	switch cb.Type {
	case slack.InteractionTypeBlockSuggestion:
		return true
	case slack.InteractionTypeViewSubmission:
		return r.reg.view(cb.View.CallbackID).Validate != nil
	}
	return false
}

// optionsAck is the ack of a block_suggestion; Slack wants the options
// array even when it is empty.
type optionsAck struct {
	Options []*slack.OptionBlockObject `json:"options"`
}

// answerForAck computes the payload of in's ack within AckBudget, and
// says whether work remains after the ack.
func (r *Runtime) answerForAck(ctx context.Context, in *inbound) (payload any, more bool) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.AckBudget)
	defer cancel()
	cb := in.interaction
	log := in.log.With("kind", string(cb.Type), "user", cb.User.ID)
	t := target{user: cb.User.ID, channel: interactionChannel(cb), viewID: cb.View.ID}
	if cb.Type == slack.InteractionTypeBlockSuggestion {
		return r.suggest(ctx, log.With("action_id", cb.ActionID), in, t), false
	}
	errs := r.validate(ctx, log.With("callback_id", cb.View.CallbackID), in, t)
	if len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs), false
	}
	return nil, true
}

// suggest returns the options of an external select; none when anything
// fails or the user may not see internal data.
func (r *Runtime) suggest(ctx context.Context, log *slog.Logger, in *inbound, t target) optionsAck {
	none := optionsAck{Options: []*slack.OptionBlockObject{}}
	cb := in.interaction
	fn := r.reg.suggestion(cb.ActionID)
	if fn == nil {
		log.Warn("no handler for suggestions")
		return none
	}
	u, err := r.guard.User(ctx, t.user)
	if err != nil || u.Outsider() {
		log.Info("no suggestions: user not checked or not a member", "err", err)
		return none
	}
	actor, err := r.resolveActor(ctx, u)
	if err != nil {
		log.Error("look up user: database unavailable", "err", err)
		return none
	}
	req := SuggestionRequest{Request: r.request(in, actor, t, cb.Team.ID), ActionID: cb.ActionID, BlockID: cb.BlockID, Value: cb.Value, View: cb.View}
	var opts []*slack.OptionBlockObject
	if _, ok := r.call(log, func() (Reply, error) {
		var err error
		opts, err = fn(ctx, req)
		return Reply{}, err
	}); !ok {
		return none
	}
	opts = opts[:min(len(opts), maxSuggestions)]
	for len(opts) > 0 {
		if raw, err := json.Marshal(optionsAck{Options: opts}); err == nil && len(raw) <= maxAckPayload {
			break
		}
		opts = opts[:len(opts)/2]
	}
	if opts == nil {
		return none
	}
	return optionsAck{Options: opts}
}

// validate runs a modal's Validate. When it fails or runs out of time, the
// user is asked to submit again (their input stays).
func (r *Runtime) validate(ctx context.Context, log *slog.Logger, in *inbound, t target) map[string]string {
	cb := in.interaction
	h := r.reg.view(cb.View.CallbackID)
	// Only a member csbot let in can have been shown the modal, so the
	// guard's answer is normally cached from that click; checking again
	// keeps a guest's forged submission out all the same.
	u, err := r.guard.User(ctx, t.user)
	if err != nil {
		log.Error("check user", "err", err)
		return retryErrors(cb.View, msgSlackCheck)
	}
	if u.Outsider() {
		log.Info("refused: guest or external user submitted a form")
		return retryErrors(cb.View, msgOutsider)
	}
	actor, err := r.resolveActor(ctx, u)
	if err != nil {
		log.Error("look up user: database unavailable", "err", err)
		return retryErrors(cb.View, msgDatabase)
	}
	req := ViewRequest{Request: r.request(in, actor, t, cb.Team.ID), View: cb.View}
	var errs map[string]string
	if _, ok := r.call(log, func() (Reply, error) {
		var err error
		errs, err = h.Validate(ctx, req)
		return Reply{}, err
	}); !ok {
		return retryErrors(cb.View, "Sorry, csbot couldn't check this just now. Please submit again.")
	}
	return errs
}

// retryErrors puts msg on the modal's first input, which keeps the modal
// open with what the user typed; nil when it has no input.
func retryErrors(v slack.View, msg string) map[string]string {
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok && in.BlockID != "" {
			return map[string]string{in.BlockID: msg}
		}
	}
	if v.State != nil && len(v.State.Values) > 0 {
		// The state names the inputs by block_id even when the blocks are
		// not in the payload.
		return map[string]string{sortedKeys(v.State.Values)[0]: msg}
	}
	return nil
}
