package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The handoff shortcuts' callback_ids, as manifest.yml declares them.
const (
	shortcutNewHandoff     = "new_handoff"
	shortcutMessageHandoff = "message_to_handoff"
)

// The action ids of the handoff buttons; each value is the handoff id.
// The first three are on the posted handoffs (the notifier renders them),
// the last two on /handoff's answer about an open handoff.
const (
	actionHandoffAck      = "handoff_ack"
	actionHandoffReassign = "handoff_reassign"
	actionHandoffQuestion = "handoff_question"
	actionHandoffView     = "handoff_view"
	actionHandoffAmend    = "handoff_amend"
)

// handoffUsage is /handoff's help.
const handoffUsage = "*/handoff* hands a closed deal over to onboarding: the customer's goals and success criteria, stakeholders, what was sold and promised, go-live, risks.\n" +
	"• `/handoff acme`: write the handoff for Acme (by name, domain or CRM id). If it has one open already, see or amend it\n" +
	"• `/handoff`: the account linked to this channel, or name it in the form; a customer csbot doesn't know yet can be added there\n" +
	"• `/handoff status`: open handoffs waiting for onboarding: yours, or everyone's for onboarding, managers and admins\n" +
	"• `/handoff help`: this help\n" +
	"Also: the *New handoff* shortcut, and *Turn into handoff* on a message to start one from it. Sales, CSMs, CS managers and admins write handoffs; onboarding acknowledges them."

// What people who may not do something are told.
const (
	msgHandoffOnboarding = "Handoffs are written by sales, CSMs, CS managers and admins; onboarding receives them. To take one, use Acknowledge on its post, and see what is waiting with `/handoff status`."
	msgHandoffUnknown    = "Handoffs are written by sales, CSMs, CS managers and admins that csbot knows, and csbot doesn't know you yet. Ask an admin to add you to csbot's users."
	msgNoAck             = "Only onboarding, CS managers and admins can acknowledge or reassign a handoff. If it's yours to take, ask an admin to give you the onboarding role in csbot."
	msgNoQuestion        = "Only members of the team that csbot knows can ask about a handoff. Ask an admin to add you to csbot's users."
	msgGoneHandoff       = "That handoff is no longer in csbot."
	msgClosedHandoff     = "That handoff is closed, so it can't be changed."
)

// handoffStatusLimit is how many handoffs /handoff status lists.
const handoffStatusLimit = 50

// handoffExcerpt caps each text of a handoff shown in a reply.
const handoffExcerpt = 700

// messageLookupBudget bounds the search for an account in a message, so
// that the modal opens before its trigger expires.
const messageLookupBudget = time.Second

// contactsBudget bounds reading an account's contacts before a modal
// opens; without them, the modal offers typed stakeholders only.
const contactsBudget = time.Second

// maxMessageCandidates caps the names looked up in a message.
const maxMessageCandidates = 10

// registerHandoff routes /handoff's buttons and modals, and the handoff
// shortcuts when r takes shortcuts.
func (c *Commands) registerHandoff(r Registrar) {
	r.HandleAction(actionHandoffAck, c.ackHandoff)
	r.HandleAction(actionHandoffReassign, c.openReassign)
	r.HandleAction(actionHandoffQuestion, c.openQuestion)
	r.HandleAction(actionHandoffView, c.viewHandoff)
	r.HandleAction(actionHandoffAmend, c.openAmend)
	r.HandleView(handoffCallback, bot.ViewHandler{Validate: c.validateHandoff, Submit: c.submitHandoff})
	r.HandleView(reassignCallback, bot.ViewHandler{Validate: c.validateReassign, Submit: c.submitReassign})
	r.HandleView(questionCallback, bot.ViewHandler{Validate: c.validateQuestion, Submit: c.submitQuestion})
	if sr, ok := r.(ShortcutRegistrar); ok {
		sr.HandleShortcut(shortcutNewHandoff, c.newHandoffShortcut)
		sr.HandleShortcut(shortcutMessageHandoff, c.messageHandoffShortcut)
	}
}

// handoffRefusal says why the actor may not write handoffs; "" when they
// may.
func handoffRefusal(a bot.Actor) string {
	switch {
	case a.Known && csbot.CanCreateHandoff(a.Role):
		return ""
	case a.Known && a.Role == csbot.UserOnboarding:
		return msgHandoffOnboarding
	case a.Known:
		return "Handoffs are written by sales, CSMs, CS managers and admins. Ask one of them to write it."
	}
	return msgHandoffUnknown
}

// mayAcknowledge reports whether the actor may acknowledge or reassign
// handoffs.
func mayAcknowledge(a bot.Actor) bool { return a.Known && csbot.CanAcknowledgeHandoff(a.Role) }

// handoff answers /handoff.
func (c *Commands) handoff(ctx context.Context, req bot.CommandRequest) (bot.Reply, error) {
	if utf8.RuneCountInString(req.Text) > maxArgText {
		return usage(fmt.Sprintf("That's more than %d characters, too long for an account's name. Try a few words of it.\n\n%s", maxArgText, handoffUsage)), nil
	}
	args := parseArgs(req.Text)
	if len(args) == 1 {
		switch {
		case args[0].keyword("help"), args[0].keyword("?"):
			return usage(handoffUsage), nil
		case args[0].keyword("status"):
			return c.handoffStatus(ctx, req.Request)
		}
	}
	if msg := handoffRefusal(req.Actor); msg != "" {
		return usage(msg), nil
	}
	switch {
	case len(args) == 0:
		return c.handoffHere(ctx, req.Request)
	case len(args) == 1 && args[0].Kind == argChannel:
		accounts, err := c.cfg.Store.AccountsByChannel(ctx, args[0].ID)
		if err != nil {
			return bot.Reply{}, fmt.Errorf("accounts of channel %s: %w", args[0].ID, err)
		}
		switch len(accounts) {
		case 0:
			return usage(fmt.Sprintf("No account is linked to %s. Name the account instead: `/handoff acme`.", bot.ChannelMention(args[0].ID))), nil
		case 1:
			return c.handoffOf(ctx, req.Request, accounts[0])
		}
		return pickList("handoff", fmt.Sprintf("%s is linked to %d accounts. Which one is the handoff for?", bot.ChannelMention(args[0].ID), len(accounts)), accounts), nil
	}
	for _, a := range args {
		if a.Kind != argWord {
			return usage("I didn't understand that.\n\n" + handoffUsage), nil
		}
	}
	query, res, rep, err := c.findAccounts(ctx, joinWords(args), "handoff")
	if err != nil || rep != nil {
		return deref(rep), err
	}
	switch {
	case len(res.Matches) == 1:
		return c.handoffOf(ctx, req.Request, res.Matches[0].Account)
	case len(res.Matches) > 1:
		_, rep := lookupReply("handoff", query, res)
		return deref(rep), nil
	}
	// Nothing matched: the form, with the name to correct, or to add as
	// a new account.
	m := handoffModal(handoffModalInput{Meta: handoffMeta{}, AccountText: query, Note: noAccountNote(query, res.Suggestions)})
	return bot.Reply{OpenView: &m}, nil
}

