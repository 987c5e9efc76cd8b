package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The override modal: its callback_id (its private_metadata is the
// account id) and its inputs, each block_id the same as its action_id.
const (
	overrideCallback = "health_override"
	overrideBand     = "band"
	overrideScore    = "score"
	overrideNote     = "note"
	overrideExpires  = "expires"
)

// maxOverrideNote is the longest note an override takes.
const maxOverrideNote = 500

// overrideDays returns the lifetimes an override may be given, in days.
func overrideDays() []int { return []int{7, 14, 30, 60, 90} }

// defaultOverrideDays is the lifetime chosen when the modal opens, unless
// the policy's is one of overrideDays.
const defaultOverrideDays = 30

// msgNoOverride refuses an override to someone who may not make one.
const msgNoOverride = "Only the account's CSM, their manager or an admin can override its health. Ask one of them if you think the score is wrong."

// registerOverride routes the "Override health" button and its modal.
func (c *Commands) registerOverride(r Registrar) {
	r.HandleAction(actionOverride, c.openOverride)
	r.HandleView(overrideCallback, bot.ViewHandler{Validate: c.validateOverride, Submit: c.submitOverride})
}

// mayOverride reports whether the actor may override the account's
// health: its CSM, their manager or an admin.
func (c *Commands) mayOverride(ctx context.Context, actor bot.Actor, a csbot.Account) (bool, error) {
	if !actor.CanChange() {
		return false, nil
	}
	mgr := ""
	if a.CSMUserID != "" {
		m, err := c.cfg.Store.ManagerOf(ctx, a.CSMUserID)
		if err != nil {
			return false, fmt.Errorf("manager of %s: %w", a.CSMUserID, err)
		}
		mgr = m
	}
	return csbot.CanOverride(actor.User, a, mgr), nil
}

// openOverride answers "Override health": the modal, or a refusal.
func (c *Commands) openOverride(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	id, ok := accountIDValue(req.Action.Value)
	if !ok {
		return usage(msgStaleButton), nil
	}
	a, err := c.cfg.Store.AccountByID(ctx, id)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("override account %d: %w", id, err)
	}
	noteAccount(ctx, a.ID)
	may, err := c.mayOverride(ctx, req.Actor, a)
	if err != nil {
		return bot.Reply{}, err
	}
	if !may {
		return usage(msgNoOverride), nil
	}
	m := overrideModal(a, c.cfg.Policy.OverrideExpiryDays)
	return bot.Reply{OpenView: &m}, nil
}

