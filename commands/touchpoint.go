package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The touchpoint modal, which the "pick:touchpoint:..." buttons of alerts
// open: its callback_id (its private_metadata is the account id) and its
// inputs, each block_id the same as its action_id.
const (
	touchpointCallback = "touchpoint_log"
	touchpointKind     = "kind"
	touchpointWhen     = "when"
	touchpointSummary  = "summary"
)

// maxTouchpointSummary is the longest summary a touchpoint takes.
const maxTouchpointSummary = 1000

// touchpointDateLayout is how Slack's datepicker writes a date.
const touchpointDateLayout = "2006-01-02"

// msgNoTouchpoint refuses a touchpoint to someone csbot does not know.
const msgNoTouchpoint = "Only members of the customer success team that csbot knows can log touchpoints. Ask an admin to add you to csbot's users, or tell the account's CSM what happened."

// registerTouchpoint routes the touchpoint modal; its buttons lead there
// through the "touchpoint" account view.
func (c *Commands) registerTouchpoint(r Registrar) {
	r.HandleView(touchpointCallback, bot.ViewHandler{Validate: c.validateTouchpoint, Submit: c.submitTouchpoint})
}

// touchpointOf answers "Log a touchpoint" on account a: the modal, or a
// refusal for someone who may not log one.
func (c *Commands) touchpointOf(_ context.Context, req bot.Request, a csbot.Account) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoTouchpoint), nil
	}
	m := touchpointModal(a, c.today(req.Actor))
	return bot.Reply{OpenView: &m}, nil
}

// touchKindLabel names a kind of touchpoint in the modal's choices.
func touchKindLabel(k csbot.TouchKind) string {
	switch k {
	case csbot.TouchMeeting:
		return "Meeting"
	case csbot.TouchCall:
		return "Call"
	case csbot.TouchEmail:
		return "Email"
	case csbot.TouchEBR:
		return "Executive business review"
	case csbot.TouchOnsite:
		return "On-site visit"
	case csbot.TouchNote:
		return "Note"
	}
	return string(k)
}

// touchKindNoun names a kind of touchpoint with its article, for a
// sentence: "a call", "an EBR".
func touchKindNoun(k csbot.TouchKind) string {
	switch k {
	case csbot.TouchEmail:
		return "an email"
	case csbot.TouchEBR:
		return "an EBR"
	case csbot.TouchOnsite:
		return "an on-site visit"
	}
	return "a " + strings.ToLower(touchKindLabel(k))
}

// touchpointModal is the form of a touchpoint with a, its date preset to
// today (the person's, at midnight UTC).
func touchpointModal(a csbot.Account, today time.Time) slack.ModalViewRequest {
	var kinds []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, k := range csbot.TouchKinds() {
		o := slack.NewOptionBlockObject(string(k), plainText(touchKindLabel(k)), nil)
		kinds = append(kinds, o)
		if k == csbot.TouchCall {
			initial = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Choose a kind"), touchpointKind, kinds...)
	sel.InitialOption = initial
	kind := slack.NewInputBlock(touchpointKind, plainText("Kind"), nil, sel)

	date := slack.NewDatePickerBlockElement(touchpointWhen)
	date.InitialDate = today.Format(touchpointDateLayout)
	when := slack.NewInputBlock(touchpointWhen, plainText("When"), plainText("Today or up to a year back."), date)

	summary := slack.NewInputBlock(touchpointSummary, plainText("Summary"),
		plainText("What was discussed, agreed or promised. Everyone who opens the account's health card reads this."),
		slack.NewPlainTextInputBlockElement(plainText("e.g. Walked the CFO through the renewal quote; she wants a multi-year option"), touchpointSummary).
			WithMultiline(true).WithMaxLength(maxTouchpointSummary))

	intro := fmt.Sprintf("Log a contact with %s. It counts for the account's engagement in its health score.",
		bot.Bold(bot.Truncate(displayName(a), maxNameChars)))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText("Log a touchpoint"),
		Submit:          plainText("Log it"),
		Close:           plainText("Cancel"),
		CallbackID:      touchpointCallback,
		PrivateMetadata: strconv.FormatInt(a.ID, 10),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{bot.FitSection(intro), kind, when, summary}},
	}
}

// touchpointInput is what the touchpoint modal was given.
type touchpointInput struct {
	AccountID int64
	Kind      csbot.TouchKind
	// Date is the day of the touch, at midnight UTC.
	Date    time.Time
	Summary string
}

