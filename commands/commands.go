package commands

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
)

// Store is what the commands read and write. *store.Store satisfies it.
type Store interface {
	// FindAccounts looks an account up by what a person typed: external
	// id, name, domain, or a forgiving match (see csbot.MatchKind); limit
	// caps Matches and Suggestions.
	FindAccounts(ctx context.Context, query string, limit int) (csbot.AccountLookup, error)
	// AccountByID returns the account, or csbot.ErrNotFound.
	AccountByID(ctx context.Context, id int64) (csbot.Account, error)
	// AccountDetail returns what /health shows of the account at now, or
	// csbot.ErrNotFound.
	AccountDetail(ctx context.Context, id int64, now time.Time) (csbot.AccountDetail, error)
	// AccountsByChannel returns the accounts linked to the Slack channel,
	// by name.
	AccountsByChannel(ctx context.Context, channelID string) ([]csbot.Account, error)
	// LinkChannel links the channel to the account (and records who did it
	// in the audit log); it returns the accounts the channel was linked to
	// before, which it no longer is.
	LinkChannel(ctx context.Context, accountID int64, channelID, actor string) (unlinked []csbot.Account, err error)
	// MoveChannel follows a channel whose id changed.
	MoveChannel(ctx context.Context, oldID, newID string) (int64, error)
	// Portfolio returns the accounts whose CSM is one of owners, worst
	// health first.
	Portfolio(ctx context.Context, owners []string) ([]csbot.PortfolioEntry, error)
	// Renewals returns a page of open renewals with the totals of all that
	// the filter selects.
	Renewals(ctx context.Context, f csbot.RenewalFilter) (csbot.RenewalReport, error)
	// RenewalHistory returns every renewal of the account, latest first.
	RenewalHistory(ctx context.Context, accountID int64) ([]csbot.Renewal, error)
	// UserBySlackID returns the team member, or csbot.ErrNotFound.
	UserBySlackID(ctx context.Context, slackID string) (csbot.User, error)
	// TeamOf returns the users whose manager is managerID, by name.
	TeamOf(ctx context.Context, managerID string) ([]csbot.User, error)
	// ManagerOf returns the Slack id of the user's manager, "" when none.
	ManagerOf(ctx context.Context, userID string) (string, error)
	// AddOverride stores a CSM's health override.
	AddOverride(ctx context.Context, o csbot.HealthOverride) (csbot.HealthOverride, error)
	// AddTouchpoint records a contact with an account and returns it with
	// its id; csbot.ErrNotFound when the account is gone, an error with a
	// Conflict method (see conflicted) when it is a duplicate.
	AddTouchpoint(ctx context.Context, t csbot.Touchpoint) (csbot.Touchpoint, error)
	// RenewalByID returns the renewal, or csbot.ErrNotFound.
	RenewalByID(ctx context.Context, id int64) (csbot.Renewal, error)
	// OutcomeRecordedBy returns who recorded the renewal's outcome in
	// csbot and when; "" when nobody did.
	OutcomeRecordedBy(ctx context.Context, renewalID int64) (string, time.Time, error)
	// RecordRenewalOutcome closes an open renewal as status, with its new
	// ARR when arr is not nil, and returns it; csbot.ErrNotFound when it is
	// gone, an error with a Conflict method (see conflicted) when it is no
	// longer open.
	RecordRenewalOutcome(ctx context.Context, renewalID int64, status csbot.RenewalStatus, arr *csbot.Cents,
		reason, by string, at time.Time) (csbot.Renewal, error)
	// NotifyPrefs returns the user's alert routes, or csbot.ErrNotFound.
	NotifyPrefs(ctx context.Context, slackID string) (csbot.NotifyPrefs, error)
	// SetNotifyPrefs replaces the user's alert routes (and records it in
	// the audit log); csbot.ErrNotFound when csbot does not know the user.
	SetNotifyPrefs(ctx context.Context, slackID string, p csbot.NotifyPrefs) error
	// CreateAccount adds an account csbot learns of in Slack (a handoff
	// for a new customer) and returns it; an error with a Conflict method
	// (see conflicted) when an account of that name exists.
	CreateAccount(ctx context.Context, a csbot.Account, by string, now time.Time) (csbot.Account, error)
	// CreateHandoff stores a handoff and the notifications that post it
	// in the account's channel and onboardingChannel, and returns it.
	CreateHandoff(ctx context.Context, h csbot.Handoff, onboardingChannel string, now time.Time) (csbot.Handoff, error)
	// HandoffView returns the handoff with its account, or
	// csbot.ErrNotFound.
	HandoffView(ctx context.Context, id int64) (csbot.HandoffView, error)
	// OpenHandoffOf returns the account's latest handoff not closed, or
	// csbot.ErrNotFound.
	OpenHandoffOf(ctx context.Context, accountID int64) (csbot.Handoff, error)
	// AmendHandoff replaces a handoff's fields, keeping the version before
	// in its history, and updates its posts.
	AmendHandoff(ctx context.Context, h csbot.Handoff, by string, now time.Time) (csbot.Handoff, error)
	// AckHandoff records that by took the handoff; false, writing
	// nothing, when it was not open (acknowledged already: the handoff
	// says by whom; or closed).
	AckHandoff(ctx context.Context, id int64, by string, now time.Time) (csbot.Handoff, bool, error)
	// ReassignHandoff gives the handoff to owner and updates its posts.
	ReassignHandoff(ctx context.Context, id int64, owner, by string, now time.Time) (csbot.Handoff, error)
	// Handoffs lists the handoffs the filter selects, newest first.
	Handoffs(ctx context.Context, f csbot.HandoffFilter) ([]csbot.HandoffView, error)
	// EBRFacts computes the fact sheet of the account for the period, as
	// of now; csbot.ErrNotFound when the account is gone.
	EBRFacts(ctx context.Context, accountID int64, p csbot.EBRPeriod, now time.Time) (csbot.EBRFacts, error)
	// SaveEBRDraft stores the draft as the next version of its account's
	// draft for its period and returns it as stored.
	SaveEBRDraft(ctx context.Context, v csbot.EBRVersion) (csbot.EBRVersion, error)
	// EBRDraftVersion returns a stored draft version, or
	// csbot.ErrNotFound.
	EBRDraftVersion(ctx context.Context, id int64) (csbot.EBRVersion, error)

	HomeStore    // the App Home (home.go)
	AuditStore   // the audit log (audit.go)
	ChannelStore // account channels (channel.go)
}

