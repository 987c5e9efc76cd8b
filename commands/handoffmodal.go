package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The handoff modal: its callback_id (its private_metadata is a
// handoffMeta, as JSON) and the inputs that are not the handoff's own
// fields, whose block_id and action_id are the csbot.Handoff... field
// names. Each input's block_id is the same as its action_id.
const (
	handoffCallback = "handoff_new"
	// handoffAccount is the account's name, when the modal was opened
	// without one (the global shortcut, /handoff outside an account
	// channel).
	handoffAccount = "account"
	// handoffCreate is the checkbox "Create this as a new account", and
	// handoffCreateValue its one option's value.
	handoffCreate      = "create_account"
	handoffCreateValue = "create"
	// handoffARR is the new account's ARR, in dollars.
	handoffARR = "arr"
	// handoffPickPrefix and handoffNewPrefix start the block_ids of a
	// stakeholder role's inputs: a pick of the account's contacts of the
	// role ("stakeholder_champion") and a new person typed
	// ("stakeholder_champion_new").
	handoffPickPrefix = "stakeholder_"
	handoffNewSuffix  = "_new"
)

// handoffDateLayout is how Slack's datepicker writes a date.
const handoffDateLayout = "2006-01-02"

// The limits of the modal's own inputs.
const (
	// maxStakeholderText is the longest a role's "new person" input may
	// be: a few people, separated by semicolons.
	maxStakeholderText = 600
	// maxStakeholdersPerRole caps the people typed for one role.
	maxStakeholdersPerRole = 5
	// maxEmail is the longest e-mail address taken (RFC 5321's path).
	maxEmail = 254
	// maxARRText is the longest ARR typed: "$10,000,000,000.00".
	maxARRText = 20
	// maxARRCents caps a new account's ARR: $10 billion.
	maxARRCents = csbot.Cents(1_000_000_000_000)
	// maxNotesPrefill is the most of a message that prefills the notes.
	maxNotesPrefill = csbot.HandoffNotesLimit
)

// handoffRoles are the stakeholder roles the modal asks for, in order.
func handoffRoles() []csbot.ContactRole {
	return []csbot.ContactRole{csbot.RoleChampion, csbot.RoleExecSponsor, csbot.RoleRenewal, csbot.RoleBilling}
}

// stakeholderPickBlock and stakeholderNewBlock are the block_ids of a
// role's inputs.
func stakeholderPickBlock(r csbot.ContactRole) string { return handoffPickPrefix + string(r) }
func stakeholderNewBlock(r csbot.ContactRole) string {
	return handoffPickPrefix + string(r) + handoffNewSuffix
}

// stakeholderLabel names a role in the modal.
func stakeholderLabel(r csbot.ContactRole) string {
	switch r {
	case csbot.RoleChampion:
		return "Champion"
	case csbot.RoleExecSponsor:
		return "Executive sponsor"
	case csbot.RoleRenewal:
		return "Renewal contact"
	case csbot.RoleBilling:
		return "Billing contact"
	}
	return "Contact"
}

// handoffMeta is the handoff modal's private_metadata: the account it is
// for (0 when the person types it), the message it was started from (the
// message shortcut), and the handoff it amends (0 for a new one).
type handoffMeta struct {
	Account int64  `json:"account,omitempty"`
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
	Amend   int64  `json:"amend,omitempty"`
}

// encode returns m as private_metadata.
func (m handoffMeta) encode() string {
	b, err := json.Marshal(m)
	if err != nil { // a struct of ints and strings always encodes
		return "{}"
	}
	return string(b)
}

// parseHandoffMeta reads the handoff modal's private_metadata. Since csbot
// wrote it, anything else than what encode writes is an error.
func parseHandoffMeta(s string) (handoffMeta, error) {
	var m handoffMeta
	if strings.TrimSpace(s) == "" {
		return m, errors.New("handoff modal: no metadata")
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return handoffMeta{}, fmt.Errorf("handoff modal: bad metadata: %w", err)
	}
	switch {
	case m.Account < 0 || m.Amend < 0:
		return handoffMeta{}, fmt.Errorf("handoff modal: bad ids in metadata %q", bot.Truncate(s, 100))
	case m.Channel != "" && !csbot.IsSlackChannelID(m.Channel):
		return handoffMeta{}, fmt.Errorf("handoff modal: bad channel in metadata %q", bot.Truncate(s, 100))
	case m.TS != "" && !isMessageTS(m.TS):
		return handoffMeta{}, fmt.Errorf("handoff modal: bad message ts in metadata %q", bot.Truncate(s, 100))
	}
	return m, nil
}

// isMessageTS reports whether s looks like a Slack message ts:
// "1700000000.000100".
func isMessageTS(s string) bool {
	sec, frac, ok := strings.Cut(s, ".")
	return ok && len(sec) > 0 && len(sec) <= 12 && len(frac) > 0 && len(frac) <= 8 && allDigits(sec) && allDigits(frac)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// handoffModalInput is what a handoff modal opens with.
type handoffModalInput struct {
	Meta handoffMeta
	// Account is the account it is for; nil when the person types it, in
	// an input prefilled with AccountText.
	Account     *csbot.Account
	AccountText string
	// Note, if set, is said under the intro (mrkdwn, escaped): why the
	// account is to be typed.
	Note string
	// Contacts are the account's active contacts, offered per role.
	Contacts []csbot.Contact
	// Prefill is what the inputs start with: a handoff amended, or the
	// notes of a message.
	Prefill csbot.Handoff
}

// handoffModal is the form of a handoff (or of its amendment, when
// in.Meta.Amend is set).
func handoffModal(in handoffModalInput) slack.ModalViewRequest {
	h := in.Prefill
	amending := in.Meta.Amend != 0
	var blocks []slack.Block
	switch {
	case amending && in.Account != nil:
		blocks = append(blocks, bot.FitSection(fmt.Sprintf("Amend the handoff for %s. The posts are updated and the previous version is kept in its history.",
			bot.Bold(bot.Truncate(displayName(*in.Account), maxNameChars)))))
	case in.Account != nil:
		blocks = append(blocks, bot.FitSection(fmt.Sprintf("Hand %s over to onboarding: what the customer wants, who matters, what was sold and promised. It is posted in the account's channel and the onboarding channel.",
			bot.Bold(bot.Truncate(displayName(*in.Account), maxNameChars)))))
	default:
		blocks = append(blocks, bot.FitSection("Hand a closed deal over to onboarding: what the customer wants, who matters, what was sold and promised. It is posted in the account's channel and the onboarding channel."))
	}
	if in.Note != "" {
		blocks = append(blocks, slack.NewContextBlock("handoff_note", mdText(bot.TruncateMrkdwn(in.Note, bot.MaxSectionText))))
	}
	if in.Account == nil {
		acct := slack.NewPlainTextInputBlockElement(plainText("e.g. Acme Corp, acme.com or its CRM id"), handoffAccount).
			WithMaxLength(csbot.HandoffNameLimit)
		if in.AccountText != "" {
			acct = acct.WithInitialValue(bot.Truncate(in.AccountText, csbot.HandoffNameLimit))
		}
		blocks = append(blocks, slack.NewInputBlock(handoffAccount, plainText("Account"),
			plainText("Its name, domain or CRM id, as /health finds it."), acct))
		create := slack.NewInputBlock(handoffCreate, plainText("New customer?"),
			plainText("Only when csbot doesn't have the account yet: it is added with the tier below and this ARR."),
			slack.NewCheckboxGroupsBlockElement(handoffCreate,
				slack.NewOptionBlockObject(handoffCreateValue, plainText("Create this as a new account"), nil)))
		create.Optional = true
		arr := slack.NewInputBlock(handoffARR, plainText("ARR of a new account (USD)"), nil,
			slack.NewNumberInputBlockElement(plainText("e.g. 48000"), handoffARR, true).WithMinValue("0"))
		arr.Optional = true
		blocks = append(blocks, create, arr)
	}

	text := func(field, label, hint, placeholder, initial string, limit int, multiline, optional bool) *slack.InputBlock {
		var ph *slack.TextBlockObject
		if placeholder != "" {
			ph = plainText(placeholder)
		}
		el := slack.NewPlainTextInputBlockElement(ph, field).WithMultiline(multiline).WithMaxLength(limit)
		if initial != "" {
			el = el.WithInitialValue(bot.Truncate(initial, limit))
		}
		var hintText *slack.TextBlockObject
		if hint != "" {
			hintText = plainText(hint)
		}
		b := slack.NewInputBlock(field, plainText(label), hintText, el)
		b.Optional = optional
		return b
	}
	blocks = append(blocks,
		text(csbot.HandoffGoals, "Customer goals", "What they want to achieve with us, in their words.",
			"e.g. Cut onboarding of new stores from 6 weeks to 2", h.Goals, csbot.HandoffTextLimit, true, false),
		text(csbot.HandoffCriteria, "Success criteria", "How they will judge that it worked.",
			"e.g. 40 stores live by March; NPS above 40", h.SuccessCriteria, csbot.HandoffTextLimit, true, false),
		text(csbot.HandoffProducts, "Products and modules bought", "",
			"e.g. Platform Pro, Analytics add-on", h.Products, csbot.HandoffTextLimit, false, false))

	seatsEl := slack.NewNumberInputBlockElement(plainText("e.g. 250"), csbot.HandoffSeats, false).
		WithMinValue("0").WithMaxValue(strconv.Itoa(csbot.HandoffMaxSeats))
	if h.Seats > 0 {
		seatsEl = seatsEl.WithInitialValue(strconv.Itoa(h.Seats))
	}
	seats := slack.NewInputBlock(csbot.HandoffSeats, plainText("Seats"), nil, seatsEl)
	seats.Optional = true
	date := func(field, label string, initial time.Time) *slack.InputBlock {
		el := slack.NewDatePickerBlockElement(field)
		if !initial.IsZero() {
			el.InitialDate = initial.UTC().Format(handoffDateLayout)
		}
		b := slack.NewInputBlock(field, plainText(label), nil, el)
		b.Optional = true
		return b
	}
	blocks = append(blocks, seats,
		date(csbot.HandoffStart, "Contract start", h.ContractStart),
		date(csbot.HandoffGoLive, "Target go-live", h.GoLive),
		text(csbot.HandoffCommitments, "What was promised", "Commitments, custom terms, anything onboarding must deliver.",
			"e.g. SSO by launch; a dedicated trainer for the first month", h.Commitments, csbot.HandoffTextLimit, true, true),
		text(csbot.HandoffRisks, "Risks and concerns", "",
			"e.g. Their IT team is stretched until January", h.Risks, csbot.HandoffTextLimit, true, true))

	tier := h.Tier
	if tier == "" && in.Account != nil {
		tier = in.Account.Tier
	}
	var tiers []*slack.OptionBlockObject
	var initialTier *slack.OptionBlockObject
	for _, t := range csbot.Tiers() {
		o := slack.NewOptionBlockObject(string(t), plainText(tierLabel(t)), nil)
		tiers = append(tiers, o)
		if t == tier {
			initialTier = o
		}
	}
	tierSel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Choose a tier"), csbot.HandoffTier, tiers...)
	tierSel.InitialOption = initialTier
	tierBlock := slack.NewInputBlock(csbot.HandoffTier, plainText("Tier"), plainText("How much attention the account gets."), tierSel)
	tierBlock.Optional = true

	ownerSel := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plainText("Choose a person"), csbot.HandoffOwner)
	if csbot.IsSlackUserID(h.Owner) {
		ownerSel = ownerSel.WithInitialUser(h.Owner)
	}
	owner := slack.NewInputBlock(csbot.HandoffOwner, plainText("Onboarding owner"),
		plainText("Who in onboarding should own it. Leave empty and whoever acknowledges it takes it."), ownerSel)
	owner.Optional = true
	blocks = append(blocks, tierBlock, owner, slack.NewDividerBlock(),
		bot.FitSection("*Stakeholders*: pick a contact on file, or type a new one as `Name <email>` or `Name, email, title` (several: separate them with `;`)."))

	for _, role := range handoffRoles() {
		blocks = append(blocks, stakeholderBlocks(role, in.Contacts, h.Stakeholders)...)
	}
	blocks = append(blocks, slack.NewDividerBlock(),
		text(csbot.HandoffNotes, "Notes", "Anything else onboarding should know.", "e.g. How they buy, who we met, what they worry about", h.Notes, csbot.HandoffNotesLimit, true, true))

	title, submit := "Hand off to onboarding", "Post handoff"
	if amending {
		title, submit = "Amend handoff", "Save changes"
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText(title),
		Submit:          plainText(submit),
		Close:           plainText("Cancel"),
		CallbackID:      handoffCallback,
		PrivateMetadata: in.Meta.encode(),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// stakeholderBlocks are a role's inputs: a pick of the account's contacts
// of the role, when it has any, and a "new person" input. The first of
// prefill's people of the role who is among the contacts is picked; the
// others are written into the input.
func stakeholderBlocks(role csbot.ContactRole, contacts []csbot.Contact, prefill []csbot.Stakeholder) []slack.Block {
	var options []*slack.OptionBlockObject
	byID := map[int64]*slack.OptionBlockObject{}
	for _, ct := range contacts {
		if ct.Role != role || !ct.Active || ct.ID <= 0 || len(options) >= bot.MaxOptions {
			continue
		}
		label := ct.Name
		if ct.Title != "" {
			label += " (" + ct.Title + ")"
		}
		o := slack.NewOptionBlockObject(strconv.FormatInt(ct.ID, 10), plainText(bot.Truncate(label, bot.MaxOptionText)), nil)
		options = append(options, o)
		byID[ct.ID] = o
	}
	var picked *slack.OptionBlockObject
	var typed []string
	for _, s := range prefill {
		if s.Role != role || strings.TrimSpace(s.Name) == "" {
			continue
		}
		if o := byID[s.ContactID]; o != nil && picked == nil {
			picked = o
			continue
		}
		typed = append(typed, formatStakeholder(s))
	}
	var out []slack.Block
	label := stakeholderLabel(role)
	if len(options) > 0 {
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Choose a contact on file"), stakeholderPickBlock(role), options...)
		sel.InitialOption = picked
		b := slack.NewInputBlock(stakeholderPickBlock(role), plainText(label), nil, sel)
		b.Optional = true
		out = append(out, b)
		label += ": or a new one"
	}
	el := slack.NewPlainTextInputBlockElement(plainText("Name <email>, or Name, email, title"), stakeholderNewBlock(role)).
		WithMaxLength(maxStakeholderText)
	if len(typed) > 0 {
		el = el.WithInitialValue(bot.Truncate(strings.Join(typed, "; "), maxStakeholderText))
	}
	b := slack.NewInputBlock(stakeholderNewBlock(role), plainText(label), nil, el)
	b.Optional = true
	return append(out, b)
}

// formatStakeholder writes s as the modal reads it back: "Name <email>,
// title", "Name, title" or "Name".
func formatStakeholder(s csbot.Stakeholder) string {
	out := s.Name
	if s.Email != "" {
		out += " <" + s.Email + ">"
	}
	if s.Title != "" {
		out += ", " + s.Title
	}
	return out
}

// parseStakeholders reads what was typed for new people of role: people
// separated by semicolons or lines, each "Name <email>" (optionally then
// ", title") or "Name, email, title" (the e-mail and the title each
// optional; the first part with an @ is the e-mail). It returns them as
// typed, not yet neutralised, or what is wrong, in words for the form.
func parseStakeholders(role csbot.ContactRole, text string) ([]csbot.Stakeholder, string) {
	if !storable(text) {
		return nil, msgBadCharacters
	}
	var out []csbot.Stakeholder
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ';' || r == '\n' || r == '\r' }) {
		part = strings.TrimFunc(part, unicode.IsSpace)
		if part == "" {
			continue
		}
		if len(out) == maxStakeholdersPerRole {
			return nil, fmt.Sprintf("Name at most %d people here.", maxStakeholdersPerRole)
		}
		s, problem := parseStakeholder(part)
		if problem != "" {
			return nil, problem
		}
		s.Role = role
		out = append(out, s)
	}
	return out, ""
}

// parseStakeholder reads one person: "Name <email>[, title]" or "Name[,
// email][, title]".
func parseStakeholder(p string) (csbot.Stakeholder, string) {
	var s csbot.Stakeholder
	quoted := bot.Truncate(p, 60)
	if open := strings.IndexByte(p, '<'); open >= 0 {
		end := strings.IndexByte(p[open:], '>')
		if end < 0 {
			return s, fmt.Sprintf("“%s” opens < without closing it: write Name <email>.", quoted)
		}
		s.Name = strings.TrimFunc(p[:open], unicode.IsSpace)
		s.Email = strings.TrimFunc(p[open+1:open+end], unicode.IsSpace)
		rest := strings.TrimFunc(p[open+end+1:], unicode.IsSpace)
		if rest != "" {
			title, ok := strings.CutPrefix(rest, ",")
			if !ok {
				return s, fmt.Sprintf("In “%s”, put a comma before the title: Name <email>, title.", quoted)
			}
			s.Title = strings.TrimFunc(title, unicode.IsSpace)
		}
		if s.Email == "" {
			return s, fmt.Sprintf("“%s” has an empty <>: put the e-mail address in it, or leave it out.", quoted)
		}
	} else {
		parts := strings.Split(p, ",")
		s.Name = strings.TrimFunc(parts[0], unicode.IsSpace)
		var title []string
		for _, q := range parts[1:] {
			q = strings.TrimFunc(q, unicode.IsSpace)
			switch {
			case q == "":
			case s.Email == "" && strings.Contains(q, "@"):
				s.Email = q
			default:
				title = append(title, q)
			}
		}
		s.Title = strings.Join(title, ", ")
	}
	for { // "mailto:mailto:x@y" reads as x@y, as it will once written back
		e, ok := cutPrefixFold(s.Email, "mailto:")
		if !ok {
			break
		}
		s.Email = e
	}
	switch {
	case s.Name == "":
		return s, fmt.Sprintf("“%s” has no name: start with the person's name.", quoted)
	case strings.Contains(s.Name, "@"):
		return s, fmt.Sprintf("“%s” starts with an e-mail address: start with the person's name, then the address.", quoted)
	case utf8.RuneCountInString(s.Name) > csbot.HandoffNameLimit:
		return s, fmt.Sprintf("A name is at most %d characters.", csbot.HandoffNameLimit)
	case utf8.RuneCountInString(s.Title) > csbot.HandoffNameLimit:
		return s, fmt.Sprintf("A title is at most %d characters.", csbot.HandoffNameLimit)
	case s.Email != "" && !validEmail(s.Email):
		return s, fmt.Sprintf("“%s” isn't an e-mail address csbot can use.", bot.Truncate(s.Email, 60))
	}
	return s, ""
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// validEmail reports whether s is a plausible e-mail address: one @, a
// local part, a domain with a dot, no spaces or separators.
func validEmail(s string) bool {
	if len(s) > maxEmail || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>,;()[]\\\"", r)
	}) {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		return false
	}
	dot := strings.IndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1 && !strings.Contains(domain, "..")
}