// noAccountNote says, in the form, that query matched no account.
func noAccountNote(query string, suggestions []csbot.AccountMatch) string {
	q := bot.Escape(bot.Truncate(query, maxNameChars))
	if len(suggestions) == 0 {
		return fmt.Sprintf("No account in csbot matches “%s”. Check the name below, or tick *Create this as a new account* if it's a new customer.", q)
	}
	return fmt.Sprintf("No account in csbot matches “%s”. Did you mean %s? Correct the name below, or tick *Create this as a new account* if it's a new customer.",
		q, orJoin(suggestionNames(suggestions, bot.Escape)))
}

// suggestionNames are the names of the first three suggestions, each
// passed through esc.
func suggestionNames(ms []csbot.AccountMatch, esc func(string) string) []string {
	var out []string
	for _, m := range ms[:min(len(ms), 3)] {
		out = append(out, esc(bot.Truncate(displayName(m.Account), maxNameChars)))
	}
	return out
}

// handoffHere answers /handoff without an account, and the New handoff
// shortcut: the account linked to the channel, a pick-list when several
// are, else the form with the account to name.
func (c *Commands) handoffHere(ctx context.Context, req bot.Request) (bot.Reply, error) {
	var accounts []csbot.Account
	if inChannel(req.ChannelID) {
		var err error
		accounts, err = c.cfg.Store.AccountsByChannel(ctx, req.ChannelID)
		if err != nil {
			return bot.Reply{}, fmt.Errorf("accounts of channel %s: %w", req.ChannelID, err)
		}
	}
	switch {
	case len(accounts) == 1:
		return c.handoffOf(ctx, req, accounts[0])
	case len(accounts) > 1:
		return pickList("handoff", fmt.Sprintf("This channel is linked to %d accounts. Which one is the handoff for?", len(accounts)), accounts), nil
	}
	m := handoffModal(handoffModalInput{Meta: handoffMeta{}})
	return bot.Reply{OpenView: &m}, nil
}

// handoffOf starts a handoff for a: the form, or, when a has a handoff
// open already, what it says with buttons to view or amend it.
func (c *Commands) handoffOf(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error) {
	noteAccount(ctx, a.ID)
	if msg := handoffRefusal(req.Actor); msg != "" {
		return usage(msg), nil
	}
	open, err := c.cfg.Store.OpenHandoffOf(ctx, a.ID)
	switch {
	case err == nil:
		return c.openHandoffReply(req.Actor, a, open), nil
	case !errors.Is(err, csbot.ErrNotFound):
		return bot.Reply{}, fmt.Errorf("open handoff of account %d: %w", a.ID, err)
	}
	m := handoffModal(handoffModalInput{Meta: handoffMeta{Account: a.ID}, Account: &a, Contacts: c.handoffContacts(ctx, a.ID)})
	return bot.Reply{OpenView: &m}, nil
}

// handoffContacts returns the account's active contacts, for the form's
// stakeholder picks; none when they cannot be read in time (the form then
// takes typed stakeholders only).
func (c *Commands) handoffContacts(ctx context.Context, accountID int64) []csbot.Contact {
	ctx, cancel := context.WithTimeout(ctx, contactsBudget)
	defer cancel()
	d, err := c.cfg.Store.AccountDetail(ctx, accountID, c.cfg.Now())
	if err != nil {
		c.log.Warn("contacts for the handoff form; offered none", "account", accountID, "err", err)
		return nil
	}
	return d.Contacts
}

// openHandoffReply tells that a has handoff h open already, with buttons
// to view it whole or amend it.
func (c *Commands) openHandoffReply(actor bot.Actor, a csbot.Account, h csbot.Handoff) bot.Reply {
	loc := c.location(actor)
	name := bot.Bold(bot.Truncate(displayName(a), maxNameChars))
	var b strings.Builder
	fmt.Fprintf(&b, "%s already has a handoff, from %s on %s: %s.", name, bot.UserMention(h.Author),
		shortDate(h.CreatedAt.In(loc)), c.handoffStateWords(h, loc))
	if g := strings.TrimSpace(h.Goals); g != "" {
		fmt.Fprintf(&b, "\n*Goals*: %s", bot.Escape(bot.Truncate(g, 300)))
	}
	b.WriteString("\nView it, or amend it: the change is kept in its history and its posts are updated.")
	id := strconv.FormatInt(h.ID, 10)
	blocks := []slack.Block{bot.FitSection(b.String())}
	if missing := h.Missing(); len(missing) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mdText(bot.TruncateMrkdwn("⚠️ Missing: "+strings.Join(missing, "; "), bot.MaxSectionText))))
	}
	blocks = append(blocks, slack.NewActionBlock("handoff_open",
		slack.NewButtonBlockElement(actionHandoffView, id, plainText("View")),
		slack.NewButtonBlockElement(actionHandoffAmend, id, plainText("Amend"))))
	return bot.Reply{Text: bot.TruncateMrkdwn(fmt.Sprintf("%s already has a handoff, from %s.", name, bot.UserMention(h.Author)), bot.MaxFallbackText),
		Blocks: blocks}
}

// handoffStateWords says where h stands: "waiting for onboarding for 2
// business days", "acknowledged by <@U1> on Nov 23, 2026".
func (c *Commands) handoffStateWords(h csbot.Handoff, loc *time.Location) string {
	switch h.State {
	case csbot.HandoffAcknowledged:
		return fmt.Sprintf("acknowledged by %s on %s", bot.UserMention(h.AckedBy), shortDate(h.AckedAt.In(loc)))
	case csbot.HandoffClosed:
		return "closed"
	}
	return "waiting for onboarding " + businessAge(businessDaysSince(h.CreatedAt, c.cfg.Now(), loc))
}

