package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// ChannelRecheck is the oldest cached answer about a channel that the
// runtime and background senders trust before putting internal data into
// it. A channel_shared event drops the cache at once, but it reaches only
// one replica; the others learn within this time.
const ChannelRecheck = time.Minute

// ChannelInfo is what the guard knows about a conversation.
type ChannelInfo struct {
	ID   string
	Name string
	// ExtShared (is_ext_shared) and PendingExtShared
	// (is_pending_ext_shared) mean people of another organisation are, or
	// are about to be, in the channel: Slack Connect.
	ExtShared        bool
	PendingExtShared bool
	// Shared (is_shared) alone means nothing here: it is also set for
	// channels shared between the workspaces of one Enterprise Grid.
	Shared   bool
	Private  bool
	IM       bool
	MPIM     bool
	Archived bool
	// Member is whether the bot is in the channel.
	Member bool
	// CheckedAt is when Slack said so, by the guard's clock.
	CheckedAt time.Time
}

// External reports whether the channel is shared with another
// organisation, or an invitation to one is pending.
func (c ChannelInfo) External() bool { return c.ExtShared || c.PendingExtShared }

// UserInfo is what the guard knows about a Slack user.
type UserInfo struct {
	ID     string
	TeamID string
	Name   string
	TZ     string
	// Restricted is a multi-channel guest, UltraRestricted a
	// single-channel guest, Stranger a member of another organisation met
	// in a shared channel. A team_id other than the bot's alone is not a
	// sign of an outsider: Enterprise Grid colleagues have their own.
	Restricted      bool
	UltraRestricted bool
	Stranger        bool
	Bot             bool
	Deleted         bool
	// CheckedAt is when Slack said so, by the guard's clock.
	CheckedAt time.Time
}

// Outsider reports whether the user is a guest or from another
// organisation: csbot shows them no internal data.
func (u UserInfo) Outsider() bool { return u.Restricted || u.UltraRestricted || u.Stranger }

// Verdict is the guard's answer for a user in a channel.
type Verdict struct {
	Channel ChannelInfo
	User    UserInfo
}

// Refuse reports whether the user may see no internal data at all.
func (v Verdict) Refuse() bool { return v.User.Outsider() }

// PrivateOnly reports whether internal data may reach the channel only
// as an ephemeral message to the (internal) user who asked.
func (v Verdict) PrivateOnly() bool { return v.Channel.External() }

// guardAPI is the part of slack-go's client the guard calls.
type guardAPI interface {
	GetConversationInfoContext(ctx context.Context, input *slack.GetConversationInfoInput) (*slack.Channel, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
}

// Guard tells whether a channel is shared with another organisation and
// whether a user is a guest or external, so that internal data goes only
// where it may. It caches conversations.info and users.info answers for
// its TTL; Forget drops a channel (the runtime does on channel_shared,
// channel_unshared, channel_id_changed and member_joined_channel). Errors
// are not cached. It is safe for concurrent use.
type Guard struct {
	api guardAPI
	ttl time.Duration
	now func() time.Time
	log *slog.Logger

	mu       sync.Mutex
	channels map[string]ChannelInfo
	users    map[string]UserInfo
	// gen counts Forget calls, so that an answer fetched before a Forget
	// is not cached after it.
	gen uint64
}

// NewGuard returns a guard on api that trusts answers for ttl (default
// DefaultGuardTTL) by the clock now (default time.Now).
func NewGuard(api guardAPI, ttl time.Duration, now func() time.Time, log *slog.Logger) *Guard {
	if ttl <= 0 {
		ttl = DefaultGuardTTL
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Guard{
		api: api, ttl: ttl, now: now, log: log.With("component", "bot/guard"),
		channels: make(map[string]ChannelInfo),
		users:    make(map[string]UserInfo),
	}
}

// Check returns the verdict for userID in channelID, the channel checked
// against an answer at most ChannelRecheck old. It returns the error of
// conversations.info or users.info; treat an error as a refusal.
func (g *Guard) Check(ctx context.Context, channelID, userID string) (Verdict, error) {
	u, err := g.User(ctx, userID)
	if err != nil {
		return Verdict{}, err
	}
	ch, err := g.Channel(ctx, channelID, ChannelRecheck)
	if err != nil {
		return Verdict{User: u}, err
	}
	return Verdict{Channel: ch, User: u}, nil
}

// Channel returns what Slack says of the channel, from the cache when the
// answer there is younger than maxAge (and the TTL; maxAge <= 0 means the
// TTL). Background senders pass ChannelRecheck. A channel the bot cannot
// see (channel_not_found, e.g. a private channel without the bot) is an
// error: treat it as shared.
func (g *Guard) Channel(ctx context.Context, id string, maxAge time.Duration) (ChannelInfo, error) {
	if maxAge <= 0 || maxAge > g.ttl {
		maxAge = g.ttl
	}
	g.mu.Lock()
	c, ok := g.channels[id]
	gen := g.gen
	g.mu.Unlock()
	if ok && g.now().Sub(c.CheckedAt) < maxAge {
		return c, nil
	}
	ch, err := g.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
	if err != nil {
		return ChannelInfo{}, fmt.Errorf("conversations.info %s: %w", id, err)
	}
	c = ChannelInfo{
		ID: ch.ID, Name: ch.Name,
		ExtShared: ch.IsExtShared, PendingExtShared: ch.IsPendingExtShared, Shared: ch.IsShared,
		Private: ch.IsPrivate, IM: ch.IsIM, MPIM: ch.IsMpIM, Archived: ch.IsArchived, Member: ch.IsMember,
		CheckedAt: g.now(),
	}
	if c.ID == "" {
		c.ID = id
	}
	g.mu.Lock()
	if g.gen == gen {
		g.channels[id] = c
	}
	g.mu.Unlock()
	g.log.DebugContext(ctx, "channel checked", "channel", id, "ext_shared", c.ExtShared, "pending_ext_shared", c.PendingExtShared)
	return c, nil
}

// User returns what Slack says of the user, from the cache when the
// answer there is younger than the TTL.
func (g *Guard) User(ctx context.Context, id string) (UserInfo, error) {
	g.mu.Lock()
	u, ok := g.users[id]
	g.mu.Unlock()
	if ok && g.now().Sub(u.CheckedAt) < g.ttl {
		return u, nil
	}
	su, err := g.api.GetUserInfoContext(ctx, id)
	if err != nil {
		return UserInfo{}, fmt.Errorf("users.info %s: %w", id, err)
	}
	u = UserInfo{
		ID: su.ID, TeamID: su.TeamID, Name: su.Name, TZ: su.TZ,
		Restricted: su.IsRestricted, UltraRestricted: su.IsUltraRestricted, Stranger: su.IsStranger,
		Bot: su.IsBot, Deleted: su.Deleted, CheckedAt: g.now(),
	}
	if u.ID == "" {
		u.ID = id
	}
	g.mu.Lock()
	g.users[id] = u
	g.mu.Unlock()
	return u, nil
}

// Forget drops what the guard knows of the channels, so that the next
// check asks Slack.
func (g *Guard) Forget(channelIDs ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen++
	for _, id := range channelIDs {
		delete(g.channels, id)
	}
}
