package playground

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
)

// feedLimit is how many items of a conversation the page shows: the
// latest ones, so that what a change costs does not grow with the
// conversation's history.
const feedLimit = 200

// feedItem is one entry of a channel as a person sees it: a message, an
// ephemeral message only they see, or a slash command they typed there.
type feedItem struct {
	Kind string // "message", "ephemeral" or "command"
	// Key names the item in the page, for the live updates: its kind and
	// ts, or the envelope of a command.
	Key string
	// Channel and TS locate a message for the actions on it.
	Channel string
	TS      string
	At      time.Time
	// Time is At in the reader's zone ("14:05"); Day is set on the first
	// item of a day ("Monday, March 2").
	Time string
	Day  string
	// Text is mrkdwn: the message, or the fallback of its blocks.
	Text string
	// raw is the blocks as sent; Blocks is raw parsed, once the item is
	// to be rendered (see parse).
	raw    json.RawMessage
	Blocks []*block
	Edited bool
	// Replies are the thread under a message, oldest first.
	Replies []feedItem
	// Command is the command line of a command item.
	Command string
	// Inert marks a reply whose elements the page cannot act on: one the
	// bot put in its ack of a slash command, which has no ts. They are
	// shown disabled, with a note.
	Inert bool
}

// Ephemeral reports whether only the reader sees the item.
func (f feedItem) Ephemeral() bool { return f.Kind == "ephemeral" }

// parse decodes the blocks of the item and of its replies.
func (f *feedItem) parse() {
	f.Blocks = parseBlocks(f.raw)
	if f.Inert && !hasElements(f.Blocks) {
		f.Inert = false // nothing to act on: nothing to say
	}
	for i := range f.Replies {
		f.Replies[i].parse()
	}
}

// hasElements reports whether blocks hold an element one could act on.
func hasElements(blocks []*block) bool {
	for _, b := range blocks {
		if b.Accessory != nil || b.Input != nil || len(b.Elements) > 0 {
			return true
		}
	}
	return false
}

// feedData is what a person sees of a conversation: its latest items,
// oldest first, and whether older ones are left out.
type feedData struct {
	Items []feedItem
	Older bool
}

// feed returns what person sees in channel, oldest first: its messages
// with their threads flattened under them, the ephemeral messages csbot
// sent the person there, and the slash commands the person typed there
// (with what the bot's ack answered, if anything), the last feedLimit of
// them. Its cost is bounded by feedLimit, not by the conversation's
// history. A reply whose parent is not among the last messages (older, or
// deleted) is shown on its own.
func (s *Server) feed(snap slacktest.Snapshot, person Person, channel string) feedData {
	var d feedData
	var items []feedItem
	msgs := snap.Messages(channel)
	if len(msgs) > feedLimit {
		msgs, d.Older = msgs[len(msgs)-feedLimit:], true
	}
	parents := map[string]int{} // ts -> index in items
	for _, m := range msgs {
		it := feedItem{Kind: "message", Key: "m" + m.TS, Channel: channel, TS: m.TS, At: m.PostedAt, Text: m.Text,
			raw: m.Blocks, Edited: m.Edits > 0}
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			if i, ok := parents[m.ThreadTS]; ok {
				items[i].Replies = append(items[i].Replies, it)
				continue
			}
		} else {
			parents[m.TS] = len(items)
		}
		items = append(items, it)
	}
	seen := s.sim.EphemeralsSeen(person.ID, channel)
	if len(seen) > feedLimit {
		seen, d.Older = seen[len(seen)-feedLimit:], true
	}
	for _, e := range seen {
		items = append(items, feedItem{Kind: "ephemeral", Key: "e" + e.TS, Channel: channel, TS: e.TS, At: e.At, Text: e.Text,
			raw: e.Blocks})
	}
	cmds, more := s.commandItems(snap, person.ID, channel)
	items = append(items, cmds...)
	d.Older = d.Older || more
	slices.SortStableFunc(items, func(a, b feedItem) int { return a.At.Compare(b.At) })
	if len(items) > feedLimit {
		items, d.Older = items[len(items)-feedLimit:], true
	}

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
	d.Items = items
	return d
}

// commandItems returns the last slash commands user typed in channel
// (feedLimit of them at most, and whether there were more), and the
// replies the bot put in their acks (Slack shows those to the user alone).
func (s *Server) commandItems(snap slacktest.Snapshot, user, channel string) ([]feedItem, bool) {
	cmds := s.cmds.commands(snap.Deliveries(), user, channel)
	more := len(cmds) > feedLimit
	if more {
		cmds = cmds[len(cmds)-feedLimit:]
	}
	var out []feedItem
	for _, c := range cmds {
		out = append(out, feedItem{Kind: "command", Key: "c" + c.firstID, Channel: channel, At: c.at, Command: c.line})
		ack, ok := snap.AckFor(c.firstID)
		if !ok || len(ack.Payload) == 0 {
			continue
		}
		var reply struct {
			Text   string          `json:"text"`
			Blocks json.RawMessage `json:"blocks"`
		}
		if json.Unmarshal(ack.Payload, &reply) == nil && (reply.Text != "" || len(reply.Blocks) > 0) {
			out = append(out, feedItem{Kind: "ephemeral", Key: "a" + c.firstID, Channel: channel, At: ack.At, Text: reply.Text,
				raw: reply.Blocks, Inert: true})
		}
	}
	return out, more
}

// commandLog indexes the slash commands the simulator delivered, by
// person and conversation, reading its deliveries as they grow: a feed
// finds its own commands without going through every delivery.
type commandLog struct {
	mu   sync.Mutex
	read int // deliveries read so far
	by   map[[2]string][]sentCommand
}

// sentCommand is a slash command a person typed.
type sentCommand struct {
	firstID string // the envelope's
	at      time.Time
	line    string // as typed
}

// commands returns the slash commands user typed in channel, oldest
// first, after reading the deliveries not read yet. The list must not be
// modified.
func (l *commandLog) commands(deliveries []slacktest.Delivery, user, channel string) []sentCommand {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ; l.read < len(deliveries); l.read++ {
		d := deliveries[l.read]
		if d.Type != "slash_commands" || d.RetryAttempt != 0 {
			continue
		}
		var p struct {
			UserID    string `json:"user_id"`
			ChannelID string `json:"channel_id"`
			Command   string `json:"command"`
			Text      string `json:"text"`
		}
		if json.Unmarshal(d.Payload, &p) != nil {
			continue
		}
		if l.by == nil {
			l.by = make(map[[2]string][]sentCommand)
		}
		k := [2]string{p.UserID, p.ChannelID}
		l.by[k] = append(l.by[k], sentCommand{firstID: d.FirstID, at: d.SentAt,
			line: strings.TrimSpace(p.Command + " " + readableCommandText(p.Text))})
	}
	list := l.by[[2]string{user, channel}]
	return list[:len(list):len(list)]
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
