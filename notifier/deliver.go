package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// Slack is what delivery needs of Slack. SlackClient provides it from
// the poster, the channel guard and the slack-go client.
type Slack interface {
	// Send posts or updates a message through the poster (paced per
	// channel, 429s and 5xx ridden out).
	Send(ctx context.Context, m bot.Message) (string, error)
	// FindPosted looks in a channel's history since a time for a message
	// carrying metadata md, and returns its ts ("" when there is none).
	FindPosted(ctx context.Context, channel string, md slack.SlackMetadata, since time.Time) (string, error)
	// Channel says what Slack knows of a channel (the guard's answer).
	Channel(ctx context.Context, id string, maxAge time.Duration) (bot.ChannelInfo, error)
	// OpenDM returns the id of the DM channel with a user.
	OpenDM(ctx context.Context, userID string) (string, error)
	// Join makes the bot a member of a public channel.
	Join(ctx context.Context, channelID string) error
	// UserTimezone returns the IANA time zone Slack has for a user, ""
	// when none.
	UserTimezone(ctx context.Context, userID string) (string, error)
}

// SlackClient is Slack through csbot's poster, guard and slack-go client.
type SlackClient struct {
	Poster *bot.Poster
	Guard  *bot.Guard
	API    *slack.Client
}

// Send posts through the poster.
func (c SlackClient) Send(ctx context.Context, m bot.Message) (string, error) {
	return c.Poster.Send(ctx, m)
}

// FindPosted searches the channel's history through the poster.
func (c SlackClient) FindPosted(ctx context.Context, channel string, md slack.SlackMetadata, since time.Time) (string, error) {
	return c.Poster.FindPosted(ctx, channel, md, since)
}

// Channel asks the guard.
func (c SlackClient) Channel(ctx context.Context, id string, maxAge time.Duration) (bot.ChannelInfo, error) {
	return c.Guard.Channel(ctx, id, maxAge)
}

// OpenDM calls conversations.open.
func (c SlackClient) OpenDM(ctx context.Context, userID string) (string, error) {
	ch, _, _, err := c.API.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
	if err != nil {
		return "", fmt.Errorf("conversations.open %s: %w", userID, err)
	}
	return ch.ID, nil
}

// UserTimezone asks the guard (users.info, cached).
func (c SlackClient) UserTimezone(ctx context.Context, userID string) (string, error) {
	u, err := c.Guard.User(ctx, userID)
	if err != nil {
		return "", err
	}
	return u.TZ, nil
}

// Join calls conversations.join, and forgets the guard's answer about
// the channel, whose membership changed.
func (c SlackClient) Join(ctx context.Context, channelID string) error {
	if _, _, _, err := c.API.JoinConversationContext(ctx, channelID); err != nil {
		return fmt.Errorf("conversations.join %s: %w", channelID, err)
	}
	c.Guard.Forget(channelID)
	return nil
}

// dmCache remembers the DM channel of each user.
type dmCache struct{ m sync.Map }

func (n *Notifier) openDM(ctx context.Context, user string) (string, error) {
	if ch, ok := n.dm.m.Load(user); ok {
		return ch.(string), nil
	}
	ch, err := n.cfg.Slack.OpenDM(ctx, user)
	if err != nil {
		return "", err
	}
	n.dm.m.Store(user, ch)
	return ch, nil
}

// errNoSlack is the reason of attempts made by a notifier without Slack.
var errNoSlack = errors.New("no Slack connection")

