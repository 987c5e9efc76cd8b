package commands

import (
	"github.com/csbot/csbot"
	"github.com/slack-go/slack"
)

// The exported names of this file let the tests of package commands_test
// reach the alert settings modal.

// SettingsCallbackForTest is the callback_id of the alert settings modal.
const SettingsCallbackForTest = settingsCallback

// ParseSettingsForTest reads the alert settings modal's values.
func ParseSettingsForTest(values map[string]map[string]slack.BlockAction) (map[csbot.SignalKind]csbot.Route, map[string]string) {
	return parseSettings(values)
}
