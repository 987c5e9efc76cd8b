// Package playground serves a web page that stands in for Slack's client
// in front of the Slack simulator (package slacktest): pick a person and a
// channel, type a slash command, click the buttons of the replies, fill
// in the modals, open the App Home tab, and move the clock on to see the
// schedules' alerts, reminders and digests arrive.
//
// The page is a person using Slack, nothing more. It reaches the bot only
// through the Socket Mode envelopes the simulator sends it
// (SendSlashCommand, SendInteraction, SendEvent), and shows only what the
// bot sent through the Web API and response URLs, as the simulator
// recorded it (messages, ephemerals, views). It renders Block Kit as
// Slack's client does: mrkdwn (see Mrkdwn), sections with fields and
// accessories, headers, dividers, context, actions (buttons, selects,
// overflow menus, date pickers) and the inputs of modals, whose
// submissions carry state.values in Slack's shape, and whose errors
// (response_action "errors") are shown on their fields; a view the bot
// answers a submission with (response_action "update" or "push")
// replaces the modal, or is pushed on it.
//
// The page is server-rendered HTML (html/template) with a little vanilla
// JavaScript, all embedded: it loads nothing from the internet. It follows
// the simulator over Server-Sent Events, so replies appear as the bot
// sends them.
package playground
