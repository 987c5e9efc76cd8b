package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// actionOutcome is the action_id of the renewal reminders' "Record the
// outcome" button; its value is the renewal id.
const actionOutcome = "renewal_outcome"

// The outcome modal: its callback_id (its private_metadata is the renewal
// id) and its inputs, each block_id the same as its action_id.
const (
	outcomeCallback = "renewal_outcome"
	outcomeStatus   = "outcome"
	outcomeARR      = "arr"
	outcomeReason   = "reason"
)

// maxOutcomeReason is the longest reason an outcome takes.
const maxOutcomeReason = 500

// What the outcome's button and modal answer when they cannot go on.
const (
	msgNoOutcome   = "Only the account's CSM, its account executive, the CSM's manager or an admin can record how a renewal went. Ask one of them to record it."
	msgGoneRenewal = "That renewal is no longer in csbot. Type `/renewals` and the account's name to see its renewals as they stand."
)

// outcomes lists the outcomes a renewal can be recorded with, in the
// order the modal offers them.
func outcomes() []csbot.RenewalStatus {
	return []csbot.RenewalStatus{csbot.RenewalRenewed, csbot.RenewalExpanded, csbot.RenewalDownsell, csbot.RenewalChurned}
}

// registerOutcome routes the "Record the outcome" button and its modal.
func (c *Commands) registerOutcome(r Registrar) {
	r.HandleAction(actionOutcome, c.openOutcome)
	r.HandleView(outcomeCallback, bot.ViewHandler{Validate: c.validateOutcome, Submit: c.submitOutcome})
}

// mayRecordOutcome reports whether the actor may record how a renewal of
// the account went: those who may override its health (its CSM, their
// manager, an admin) and its account executive.
func (c *Commands) mayRecordOutcome(ctx context.Context, actor bot.Actor, a csbot.Account) (bool, error) {
	if actor.CanChange() && a.AEUserID != "" && actor.SlackID == a.AEUserID {
		return true, nil
	}
	return c.mayOverride(ctx, actor, a)
}

// renewalIDValue reads a renewal id from a button's value or a modal's
// private_metadata.
func renewalIDValue(v string) (int64, bool) { return accountIDValue(v) }

// renewalOf returns the renewal with internal id id and its account, or
// csbot.ErrNotFound when either is gone.
func (c *Commands) renewalOf(ctx context.Context, id int64) (csbot.Renewal, csbot.Account, error) {
	r, err := c.cfg.Store.RenewalByID(ctx, id)
	if err != nil {
		return r, csbot.Account{}, fmt.Errorf("renewal %d: %w", id, err)
	}
	noteAccount(ctx, r.AccountID)
	a, err := c.cfg.Store.AccountByID(ctx, r.AccountID)
	if err != nil {
		return r, a, fmt.Errorf("account of renewal %d: %w", id, err)
	}
	return r, a, nil
}

// openOutcome answers "Record the outcome": the modal; what the renewal
// was recorded as, when it is no longer open; or a refusal.
func (c *Commands) openOutcome(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	id, ok := renewalIDValue(req.Action.Value)
	if !ok {
		return usage(msgStaleButton), nil
	}
	r, a, err := c.renewalOf(ctx, id)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneRenewal), nil
	} else if err != nil {
		return bot.Reply{}, err
	}
	if r.Status != csbot.RenewalOpen {
		return c.recordedReply(ctx, req.Actor, r, a)
	}
	may, err := c.mayRecordOutcome(ctx, req.Actor, a)
	if err != nil {
		return bot.Reply{}, err
	}
	if !may {
		return usage(msgNoOutcome), nil
	}
	m := outcomeModal(a, r)
	return bot.Reply{OpenView: &m}, nil
}