// Channels tells what Slack says of a channel. *bot.Guard satisfies it;
// it is nil outside Slack (csbot try).
type Channels interface {
	Channel(ctx context.Context, id string, maxAge time.Duration) (bot.ChannelInfo, error)
}

// Registrar takes handlers. *bot.Runtime satisfies it.
type Registrar interface {
	HandleCommand(command string, fn bot.CommandFunc)
	HandleAction(actionIDPrefix string, fn bot.ActionFunc)
	HandleView(callbackID string, h bot.ViewHandler)
	HandleEvent(eventType string, fn bot.EventFunc)
}

// ShortcutRegistrar is a Registrar that takes shortcuts too, as
// *bot.Runtime does; Register gives it the handoff shortcuts.
type ShortcutRegistrar interface {
	HandleShortcut(callbackID string, fn bot.ShortcutFunc)
}

// Config is what the commands need.
type Config struct {
	Store  Store
	Policy csbot.Policy
	// FiscalYearStart is the month the fiscal year starts (quarters);
	// January when zero.
	FiscalYearStart time.Month
	// Location is the zone "today" is read in for someone whose own zone
	// is unknown; UTC when nil.
	Location *time.Location
	// Channels, if set, lets /health link check the channel (archived,
	// shared with another organisation).
	Channels Channels
	// OnboardingChannel is the channel handoffs are posted in besides the
	// account's own (CSBOT_ONBOARDING_CHANNEL); empty when there is none.
	OnboardingChannel string
	// Drafter drafts EBRs with a language model; nil drafts them from
	// the template (csbot.TemplateDraft).
	Drafter Drafter
	// Slack, if set, creates account channels (channel.go); nil outside
	// Slack, where "Create account channel" says it can't.
	Slack SlackChannels
	// ChannelPattern names the account channels csbot creates (see
	// csbot.ChannelName); csbot.DefaultChannelPattern when empty.
	ChannelPattern string
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Commands answers /health, /renewals, /handoff and /ebr.
type Commands struct {
	cfg      Config
	log      *slog.Logger
	commands map[string]bot.CommandFunc
	// zones caches the time zones of readers, by IANA name.
	zones sync.Map
	// views show one account for a command, by the command's name without
	// its slash: where pick-list buttons lead.
	views map[string]accountView
}

// New returns the commands with cfg.
func New(cfg Config) *Commands {
	if cfg.FiscalYearStart < time.January || cfg.FiscalYearStart > time.December {
		cfg.FiscalYearStart = time.January
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Commands{cfg: cfg, log: cfg.Logger}
	c.commands = map[string]bot.CommandFunc{
		"/health":   c.health,
		"/renewals": c.renewals,
		"/handoff":  c.handoff,
		"/ebr":      c.ebr,
	}
	c.views = map[string]accountView{
		"health":   c.healthOf,
		"renewals": c.renewalHistoryOf,
		"link":     c.linkOf,
		// "touchpoint" is where the alerts' "Log a touchpoint" leads.
		"touchpoint": c.touchpointOf,
		"handoff":    c.handoffOf,
		"ebr":        c.ebrOf,
	}
	return c
}

// Register gives r the commands and the handlers of their buttons, modals
// and events, and the handoff shortcuts when r is a ShortcutRegistrar.
func (c *Commands) Register(r Registrar) {
	r = c.audited(r)
	for name, fn := range c.commands {
		r.HandleCommand(name, fn)
	}
	c.registerHealth(r)
	c.registerRenewals(r)
	c.registerTouchpoint(r)
	c.registerOutcome(r)
	c.registerSettings(r)
	c.registerHandoff(r)
	c.registerEBR(r)
	c.registerHome(r)
	c.registerChannel(r)
}

// Command returns the handler of the slash command (with its slash), nil
// when there is none: csbot try runs commands through it.
func (c *Commands) Command(name string) bot.CommandFunc { return c.commands[name] }

// Names lists the commands handled, for help and csbot try.
func (c *Commands) Names() []string {
	return slices.Sorted(maps.Keys(c.commands))
}
