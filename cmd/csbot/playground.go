package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/bot/slacktest"
	"github.com/csbot/csbot/bot/slacktest/playground"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
)

// The playground's own channels, beside the accounts' ones.
const (
	// playgroundOnboarding is where handoffs go when
	// CSBOT_ONBOARDING_CHANNEL is not set.
	playgroundOnboarding = "C0PGONBOARD"
	// playgroundShared is a channel shared with another organisation
	// (Slack Connect) and linked to no account: csbot keeps internal data
	// out of it.
	playgroundShared = "C0PGPARTNER"
)

// playgroundDeliveryTimeout bounds the wait for what one run of the
// schedules decided to be delivered.
const playgroundDeliveryTimeout = 2 * time.Minute

// runPlayground runs csbot without Slack, until ctx ends: the real bot,
// over Socket Mode, against the Slack simulator (bot/slacktest) on this
// machine, seeded with the people and account channels of the database,
// and a web page (bot/slacktest/playground) to use it as each of them.
//
// It runs on the embedded database only. The playground delivers the
// database's notifications into its simulated Slack and records them as
// sent, so on a database a csbot on Slack uses it would keep them from
// Slack; with DATABASE_URL set it prints why and stops, as csbot without
// tokens always did.
func runPlayground(ctx context.Context, cfg config, log *slog.Logger, db *database, policy csbot.Policy, stdout io.Writer) error {
	if cfg.DatabaseURL != "" || db.cluster == nil {
		log.Info("no Slack tokens set: printed the book and stopping. The local playground runs on the embedded database only "+
			"(unset DATABASE_URL): it would deliver this database's notifications into its simulated Slack. "+
			"Set SLACK_BOT_TOKEN and SLACK_APP_TOKEN to run on Slack", "mode", "none")
		return nil
	}
	return servePlayground(ctx, cfg, log, db, db.cluster.URL(""), policy, stdout)
}

// servePlayground runs the playground on db, whose URL is dbURL (see
// runPlayground). The page's clock control runs the schedules: the
// playground holds the scheduler's lock, so the wall clock runs none; it
// refuses to start when another csbot holds it. It stops the page, the
// bot and the simulator in that order.
func servePlayground(ctx context.Context, cfg config, log *slog.Logger, db *database, dbURL string, policy csbot.Policy, stdout io.Writer) error {
	log.Info("no Slack tokens set: running the local playground, csbot on a simulated Slack on this machine "+
		"(set SLACK_BOT_TOKEN and SLACK_APP_TOKEN to run on Slack)", "mode", "playground")
	loc, err := cfg.location()
	if err != nil {
		return err
	}
	clock := playground.NewClock(nil)
	// The store again, on the playground's clock, so that what falls due
	// follows the clock the page moves, and the delivery queue with it: a
	// notification held back an hour goes out when the clock has moved an
	// hour. The clock never runs behind the wall clock, as the queue's
	// must not (see store.WithQueueClock).
	st, err := store.Open(ctx, dbURL, slog.New(clockJumps{log.Handler()}), store.WithClock(clock.Now), store.WithQueueClock(clock.Now))
	if err != nil {
		return fmt.Errorf("playground: %w", err)
	}
	pdb := &database{Store: st}
	defer pdb.close()
	elector := pdb.NewElector(schedulerLockKey, store.ElectorOptions{Logger: log})
	defer elector.Close(context.WithoutCancel(ctx)) //nolint:errcheck // closing the connection releases the lock
	if err := elector.IsLeader(ctx); err != nil {
		return fmt.Errorf("playground: another csbot runs on this database (it holds the scheduler's lock), "+
			"and the playground needs one of its own: stop that one, or give the playground another CSBOT_DATA_DIR: %w", err)
	}

	team, err := readTeam(ctx, pdb.Store)
	if err != nil {
		return fmt.Errorf("playground: %w", err)
	}
	sim, err := startPlaygroundSlack(context.WithoutCancel(ctx), clock.Now)
	if err != nil {
		return fmt.Errorf("playground: %w", err)
	}
	defer sim.Close()
	scfg := cfg
	scfg.BotToken, scfg.AppToken, scfg.SlackAPIURL = sim.BotToken(), sim.AppToken(), sim.URL()
	scfg.OnboardingChan = seedSimulator(sim, team, cfg.OnboardingChan)

	// The bot, as on Slack.
	ready := make(chan *notifier.Notifier, 1)
	botCtx, stopBot := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBot()
	botDone := make(chan error, 1)
	go func() {
		botDone <- runSlack(botCtx, scfg, log, pdb, policy, slackHooks{
			ready: func(_ *bot.Runtime, n *notifier.Notifier) { ready <- n },
			now:   clock.Now,
		})
	}()
	var n *notifier.Notifier
	select {
	case n = <-ready:
	case err := <-botDone:
		return fmt.Errorf("playground: csbot stopped before it was wired: %w", err)
	}

	page, err := playground.New(playground.Config{
		Slack: sim, People: team.people(), DefaultPerson: team.busiest, Commands: declaredCommands(),
		Clock: clock, Location: loc, Logger: log,
		RunSchedules: func(ctx context.Context, at time.Time) (string, error) {
			return runSchedulesAt(ctx, n, pdb.Store, clock, at)
		},
	})
	if err != nil {
		stopBot()
		return errors.Join(err, <-botDone)
	}
	ln, err := listenPlayground(cfg.PlaygroundAddr, log)
	if err != nil {
		stopBot()
		return errors.Join(err, <-botDone)
	}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stdout, "\ncsbot playground: %s\nOpen it in a browser to use csbot as the people of the book. Ctrl-C stops csbot.\n", url)
	log.Info("playground page ready", "url", url, "people", len(team.users), "channels", len(team.channels))

	pageCtx, stopPage := context.WithCancel(ctx)
	defer stopPage()
	pageDone := make(chan error, 1)
	go func() { pageDone <- page.Serve(pageCtx, ln) }()
	// The schedules' first run, as the scheduler makes one at start. The
	// page shows how it went, and logs a failure.
	var first sync.WaitGroup
	first.Go(func() { _, _ = page.RunSchedules(pageCtx, clock.Now()) })

	var botErr, pageErr error
	botStopped, pageStopped := false, false
	select {
	case <-ctx.Done():
	case botErr = <-botDone:
		botStopped = true
	case pageErr = <-pageDone:
		pageStopped = true
	}
	stopPage()
	if !pageStopped {
		pageErr = <-pageDone
	}
	first.Wait()
	stopBot()
	if !botStopped {
		botErr = <-botDone
	}
	sim.Close()
	log.Info("playground stopped")
	return errors.Join(botErr, pageErr)
}

