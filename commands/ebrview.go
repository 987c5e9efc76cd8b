package commands

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// ebrTitle is the draft window's title.
const ebrTitle = "EBR draft"

// maxEBRSectionEdit is the most a section of an edited draft holds:
// Slack's limit on a text input.
const maxEBRSectionEdit = 3000

// ebrEditBlock is the block_id of a section's input in the edit form:
// this prefix and the section's key; the input's action_id is "text".
const (
	ebrEditBlock  = "sec_"
	ebrEditAction = "text"
)

// draftingModal is the draft window while csbot drafts: version 0 for a
// first draft.
func draftingModal(account string, p csbot.EBRPeriod, version int, withModel bool) slack.ModalViewRequest {
	what := "the EBR"
	if version > 1 {
		what = fmt.Sprintf("version %d of the EBR", version)
	}
	text := fmt.Sprintf(":hourglass_flowing_sand: Drafting %s of %s for %s…", what,
		bot.Bold(bot.Truncate(account, maxNameChars)), bot.Escape(p.Label))
	how := "csbot is writing it from its data; this takes a moment."
	if withModel {
		how = "csbot computes every figure from its data, then asks the language model for the words. This can take up to a minute; you can close this window and the draft is still kept."
	}
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plainText(ebrTitle),
		Close:  plainText("Close"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{bot.FitSection(text), slack.NewContextBlock("", mdText(how))}},
	}
}

// ebrMessageModal is the draft window saying text (mrkdwn, escaped).
func ebrMessageModal(text string) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plainText(ebrTitle),
		Close:  plainText("Close"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{bot.FitSection(text)}},
	}
}