// businessAge says how long something waited: "since today", "for 1
// business day", "for 3 business days".
func businessAge(n int) string {
	switch n {
	case 0:
		return "since today"
	case 1:
		return "for 1 business day"
	}
	return fmt.Sprintf("for %d business days", n)
}

// businessDaysSince counts the business days (Monday to Friday, on loc's
// calendar) from from to now: 0 within the first one.
func businessDaysSince(from, now time.Time, loc *time.Location) int {
	const most = 999
	n := 0
	for n < most && !csbot.AddBusinessDays(from, n+1, loc).After(now) {
		n++
	}
	return n
}

// handoffViewReply shows handoff v whole, ephemerally.
func (c *Commands) handoffViewReply(actor bot.Actor, v csbot.HandoffView) bot.Reply {
	h, a := v.Handoff, v.Account
	loc := c.location(actor)
	head := fmt.Sprintf("🤝 *Handoff: %s*  ·  %s  ·  %s ARR  ·  from %s on %s", bot.Escape(bot.Truncate(a.Name, maxNameChars)),
		tierLabel(orTier(h.Tier, a.Tier)), a.ARR.String(), bot.UserMention(h.Author), shortDate(h.CreatedAt.In(loc)))
	if h.Owner != "" {
		head += "\nOnboarding owner: " + bot.UserMention(h.Owner)
	} else {
		head += "\nOnboarding owner: not named yet"
	}
	head += "\nStatus: " + c.handoffStateWords(h, loc)
	if v.Amendments > 0 {
		head += fmt.Sprintf(" · amended %d %s", v.Amendments, plural(v.Amendments, "time", "times"))
	}
	blocks := []slack.Block{bot.FitSection(head)}
	add := func(label, text string) {
		if t := strings.TrimSpace(text); t != "" {
			blocks = append(blocks, bot.FitSection("*"+label+"*\n"+bot.Escape(bot.Truncate(t, handoffExcerpt))))
		}
	}
	add("Goals", h.Goals)
	add("Success criteria", h.SuccessCriteria)
	sold := strings.TrimSpace(h.Products)
	if h.Seats > 0 {
		sold += fmt.Sprintf(" · %d seats", h.Seats)
	}
	if !h.ContractStart.IsZero() {
		sold += " · contract from " + shortDate(h.ContractStart.UTC())
	}
	if !h.GoLive.IsZero() {
		sold += " · go-live " + shortDate(h.GoLive.UTC())
	}
	add("Sold", sold)
	add("Promised", h.Commitments)
	var people []string
	for _, s := range h.Stakeholders {
		if strings.TrimSpace(s.Name) == "" {
			continue
		}
		line := stakeholderLabel(s.Role) + ": " + s.Name
		if s.Title != "" {
			line += " (" + s.Title + ")"
		}
		if s.Email != "" {
			line += " · " + s.Email
		}
		people = append(people, bot.Truncate(line, 300))
	}
	add("Stakeholders", strings.Join(people, "\n"))
	add("Risks and concerns", h.Risks)
	add("Notes", h.Notes)
	missing := v.Missing
	if missing == nil {
		missing = h.Missing()
	}
	if len(missing) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mdText(bot.TruncateMrkdwn("⚠️ Missing: "+strings.Join(missing, "; "), bot.MaxSectionText))))
	}
	return bot.Reply{Text: bot.TruncateMrkdwn(fmt.Sprintf("Handoff for %s from %s", bot.Escape(a.Name), bot.UserMention(h.Author)), bot.MaxFallbackText),
		Blocks: blocks}
}

// orTier is t, or alt when t is empty.
func orTier(t, alt csbot.Tier) csbot.Tier {
	if t == "" {
		return alt
	}
	return t
}

// plural picks the singular for 1.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// handoffStatus answers /handoff status: the open handoffs of the actor
// (written or owned by them), or everyone's for onboarding, managers and
// admins, oldest first, with how long each has waited.
func (c *Commands) handoffStatus(ctx context.Context, req bot.Request) (bot.Reply, error) {
	all := req.Actor.Is(csbot.UserOnboarding, csbot.UserManager, csbot.UserAdmin)
	open := []csbot.HandoffState{csbot.HandoffOpen}
	var views []csbot.HandoffView
	if all {
		v, err := c.cfg.Store.Handoffs(ctx, csbot.HandoffFilter{States: open, Limit: handoffStatusLimit})
		if err != nil {
			return bot.Reply{}, fmt.Errorf("open handoffs: %w", err)
		}
		views = v
	} else {
		owned, err := c.cfg.Store.Handoffs(ctx, csbot.HandoffFilter{States: open, Owner: req.Actor.SlackID, Limit: handoffStatusLimit})
		if err != nil {
			return bot.Reply{}, fmt.Errorf("open handoffs owned by %s: %w", req.Actor.SlackID, err)
		}
		written, err := c.cfg.Store.Handoffs(ctx, csbot.HandoffFilter{States: open, Author: req.Actor.SlackID, Limit: handoffStatusLimit})
		if err != nil {
			return bot.Reply{}, fmt.Errorf("open handoffs written by %s: %w", req.Actor.SlackID, err)
		}
		views = owned
		for _, w := range written {
			if !slices.ContainsFunc(views, func(v csbot.HandoffView) bool { return v.Handoff.ID == w.Handoff.ID }) {
				views = append(views, w)
			}
		}
	}
	slices.SortFunc(views, func(a, b csbot.HandoffView) int {
		if c := a.Handoff.CreatedAt.Compare(b.Handoff.CreatedAt); c != 0 {
			return c
		}
		return int(a.Handoff.ID - b.Handoff.ID)
	})
	views = views[:min(len(views), handoffStatusLimit)]
	return c.renderHandoffStatus(req.Actor, all, views), nil
}