// startPlaygroundSlack starts the playground's Slack simulator on the
// playground's clock. It is kept from the web pages of other sites as the
// page is: its tokens are drawn for this run (the built-in ones are
// public, and the simulator takes a token as a form field, which any page
// can post), and it refuses requests for another host name than an IP
// address or localhost (DNS rebinding) and from another origin,
// WebSocket upgrades included (slacktest.WithHostCheck).
func startPlaygroundSlack(ctx context.Context, now func() time.Time) (*slacktest.Server, error) {
	botToken := "xoxb-" + rand.Text()
	appToken := "xapp-1-" + slacktest.DefaultAppID + "-" + rand.Text()
	sim, err := slacktest.Start(ctx, slacktest.WithClock(now), slacktest.WithTokens(botToken, appToken), slacktest.WithHostCheck())
	if err != nil {
		return nil, fmt.Errorf("start the Slack simulator: %w", err)
	}
	return sim, nil
}

// clockJumps is a log handler that lowers to debug what the delivery
// queue's leader says when the playground's clock jumps past the deadline
// of its next reelection: it steps down and is elected again at once,
// which is no cause for a warning here.
type clockJumps struct{ slog.Handler }

func (h clockJumps) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && strings.Contains(r.Message, "stepping down because the reelection deadline elapsed") {
		if !h.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h clockJumps) WithAttrs(attrs []slog.Attr) slog.Handler {
	return clockJumps{h.Handler.WithAttrs(attrs)}
}

func (h clockJumps) WithGroup(name string) slog.Handler { return clockJumps{h.Handler.WithGroup(name)} }

// runSchedulesAt runs every scheduled pass as at at, and waits until what
// they decided is delivered.
func runSchedulesAt(ctx context.Context, n *notifier.Notifier, st *store.Store, clock *playground.Clock, at time.Time) (string, error) {
	passes, err := n.RunOnce(ctx, at, false)
	if err != nil {
		return "", err
	}
	kinds := map[string]int{}
	total := 0
	for _, p := range passes {
		for _, nt := range p.Notifications {
			kinds[strings.ReplaceAll(string(nt.Kind), "_", " ")]++
			total++
		}
	}
	if err := waitDelivered(ctx, st, clock); err != nil {
		return "", err
	}
	if total == 0 {
		return "nothing was due", nil
	}
	parts := make([]string, 0, len(kinds))
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		parts = append(parts, strconv.Itoa(kinds[k])+" "+k)
	}
	return fmt.Sprintf("%d notifications delivered (%s)", total, strings.Join(parts, ", ")), nil
}

// waitDelivered waits until no notification due by the playground's
// clock is left pending or sending. (notifier.WaitDelivered reads the wall
// clock, which the playground's may have left behind.)
func waitDelivered(ctx context.Context, st *store.Store, clock *playground.Clock) error {
	ctx, cancel := context.WithTimeout(ctx, playgroundDeliveryTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		// A little ahead, as notifier.WaitDelivered looks: a fallback
		// written meanwhile is due when it was written.
		left, err := st.PendingNotifications(ctx, clock.Now().Add(5*time.Second))
		if err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d notifications not delivered yet: %w", left, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// listenPlayground listens on addr, or on a free port of its host when
// addr's port is taken.
func listenPlayground(addr string, log *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("playground: listen on %s (CSBOT_PLAYGROUND_ADDR): %w", addr, err)
	}
	host, _, _ := net.SplitHostPort(addr)
	ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("playground: listen on %s: %w", host, err)
	}
	log.Warn("the playground's port is taken; using a free one", "wanted", addr, "addr", ln.Addr().String())
	return ln, nil
}

