package commands

import (
	"time"

	"github.com/slack-go/slack"
)

// The exported names of this file let the tests of package commands_test
// reach the touchpoint and outcome modals.

// The action and callback ids of the touchpoint and outcome modals.
const (
	TouchpointCallbackForTest = touchpointCallback
	OutcomeCallbackForTest    = outcomeCallback
	ActionOutcomeForTest      = actionOutcome
)

// TouchpointInputForTest is what the touchpoint modal was given.
type TouchpointInputForTest = touchpointInput

// ParseTouchpointForTest reads the touchpoint modal's values for someone
// whose date is today.
func ParseTouchpointForTest(metadata string, values map[string]map[string]slack.BlockAction, today time.Time) (TouchpointInputForTest, map[string]string, error) {
	return parseTouchpoint(metadata, values, today)
}

// OutcomeInputForTest is what the outcome modal was given.
type OutcomeInputForTest = outcomeInput

// ParseOutcomeForTest reads the outcome modal's values.
func ParseOutcomeForTest(metadata string, values map[string]map[string]slack.BlockAction) (OutcomeInputForTest, map[string]string, error) {
	return parseOutcome(metadata, values)
}
