package playground

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/csbot/csbot/bot/slacktest"
)

// The page's API: what a person does in Slack's client, turned into the
// envelopes Slack sends the bot. Each call answers once the bot has
// acknowledged the envelope; what the bot sends back reaches the page
// through the event stream.

// apiError is an answer the page shows the person.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// handle decodes a JSON request into req, runs fn and writes its answer
// (or error) as JSON.
func handle[Req any](s *Server, w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, req Req) (any, error)) {
	var req Req
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request: " + err.Error()})
		return
	}
	out, err := fn(r.Context(), req)
	if err != nil {
		var ae *apiError
		status := http.StatusBadGateway
		if errors.As(err, &ae) {
			status = ae.status
		} else {
			s.log.Warn("page request failed", "path", r.URL.Path, "err", err)
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	if out == nil {
		out = map[string]bool{"ok": true}
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// delivered waits for the bot's ack of an envelope just sent, and returns
// it.
func (s *Server) delivered(ctx context.Context, env slacktest.Envelope, err error) (slacktest.Ack, error) {
	if err != nil {
		return slacktest.Ack{}, fmt.Errorf("the simulator could not deliver it to csbot: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AckTimeout)
	defer cancel()
	ack, err := s.sim.WaitForAck(ctx, env.ID)
	if err != nil {
		return ack, fmt.Errorf("csbot did not acknowledge it within %v; is it running? (%w)", s.cfg.AckTimeout, err)
	}
	return ack, nil
}

// sendContext bounds the wait for a Socket Mode link before an envelope
// can go out.
func (s *Server) sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.AckTimeout)
}

type commandRequest struct {
	As   string `json:"as"`
	In   string `json:"in"`
	Text string `json:"text"`
}

func (s *Server) apiCommand(w http.ResponseWriter, r *http.Request) {
	handle(s, w, r, func(ctx context.Context, req commandRequest) (any, error) {
		p, err := s.known(req.As)
		if err != nil {
			return nil, err
		}
		if c, ok := s.refreshNames().channels[req.In]; !ok || (c.IM && c.User != p.ID) {
			return nil, badRequest("unknown channel %q", req.In)
		}
		line := strings.TrimSpace(req.Text)
		if !strings.HasPrefix(line, "/") {
			return nil, badRequest("Type a slash command, like /health acme: csbot answers slash commands, not messages.")
		}
		name, text := line, ""
		if i := strings.IndexFunc(line, unicode.IsSpace); i > 0 {
			name, text = line[:i], strings.TrimSpace(line[i:])
		}
		if !s.knownCommand(name) {
			return nil, badRequest("%s is not a valid command. csbot knows %s.", name, s.commandList())
		}
		sctx, cancel := s.sendContext(ctx)
		defer cancel()
		env, err := s.sim.SendSlashCommand(sctx, slacktest.SlashCommand{
			Command: name, Text: s.escapeCommandText(text), UserID: p.ID, ChannelID: req.In})
		_, err = s.delivered(ctx, env, err)
		return nil, err
	})
}

func (s *Server) knownCommand(name string) bool {
	return len(s.cfg.Commands) == 0 || slices.ContainsFunc(s.cfg.Commands, func(c Command) bool { return c.Name == name })
}

func (s *Server) commandList() string {
	names := make([]string, len(s.cfg.Commands))
	for i, c := range s.cfg.Commands {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// escapeCommandText escapes a command's text as Slack does for an app
// whose manifest sets should_escape: &, < and > as entities, @handle as
// <@U123|handle> and #channel as <#C123|channel> for the people and
// channels of the workspace.
func (s *Server) escapeCommandText(text string) string {
	names := s.refreshNames()
	text = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	var b strings.Builder
	for i, word := range strings.Split(text, " ") {
		if i > 0 {
			b.WriteByte(' ')
		}
		core := strings.TrimRight(word, ".,;:!?)")
		tail := word[len(core):]
		switch {
		case strings.HasPrefix(core, "@") && names.handles[strings.ToLower(core[1:])] != "":
			b.WriteString("<@" + names.handles[strings.ToLower(core[1:])] + "|" + core[1:] + ">" + tail)
		case strings.HasPrefix(core, "#") && names.byName[core[1:]] != "":
			b.WriteString("<#" + names.byName[core[1:]] + "|" + core[1:] + ">" + tail)
		default:
			b.WriteString(word)
		}
	}
	return b.String()
}

type actionRequest struct {
	As string `json:"as"`
	In string `json:"in"`
	// TS is the message acted on, or View the view.
	TS   string `json:"ts"`
	View string `json:"view"`
	// Path and ActionID locate the element; Values are what was picked
	// or typed in it.
	Path     string   `json:"path"`
	ActionID string   `json:"action_id"`
	Values   []string `json:"values"`
	// State holds the values of the view's inputs, by element path.
	State map[string][]string `json:"state"`
}

func (s *Server) apiAction(w http.ResponseWriter, r *http.Request) {
	handle(s, w, r, func(ctx context.Context, req actionRequest) (any, error) {
		p, err := s.known(req.As)
		if err != nil {
			return nil, err
		}
		in := slacktest.Interaction{Type: "block_actions", UserID: p.ID}
		var blocks []*block
		if req.View != "" {
			v, ok := s.viewOf(req.View, p.ID)
			if !ok {
				return nil, badRequest("that view is gone; look again")
			}
			blocks = parseBlocks(v.Blocks)
			in.ViewID = v.ID
			in.Values = viewState(blocks, req.State)
		} else {
			raw, ephemeral, ok := s.messageBlocks(p.ID, req.In, req.TS)
			if !ok {
				return nil, badRequest("that message is gone; look again")
			}
			blocks = parseBlocks(raw)
			in.ChannelID, in.MessageTS = req.In, req.TS
			if ephemeral {
				in.Extra = map[string]any{"container": map[string]any{
					"type": "message", "message_ts": req.TS, "channel_id": req.In, "is_ephemeral": true}}
			}
		}
		e, err := findElement(blocks, req.Path, req.ActionID)
		if err != nil {
			return nil, &apiError{status: http.StatusConflict, msg: err.Error()}
		}
		in.Actions = []slacktest.Action{blockAction(e, req.Values)}
		sctx, cancel := s.sendContext(ctx)
		defer cancel()
		env, err := s.sim.SendInteraction(sctx, in)
		_, err = s.delivered(ctx, env, err)
		return nil, err
	})
}

// messageBlocks returns the blocks of the message ts in channel, as the
// person sees it, and whether it is an ephemeral message.
func (s *Server) messageBlocks(user, channel, ts string) (json.RawMessage, bool, bool) {
	for _, m := range s.sim.Messages(channel) {
		if m.TS == ts {
			return m.Blocks, false, true
		}
	}
	for _, e := range s.sim.EphemeralsSeen(user, channel) {
		if e.TS == ts {
			return e.Blocks, true, true
		}
	}
	return nil, false, false
}

// viewOf returns the view id of user: a modal on their stack, or their
// App Home.
func (s *Server) viewOf(id, user string) (slacktest.View, bool) {
	views := s.sim.Views()
	for _, v := range s.modals.stack(views, user) {
		if v.ID == id {
			return v, true
		}
	}
	for _, v := range views {
		if v.ID == id && v.Type == "home" && v.UserID == user {
			return v, true
		}
	}
	return slacktest.View{}, false
}

type submitRequest struct {
	As    string              `json:"as"`
	View  string              `json:"view"`
	State map[string][]string `json:"state"`
}

// submitAnswer tells the page what became of a submission: errors to show
// on the fields, or the modal closed.
type submitAnswer struct {
	Errors map[string]string `json:"errors,omitempty"`
	Closed bool              `json:"closed,omitempty"`
}

func (s *Server) apiSubmit(w http.ResponseWriter, r *http.Request) {
	handle(s, w, r, func(ctx context.Context, req submitRequest) (any, error) {
		p, err := s.known(req.As)
		if err != nil {
			return nil, err
		}
		stack := s.modals.stack(s.sim.Views(), p.ID)
		if len(stack) == 0 || stack[len(stack)-1].ID != req.View {
			return nil, badRequest("that form is no longer open")
		}
		v := stack[len(stack)-1]
		blocks := parseBlocks(v.Blocks)
		if errs := missingInputs(blocks, req.State); len(errs) > 0 {
			return submitAnswer{Errors: errs}, nil // Slack's client does not send it
		}
		sctx, cancel := s.sendContext(ctx)
		defer cancel()
		env, err := s.sim.SendInteraction(sctx, slacktest.Interaction{Type: "view_submission", UserID: p.ID,
			ViewID: v.ID, Values: viewState(blocks, req.State)})
		ack, err := s.delivered(ctx, env, err)
		if err != nil {
			return nil, err
		}
		var answer submissionAck
		if len(ack.Payload) > 0 {
			if err := json.Unmarshal(ack.Payload, &answer); err != nil {
				return nil, fmt.Errorf("csbot acknowledged the form with something Slack would refuse: %w", err)
			}
		}
		defer s.touch()
		switch answer.ResponseAction {
		case "errors":
			s.modals.setErrors(v, answer.Errors)
			return submitAnswer{Errors: answer.Errors}, nil
		case "clear":
			ids := make([]string, len(stack))
			for i, sv := range stack {
				ids[i] = sv.ID
			}
			s.modals.close(ids...)
		case "update", "push":
			// The simulator did with the ack's view what Slack does
			// (it replaced the modal, or pushed the view on it); the
			// page shows it with the next live update.
			now := s.modals.stack(s.sim.Views(), p.ID)
			top := slacktest.View{}
			if len(now) > 0 {
				top = now[len(now)-1]
			}
			if top.ID == "" || (top.ID == v.ID && (answer.ResponseAction == "push" || top.Hash == v.Hash)) {
				return nil, fmt.Errorf("csbot answered the form with response_action %q and a view Slack refuses", answer.ResponseAction)
			}
			return submitAnswer{}, nil
		case "":
			s.modals.close(v.ID)
		default:
			return nil, fmt.Errorf("csbot answered the form with response_action %q, which Slack does not know", answer.ResponseAction)
		}
		return submitAnswer{Closed: true}, nil
	})
}

type closeRequest struct {
	As   string `json:"as"`
	View string `json:"view"`
	// All closes every modal of the stack (the window's ×), rather than
	// going back to the one below (Cancel).
	All bool `json:"all"`
}

func (s *Server) apiClose(w http.ResponseWriter, r *http.Request) {
	handle(s, w, r, func(ctx context.Context, req closeRequest) (any, error) {
		p, err := s.known(req.As)
		if err != nil {
			return nil, err
		}
		stack := s.modals.stack(s.sim.Views(), p.ID)
		if len(stack) == 0 || stack[len(stack)-1].ID != req.View {
			return nil, nil // closed already
		}
		closing := stack[len(stack)-1:]
		if req.All {
			closing = stack
		}
		ids := make([]string, len(closing))
		for i, v := range closing {
			ids[i] = v.ID
		}
		s.modals.close(ids...)
		s.touch()
		top := stack[len(stack)-1]
		if !readViewInfo(top).NotifyOnClose {
			return nil, nil
		}
		sctx, cancel := s.sendContext(ctx)
		defer cancel()
		env, err := s.sim.SendInteraction(sctx, slacktest.Interaction{Type: "view_closed", UserID: p.ID, ViewID: top.ID,
			Extra: map[string]any{"is_cleared": req.All && len(stack) > 1}})
		_, err = s.delivered(ctx, env, err)
		return nil, err
	})
}

type homeRequest struct {
	As string `json:"as"`
}

func (s *Server) apiHome(w http.ResponseWriter, r *http.Request) {
	handle(s, w, r, func(ctx context.Context, req homeRequest) (any, error) {
		p, err := s.known(req.As)
		if err != nil {
			return nil, err
		}
		sctx, cancel := s.sendContext(ctx)
		defer cancel()
		env, err := s.sim.SendEvent(sctx, slacktest.AppHomeOpened(p.ID))
		_, err = s.delivered(ctx, env, err)
		return nil, err
	})
}

type clockRequest struct {
	As string `json:"as"`
	// Step is "hour", "day", "monday" (next Monday 09:00 in the person's
	// zone) or "at" (At, a local time in the person's zone).
	Step string `json:"step"`
	At   string `json:"at"`
}

func (s *Server) apiClock(w http.ResponseWriter, r *http.Request) {
	handle(s, w, r, func(ctx context.Context, req clockRequest) (any, error) {
		p, err := s.known(req.As)
		if err != nil {
			return nil, err
		}
		at, err := clockTarget(s.now(), s.zone(p), req.Step, req.At)
		if err != nil {
			return nil, err
		}
		summary, err := s.RunSchedules(ctx, at)
		switch {
		case errors.Is(err, ErrBusy):
			return nil, &apiError{status: http.StatusConflict, msg: err.Error()}
		case err != nil: // logged by RunSchedules
			return nil, &apiError{status: http.StatusBadGateway, msg: "The schedules failed: " + err.Error()}
		}
		return map[string]string{"summary": summary}, nil
	})
}

// clockTarget returns the time a clock step leads to from now.
func clockTarget(now time.Time, loc *time.Location, step, at string) (time.Time, error) {
	switch step {
	case "hour":
		return now.Add(time.Hour), nil
	case "day":
		return now.Add(24 * time.Hour), nil
	case "monday":
		local := now.In(loc)
		days := (int(time.Monday) - int(local.Weekday()) + 7) % 7
		t := time.Date(local.Year(), local.Month(), local.Day()+days, 9, 0, 0, 0, loc)
		if !t.After(now) {
			t = time.Date(local.Year(), local.Month(), local.Day()+days+7, 9, 0, 0, 0, loc)
		}
		return t, nil
	case "at":
		t, err := time.ParseInLocation("2006-01-02T15:04", at, loc)
		if err != nil {
			return time.Time{}, badRequest("%q is not a date and time (2026-03-02T09:00)", at)
		}
		if !t.After(now) {
			return time.Time{}, badRequest("The clock only moves forward: pick a time after %s.", now.In(loc).Format("Jan 2 15:04"))
		}
		return t, nil
	}
	return time.Time{}, badRequest("unknown clock step %q", step)
}

// known returns the person a request acts as, or a bad request naming
// them (unlike person, it falls back to no one).
func (s *Server) known(as string) (Person, error) {
	p, ok := s.people[as]
	if !ok {
		return Person{}, badRequest("unknown person %q", as)
	}
	return p, nil
}