// declaredCommands returns the slash commands of the app's manifest.
func declaredCommands() []playground.Command {
	var out []playground.Command
	for _, c := range bot.Manifest().Commands {
		out = append(out, playground.Command{Name: c.Command, Usage: c.UsageHint, Description: c.Description})
	}
	return out
}

// team is who and what the playground's Slack holds: the people csbot
// knows and the accounts with a channel.
type team struct {
	users    []csbot.User
	channels []csbot.Account // accounts with a channel, by name
	busiest  string          // the CSM with the most accounts
}

// readTeam reads the team from the store. The store lists no users as
// such; they are found as csbot meets them: the CSMs and account
// executives of the accounts with a channel, the admins, and from them the
// management chains up and every manager's team down.
func readTeam(ctx context.Context, st *store.Store) (team, error) {
	var t team
	accounts, err := st.AccountsWithChannel(ctx)
	if err != nil {
		return t, err
	}
	t.channels = accounts
	slices.SortStableFunc(t.channels, func(a, b csbot.Account) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	var queue []string
	for _, a := range accounts {
		queue = append(queue, a.CSMUserID, a.AEUserID)
	}
	admins, err := st.Admins(ctx, 100)
	if err != nil {
		return t, err
	}
	for _, u := range admins {
		queue = append(queue, u.SlackID)
	}
	if u, err := st.BusiestCSM(ctx); err == nil {
		t.busiest = u.SlackID
		queue = append(queue, u.SlackID)
	} else if !errors.Is(err, csbot.ErrNotFound) {
		return t, err
	}
	seen := map[string]bool{"": true}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		u, err := st.UserBySlackID(ctx, id)
		if errors.Is(err, csbot.ErrNotFound) {
			continue // named on an account, not in users
		} else if err != nil {
			return t, err
		}
		t.users = append(t.users, u)
		queue = append(queue, u.ManagerSlackID)
		members, err := st.TeamOf(ctx, id)
		if err != nil {
			return t, err
		}
		for _, m := range members {
			queue = append(queue, m.SlackID)
		}
	}
	slices.SortFunc(t.users, func(a, b csbot.User) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.SlackID, b.SlackID))
	})
	return t, nil
}

// people returns the team as the page lists it, each with the channels of
// the accounts they own or sold.
func (t team) people() []playground.Person {
	owned := map[string][]string{}
	for _, a := range t.channels {
		owned[a.CSMUserID] = append(owned[a.CSMUserID], a.SlackChannelID)
		if a.AEUserID != a.CSMUserID {
			owned[a.AEUserID] = append(owned[a.AEUserID], a.SlackChannelID)
		}
	}
	out := make([]playground.Person, 0, len(t.users))
	for _, u := range t.users {
		out = append(out, playground.Person{ID: u.SlackID, Name: cmp.Or(u.Name, u.SlackID), Role: string(u.Role),
			TZ: u.Timezone, Channels: owned[u.SlackID]})
	}
	return out
}

// seedSimulator gives the simulator the team, a channel per account
// channel, the onboarding channel and a channel shared with another
// organisation. It returns the onboarding channel's id: onboarding, or the
// playground's own when that is empty.
func seedSimulator(sim *slacktest.Server, t team, onboarding string) string {
	handles := map[string]bool{}
	for _, u := range t.users {
		sim.AddUser(slacktest.User{ID: u.SlackID, Name: uniqueName(handles, handleOf(u)), RealName: u.Name,
			TZ: u.Timezone, Email: u.Email, Admin: u.Role == csbot.UserAdmin})
	}
	names := map[string]bool{}
	added := map[string]bool{}
	for _, a := range t.channels {
		if added[a.SlackChannelID] {
			continue // two accounts on one channel
		}
		added[a.SlackChannelID] = true
		sim.AddChannel(slacktest.Channel{ID: a.SlackChannelID, Name: uniqueName(names, cmp.Or(csbot.SlugChannelName(a.Name), "account")), Member: true})
	}
	if onboarding == "" {
		onboarding = playgroundOnboarding
	}
	if !added[onboarding] {
		sim.AddChannel(slacktest.Channel{ID: onboarding, Name: uniqueName(names, "cs-onboarding"), Member: true})
	}
	sim.AddChannel(slacktest.Channel{ID: playgroundShared, Name: uniqueName(names, "partner-shared"), Member: true,
		Shared: true, ExtShared: true, ConnectedTeamIDs: []string{"T0PARTNER"}})
	return onboarding
}

// handleOf returns a user's Slack handle: their e-mail's local part, or
// their name.
func handleOf(u csbot.User) string {
	if local, _, ok := strings.Cut(u.Email, "@"); ok && local != "" {
		return strings.ToLower(local)
	}
	return cmp.Or(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(u.Name)), " ", "."), strings.ToLower(u.SlackID))
}

// uniqueName returns name, or name-2, name-3... when taken, and takes it.
func uniqueName(taken map[string]bool, name string) string {
	out := name
	for i := 2; taken[out]; i++ {
		out = name + "-" + strconv.Itoa(i)
	}
	taken[out] = true
	return out
}
