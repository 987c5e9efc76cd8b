package commands

import (
	"time"

	"github.com/csbot/csbot"
)

// The exported names of this file let the tests of package commands_test
// reach the parsing and layout of /ebr.

// SplitEBRArgsForTest splits /ebr's words into the account and period.
func SplitEBRArgsForTest(words []string, today time.Time, fiscalStart time.Month) (string, csbot.EBRPeriod, error) {
	return splitEBRArgs(words, today, fiscalStart)
}

// SplitMrkdwnForTest cuts text into section-sized parts.
func SplitMrkdwnForTest(text string, limit int) []string { return splitMrkdwn(text, limit) }
