// Package bot is csbot's Slack runtime: the Socket Mode client and the
// dispatch of slash commands, interactions and events, the channel guard,
// and the one way every feature sends to Slack.
//
// Sending: a Poster queues messages and makes the Web API calls at Slack's
// pace (one message per second per channel, a workspace-wide budget),
// replies to people before background notifications, honours 429
// Retry-After, retries 5xx and network errors with backoff, and returns
// errors callers can tell apart (ErrNotInChannel, ErrArchived,
// ErrInvalidBlocks, ErrHalted...).
//
// Content: everything csbot puts into mrkdwn from data goes through Escape
// (or Bold, Link, UserMention, ChannelMention), so that data renders as text
// and pings nobody. CheckLimits, CheckView and CheckHome hold Block Kit
// payloads to Slack's limits; Truncate, TruncateMrkdwn, FitSection and
// PageBlocks make long content fit instead of being refused.
//
// Operations: Metrics counts envelopes, acks, handler latencies and every
// Web API call (an http.RoundTripper on the client NewClient makes); the
// runtime's Connected says whether the Socket Mode link is up. Each
// envelope's handling runs under a context carrying its envelope id as
// request id (RequestID), which NewContextHandler adds to every line
// logged with that context.
//
// The fake Slack server the tests run the real slack-go client against is
// in bot/slacktest.
package bot