// recordedReply says what a renewal that is no longer open was recorded
// as, by whom and when if it was through csbot.
func (c *Commands) recordedReply(ctx context.Context, actor bot.Actor, r csbot.Renewal, a csbot.Account) (bot.Reply, error) {
	by, at, err := c.cfg.Store.OutcomeRecordedBy(ctx, r.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("who recorded renewal %d: %w", r.ID, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "This renewal of %s on %s was already recorded as %s", bot.Bold(bot.Truncate(displayName(a), maxNameChars)),
		shortDate(r.RenewalDate), outcomeWord(r.Status))
	if by != "" {
		fmt.Fprintf(&b, " by %s on %s", bot.UserMention(by), shortDate(at.In(c.location(actor))))
	}
	fmt.Fprintf(&b, " (%s ARR).", r.ARR.String())
	if r.OutcomeReason != "" {
		b.WriteString(" Why: “" + bot.Escape(foldSpace(r.OutcomeReason)) + "”")
	}
	return bot.Reply{Text: bot.TruncateMrkdwn(b.String(), bot.MaxFallbackText)}, nil
}

// outcomeLabel names an outcome in the modal's choices.
func outcomeLabel(s csbot.RenewalStatus) string {
	switch s {
	case csbot.RenewalRenewed:
		return "Renewed"
	case csbot.RenewalExpanded:
		return "Expanded"
	case csbot.RenewalDownsell:
		return "Downsell"
	case csbot.RenewalChurned:
		return "Churned"
	}
	return "Open"
}

// outcomeWord names an outcome in a sentence: "recorded as a downsell".
func outcomeWord(s csbot.RenewalStatus) string {
	switch s {
	case csbot.RenewalDownsell:
		return "a downsell"
	case csbot.RenewalOpen:
		return "open"
	}
	return strings.ToLower(outcomeLabel(s))
}

// outcomeModal is the form of the outcome of renewal r of account a.
func outcomeModal(a csbot.Account, r csbot.Renewal) slack.ModalViewRequest {
	hints := map[csbot.RenewalStatus]string{
		csbot.RenewalRenewed:  "Renewed on the same terms",
		csbot.RenewalExpanded: "Renewed for more: seats, modules or a higher tier",
		csbot.RenewalDownsell: "Renewed for less",
		csbot.RenewalChurned:  "Did not renew",
	}
	var opts []*slack.OptionBlockObject
	for _, s := range outcomes() {
		opts = append(opts, slack.NewOptionBlockObject(string(s), plainText(outcomeLabel(s)), plainText(hints[s])))
	}
	status := slack.NewInputBlock(outcomeStatus, plainText("How did it go?"), nil,
		slack.NewRadioButtonsBlockElement(outcomeStatus, opts...))

	arr := slack.NewInputBlock(outcomeARR, plainText("New ARR"),
		plainText(fmt.Sprintf("In dollars, for a renewal, expansion or downsell whose ARR changed. Empty keeps %s.", r.ARR.String())),
		slack.NewNumberInputBlockElement(plainText("e.g. 150000"), outcomeARR, true).WithMinValue("0"))
	arr.Optional = true

	reason := slack.NewInputBlock(outcomeReason, plainText("Why"),
		plainText("Required for churned and downsell: why did they leave or reduce? What would have kept them?"),
		slack.NewPlainTextInputBlockElement(plainText("e.g. Budget cut after the merger; a smaller package would have kept them"), outcomeReason).
			WithMultiline(true).WithMaxLength(maxOutcomeReason))
	reason.Optional = true

	intro := fmt.Sprintf("The renewal of %s on %s, with %s ARR at stake.",
		bot.Bold(bot.Truncate(displayName(a), maxNameChars)), shortDate(r.RenewalDate), r.ARR.String())
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText("Record the outcome"),
		Submit:          plainText("Record"),
		Close:           plainText("Cancel"),
		CallbackID:      outcomeCallback,
		PrivateMetadata: strconv.FormatInt(r.ID, 10),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{bot.FitSection(intro), status, arr, reason}},
	}
}

// outcomeInput is what the outcome modal was given.
type outcomeInput struct {
	RenewalID int64
	Status    csbot.RenewalStatus
	// ARR is the new term's ARR; nil when not given.
	ARR    *csbot.Cents
	Reason string
}

// parseOutcome reads the outcome modal's values and private_metadata. It
// returns the problems by block_id (outcomeARRProblem checks the ARR
// against the renewal's); an unreadable renewal id is an error, as csbot
// wrote it.
func parseOutcome(metadata string, values map[string]map[string]slack.BlockAction) (outcomeInput, map[string]string, error) {
	var in outcomeInput
	id, ok := renewalIDValue(metadata)
	if !ok {
		return in, nil, fmt.Errorf("outcome modal: bad renewal id %q", metadata)
	}
	in.RenewalID = id
	get := func(block string) slack.BlockAction { return values[block][block] }
	problems := map[string]string{}

	switch s := csbot.RenewalStatus(get(outcomeStatus).SelectedOption.Value); s {
	case csbot.RenewalRenewed, csbot.RenewalExpanded, csbot.RenewalDownsell, csbot.RenewalChurned:
		in.Status = s
	default:
		problems[outcomeStatus] = "Choose how the renewal went: renewed, expanded, downsell or churned."
	}

	if v := strings.TrimSpace(get(outcomeARR).Value); v != "" {
		c, err := csbot.ParseMoney(v)
		switch {
		case strings.HasPrefix(v, "-"):
			problems[outcomeARR] = "An ARR can't be negative. Type the new term's ARR, or leave it empty."
		case err != nil:
			problems[outcomeARR] = "Type the new ARR in dollars, e.g. 150000 or 150000.50, or leave it empty."
		case in.Status == csbot.RenewalChurned:
			problems[outcomeARR] = "A churned renewal has no new ARR: leave it empty."
		default:
			in.ARR = &c
		}
	}

	in.Reason = strings.TrimSpace(get(outcomeReason).Value)
	switch {
	case in.Reason == "" && in.Status == csbot.RenewalChurned:
		problems[outcomeReason] = "Why did they leave? What would have kept them? The team learns from every churn."
	case in.Reason == "" && in.Status == csbot.RenewalDownsell:
		problems[outcomeReason] = "Why did they reduce? What would have kept them at the full amount?"
	case !utf8.ValidString(in.Reason) || strings.IndexByte(in.Reason, 0) >= 0:
		problems[outcomeReason] = "That text has characters csbot can't store. Please type it again."
	case utf8.RuneCountInString(in.Reason) > maxOutcomeReason:
		problems[outcomeReason] = fmt.Sprintf("Keep it to %d characters.", maxOutcomeReason)
	}
	if len(problems) == 0 {
		problems = nil
	}
	return in, problems, nil
}

