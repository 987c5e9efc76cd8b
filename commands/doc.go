// Package commands answers csbot's slash commands and the buttons and
// modals that follow from them: /health and /renewals. A handler takes a
// parsed request and the small interfaces it needs (declared here,
// satisfied by the store) and returns a bot.Reply: Block Kit blocks, a
// fallback text that reads well in notifications, and who sees it. Handlers
// hold no socket code, so `csbot try` runs the same handlers without Slack.
package commands