// parseTouchpoint reads the touchpoint modal's values and
// private_metadata; today is the person's date, at midnight UTC. It
// returns the problems by block_id; an unreadable account id is an error,
// as csbot wrote it.
func parseTouchpoint(metadata string, values map[string]map[string]slack.BlockAction, today time.Time) (touchpointInput, map[string]string, error) {
	var in touchpointInput
	id, ok := accountIDValue(metadata)
	if !ok {
		return in, nil, fmt.Errorf("touchpoint modal: bad account id %q", metadata)
	}
	in.AccountID = id
	get := func(block string) slack.BlockAction { return values[block][block] }
	problems := map[string]string{}

	k := csbot.TouchKind(get(touchpointKind).SelectedOption.Value)
	if slices.Contains(csbot.TouchKinds(), k) {
		in.Kind = k
	} else {
		problems[touchpointKind] = "Choose what kind of contact it was: a meeting, a call, an email..."
	}

	d, err := time.Parse(touchpointDateLayout, get(touchpointWhen).SelectedDate)
	switch {
	case err != nil:
		problems[touchpointWhen] = "Pick the day it happened."
	case d.After(today):
		problems[touchpointWhen] = "That day hasn't come yet. Log a touchpoint once it has happened."
	case d.Before(today.AddDate(-1, 0, 0)):
		problems[touchpointWhen] = "That's more than a year back, too old to count for engagement. Pick a day in the past year."
	default:
		in.Date = d
	}

	in.Summary = strings.TrimSpace(get(touchpointSummary).Value)
	switch {
	case in.Summary == "":
		problems[touchpointSummary] = "Say in a line or two what happened, so that whoever reads the account's card knows."
	case !utf8.ValidString(in.Summary) || strings.IndexByte(in.Summary, 0) >= 0:
		problems[touchpointSummary] = "That text has characters csbot can't store. Please type it again."
	case utf8.RuneCountInString(in.Summary) > maxTouchpointSummary:
		problems[touchpointSummary] = fmt.Sprintf("Keep it to %d characters.", maxTouchpointSummary)
	}
	if len(problems) == 0 {
		problems = nil
	}
	return in, problems, nil
}

// validateTouchpoint checks the touchpoint modal before it closes: the
// values, that the person may log it and that the account is still there.
func (c *Commands) validateTouchpoint(ctx context.Context, req bot.ViewRequest) (map[string]string, error) {
	in, problems, err := parseTouchpoint(req.View.PrivateMetadata, viewValues(req.View), c.today(req.Actor))
	if err != nil {
		return nil, err
	}
	if !req.Actor.CanChange() {
		return map[string]string{touchpointSummary: msgNoTouchpoint}, nil
	}
	if _, err := c.cfg.Store.AccountByID(ctx, in.AccountID); errors.Is(err, csbot.ErrNotFound) {
		return map[string]string{touchpointSummary: "That account is no longer in csbot, so there is nothing to log this against."}, nil
	} else if err != nil {
		return nil, fmt.Errorf("touchpoint account %d: %w", in.AccountID, err)
	}
	return problems, nil
}

// submitTouchpoint stores the touchpoint and confirms it. It is dated the
// chosen day at the time of day of the submission (UTC), so that several
// touchpoints of one kind on one day each have their own time; never
// later than now, or it would not count until then.
func (c *Commands) submitTouchpoint(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
	in, problems, err := parseTouchpoint(req.View.PrivateMetadata, viewValues(req.View), c.today(req.Actor))
	if err != nil {
		return bot.Reply{}, err
	}
	if problems != nil {
		return usage("Sorry, that touchpoint couldn't be logged: the form was incomplete. Please try again."), nil
	}
	if !req.Actor.CanChange() {
		return usage(msgNoTouchpoint), nil
	}
	a, err := c.cfg.Store.AccountByID(ctx, in.AccountID)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("touchpoint account %d: %w", in.AccountID, err)
	}
	noteAccount(ctx, a.ID)
	now := c.cfg.Now().UTC()
	y, m, d := in.Date.Date()
	at := time.Date(y, m, d, now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
	if at.After(now) {
		at = now
	}
	_, err = c.cfg.Store.AddTouchpoint(ctx, csbot.Touchpoint{AccountID: a.ID, At: at, Kind: in.Kind, Summary: in.Summary, UserID: req.Actor.SlackID})
	name := bot.Bold(bot.Truncate(displayName(a), maxNameChars))
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return usage(msgGoneAccount), nil
	case conflicted(err):
		return bot.Reply{Text: fmt.Sprintf("csbot already has %s with %s logged at that very moment, most likely this same one sent twice, so it wasn't logged again.",
			touchKindNoun(in.Kind), name)}, nil
	case err != nil:
		return bot.Reply{}, fmt.Errorf("log touchpoint with account %d: %w", a.ID, err)
	}
	return bot.Reply{Text: fmt.Sprintf("Logged %s with %s on %s. It counts for engagement from the next score.",
		touchKindNoun(in.Kind), name, shortDate(in.Date))}, nil
}

// conflicted reports whether err says that a change clashed with what the
// store holds (a duplicate, a renewal no longer open) rather than that it
// failed. The store's errors say so with a Conflict method, since commands
// may not import the store.
func conflicted(err error) bool {
	var c interface{ Conflict() bool }
	return errors.As(err, &c) && c.Conflict()
}