// renderHandoffStatus lists open handoffs, everyone's when all.
func (c *Commands) renderHandoffStatus(actor bot.Actor, all bool, views []csbot.HandoffView) bot.Reply {
	if len(views) == 0 {
		if all {
			return bot.Reply{Text: "No handoff is waiting for onboarding: every one has been acknowledged."}
		}
		return bot.Reply{Text: "None of the handoffs you wrote or own is waiting for onboarding. Start one with `/handoff acme`."}
	}
	loc := c.location(actor)
	now := c.cfg.Now()
	intro := fmt.Sprintf("*Your open handoffs*, waiting for onboarding: %d", len(views))
	if all {
		intro = fmt.Sprintf("*Open handoffs* waiting for onboarding: %d", len(views))
	}
	if len(views) == handoffStatusLimit {
		intro += fmt.Sprintf(" (the %d oldest shown)", handoffStatusLimit)
	}
	lines := make([]string, 0, len(views))
	for _, v := range views {
		h := v.Handoff
		owner := "no owner yet"
		if h.Owner != "" {
			owner = "owner " + bot.UserMention(h.Owner)
		}
		days := businessDaysSince(h.CreatedAt, now, loc)
		age := fmt.Sprintf("%d business %s", days, plural(days, "day", "days"))
		if days == 0 {
			age = "since today"
		}
		line := fmt.Sprintf("• %s · %s · from %s · %s", bot.Bold(bot.Truncate(v.Account.Name, maxNameChars)), age, bot.UserMention(h.Author), owner)
		if len(v.Missing) > 0 {
			line += fmt.Sprintf(" · ⚠️ %d missing", len(v.Missing))
		}
		lines = append(lines, line)
	}
	blocks := []slack.Block{bot.FitSection(intro)}
	var chunk strings.Builder
	for _, l := range lines {
		if chunk.Len() > 0 && utf8.RuneCountInString(chunk.String())+1+utf8.RuneCountInString(l) > bot.MaxSectionText {
			blocks = append(blocks, bot.FitSection(chunk.String()))
			chunk.Reset()
		}
		if chunk.Len() > 0 {
			chunk.WriteByte('\n')
		}
		chunk.WriteString(l)
	}
	if chunk.Len() > 0 {
		blocks = append(blocks, bot.FitSection(chunk.String()))
	}
	blocks = blocks[:min(len(blocks), bot.MaxMessageBlocks)]
	return bot.Reply{Text: bot.TruncateMrkdwn(intro+"\n"+strings.Join(lines, "\n"), bot.MaxFallbackText), Blocks: blocks}
}

// newHandoffShortcut answers the New handoff shortcut.
func (c *Commands) newHandoffShortcut(ctx context.Context, req bot.ShortcutRequest) (bot.Reply, error) {
	if msg := handoffRefusal(req.Actor); msg != "" {
		return usage(msg), nil
	}
	return c.handoffHere(ctx, req.Request)
}

// messageHandoffShortcut answers Turn into handoff: the form, its notes
// prefilled with the message and its account guessed from the message
// (an account named in it, else the channel's), to check.
func (c *Commands) messageHandoffShortcut(ctx context.Context, req bot.ShortcutRequest) (bot.Reply, error) {
	if msg := handoffRefusal(req.Actor); msg != "" {
		return usage(msg), nil
	}
	in := handoffModalInput{Prefill: csbot.Handoff{Notes: notesFromMessage(req.Message)}}
	if csbot.IsSlackChannelID(req.ChannelID) {
		in.Meta.Channel = req.ChannelID
	}
	if req.Message != nil && isMessageTS(req.Message.Timestamp) {
		in.Meta.TS = req.Message.Timestamp
	}
	a, ok := c.accountInMessage(ctx, req.ChannelID, req.Message)
	if ok {
		noteAccount(ctx, a.ID)
		in.AccountText = a.Name
		in.Note = fmt.Sprintf("The account, %s, is guessed from the message: check it.", bot.Bold(bot.Truncate(displayName(a), maxNameChars)))
		in.Contacts = c.handoffContacts(ctx, a.ID)
	}
	m := handoffModal(in)
	return bot.Reply{OpenView: &m}, nil
}

// accountInMessage guesses the account a message is about: one that the
// message names (by name, domain or CRM id), else the one linked to the
// channel. It gives up, finding none, when that takes longer than
// messageLookupBudget or the database fails: the form opens all the same.
func (c *Commands) accountInMessage(ctx context.Context, channel string, m *slack.Message) (csbot.Account, bool) {
	ctx, cancel := context.WithTimeout(ctx, messageLookupBudget)
	defer cancel()
	if m != nil {
		for _, q := range accountCandidates(m.Text) {
			res, err := c.cfg.Store.FindAccounts(ctx, q, 2)
			if err != nil {
				c.log.Warn("look for an account in a message; gave up", "err", err)
				return csbot.Account{}, false
			}
			if len(res.Matches) == 1 && namedBy(res.Matches[0], q) {
				return res.Matches[0].Account, true
			}
		}
	}
	if !inChannel(channel) {
		return csbot.Account{}, false
	}
	accounts, err := c.cfg.Store.AccountsByChannel(ctx, channel)
	if err != nil {
		c.log.Warn("accounts of the message's channel; gave up", "channel", channel, "err", err)
		return csbot.Account{}, false
	}
	if len(accounts) == 1 {
		return accounts[0], true
	}
	return csbot.Account{}, false
}

// namedBy reports whether the match is close enough for a name found in
// running text: an exact kind, or the start of a name for a word of four
// letters or more.
func namedBy(m csbot.AccountMatch, q string) bool {
	switch m.Kind {
	case csbot.MatchExternalID, csbot.MatchName, csbot.MatchDomain, csbot.MatchNormalized:
		return true
	case csbot.MatchPartial:
		return utf8.RuneCountInString(q) >= 4
	}
	return false
}