// Deliver posts one notification: the csbot.DeliveryHandler that the
// store's delivery queue calls. It goes like this:
//
//   - render the message from the notification's payload and the alerts'
//     current state (an update re-renders the message it changes);
//   - find where it goes: a DM is opened; an account channel is checked
//     with the guard: a channel shared outside the company, archived, gone,
//     or private without the bot makes the notification fail for good with
//     its reason, and a DM to the account's CSM is made from it, saying
//     why; the bot joins a public channel it is not in;
//   - when an earlier attempt's outcome is unknown, look for the message by
//     its metadata (the notification's key) in the channel's history since
//     that attempt, and record it as sent if it is there;
//   - post, with the key in the message metadata, and report what Slack
//     said.
func (n *Notifier) Deliver(ctx context.Context, d csbot.Delivery) csbot.DeliveryResult {
	nt := d.Notification
	if n.cfg.Slack == nil {
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: errNoSlack.Error()}
	}
	if nt.Kind == csbot.NotifyAlertUpdate || nt.Kind == csbot.NotifyHandoffUpdate {
		return n.deliverUpdate(ctx, nt)
	}
	if res, stale := n.overtaken(ctx, nt); stale {
		return res
	}
	msg, err := n.render(ctx, nt)
	if err != nil {
		return renderFailure(err)
	}
	res := n.post(ctx, d, msg)
	if d.Final && res.Fallback == nil && (res.Status == csbot.DeliveryRetry || res.Status == csbot.DeliveryUnknown) {
		// Out of attempts: the CSM hears of it rather than nobody.
		note := "csbot could not post this in %s in time, so it came to you."
		if res.Status == csbot.DeliveryUnknown {
			note = "csbot could not confirm this reached %s, so it came to you too."
		}
		if fb := n.refused(nt, res.Reason, fmt.Sprintf(note, bot.ChannelMention(nt.Channel))).Fallback; fb != nil {
			res.Fallback = fb
		}
	}
	return res
}

// renderFailure is the result of a message that could not be rendered: a
// payload that cannot be read never will be; anything else (the database
// unreachable) may work next time.
func renderFailure(err error) csbot.DeliveryResult {
	if errors.Is(err, errBadPayload) {
		return csbot.DeliveryResult{Status: csbot.DeliverySkipped, Reason: "cannot render: " + err.Error()}
	}
	return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: "cannot render: " + err.Error()}
}

// post delivers the rendered message of d.
func (n *Notifier) post(ctx context.Context, d csbot.Delivery, msg bot.Message) csbot.DeliveryResult {
	nt := d.Notification
	var err error
	channel := nt.Channel
	if channel == "" {
		channel, err = n.openDM(ctx, nt.User)
		if err != nil {
			return n.slackFailure(nt, "open DM", err)
		}
	} else if !isDM(channel) {
		if res, ok := n.checkChannel(ctx, nt, channel); !ok {
			return res
		}
	}

	md := slack.SlackMetadata{EventType: csbot.NotificationEventType, EventPayload: nt.Metadata()}
	if d.Uncertain {
		ts, err := n.cfg.Slack.FindPosted(ctx, channel, md, nt.FirstAttemptAt)
		if err != nil {
			return csbot.DeliveryResult{Status: csbot.DeliveryUnknown,
				Reason: "earlier attempt's outcome unknown and channel history unavailable: " + err.Error()}
		}
		if ts != "" {
			n.log.InfoContext(ctx, "notification found already posted", "notification", nt.ID, "channel", channel, "ts", ts)
			return csbot.DeliveryResult{Status: csbot.DeliverySent, Channel: channel, TS: ts}
		}
	}
	msg.Channel, msg.Metadata, msg.Priority = channel, &md, bot.PriorityBackground
	ts, err := n.cfg.Slack.Send(ctx, msg)
	if err != nil {
		return n.slackFailure(nt, "post", err)
	}
	return csbot.DeliveryResult{Status: csbot.DeliverySent, Channel: channel, TS: ts}
}