// outcomeARRProblem checks a new ARR against the ARR at stake in r: an
// expansion renews for more, a downsell for less. It returns "" when the
// ARR fits the outcome or none was given.
func outcomeARRProblem(in outcomeInput, r csbot.Renewal) string {
	switch {
	case in.ARR == nil:
		return ""
	case in.Status == csbot.RenewalExpanded && *in.ARR <= r.ARR:
		return fmt.Sprintf("An expansion renews for more than the %s at stake. Type the new, higher ARR, or choose renewed or downsell.", r.ARR.String())
	case in.Status == csbot.RenewalDownsell && *in.ARR == 0:
		return "A downsell to nothing is a churn: choose churned, or type the new, lower ARR."
	case in.Status == csbot.RenewalDownsell && *in.ARR >= r.ARR:
		return fmt.Sprintf("A downsell renews for less than the %s at stake. Type the new, lower ARR, or choose renewed or expanded.", r.ARR.String())
	}
	return ""
}

// validateOutcome checks the outcome modal before it closes: the values,
// that the renewal is still open and that the person may record it.
func (c *Commands) validateOutcome(ctx context.Context, req bot.ViewRequest) (map[string]string, error) {
	in, problems, err := parseOutcome(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return nil, err
	}
	r, a, err := c.renewalOf(ctx, in.RenewalID)
	if errors.Is(err, csbot.ErrNotFound) {
		return map[string]string{outcomeStatus: "That renewal is no longer in csbot, so there is nothing to record."}, nil
	} else if err != nil {
		return nil, err
	}
	may, err := c.mayRecordOutcome(ctx, req.Actor, a)
	if err != nil {
		return nil, err
	}
	switch {
	case !may:
		return map[string]string{outcomeStatus: msgNoOutcome}, nil
	case r.Status != csbot.RenewalOpen:
		return map[string]string{outcomeStatus: fmt.Sprintf("Someone recorded this renewal as %s while the form was open. Close the form: there is nothing more to do.",
			outcomeWord(r.Status))}, nil
	}
	if p := outcomeARRProblem(in, r); p != "" && problems[outcomeARR] == "" {
		if problems == nil {
			problems = map[string]string{}
		}
		problems[outcomeARR] = p
	}
	return problems, nil
}

// submitOutcome records the outcome and confirms it to the person alone;
// the reminder in the channel stays as it is.
func (c *Commands) submitOutcome(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
	in, problems, err := parseOutcome(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return bot.Reply{}, err
	}
	r, a, err := c.renewalOf(ctx, in.RenewalID)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneRenewal), nil
	} else if err != nil {
		return bot.Reply{}, err
	}
	if problems != nil || outcomeARRProblem(in, r) != "" {
		return usage("Sorry, that outcome couldn't be recorded: the form was incomplete. Please try again."), nil
	}
	if may, err := c.mayRecordOutcome(ctx, req.Actor, a); err != nil {
		return bot.Reply{}, err
	} else if !may {
		return usage(msgNoOutcome), nil
	}
	rec, err := c.cfg.Store.RecordRenewalOutcome(ctx, r.ID, in.Status, in.ARR, in.Reason, req.Actor.SlackID, c.cfg.Now())
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return usage(msgGoneRenewal), nil
	case conflicted(err):
		// Recorded by someone else since the form opened: say as what.
		cur, curAccount, err := c.renewalOf(ctx, r.ID)
		if errors.Is(err, csbot.ErrNotFound) {
			return usage(msgGoneRenewal), nil
		} else if err != nil {
			return bot.Reply{}, err
		}
		return c.recordedReply(ctx, req.Actor, cur, curAccount)
	case err != nil:
		return bot.Reply{}, fmt.Errorf("record outcome of renewal %d: %w", r.ID, err)
	}
	return bot.Reply{Text: outcomeConfirmation(a, r, rec)}, nil
}

// outcomeConfirmation tells the person what was recorded of renewal old,
// now rec.
func outcomeConfirmation(a csbot.Account, old, rec csbot.Renewal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Recorded the renewal of %s on %s as %s", bot.Bold(bot.Truncate(displayName(a), maxNameChars)),
		shortDate(rec.RenewalDate), outcomeWord(rec.Status))
	switch {
	case rec.Status == csbot.RenewalChurned:
		fmt.Fprintf(&b, ", %s ARR lost. The account's stage is now churned.", rec.ARR.String())
	case rec.ARR != old.ARR:
		fmt.Fprintf(&b, ": ARR %s → %s.", old.ARR.String(), rec.ARR.String())
	default:
		fmt.Fprintf(&b, " at %s ARR.", rec.ARR.String())
	}
	if rec.OutcomeReason != "" {
		b.WriteString(" Why: “" + bot.Escape(foldSpace(rec.OutcomeReason)) + "”")
	}
	return bot.TruncateMrkdwn(b.String(), bot.MaxFallbackText)
}