// accountCandidates returns what in a message's text could name an
// account, most telling first: domains and e-mail addresses, quoted
// phrases, then runs of capitalised words (the longest first). At most
// maxMessageCandidates, each at most maxArgText characters.
func accountCandidates(text string) []string {
	text = bot.Truncate(bot.Unmrkdwn(text), 2000)
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) && r != '&' })
		key := strings.ToLower(s)
		if s == "" || seen[key] || len(out) >= maxMessageCandidates || utf8.RuneCountInString(s) > maxArgText {
			return
		}
		seen[key] = true
		out = append(out, s)
	}
	words := strings.FieldsFunc(text, isSpace)
	for _, w := range words {
		w = strings.TrimFunc(w, func(r rune) bool { return unicode.IsPunct(r) && r != '.' && r != '@' || r == '.' })
		if i := strings.LastIndexByte(w, '.'); i > 0 && i < len(w)-2 && !strings.ContainsFunc(w[i+1:], func(r rune) bool { return !unicode.IsLetter(r) }) {
			add(w)
		}
	}
	for _, q := range quotedPhrases(text) {
		add(q)
	}
	// Runs of capitalised words; punctuation at a word's end ends the run.
	var run []string
	flush := func() {
		for n := min(len(run), 3); n >= 1; n-- {
			for i := 0; i+n <= len(run); i++ {
				add(strings.Join(run[i:i+n], " "))
			}
		}
		run = run[:0]
	}
	for _, w := range words {
		core := strings.TrimFunc(w, func(r rune) bool { return unicode.IsPunct(r) && r != '&' })
		first, _ := utf8.DecodeRuneInString(core)
		if core == "" || !unicode.IsUpper(first) && !unicode.IsDigit(first) {
			flush()
			continue
		}
		if len(run) == 5 {
			flush()
		}
		run = append(run, core)
		last, _ := utf8.DecodeLastRuneInString(w)
		if unicode.IsPunct(last) && last != '&' {
			flush()
		}
	}
	flush()
	return out
}

// quotedPhrases returns the phrases in "double" or “curly” quotes.
func quotedPhrases(text string) []string {
	var out []string
	for _, pair := range [][2]string{{`"`, `"`}, {"“", "”"}} {
		s := text
		for {
			i := strings.Index(s, pair[0])
			if i < 0 {
				break
			}
			s = s[i+len(pair[0]):]
			j := strings.Index(s, pair[1])
			if j < 0 {
				break
			}
			if p := strings.TrimSpace(s[:j]); p != "" && utf8.RuneCountInString(p) <= csbot.HandoffNameLimit {
				out = append(out, p)
			}
			s = s[j+len(pair[1]):]
		}
	}
	return out
}

// viewHandoff answers "View": the handoff whole, ephemerally.
func (c *Commands) viewHandoff(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	v, rep, err := c.handoffOfButton(ctx, req)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	return c.handoffViewReply(req.Actor, v), nil
}

// handoffOfButton reads the handoff a button's value names; rep is the
// reply instead when the button is stale or the handoff gone.
func (c *Commands) handoffOfButton(ctx context.Context, req bot.ActionRequest) (csbot.HandoffView, *bot.Reply, error) {
	id, ok := accountIDValue(req.Action.Value)
	if !ok {
		rep := usage(msgStaleButton)
		return csbot.HandoffView{}, &rep, nil
	}
	v, err := c.cfg.Store.HandoffView(ctx, id)
	if errors.Is(err, csbot.ErrNotFound) {
		rep := usage(msgGoneHandoff)
		return v, &rep, nil
	} else if err != nil {
		return v, nil, fmt.Errorf("handoff %d: %w", id, err)
	}
	noteAccount(ctx, v.Handoff.AccountID)
	return v, nil, nil
}

// openAmend answers "Amend": the form prefilled with the handoff.
func (c *Commands) openAmend(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	// The handoff first, so that a refusal is audited with its account.
	v, rep, err := c.handoffOfButton(ctx, req)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	if msg := handoffRefusal(req.Actor); msg != "" {
		return usage(msg), nil
	}
	if v.Handoff.State == csbot.HandoffClosed {
		return usage(msgClosedHandoff), nil
	}
	a, err := c.cfg.Store.AccountByID(ctx, v.Handoff.AccountID)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneAccount), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("account of handoff %d: %w", v.Handoff.ID, err)
	}
	m := handoffModal(handoffModalInput{Meta: handoffMeta{Account: a.ID, Amend: v.Handoff.ID}, Account: &a,
		Contacts: c.handoffContacts(ctx, a.ID), Prefill: v.Handoff})
	return bot.Reply{OpenView: &m}, nil
}

// ackHandoff answers "Acknowledge" on a posted handoff.
func (c *Commands) ackHandoff(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	// The handoff first, so that a refusal is audited with its account.
	v, rep, err := c.handoffOfButton(ctx, req)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	if !mayAcknowledge(req.Actor) {
		return usage(msgNoAck), nil
	}
	h, first, err := c.cfg.Store.AckHandoff(ctx, v.Handoff.ID, req.Actor.SlackID, c.cfg.Now())
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return usage(msgGoneHandoff), nil
	case conflicted(err):
		return usage(msgClosedHandoff), nil
	case err != nil:
		return bot.Reply{}, fmt.Errorf("acknowledge handoff %d: %w", v.Handoff.ID, err)
	}
	name := bot.Bold(bot.Truncate(v.Account.Name, maxNameChars))
	switch {
	case !first && (h.State == csbot.HandoffClosed || h.AckedBy == ""):
		return usage(msgClosedHandoff), nil
	case first:
		return bot.Reply{Text: fmt.Sprintf("Acknowledged the handoff for %s; %s is told.", name, bot.UserMention(h.Author))}, nil
	case h.AckedBy == req.Actor.SlackID:
		return bot.Reply{Text: fmt.Sprintf("You acknowledged the handoff for %s already, on %s.", name, shortDate(h.AckedAt.In(c.location(req.Actor))))}, nil
	}
	return bot.Reply{Text: fmt.Sprintf("Already acknowledged by %s on %s.", bot.UserMention(h.AckedBy), shortDate(h.AckedAt.In(c.location(req.Actor))))}, nil
}

// openReassign answers "Reassign": a form to choose the new owner.
func (c *Commands) openReassign(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	// The handoff first, so that a refusal is audited with its account.
	v, rep, err := c.handoffOfButton(ctx, req)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	if !mayAcknowledge(req.Actor) {
		return usage(msgNoAck), nil
	}
	if v.Handoff.State == csbot.HandoffClosed {
		return usage(msgClosedHandoff), nil
	}
	m := reassignModal(v)
	return bot.Reply{OpenView: &m}, nil
}