// msgBadCharacters refuses text that PostgreSQL cannot store.
const msgBadCharacters = "That text has characters csbot can't store. Please type it again."

// storable reports whether s can be stored as text: valid UTF-8 without
// NUL.
func storable(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// handoffForm is what the handoff modal was given.
type handoffForm struct {
	Meta handoffMeta
	// AccountText is the account typed, spaces tidied (only when the
	// modal had no account); Create says to add it as a new account, with
	// ARR.
	AccountText string
	Create      bool
	ARR         csbot.Cents
	// Handoff holds the fields typed, as typed (trimmed), without account,
	// author or stakeholders.
	Handoff csbot.Handoff
	// Picked are the contacts picked, by role; New the people typed.
	Picked map[csbot.ContactRole]int64
	New    []csbot.Stakeholder
}

// parseHandoffForm reads the handoff modal's values and private_metadata.
// It returns the problems by block_id (csbot.Handoff.Problems among them);
// unreadable metadata is an error, as csbot wrote it.
func parseHandoffForm(metadata string, values map[string]map[string]slack.BlockAction) (handoffForm, map[string]string, error) {
	var f handoffForm
	meta, err := parseHandoffMeta(metadata)
	if err != nil {
		return f, nil, err
	}
	f.Meta = meta
	get := func(block string) slack.BlockAction { return values[block][block] }
	problems := map[string]string{}
	text := func(field string) string {
		v := strings.TrimFunc(get(field).Value, unicode.IsSpace)
		if !storable(v) {
			problems[field] = msgBadCharacters
			return ""
		}
		return v
	}
	h := &f.Handoff
	h.Goals = text(csbot.HandoffGoals)
	h.SuccessCriteria = text(csbot.HandoffCriteria)
	h.Commitments = text(csbot.HandoffCommitments)
	h.Products = text(csbot.HandoffProducts)
	h.Risks = text(csbot.HandoffRisks)
	h.Notes = text(csbot.HandoffNotes)

	if s := strings.TrimSpace(get(csbot.HandoffSeats).Value); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || len(s) > 9:
			problems[csbot.HandoffSeats] = fmt.Sprintf("Type a whole number of seats from 0 to %d, or leave it empty.", csbot.HandoffMaxSeats)
		default:
			h.Seats = n
		}
	}
	date := func(field string) time.Time {
		s := get(field).SelectedDate
		if s == "" {
			return time.Time{}
		}
		d, err := time.Parse(handoffDateLayout, s)
		if err != nil || d.Year() < 2000 || d.Year() > 2200 {
			problems[field] = "Pick a date from the calendar."
			return time.Time{}
		}
		return d
	}
	h.ContractStart = date(csbot.HandoffStart)
	h.GoLive = date(csbot.HandoffGoLive)
	if t := get(csbot.HandoffTier).SelectedOption.Value; t != "" {
		h.Tier = csbot.Tier(t)
	}
	if u := get(csbot.HandoffOwner).SelectedUser; u != "" {
		if csbot.IsSlackUserID(u) {
			h.Owner = u
		} else {
			problems[csbot.HandoffOwner] = "Choose a person from the list."
		}
	}

	for _, role := range handoffRoles() {
		if v := get(stakeholderPickBlock(role)).SelectedOption.Value; v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				problems[stakeholderPickBlock(role)] = "Choose a contact from the list."
			} else {
				if f.Picked == nil {
					f.Picked = map[csbot.ContactRole]int64{}
				}
				f.Picked[role] = id
			}
		}
		people, problem := parseStakeholders(role, get(stakeholderNewBlock(role)).Value)
		if problem != "" {
			problems[stakeholderNewBlock(role)] = problem
		}
		f.New = append(f.New, people...)
	}

	if meta.Account == 0 && meta.Amend == 0 {
		raw := get(handoffAccount).Value
		f.AccountText = strings.Join(strings.FieldsFunc(raw, isSpace), " ")
		switch {
		case !storable(raw):
			problems[handoffAccount] = msgBadCharacters
		case f.AccountText == "":
			problems[handoffAccount] = "Which account is this for? Type its name, domain or CRM id."
		case utf8.RuneCountInString(f.AccountText) > csbot.HandoffNameLimit:
			problems[handoffAccount] = fmt.Sprintf("An account's name is at most %d characters.", csbot.HandoffNameLimit)
		}
		for _, o := range get(handoffCreate).SelectedOptions {
			if o.Value == handoffCreateValue {
				f.Create = true
			}
		}
		if s := strings.TrimSpace(get(handoffARR).Value); s != "" {
			arr, ok := parseDollars(s)
			if !ok {
				problems[handoffARR] = "Type the yearly amount in dollars, e.g. 48000 or 48000.50."
			}
			f.ARR = arr
		}
		if f.Create && h.Tier == "" && problems[csbot.HandoffTier] == "" {
			problems[csbot.HandoffTier] = "Choose the new account's tier."
		}
	}

	for field, p := range h.Problems() {
		if _, ok := problems[field]; !ok {
			problems[field] = p
		}
	}
	if len(problems) == 0 {
		problems = nil
	}
	return f, problems, nil
}