// checkChannel decides whether nt may be posted in channel, joining it if
// need be. When it may not, it returns the result to record.
func (n *Notifier) checkChannel(ctx context.Context, nt csbot.Notification, channel string) (csbot.DeliveryResult, bool) {
	info, err := n.cfg.Slack.Channel(ctx, channel, bot.ChannelRecheck)
	if err != nil {
		if errors.Is(err, bot.ErrChannelNotFound) || slackCode(err) == "channel_not_found" {
			return n.refused(nt, "the account channel no longer exists or csbot cannot see it",
				fmt.Sprintf("The account channel %s no longer exists or csbot cannot see it, so this came to you.", bot.ChannelMention(channel))), false
		}
		// Unknown channel: treat it as shared until Slack answers.
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: "cannot check the channel: " + err.Error()}, false
	}
	switch {
	case info.External():
		return n.refused(nt, "the account channel is shared outside the company",
			fmt.Sprintf("%s is shared with people outside the company, so this internal note came to you instead.", bot.ChannelMention(channel))), false
	case info.Archived:
		return n.refused(nt, "the account channel is archived",
			fmt.Sprintf("%s is archived, so this came to you. Link a new channel to the account to get its alerts there.", bot.ChannelMention(channel))), false
	case !info.Member && info.Private:
		return n.refused(nt, "csbot is not a member of the private account channel",
			fmt.Sprintf("csbot is not in the private channel %s, so this came to you. Invite csbot there to get alerts in the channel.", bot.ChannelMention(channel))), false
	case !info.Member:
		if err := n.cfg.Slack.Join(ctx, channel); err != nil {
			if c := slackCode(err); c == "is_archived" || c == "channel_not_found" || c == "method_not_supported_for_channel_type" {
				return n.refused(nt, "csbot cannot join the account channel: "+c,
					fmt.Sprintf("csbot could not join %s, so this came to you.", bot.ChannelMention(channel))), false
			}
			return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: "cannot join the channel: " + err.Error()}, false
		}
		n.log.InfoContext(ctx, "joined account channel", "channel", channel)
	}
	return csbot.DeliveryResult{}, true
}

// refused is the result of a channel that refuses nt for good: failed,
// with a DM to the fallback user, if there is one, saying why.
func (n *Notifier) refused(nt csbot.Notification, reason, note string) csbot.DeliveryResult {
	res := csbot.DeliveryResult{Status: csbot.DeliveryFailed, Reason: reason}
	if nt.FallbackUser != "" && nt.User == "" {
		res.Fallback = &csbot.Notification{
			Key:          nt.Key + "/dm",
			Kind:         nt.Kind,
			AccountID:    nt.AccountID,
			User:         nt.FallbackUser,
			FallbackUser: nt.FallbackUser,
			Note:         note,
			Payload:      nt.Payload,
		}
	}
	return res
}

// slackFailure turns a failed Slack call into the result to record.
func (n *Notifier) slackFailure(nt csbot.Notification, what string, err error) csbot.DeliveryResult {
	reason := what + ": " + err.Error()
	switch {
	case errors.Is(err, bot.ErrArchived):
		return n.refused(nt, "the account channel is archived",
			fmt.Sprintf("%s is archived, so this came to you.", bot.ChannelMention(nt.Channel)))
	case errors.Is(err, bot.ErrChannelNotFound):
		return n.refused(nt, "the channel no longer exists",
			fmt.Sprintf("%s no longer exists, so this came to you.", bot.ChannelMention(nt.Channel)))
	case errors.Is(err, bot.ErrNotInChannel):
		return n.refused(nt, "csbot is not in the channel",
			fmt.Sprintf("csbot is not in %s, so this came to you. Invite csbot there to get alerts in the channel.", bot.ChannelMention(nt.Channel)))
	case errors.Is(err, bot.ErrInvalidBlocks), errors.Is(err, bot.ErrMessageTooLong):
		return csbot.DeliveryResult{Status: csbot.DeliveryFailed, Reason: reason}
	case errors.Is(err, bot.ErrHalted):
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: reason}
	}
	switch slackCode(err) {
	case "user_not_found", "user_disabled", "cannot_dm_bot":
		return csbot.DeliveryResult{Status: csbot.DeliveryFailed, Reason: reason}
	case "ratelimited":
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: reason}
	}
	if what == "open DM" {
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: reason}
	}
	// Unavailable, timed out, cut short: the post may have gone through.
	return csbot.DeliveryResult{Status: csbot.DeliveryUnknown, Reason: reason}
}