// validateReassign checks the reassign form before it closes.
func (c *Commands) validateReassign(ctx context.Context, req bot.ViewRequest) (map[string]string, error) {
	id, _, problems, err := parseReassign(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return nil, err
	}
	if !mayAcknowledge(req.Actor) {
		return map[string]string{csbot.HandoffOwner: msgNoAck}, nil
	}
	if problems != nil {
		return problems, nil
	}
	v, err := c.cfg.Store.HandoffView(ctx, id)
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return map[string]string{csbot.HandoffOwner: msgGoneHandoff}, nil
	case err != nil:
		return nil, fmt.Errorf("handoff %d: %w", id, err)
	case v.Handoff.State == csbot.HandoffClosed:
		return map[string]string{csbot.HandoffOwner: msgClosedHandoff}, nil
	}
	return nil, nil
}

// submitReassign gives the handoff to the person chosen.
func (c *Commands) submitReassign(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
	id, owner, problems, err := parseReassign(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return bot.Reply{}, err
	}
	if !mayAcknowledge(req.Actor) {
		return usage(msgNoAck), nil
	}
	if problems != nil {
		return usage("Sorry, the handoff wasn't reassigned: nobody was chosen. Please try again."), nil
	}
	h, err := c.cfg.Store.ReassignHandoff(ctx, id, owner, req.Actor.SlackID, c.cfg.Now())
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return usage(msgGoneHandoff), nil
	case conflicted(err):
		return usage(msgClosedHandoff), nil
	case err != nil:
		return bot.Reply{}, fmt.Errorf("reassign handoff %d: %w", id, err)
	}
	noteAccount(ctx, h.AccountID)
	name := "the account"
	if a, err := c.cfg.Store.AccountByID(ctx, h.AccountID); err == nil {
		name = bot.Bold(bot.Truncate(displayName(a), maxNameChars))
	} else if !errors.Is(err, csbot.ErrNotFound) {
		return bot.Reply{}, fmt.Errorf("account of handoff %d: %w", id, err)
	}
	return bot.Reply{Text: fmt.Sprintf("The handoff for %s is now %s's to take; its posts are updated.", name, bot.UserMention(owner))}, nil
}

// openQuestion answers "Ask a question": a form for the question, which
// remembers the message the button was on.
func (c *Commands) openQuestion(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	if !req.Actor.CanChange() {
		return usage(msgNoQuestion), nil
	}
	v, rep, err := c.handoffOfButton(ctx, req)
	if err != nil || rep != nil {
		return deref(rep), err
	}
	meta := questionMeta{Handoff: v.Handoff.ID}
	ch, ts := req.Callback.Container.ChannelID, req.Callback.Container.MessageTs
	if ch == "" {
		ch = req.Callback.Channel.ID
	}
	if ts == "" {
		ts = req.Callback.Message.Timestamp
	}
	if csbot.IsSlackChannelID(ch) && isMessageTS(ts) {
		meta.Channel, meta.TS = ch, ts
	}
	m := questionModal(v, meta)
	return bot.Reply{OpenView: &m}, nil
}

// validateQuestion checks the question form before it closes.
func (c *Commands) validateQuestion(_ context.Context, req bot.ViewRequest) (map[string]string, error) {
	_, _, problems, err := parseQuestion(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return nil, err
	}
	if !req.Actor.CanChange() {
		return map[string]string{questionText: msgNoQuestion}, nil
	}
	return problems, nil
}

// submitQuestion posts a question about a handoff in the thread of the
// handoff's message it was asked from, mentioning the author, and tells
// the asker; without that message, the asker gets the question back to
// post themselves.
func (c *Commands) submitQuestion(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
	m, q, problems, err := parseQuestion(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return bot.Reply{}, err
	}
	if !req.Actor.CanChange() {
		return usage(msgNoQuestion), nil
	}
	if problems != nil {
		return usage("Sorry, there was no question to ask. Please try again."), nil
	}
	v, err := c.cfg.Store.HandoffView(ctx, m.Handoff)
	if errors.Is(err, csbot.ErrNotFound) {
		return usage(msgGoneHandoff), nil
	} else if err != nil {
		return bot.Reply{}, fmt.Errorf("handoff %d: %w", m.Handoff, err)
	}
	noteAccount(ctx, v.Handoff.AccountID)
	var quoted []string
	for _, l := range strings.Split(bot.Escape(csbot.NeutraliseMentions(q)), "\n") {
		quoted = append(quoted, "> "+l)
	}
	if m.Channel != "" && m.TS != "" {
		post := fmt.Sprintf("❓ %s asks %s about this handoff:\n%s", bot.UserMention(req.UserID),
			bot.UserMention(v.Handoff.Author), strings.Join(quoted, "\n"))
		text := fmt.Sprintf("Asked %s in the thread of the handoff for %s.", bot.UserMention(v.Handoff.Author),
			bot.Bold(bot.Truncate(v.Account.Name, maxNameChars)))
		return bot.Reply{Text: text, Post: &bot.ChannelPost{Channel: m.Channel, TS: m.TS,
			Text: bot.TruncateMrkdwn(post, bot.MaxFallbackText)}}, nil
	}
	text := fmt.Sprintf("Your question for %s about the handoff for %s:\n%s\nPlease ask it in the handoff's thread.",
		bot.UserMention(v.Handoff.Author), bot.Bold(bot.Truncate(v.Account.Name, maxNameChars)), strings.Join(quoted, "\n"))
	return bot.Reply{Text: bot.TruncateMrkdwn(text, bot.MaxFallbackText)}, nil
}

// handoffTarget is what a handoff form is for: the account (to be
// created when create), and the handoff amended, if any. When problem is
// set, the form cannot be saved; block is where to say so.
type handoffTarget struct {
	account        csbot.Account
	create         bool
	amend          csbot.HandoffView
	block, problem string
}

