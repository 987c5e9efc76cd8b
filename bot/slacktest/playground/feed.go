package playground

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
)

// feedItem is one entry of a channel as a person sees it: a message, an
// ephemeral message only they see, or a slash command they typed there.
type feedItem struct {
	Kind string // "message", "ephemeral" or "command"
	// Channel and TS locate a message for the actions on it.
	Channel string
	TS      string
	At      time.Time
	// Time is At in the reader's zone ("14:05"); Day is set on the first
	// item of a day ("Monday, March 2").
	Time string
	Day  string
	// Text is mrkdwn: the message, or the fallback of its blocks.
	Text   string
	Blocks []*block
	Edited bool
	// Replies are the thread under a message, oldest first.
	Replies []feedItem
	// Command is the command line of a command item.
	Command string
}

// Ephemeral reports whether only the reader sees the item.
func (f feedItem) Ephemeral() bool { return f.Kind == "ephemeral" }

// feed returns what person sees in channel, oldest first: its messages
// with their threads flattened under them, the ephemeral messages csbot
// sent the person there, and the slash commands the person typed there
// (with what the bot's ack answered, if anything).
func (s *Server) feed(snap slacktest.Snapshot, person Person, channel string) []feedItem {
	var items []feedItem
	replies := map[string][]feedItem{}
	for _, m := range snap.Messages(channel) {
		it := feedItem{Kind: "message", Channel: channel, TS: m.TS, At: m.PostedAt, Text: m.Text,
			Blocks: parseBlocks(m.Blocks), Edited: m.Edits > 0}
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			replies[m.ThreadTS] = append(replies[m.ThreadTS], it)
			continue
		}
		items = append(items, it)
	}
	for i := range items {
		items[i].Replies = replies[items[i].TS]
		delete(replies, items[i].TS)
	}
	for _, orphans := range replies { // replies to a message deleted since
		items = append(items, orphans...)
	}
	for _, e := range s.sim.EphemeralsSeen(person.ID, channel) {
		items = append(items, feedItem{Kind: "ephemeral", Channel: channel, TS: e.TS, At: e.At, Text: e.Text,
			Blocks: parseBlocks(e.Blocks)})
	}
	items = append(items, commandItems(snap, person.ID, channel)...)
	slices.SortStableFunc(items, func(a, b feedItem) int { return a.At.Compare(b.At) })

	loc := s.zone(person)
	lastDay := ""
	for i := range items {
		items[i].Time = items[i].At.In(loc).Format("15:04")
		if day := items[i].At.In(loc).Format("Monday, January 2, 2006"); day != lastDay {
			items[i].Day, lastDay = day, day
		}
		for j := range items[i].Replies {
			items[i].Replies[j].Time = items[i].Replies[j].At.In(loc).Format("15:04")
		}
	}
	return items
}

// commandItems returns the slash commands user typed in channel, and the
// replies the bot put in their acks (Slack shows those to the user alone).
func commandItems(snap slacktest.Snapshot, user, channel string) []feedItem {
	var out []feedItem
	for _, d := range snap.Deliveries() {
		if d.Type != "slash_commands" || d.RetryAttempt != 0 {
			continue
		}
		var p struct {
			UserID    string `json:"user_id"`
			ChannelID string `json:"channel_id"`
			Command   string `json:"command"`
			Text      string `json:"text"`
		}
		if json.Unmarshal(d.Payload, &p) != nil || p.UserID != user || p.ChannelID != channel {
			continue
		}
		out = append(out, feedItem{Kind: "command", Channel: channel, At: d.SentAt,
			Command: strings.TrimSpace(p.Command + " " + readableCommandText(p.Text))})
		ack, ok := snap.AckFor(d.FirstID)
		if !ok || len(ack.Payload) == 0 {
			continue
		}
		var reply struct {
			Text   string          `json:"text"`
			Blocks json.RawMessage `json:"blocks"`
		}
		if json.Unmarshal(ack.Payload, &reply) == nil && (reply.Text != "" || len(reply.Blocks) > 0) {
			out = append(out, feedItem{Kind: "ephemeral", Channel: channel, At: ack.At, Text: reply.Text,
				Blocks: parseBlocks(reply.Blocks)})
		}
	}
	return out
}

// readableCommandText turns a command's escaped text back into what was
// typed: <@U1|dana> is @dana, <#C1|acme> is #acme, entities decoded.
func readableCommandText(text string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '<')
		j := strings.IndexByte(text[max(i, 0):], '>')
		if i < 0 || j < 0 {
			break
		}
		inner := text[i+1 : i+j]
		id, label, _ := strings.Cut(inner, "|")
		b.WriteString(text[:i])
		switch {
		case strings.HasPrefix(id, "@"), strings.HasPrefix(id, "#"):
			b.WriteString(id[:1] + cmp.Or(label, id[1:]))
		default:
			b.WriteString("<" + inner + ">")
		}
		text = text[i+j+1:]
	}
	b.WriteString(text)
	return unescapeSlack(b.String())
}