// draftModal is the draft window showing v, with status (mrkdwn,
// escaped) above it when not empty, and its buttons.
func (c *Commands) draftModal(v csbot.EBRVersion, meta ebrMeta, status string) slack.ModalViewRequest {
	meta.Version = v.ID
	blocks := []slack.Block{
		slack.NewHeaderBlock(plainText(bot.Truncate(v.Facts.Account.Name+" · "+v.Period.Label, bot.MaxHeaderText))),
		slack.NewContextBlock("", mdText(provenance(v))),
	}
	if status != "" {
		blocks = append(blocks, bot.FitSection(status))
	}
	blocks = append(blocks, draftBody(v)...)
	val := strconv.FormatInt(v.ID, 10)
	blocks = append(blocks, slack.NewActionBlock("ebr_actions",
		slack.NewButtonBlockElement(actionEBRRegenerate, val, plainText("Regenerate")),
		slack.NewButtonBlockElement(actionEBREdit, val, plainText("Edit")),
		slack.NewButtonBlockElement(actionEBRData, val, plainText("Show the data")),
		slack.NewButtonBlockElement(actionEBRPost, val, plainText("Post to channel")),
		slack.NewButtonBlockElement(actionEBRExport, val, plainText("Export as Markdown")),
	))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText(ebrTitle),
		Close:           plainText("Close"),
		PrivateMetadata: meta.encode(),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// provenance says where a version came from: "Version 2 · drafted by
// gpt-4o-mini in 3.1 s (1,532 tokens) · figures computed from csbot's
// data".
func provenance(v csbot.EBRVersion) string {
	parts := []string{fmt.Sprintf("Version %d", v.Version)}
	switch {
	case v.Edited:
		parts = append(parts, "edited by "+bot.UserMention(v.By))
	case v.Draft.Source == "llm":
		s := "drafted by " + bot.Escape(orElse(v.Draft.Model, "the language model"))
		if v.Latency > 0 {
			s += fmt.Sprintf(" in %.1f s", v.Latency.Seconds())
		}
		if n := v.PromptTokens + v.CompletionTokens; n > 0 {
			s += fmt.Sprintf(" (%s tokens)", csbot.GroupThousands(int64(n)))
		}
		parts = append(parts, s)
	default:
		parts = append(parts, "csbot's template")
	}
	parts = append(parts, "figures computed from csbot's data")
	return strings.Join(parts, " · ")
}

// draftBody is the draft's notes and sections as blocks: why it came from
// the template, the figures to check, then each section.
func draftBody(v csbot.EBRVersion) []slack.Block {
	var blocks []slack.Block
	if v.Draft.Source == "template" && !v.Edited {
		note := "Drafted from csbot's template"
		if v.Draft.Note != "" {
			note += " because " + bot.Escape(v.Draft.Note)
		}
		blocks = append(blocks, slack.NewContextBlock("", mdText(":information_source: "+note+". The figures are the same as a model's would be; the wording is plainer.")))
	}
	if len(v.Draft.Flagged) > 0 {
		items := make([]string, 0, len(v.Draft.Flagged))
		for _, f := range v.Draft.Flagged {
			items = append(items, fmt.Sprintf("“%s” (%s)", bot.Escape(f.Text), csbot.EBRSectionTitle(f.Section)))
		}
		blocks = append(blocks, bot.FitSection(":warning: *Check these figures*: they are not in the data csbot computed, so the model may have made them up: "+
			strings.Join(items, ", ")+". Compare with *Show the data*, and edit or regenerate."))
	}
	for _, key := range csbot.EBRSections() {
		text := strings.TrimSpace(v.Draft.Sections[key])
		body := "_Nothing drafted for this section._"
		if text != "" {
			body = bot.Escape(csbot.MarkFlagged(text, v.Draft.Flagged, key, func(f string) string { return "*" + f + "* :warning:" }))
		}
		for _, part := range splitMrkdwn("*"+csbot.EBRSectionTitle(key)+"*\n"+body, bot.MaxSectionText) {
			blocks = append(blocks, bot.FitSection(part))
		}
	}
	return blocks
}

// splitMrkdwn cuts text into parts of at most limit characters, at line
// ends or spaces where it can (never inside an escape such as &amp;).
func splitMrkdwn(text string, limit int) []string {
	var parts []string
	for utf8.RuneCountInString(text) > limit {
		cut := len(bot.PrefixRunes(text, limit))
		if i := strings.LastIndexByte(text[:cut], '\n'); i > cut/2 {
			cut = i
		} else if i := strings.LastIndexByte(text[:cut], ' '); i > cut/2 {
			cut = i
		} else if i := strings.LastIndexByte(text[:cut], '&'); i > cut-8 && i > 0 {
			cut = i
		}
		parts = append(parts, text[:cut])
		text = strings.TrimLeft(text[cut:], " \n")
	}
	return append(parts, text)
}

// ebrMessage is the draft as a channel message: its text fallback and
// blocks.
func ebrMessage(v csbot.EBRVersion, by string) (string, []slack.Block) {
	title := fmt.Sprintf("EBR draft: %s, %s", v.Facts.Account.Name, v.Period.Label)
	blocks := []slack.Block{
		slack.NewHeaderBlock(plainText(bot.Truncate(title, bot.MaxHeaderText))),
		slack.NewContextBlock("", mdText(provenance(v)+" · shared by "+bot.UserMention(by))),
	}
	blocks = append(blocks, draftBody(v)...)
	if len(blocks) > bot.MaxMessageBlocks {
		blocks = blocks[:bot.MaxMessageBlocks]
	}
	text := bot.TruncateMrkdwn(bot.Escape(title)+": "+bot.Escape(strings.TrimSpace(v.Draft.Sections[csbot.EBRSummary])), bot.MaxFallbackText)
	return text, blocks
}

// factsModal shows the fact sheet a version was drafted from.
func factsModal(v csbot.EBRVersion) slack.ModalViewRequest {
	intro := fmt.Sprintf("What csbot computed from its data for %s, %s, on %s. ",
		bot.Bold(bot.Truncate(v.Facts.Account.Name, maxNameChars)), bot.Escape(v.Period.Label), shortDate(v.CreatedAt))
	if v.Draft.Source == "llm" || v.PromptHash != "" {
		intro += "The language model saw this and nothing else; contact emails are left out."
	} else {
		intro += "Every figure in the draft comes from here."
	}
	blocks := []slack.Block{slack.NewContextBlock("", mdText(intro))}
	for _, g := range csbot.FactSheetText(v.Facts) {
		lines := make([]string, len(g.Lines))
		for i, l := range g.Lines {
			lines[i] = "• " + bot.Escape(l)
		}
		for _, part := range splitMrkdwn("*"+bot.Escape(g.Title)+"*\n"+strings.Join(lines, "\n"), bot.MaxSectionText) {
			if len(blocks) < bot.MaxViewBlocks {
				blocks = append(blocks, bot.FitSection(part))
			}
		}
	}
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plainText("The data"),
		Close:  plainText("Back"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// ebrEditModal is the form that edits v's sections.
func ebrEditModal(v csbot.EBRVersion, meta ebrMeta) slack.ModalViewRequest {
	blocks := []slack.Block{slack.NewContextBlock("", mdText(fmt.Sprintf(
		"Edit version %d of the draft of %s, %s. Saving keeps it as a new version; figures not in csbot's data are flagged again.",
		v.Version, bot.Bold(bot.Truncate(v.Facts.Account.Name, maxNameChars)), bot.Escape(v.Period.Label))))}
	for _, key := range csbot.EBRSections() {
		in := slack.NewPlainTextInputBlockElement(nil, ebrEditAction).WithMultiline(true).WithMaxLength(maxEBRSectionEdit)
		in.InitialValue = bot.PrefixRunes(strings.TrimSpace(v.Draft.Sections[key]), maxEBRSectionEdit)
		b := slack.NewInputBlock(ebrEditBlock+key, plainText(csbot.EBRSectionTitle(key)), nil, in)
		b.Optional = true
		blocks = append(blocks, b)
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText("Edit EBR draft"),
		Submit:          plainText("Save"),
		Close:           plainText("Cancel"),
		CallbackID:      ebrEditCallback,
		PrivateMetadata: meta.encode(),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// parseEBREdit reads the edit form: the sections by key, and the problems
// by block_id.
func parseEBREdit(values map[string]map[string]slack.BlockAction) (map[string]string, map[string]string) {
	sections := map[string]string{}
	problems := map[string]string{}
	filled := false
	for _, key := range csbot.EBRSections() {
		text := strings.TrimSpace(values[ebrEditBlock+key][ebrEditAction].Value)
		switch {
		case !utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0:
			problems[ebrEditBlock+key] = "That text has characters csbot can't store. Please type it again."
		case utf8.RuneCountInString(text) > maxEBRSectionEdit:
			problems[ebrEditBlock+key] = fmt.Sprintf("Keep each section to %d characters.", maxEBRSectionEdit)
		}
		sections[key] = text
		filled = filled || text != ""
	}
	if !filled {
		problems[ebrEditBlock+csbot.EBRSummary] = "The draft is empty. Write at least one section, or cancel to keep the draft as it was."
	}
	if len(problems) == 0 {
		problems = nil
	}
	return sections, problems
}

// validateEBREdit checks the edit form before it closes.
func (c *Commands) validateEBREdit(_ context.Context, req bot.ViewRequest) (map[string]string, error) {
	if _, ok := decodeEBRMeta(req.View.PrivateMetadata); !ok {
		return nil, fmt.Errorf("EBR edit form: bad metadata %q", req.View.PrivateMetadata)
	}
	_, problems := parseEBREdit(viewValues(req.View))
	return problems, nil
}

// submitEBREdit stores the edited draft as a new version and shows it in
// the draft window under the form.
func (c *Commands) submitEBREdit(ctx context.Context, req bot.ViewRequest) (bot.Reply, error) {
	meta, ok := decodeEBRMeta(req.View.PrivateMetadata)
	if !ok {
		return bot.Reply{}, fmt.Errorf("EBR edit form: bad metadata %q", req.View.PrivateMetadata)
	}
	if !req.Actor.CanChange() {
		return usage(msgNoEBR), nil
	}
	sections, problems := parseEBREdit(viewValues(req.View))
	if problems != nil {
		return usage("Sorry, that edit couldn't be saved: the form was incomplete. Please try again."), nil
	}
	v, rep, err := c.versionOf(ctx, strconv.FormatInt(meta.Version, 10))
	if err != nil || rep != nil {
		return deref(rep), err
	}
	edited := v
	edited.ID, edited.Edited, edited.By, edited.CreatedAt = 0, true, req.Actor.SlackID, time.Time{}
	edited.PromptHash, edited.PromptTokens, edited.CompletionTokens, edited.Latency = "", 0, 0, 0
	edited.Draft.Sections = sections
	edited.Draft.Flagged = csbot.FlagFigures(edited.Draft, v.Facts)
	saved, err := c.cfg.Store.SaveEBRDraft(ctx, edited)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("save edited EBR draft of account %d: %w", v.AccountID, err)
	}
	root := cmp.Or(meta.Root, req.View.RootViewID)
	m := c.draftModal(saved, meta, fmt.Sprintf(":pencil2: Saved your edit as version %d.", saved.Version))
	return bot.Reply{ViewID: root, UpdateView: &m}, nil
}