// resolveHandoffTarget finds what a handoff form is for: the handoff it
// amends, the account it was opened on, or the account typed (to create
// when asked and no account has that name).
func (c *Commands) resolveHandoffTarget(ctx context.Context, f handoffForm) (handoffTarget, error) {
	var t handoffTarget
	fail := func(block, problem string) (handoffTarget, error) {
		t.block, t.problem = block, problem
		return t, nil
	}
	switch {
	case f.Meta.Amend != 0:
		v, err := c.cfg.Store.HandoffView(ctx, f.Meta.Amend)
		switch {
		case errors.Is(err, csbot.ErrNotFound):
			return fail(csbot.HandoffGoals, msgGoneHandoff+" There is nothing to amend.")
		case err != nil:
			return t, fmt.Errorf("handoff %d: %w", f.Meta.Amend, err)
		case v.Handoff.State == csbot.HandoffClosed:
			return fail(csbot.HandoffGoals, msgClosedHandoff)
		}
		t.amend = v
		a, err := c.cfg.Store.AccountByID(ctx, v.Handoff.AccountID)
		if errors.Is(err, csbot.ErrNotFound) {
			return fail(csbot.HandoffGoals, msgGoneAccount)
		} else if err != nil {
			return t, fmt.Errorf("account of handoff %d: %w", v.Handoff.ID, err)
		}
		t.account = a
		return t, nil
	case f.Meta.Account != 0:
		a, err := c.cfg.Store.AccountByID(ctx, f.Meta.Account)
		if errors.Is(err, csbot.ErrNotFound) {
			return fail(csbot.HandoffGoals, "That account is no longer in csbot, so there is nothing to hand off.")
		} else if err != nil {
			return t, fmt.Errorf("handoff account %d: %w", f.Meta.Account, err)
		}
		t.account = a
		return c.checkNoOpenHandoff(ctx, t, csbot.HandoffGoals)
	case f.AccountText == "":
		return fail(handoffAccount, "Which account is this for? Type its name, domain or CRM id.")
	}
	res, err := c.cfg.Store.FindAccounts(ctx, f.AccountText, pickLimit+1)
	if err != nil {
		return t, fmt.Errorf("find account %q: %w", f.AccountText, err)
	}
	quoted := "“" + bot.Truncate(f.AccountText, 80) + "”"
	if f.Create {
		for _, m := range res.Matches {
			if strings.EqualFold(strings.TrimSpace(m.Account.Name), f.AccountText) {
				return fail(handoffAccount, fmt.Sprintf("%s is in csbot already: untick “Create this as a new account” to hand it off.", quoted))
			}
		}
		t.create = true
		return t, nil
	}
	var exact []csbot.AccountMatch
	for _, m := range res.Matches {
		if m.Kind != csbot.MatchFuzzy {
			exact = append(exact, m)
		}
	}
	switch {
	case len(exact) == 1:
		t.account = exact[0].Account
		return c.checkNoOpenHandoff(ctx, t, handoffAccount)
	case len(exact) > 1:
		var names []string
		for _, m := range exact[:min(len(exact), 3)] {
			names = append(names, bot.Truncate(displayName(m.Account), maxNameChars))
		}
		return fail(handoffAccount, fmt.Sprintf("%d accounts match %s, e.g. %s. Type more of the name, or its domain or CRM id.",
			len(exact), quoted, orJoin(names)))
	}
	near := append(res.Matches, res.Suggestions...)
	if len(near) > 0 {
		return fail(handoffAccount, fmt.Sprintf("Not found: no account is called %s. Did you mean %s? Check the name, or tick “Create this as a new account” below.",
			quoted, orJoin(suggestionNames(near, func(s string) string { return s }))))
	}
	return fail(handoffAccount, fmt.Sprintf("Not found: no account matches %s. Check the name, or tick “Create this as a new account” below.", quoted))
}

// checkNoOpenHandoff sets t's problem, on block, when its account has a
// handoff open already: that one is to be amended instead.
func (c *Commands) checkNoOpenHandoff(ctx context.Context, t handoffTarget, block string) (handoffTarget, error) {
	h, err := c.cfg.Store.OpenHandoffOf(ctx, t.account.ID)
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return t, nil
	case err != nil:
		return t, fmt.Errorf("open handoff of account %d: %w", t.account.ID, err)
	}
	t.block = block
	t.problem = fmt.Sprintf("%s has a handoff open already, written %s. Amend that one: type /handoff %s and choose Amend.",
		bot.Truncate(displayName(t.account), maxNameChars), shortDate(h.CreatedAt.UTC()), bot.Truncate(t.account.Name, maxNameChars))
	return t, nil
}

// validateHandoff checks the handoff form before it closes: the values,
// the account (found, or to create), the contacts picked, and that the
// person may write handoffs.
func (c *Commands) validateHandoff(ctx context.Context, req bot.ViewRequest) (map[string]string, error) {
	f, problems, err := parseHandoffForm(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return nil, err
	}
	if msg := handoffRefusal(req.Actor); msg != "" {
		return map[string]string{csbot.HandoffGoals: msg}, nil
	}
	if problems == nil {
		problems = map[string]string{}
	}
	add := func(block, msg string) {
		if _, ok := problems[block]; !ok {
			problems[block] = msg
		}
	}
	t, err := c.resolveHandoffTarget(ctx, f)
	if err != nil {
		return nil, err
	}
	if t.problem != "" {
		add(t.block, t.problem)
	}
	if t.problem == "" && len(f.Picked) > 0 {
		var contacts []csbot.Contact
		if !t.create {
			d, err := c.cfg.Store.AccountDetail(ctx, t.account.ID, c.cfg.Now())
			if err != nil {
				return nil, fmt.Errorf("contacts of account %d: %w", t.account.ID, err)
			}
			contacts = d.Contacts
		}
		for role, id := range f.Picked {
			if _, ok := pickedContact(contacts, role, id); !ok {
				add(stakeholderPickBlock(role), "That contact isn't on file for this account: pick another, or type them below.")
			}
		}
	}
	if len(problems) == 0 {
		return nil, nil
	}
	return problems, nil
}

// pickedContact finds the active contact id of role among contacts.
func pickedContact(contacts []csbot.Contact, role csbot.ContactRole, id int64) (csbot.Contact, bool) {
	for _, ct := range contacts {
		if ct.ID == id && ct.Role == role && ct.Active {
			return ct, true
		}
	}
	return csbot.Contact{}, false
}