// parseDollars reads an amount in dollars, "48000", "48,000.5" or
// "$48,000.50", as cents: at most two decimals, not negative, at most
// maxARRCents.
func parseDollars(s string) (csbot.Cents, bool) {
	s = strings.TrimSpace(s)
	if len(s) > maxARRText {
		return 0, false
	}
	s = strings.TrimPrefix(s, "$")
	whole, frac, hasFrac := strings.Cut(s, ".")
	whole = strings.ReplaceAll(whole, ",", "")
	switch {
	case !allDigits(whole) || !allDigits(frac) || len(frac) > 2:
		return 0, false
	case whole == "" && frac == "", hasFrac && frac == "":
		return 0, false
	}
	var cents int64
	for _, c := range whole {
		cents = cents*10 + int64(c-'0')
		if cents > int64(maxARRCents) {
			return 0, false
		}
	}
	cents *= 100
	switch len(frac) {
	case 1:
		cents += int64(frac[0]-'0') * 10
	case 2:
		cents += int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	if csbot.Cents(cents) > maxARRCents {
		return 0, false
	}
	return csbot.Cents(cents), true
}

// neutralised returns h with every free text made safe to re-post (see
// csbot.NeutraliseMentions), each kept within its limit.
func neutralised(h csbot.Handoff) csbot.Handoff {
	clean := func(s string, limit int) string { return bot.Truncate(csbot.NeutraliseMentions(s), limit) }
	h.Goals = clean(h.Goals, csbot.HandoffTextLimit)
	h.SuccessCriteria = clean(h.SuccessCriteria, csbot.HandoffTextLimit)
	h.Commitments = clean(h.Commitments, csbot.HandoffTextLimit)
	h.Products = clean(h.Products, csbot.HandoffTextLimit)
	h.Risks = clean(h.Risks, csbot.HandoffTextLimit)
	h.Notes = clean(h.Notes, csbot.HandoffNotesLimit)
	people := make([]csbot.Stakeholder, len(h.Stakeholders))
	for i, s := range h.Stakeholders {
		s.Name = clean(s.Name, csbot.HandoffNameLimit)
		s.Title = clean(s.Title, csbot.HandoffNameLimit)
		people[i] = s
	}
	h.Stakeholders = people
	return h
}

// notesFromMessage is the notes a message prefills: its text made plain
// and inert, within the notes' limit.
func notesFromMessage(m *slack.Message) string {
	if m == nil {
		return ""
	}
	text := strings.TrimSpace(bot.Unmrkdwn(m.Text))
	if !storable(text) {
		text = strings.ToValidUTF8(strings.ReplaceAll(text, "\x00", ""), "")
	}
	return bot.Truncate(csbot.NeutraliseMentions(text), maxNotesPrefill)
}

// The reassign and question modals: their callback_ids (the reassign
// modal's private_metadata is the handoff id; the question modal's a
// questionMeta) and inputs.
const (
	reassignCallback = "handoff_reassign"
	questionCallback = "handoff_question"
	questionText     = "question"
)

// maxQuestion is the longest question the question modal takes.
const maxQuestion = 2000

// reassignModal is the form that gives handoff v to someone else.
func reassignModal(v csbot.HandoffView) slack.ModalViewRequest {
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plainText("Choose a person"), csbot.HandoffOwner)
	if csbot.IsSlackUserID(v.Handoff.Owner) {
		sel = sel.WithInitialUser(v.Handoff.Owner)
	}
	owner := slack.NewInputBlock(csbot.HandoffOwner, plainText("New owner"), plainText("Who in onboarding should take it."), sel)
	intro := fmt.Sprintf("Give the handoff for %s to someone else in onboarding. Its posts are updated.",
		bot.Bold(bot.Truncate(v.Account.Name, maxNameChars)))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText("Reassign handoff"),
		Submit:          plainText("Reassign"),
		Close:           plainText("Cancel"),
		CallbackID:      reassignCallback,
		PrivateMetadata: strconv.FormatInt(v.Handoff.ID, 10),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{bot.FitSection(intro), owner}},
	}
}

