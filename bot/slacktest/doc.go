// Package slacktest is an in-process fake Slack for tests and the local
// playground: the real slack-go client talks to it over loopback.
//
// A Server binds 127.0.0.1 only and plays both halves of Slack:
//
//   - the Web API under URL() ("http://127.0.0.1:<port>/api/", for
//     slack.OptionAPIURL): auth.test, apps.connections.open, chat.postMessage,
//     chat.postEphemeral, chat.update, chat.delete, views.open, views.push,
//     views.update, views.publish, conversations.info, conversations.open,
//     conversations.join, conversations.history, users.info and the
//     files.uploadV2 pair files.getUploadURLExternal and
//     files.completeUploadExternal (whose upload_url is on the same loopback
//     address, under /upload/; see File), and the account channel methods
//     conversations.create, conversations.list (paged), conversations.invite
//     and pins.add (see Members and Pins; auth.test sends x-oauth-scopes
//     when WithScopes says which), with Slack's
//     answers and error shapes (API errors are HTTP 200 with
//     {"ok":false,"error":"..."}; 429 carries Retry-After), form or JSON
//     bodies, bearer or form tokens checked against the configured bot (xoxb-)
//     and app (xapp-) tokens;
//   - Socket Mode: apps.connections.open hands out a single-use
//     ws://127.0.0.1:<port>/link/?ticket=... URL; the socket says hello, is
//     pinged, and carries the envelopes a test pushes with SendSlashCommand,
//     SendInteraction and SendEvent. Acks are recorded with their payload and
//     latency; an envelope not acked within the ack timeout is delivered again
//     with retry_attempt and retry_reason "timeout". The ack of a
//     view_submission with response_action "update" or "push" replaces the
//     modal, or pushes the ack's view on it, as Slack does. Disconnect and
//     DropConnection end the link the polite or the rude way;
//   - response_url endpoints, handed out per envelope, usable five times.
//
// Every Web API call, delivery, ack, connection and response_url post is
// recorded. Tests read the records with Calls, Acks, Messages and friends,
// or block until a condition holds with WaitFor, WaitForCall, WaitForAck and
// WaitForConnection: these wake on every change, so no test has to sleep.
// EphemeralsSeen says which ephemeral messages a user sees, replaced and
// deleted through response URLs as Slack's client shows them; Revision
// counts changes by conversation and by user, for a reader that shows
// part of the workspace and must tell cheaply whether its part changed.
// Faults are injected per method for the next n calls with FailNext: 429
// with Retry-After, 5xx, Slack error codes, slow answers (Fault.Delay: the
// call takes effect only once the delay has passed), and answers held back
// after the call took effect (Fault.DelayAfter: the message is posted, but a
// client that gives up waiting gets no answer and cannot tell).
//
// A bot test looks like this:
//
//	srv := slacktest.New(t, slacktest.WithAckTimeout(200*time.Millisecond))
//	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "acme", Member: true})
//	srv.AddUser(slacktest.User{ID: "U1", Name: "ana", TZ: "Europe/Paris"})
//	api := slack.New(srv.BotToken(), slack.OptionAPIURL(srv.URL()),
//		slack.OptionAppLevelToken(srv.AppToken()))
//	go runBot(ctx, socketmode.New(api))
//	env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{
//		Command: "/health", Text: "acme", UserID: "U1", ChannelID: "C1"})
//	ack, err := srv.WaitForAck(ctx, env.ID)
//	post, err := srv.WaitForResponse(ctx, env.ID)
//
// The Server is safe for concurrent use. Outside tests, Start and Close
// manage it directly; New is the testing wrapper. A server a browser on
// the same machine could reach should be started with tokens of its own
// (WithTokens) and WithHostCheck, which keeps web pages of other sites
// out.
package slacktest