// submitHandoff stores the handoff (creating its account first when
// asked), or its amendment, and confirms where it goes. The store posts
// it; the commands never do.
func (c *Commands) submitHandoff(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
	f, problems, err := parseHandoffForm(req.View.PrivateMetadata, viewValues(req.View))
	if err != nil {
		return bot.Reply{}, err
	}
	if msg := handoffRefusal(req.Actor); msg != "" {
		return usage(msg), nil
	}
	if problems != nil {
		return usage("Sorry, that handoff couldn't be saved: the form was incomplete. Please try again."), nil
	}
	t, err := c.resolveHandoffTarget(ctx, f)
	if err != nil {
		return bot.Reply{}, err
	}
	if t.problem != "" {
		return usage("Sorry, the handoff wasn't saved. " + t.problem), nil
	}
	now := c.cfg.Now()
	by := req.Actor.SlackID
	a := t.account
	if t.create {
		a, err = c.cfg.Store.CreateAccount(ctx, csbot.Account{Name: f.AccountText, Tier: f.Handoff.Tier, ARR: f.ARR}, by, now)
		switch {
		case conflicted(err):
			return usage(fmt.Sprintf("Sorry, the handoff wasn't saved: an account called “%s” was added to csbot meanwhile. Start again with `/handoff %s`.",
				bot.Escape(bot.Truncate(f.AccountText, maxNameChars)), bot.Escape(bot.Truncate(f.AccountText, maxNameChars)))), nil
		case err != nil:
			return bot.Reply{}, fmt.Errorf("create account %q for a handoff: %w", f.AccountText, err)
		}
	}

	noteAccount(ctx, a.ID)
	h := f.Handoff
	var contacts []csbot.Contact
	if len(f.Picked) > 0 && !t.create {
		d, err := c.cfg.Store.AccountDetail(ctx, a.ID, now)
		if err != nil {
			return bot.Reply{}, fmt.Errorf("contacts of account %d: %w", a.ID, err)
		}
		contacts = d.Contacts
	}
	for _, role := range handoffRoles() {
		id, ok := f.Picked[role]
		if !ok {
			continue
		}
		if ct, ok := pickedContact(contacts, role, id); ok {
			h.Stakeholders = append(h.Stakeholders, csbot.Stakeholder{ContactID: ct.ID, Role: role, Name: ct.Name, Email: ct.Email, Title: ct.Title})
		}
	}
	h.Stakeholders = append(h.Stakeholders, f.New...)
	h = neutralised(h)

	if t.amend.Handoff.ID != 0 {
		return c.saveAmendment(ctx, req.Actor, a, t.amend.Handoff, h, now)
	}
	h.AccountID, h.Author, h.State = a.ID, by, csbot.HandoffOpen
	saved, err := c.cfg.Store.CreateHandoff(ctx, h, c.cfg.OnboardingChannel, now)
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return usage(msgGoneAccount), nil
	case conflicted(err):
		return usage(fmt.Sprintf("Sorry, the handoff wasn't saved: %s has a handoff open already. Type `/handoff %s` to see or amend it.",
			bot.Bold(bot.Truncate(displayName(a), maxNameChars)), bot.Escape(bot.Truncate(a.Name, maxNameChars)))), nil
	case err != nil:
		return bot.Reply{}, fmt.Errorf("save handoff for account %d: %w", a.ID, err)
	}
	return bot.Reply{Text: c.handoffPostedText(a, saved, t.create)}, nil
}

// saveAmendment stores the amendment of was to the values of h.
func (c *Commands) saveAmendment(ctx context.Context, actor bot.Actor, a csbot.Account, was, h csbot.Handoff, now time.Time) (bot.Reply, error) {
	next := was
	next.Goals, next.SuccessCriteria, next.Commitments, next.Products = h.Goals, h.SuccessCriteria, h.Commitments, h.Products
	next.Seats, next.ContractStart, next.GoLive, next.Risks = h.Seats, h.ContractStart, h.GoLive, h.Risks
	next.Tier, next.Notes, next.Owner, next.Stakeholders = h.Tier, h.Notes, h.Owner, h.Stakeholders
	saved, err := c.cfg.Store.AmendHandoff(ctx, next, actor.SlackID, now)
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return usage(msgGoneHandoff), nil
	case conflicted(err):
		return usage(msgClosedHandoff), nil
	case err != nil:
		return bot.Reply{}, fmt.Errorf("amend handoff %d: %w", was.ID, err)
	}
	text := fmt.Sprintf("Amended the handoff for %s: its posts are updated, and the version before is kept in its history.",
		bot.Bold(bot.Truncate(displayName(a), maxNameChars)))
	if missing := saved.Missing(); len(missing) > 0 {
		text += " Missing: " + strings.Join(missing, "; ") + "."
	}
	return bot.Reply{Text: text}, nil
}

// handoffPostedText confirms a new handoff h for a: where it is posted,
// and what it lacks.
func (c *Commands) handoffPostedText(a csbot.Account, h csbot.Handoff, created bool) string {
	name := bot.Bold(bot.Truncate(displayName(a), maxNameChars))
	accountChannel := h.AccountChannel
	if accountChannel == "" {
		accountChannel = a.SlackChannelID
	}
	onboarding := h.OnboardingChannel
	if onboarding == "" {
		onboarding = c.cfg.OnboardingChannel
	}
	var b strings.Builder
	if created {
		fmt.Fprintf(&b, "Added %s to csbot as a new account (CRM id %s). ", name, bot.Escape(a.ExternalID))
	}
	switch {
	case accountChannel != "" && onboarding != "":
		fmt.Fprintf(&b, "Handoff for %s posted in %s and the onboarding channel; onboarding is asked to acknowledge it.", name, bot.ChannelMention(accountChannel))
	case onboarding != "":
		fmt.Fprintf(&b, "Handoff for %s posted in the onboarding channel; onboarding is asked to acknowledge it. %s has no channel in csbot: link one with `/health link` in it.", name, name)
	case accountChannel != "":
		fmt.Fprintf(&b, "Handoff for %s posted in %s. csbot has no onboarding channel (CSBOT_ONBOARDING_CHANNEL), so tell onboarding yourself.", name, bot.ChannelMention(accountChannel))
	case h.Owner != "" && h.Owner != h.Author:
		fmt.Fprintf(&b, "Handoff for %s sent to %s by direct message: csbot has no channel to post it in. Link the account's channel with `/health link`, and ask an admin to set CSBOT_ONBOARDING_CHANNEL.", name, bot.UserMention(h.Owner))
	default:
		fmt.Fprintf(&b, "Handoff for %s saved and sent to you by direct message: csbot has no channel to post it in. Link the account's channel with `/health link`, and ask an admin to set CSBOT_ONBOARDING_CHANNEL.", name)
	}
	if missing := h.Missing(); len(missing) > 0 {
		b.WriteString(" Missing: " + strings.Join(missing, "; ") + ".")
	}
	return bot.TruncateMrkdwn(b.String(), bot.MaxFallbackText)
}