// overrideModal is the form of an override of a's health, its lifetime
// preset to days when that is one of the choices.
func overrideModal(a csbot.Account, days int) slack.ModalViewRequest {
	if !slices.Contains(overrideDays(), days) {
		days = defaultOverrideDays
	}
	var bands []*slack.OptionBlockObject
	for _, b := range csbot.Bands() {
		bands = append(bands, slack.NewOptionBlockObject(string(b), plainText(b.Emoji()+" "+string(b)), nil))
	}
	band := slack.NewInputBlock(overrideBand, plainText("Band"), plainText("Your view of its colour."),
		slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Choose a band"), overrideBand, bands...))
	band.Optional = true

	score := slack.NewInputBlock(overrideScore, plainText("Score"), plainText("0 to 100. Give a band, a score or both."),
		slack.NewNumberInputBlockElement(plainText("e.g. 65"), overrideScore, false).WithMinValue("0").WithMaxValue("100"))
	score.Optional = true

	note := slack.NewInputBlock(overrideNote, plainText("Why"), plainText("What do you know that the data doesn't? Everyone who sees the card reads this."),
		slack.NewPlainTextInputBlockElement(plainText("e.g. Exec sponsor confirmed the renewal on our call"), overrideNote).
			WithMultiline(true).WithMaxLength(maxOverrideNote))

	var lifetimes []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, d := range overrideDays() {
		o := slack.NewOptionBlockObject(strconv.Itoa(d), plainText(fmt.Sprintf("%d days", d)), nil)
		lifetimes = append(lifetimes, o)
		if d == days {
			initial = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Expires in"), overrideExpires, lifetimes...)
	sel.InitialOption = initial
	expires := slack.NewInputBlock(overrideExpires, plainText("Expires in"), nil, sel)

	intro := fmt.Sprintf("Your view of %s's health. It is shown beside the computed score, never instead of it, until it expires.",
		bot.Bold(bot.Truncate(displayName(a), maxNameChars)))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText("Override health"),
		Submit:          plainText("Save"),
		Close:           plainText("Cancel"),
		CallbackID:      overrideCallback,
		PrivateMetadata: strconv.FormatInt(a.ID, 10),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{bot.FitSection(intro), band, score, note, expires}},
	}
}

// overrideInput is what the override modal was given.
type overrideInput struct {
	AccountID int64
	Band      csbot.Band
	Score     int
	HasScore  bool
	Note      string
	Days      int
}

// parseOverride reads the override modal's values and private_metadata.
// It returns the problems by block_id; an unreadable account id is an
// error, as csbot wrote it.
func parseOverride(metadata string, values map[string]map[string]slack.BlockAction) (overrideInput, map[string]string, error) {
	var in overrideInput
	id, ok := accountIDValue(metadata)
	if !ok {
		return in, nil, fmt.Errorf("override modal: bad account id %q", metadata)
	}
	in.AccountID = id
	get := func(block string) slack.BlockAction { return values[block][block] }
	problems := map[string]string{}

	if b := get(overrideBand).SelectedOption.Value; b != "" {
		band, err := csbot.ParseBand(b)
		if err != nil {
			problems[overrideBand] = "Choose green, yellow or red."
		}
		in.Band = band
	}
	if s := strings.TrimSpace(get(overrideScore).Value); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			problems[overrideScore] = "Type a whole number from 0 to 100, or leave it empty."
		case n < 0 || n > 100:
			problems[overrideScore] = "A score is between 0 and 100."
		default:
			in.Score, in.HasScore = n, true
		}
	}
	if in.Band == "" && !in.HasScore && problems[overrideBand] == "" && problems[overrideScore] == "" {
		problems[overrideBand] = "Choose a band or type a score (or both)."
	}
	in.Note = strings.TrimSpace(get(overrideNote).Value)
	switch {
	case in.Note == "":
		problems[overrideNote] = "Say why, so that whoever reads the card knows what you know."
	case utf8.RuneCountInString(in.Note) > maxOverrideNote:
		problems[overrideNote] = fmt.Sprintf("Keep it to %d characters.", maxOverrideNote)
	}
	days, err := strconv.Atoi(get(overrideExpires).SelectedOption.Value)
	if err != nil || !slices.Contains(overrideDays(), days) {
		problems[overrideExpires] = "Choose how long it lasts."
	}
	in.Days = days
	if len(problems) == 0 {
		problems = nil
	}
	return in, problems, nil
}

// viewValues returns a submitted view's input values.
func viewValues(v slack.View) map[string]map[string]slack.BlockAction {
	if v.State == nil {
		return nil
	}
	return v.State.Values
}

// validateOverride checks the override modal before it closes: the
// values, and again that the person may override.
func (c *Commands) validateOverride(ctx context.Context, req bot.ViewRequest) (map[string]string, error) {
	in, problems, err := parseOverride(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return nil, err
	}
	a, err := c.cfg.Store.AccountByID(ctx, in.AccountID)
	if errors.Is(err, csbot.ErrNotFound) {
		return map[string]string{overrideNote: "That account is no longer in csbot, so there is nothing to override."}, nil
	} else if err != nil {
		return nil, fmt.Errorf("override account %d: %w", in.AccountID, err)
	}
	may, err := c.mayOverride(ctx, req.Actor, a)
	if err != nil {
		return nil, err
	}
	if !may {
		return map[string]string{overrideNote: msgNoOverride}, nil
	}
	return problems, nil
}

// submitOverride stores the override and confirms it.
func (c *Commands) submitOverride(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
	in, problems, err := parseOverride(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return bot.Reply{}, err
	}
	if problems != nil {
		return usage("Sorry, that override couldn't be saved: the form was incomplete. Please try again."), nil
	}
	a, err := c.cfg.Store.AccountByID(ctx, in.AccountID)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("override account %d: %w", in.AccountID, err)
	}
	noteAccount(ctx, a.ID)
	if may, err := c.mayOverride(ctx, req.Actor, a); err != nil {
		return bot.Reply{}, err
	} else if !may {
		return usage(msgNoOverride), nil
	}
	now := c.cfg.Now()
	o, err := c.cfg.Store.AddOverride(ctx, csbot.HealthOverride{
		AccountID: a.ID, Score: in.Score, HasScore: in.HasScore, Band: in.Band, Note: in.Note,
		By: req.Actor.SlackID, CreatedAt: now, ExpiresAt: now.AddDate(0, 0, in.Days),
	})
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("save override of account %d: %w", a.ID, err)
	}
	text := fmt.Sprintf("Saved your view of %s's health: %s, until %s. It shows beside the computed score on its health card.",
		bot.Bold(bot.Truncate(displayName(a), maxNameChars)), overrideValue(o, true), shortDate(o.ExpiresAt.In(c.location(req.Actor))))
	return bot.Reply{Text: text}, nil
}