// overtaken reports whether an escalation or an acknowledged-alert
// reminder no longer applies (the alert was acknowledged, resolved or
// superseded since it was decided), with the result to record.
func (n *Notifier) overtaken(ctx context.Context, nt csbot.Notification) (csbot.DeliveryResult, bool) {
	var want csbot.AlertState
	var alert int64
	switch nt.Kind {
	case csbot.NotifyHandoffNudge, csbot.NotifyHandoffEscalation:
		var p csbot.HandoffPost
		if json.Unmarshal(nt.Payload, &p) != nil {
			return csbot.DeliveryResult{}, false
		}
		v, err := n.cfg.Store.HandoffView(ctx, p.Handoff)
		if err != nil {
			return csbot.DeliveryResult{}, false // rendering tells gone from unreachable
		}
		if v.Handoff.State != csbot.HandoffOpen {
			return csbot.DeliveryResult{Status: csbot.DeliverySkipped, Reason: "the handoff was acknowledged meanwhile"}, true
		}
		return csbot.DeliveryResult{}, false
	case csbot.NotifyEscalation:
		var m csbot.EscalationMessage
		if json.Unmarshal(nt.Payload, &m) != nil {
			return csbot.DeliveryResult{}, false
		}
		want, alert = csbot.AlertEscalated, m.Alert.AlertID
	case csbot.NotifyAckReminder:
		var m csbot.AckReminderMessage
		if json.Unmarshal(nt.Payload, &m) != nil {
			return csbot.DeliveryResult{}, false
		}
		want, alert = csbot.AlertAcknowledged, m.Alert.AlertID
	default:
		return csbot.DeliveryResult{}, false
	}
	st, err := n.cfg.Store.AlertStatuses(ctx, []int64{alert})
	if err != nil {
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: err.Error()}, true
	}
	if s, ok := st[alert]; !ok || s.State != want {
		return csbot.DeliveryResult{Status: csbot.DeliverySkipped,
			Reason: fmt.Sprintf("the alert is %s now; no longer needed", orElse(string(s.State), "gone"))}, true
	}
	return csbot.DeliveryResult{}, false
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// deliverUpdate changes, in place, the message an update (of an alert or
// a handoff) is about: it renders that message's notification anew.
func (n *Notifier) deliverUpdate(ctx context.Context, nt csbot.Notification) csbot.DeliveryResult {
	var up struct {
		Notification int64 `json:"notification"`
	}
	if err := json.Unmarshal(nt.Payload, &up); err != nil {
		return csbot.DeliveryResult{Status: csbot.DeliverySkipped, Reason: "bad payload: " + err.Error()}
	}
	orig, err := n.cfg.Store.PostedAs(ctx, up.Notification)
	switch {
	case errors.Is(err, csbot.ErrNotFound):
		return csbot.DeliveryResult{Status: csbot.DeliverySkipped, Reason: "the message was never posted; nothing to update"}
	case errors.Is(err, csbot.ErrNotYet):
		// Still on its way (or its outcome unknown): update it once it
		// is there, since a render made before this change may be what
		// gets posted.
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: "the message is not posted yet"}
	case err != nil:
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: err.Error()}
	}
	msg, err := n.render(ctx, orig)
	if err != nil {
		return renderFailure(err)
	}
	if !isDM(orig.SlackChannel) {
		info, err := n.cfg.Slack.Channel(ctx, orig.SlackChannel, bot.ChannelRecheck)
		if err != nil {
			return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: "cannot check the channel: " + err.Error()}
		}
		if info.External() {
			return csbot.DeliveryResult{Status: csbot.DeliverySkipped,
				Reason: "the channel is shared outside the company now; its message is left as it was"}
		}
	}
	msg.Channel, msg.UpdateTS, msg.Priority = orig.SlackChannel, orig.SlackTS, bot.PriorityBackground
	if _, err := n.cfg.Slack.Send(ctx, msg); err != nil {
		if errors.Is(err, bot.ErrMessageNotFound) || errors.Is(err, bot.ErrChannelNotFound) || errors.Is(err, bot.ErrArchived) {
			return csbot.DeliveryResult{Status: csbot.DeliverySkipped, Reason: "the alert message is gone: " + err.Error()}
		}
		// An update is idempotent: trying again cannot duplicate it.
		return csbot.DeliveryResult{Status: csbot.DeliveryRetry, Reason: "update: " + err.Error()}
	}
	return csbot.DeliveryResult{Status: csbot.DeliverySent, Channel: orig.SlackChannel, TS: orig.SlackTS}
}

// isDM reports whether a conversation id is a DM channel.
func isDM(id string) bool { return strings.HasPrefix(id, "D") }

// slackCode returns the Slack error code in err, "" when there is none.
func slackCode(err error) string {
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return se.Err
	}
	if pe, ok := errors.AsType[*bot.Error](err); ok {
		return pe.Code
	}
	return ""
}
