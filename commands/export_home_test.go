package commands

import (
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// The exported names of this file let the tests of package commands_test
// reach the App Home.

// ActionHomeSettingsForTest is the action_id of the App Home's
// "Notification settings" button.
const ActionHomeSettingsForTest = actionHomeSettings

// SettingsFromHomeForTest is the private_metadata of an alert settings
// modal opened from the App Home.
const SettingsFromHomeForTest = settingsFromHome

// RenderHomeForTest renders the App Home of actor showing d, read at now
// in UTC under p.
func RenderHomeForTest(actor bot.Actor, d csbot.HomeData, now time.Time, p csbot.Policy) slack.HomeTabViewRequest {
	y, m, day := now.UTC().Date()
	return renderHome(homePage{Actor: actor, Data: d, Today: time.Date(y, m, day, 0, 0, 0, 0, time.UTC), Now: now, Loc: time.UTC, Policy: p})
}