// parseReassign reads the reassign modal: the handoff id and the new
// owner, or the problems by block_id; unreadable metadata is an error.
func parseReassign(metadata string, values map[string]map[string]slack.BlockAction) (int64, string, map[string]string, error) {
	id, ok := accountIDValue(metadata)
	if !ok {
		return 0, "", nil, fmt.Errorf("reassign modal: bad handoff id %q", bot.Truncate(metadata, 100))
	}
	u := values[csbot.HandoffOwner][csbot.HandoffOwner].SelectedUser
	if !csbot.IsSlackUserID(u) {
		return id, "", map[string]string{csbot.HandoffOwner: "Choose who should take it."}, nil
	}
	return id, u, nil, nil
}

// questionMeta is the question modal's private_metadata: the handoff and
// the message whose button opened it.
type questionMeta struct {
	Handoff int64  `json:"handoff"`
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
}

// questionModal is the form of a question about handoff v, asked from
// the message channel/ts.
func questionModal(v csbot.HandoffView, m questionMeta) slack.ModalViewRequest {
	meta, err := json.Marshal(m)
	if err != nil {
		meta = []byte("{}")
	}
	q := slack.NewInputBlock(questionText, plainText("Your question"), plainText("For the author of the handoff."),
		slack.NewPlainTextInputBlockElement(plainText("e.g. Who on their side runs the SSO set-up?"), questionText).
			WithMultiline(true).WithMaxLength(maxQuestion))
	intro := fmt.Sprintf("Ask %s about the handoff for %s.", bot.UserMention(v.Handoff.Author),
		bot.Bold(bot.Truncate(v.Account.Name, maxNameChars)))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText("Ask about a handoff"),
		Submit:          plainText("Ask"),
		Close:           plainText("Cancel"),
		CallbackID:      questionCallback,
		PrivateMetadata: string(meta),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{bot.FitSection(intro), q}},
	}
}

