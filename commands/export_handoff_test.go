package commands

import (
	"github.com/csbot/csbot"
	"github.com/slack-go/slack"
)

// The exported names of this file let the tests of package commands_test
// reach the handoff modals and their parsers.

// The handoff modals' callback_ids, the handoff buttons' action ids and
// the shortcuts' callback_ids.
const (
	HandoffCallbackForTest   = handoffCallback
	ReassignCallbackForTest  = reassignCallback
	QuestionCallbackForTest  = questionCallback
	ActionHandoffAckForTest  = actionHandoffAck
	ActionHandoffReassignFT  = actionHandoffReassign
	ActionHandoffQuestionFT  = actionHandoffQuestion
	ActionHandoffViewForTest = actionHandoffView
	ActionHandoffAmendFT     = actionHandoffAmend
	ShortcutNewHandoffFT     = shortcutNewHandoff
	ShortcutMessageHandoffFT = shortcutMessageHandoff
)

// HandoffFormForTest is what the handoff modal was given.
type HandoffFormForTest = handoffForm

// HandoffMetaForTest is the handoff modal's private_metadata.
type HandoffMetaForTest = handoffMeta

// ParseHandoffFormForTest reads the handoff modal's values.
func ParseHandoffFormForTest(metadata string, values map[string]map[string]slack.BlockAction) (HandoffFormForTest, map[string]string, error) {
	return parseHandoffForm(metadata, values)
}

// ParseHandoffMetaForTest reads the handoff modal's private_metadata.
func ParseHandoffMetaForTest(s string) (HandoffMetaForTest, error) { return parseHandoffMeta(s) }

// EncodeHandoffMetaForTest writes the handoff modal's private_metadata.
func EncodeHandoffMetaForTest(m HandoffMetaForTest) string { return m.encode() }

// ParseStakeholdersForTest reads the people typed for a role.
func ParseStakeholdersForTest(role csbot.ContactRole, text string) ([]csbot.Stakeholder, string) {
	return parseStakeholders(role, text)
}

// FormatStakeholderForTest writes a person as the modal reads them back.
func FormatStakeholderForTest(s csbot.Stakeholder) string { return formatStakeholder(s) }

// ParseDollarsForTest reads an amount in dollars as cents.
func ParseDollarsForTest(s string) (csbot.Cents, bool) { return parseDollars(s) }

// AccountCandidatesForTest returns what in a message could name an
// account.
func AccountCandidatesForTest(text string) []string { return accountCandidates(text) }

// HandoffModalForTest is the handoff modal for account a (nil: typed),
// offering contacts and prefilled with h.
func HandoffModalForTest(a *csbot.Account, contacts []csbot.Contact, h csbot.Handoff) slack.ModalViewRequest {
	meta := handoffMeta{}
	if a != nil {
		meta.Account = a.ID
	}
	return handoffModal(handoffModalInput{Meta: meta, Account: a, Contacts: contacts, Prefill: h})
}

// StakeholderBlockForTest and StakeholderNewBlockForTest are the block_ids
// of a role's inputs.
func StakeholderBlockForTest(r csbot.ContactRole) string    { return stakeholderPickBlock(r) }
func StakeholderNewBlockForTest(r csbot.ContactRole) string { return stakeholderNewBlock(r) }

// ParseReassignForTest reads the reassign modal.
func ParseReassignForTest(metadata string, values map[string]map[string]slack.BlockAction) (int64, string, map[string]string, error) {
	return parseReassign(metadata, values)
}

// ParseQuestionForTest reads the question modal: the handoff, the
// message's channel and ts, the question.
func ParseQuestionForTest(metadata string, values map[string]map[string]slack.BlockAction) (handoff int64, channel, ts, question string, problems map[string]string, err error) {
	m, q, problems, err := parseQuestion(metadata, values)
	return m.Handoff, m.Channel, m.TS, q, problems, err
}