// parseQuestion reads the question modal: its metadata and the question
// (trimmed, not yet neutralised), or the problems by block_id; unreadable
// metadata is an error.
func parseQuestion(metadata string, values map[string]map[string]slack.BlockAction) (questionMeta, string, map[string]string, error) {
	var m questionMeta
	if err := json.Unmarshal([]byte(metadata), &m); err != nil {
		return m, "", nil, fmt.Errorf("question modal: bad metadata: %w", err)
	}
	if m.Handoff <= 0 || m.Channel != "" && !csbot.IsSlackChannelID(m.Channel) || m.TS != "" && !isMessageTS(m.TS) {
		return questionMeta{}, "", nil, fmt.Errorf("question modal: bad metadata %q", bot.Truncate(metadata, 100))
	}
	q := strings.TrimFunc(values[questionText][questionText].Value, unicode.IsSpace)
	switch {
	case !storable(q):
		return m, "", map[string]string{questionText: msgBadCharacters}, nil
	case q == "":
		return m, "", map[string]string{questionText: "Type your question."}, nil
	case utf8.RuneCountInString(q) > maxQuestion:
		return m, "", map[string]string{questionText: fmt.Sprintf("Keep it to %d characters.", maxQuestion)}, nil
	}
	return m, q, nil, nil
}
