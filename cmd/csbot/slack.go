package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
	"github.com/slack-go/slack"
)

// slackHooks let a caller of runSlack (the local playground) reach the
// parts it wires; each may be nil.
type slackHooks struct {
	// ready runs once the runtime and the notifier are wired, before the
	// Socket Mode link opens.
	ready func(rt *bot.Runtime, n *notifier.Notifier)
	// now, when set, is the clock the commands and the notifier read
	// (the playground's, which its page moves); the wall clock otherwise.
	now func() time.Time
}

// runSlack runs the bot on Slack (or on whatever SLACK_API_URL points at)
// until ctx ends: the poster first, then the Socket Mode runtime, whose
// in-flight work drains before the poster stops.
func runSlack(ctx context.Context, cfg config, log *slog.Logger, db *database, policy csbot.Policy, hooks slackHooks) error {
	if cfg.BotToken == "" || cfg.AppToken == "" {
		missing := "SLACK_BOT_TOKEN"
		if cfg.AppToken == "" {
			missing = "SLACK_APP_TOKEN"
		}
		return usagef("%s is not set: set both SLACK_BOT_TOKEN (xoxb-) and SLACK_APP_TOKEN (xapp-), or neither", missing)
	}
	loc, err := cfg.location()
	if err != nil {
		return err
	}
	o, err := newOps(cfg, log, db.Store) // nil without CSBOT_HTTP_ADDR
	if err != nil {
		return err
	}
	opts := o.wireOptions()
	if hooks.now != nil {
		opts = append(opts, func(w *wiring) { w.now = hooks.now })
	}
	rt, poster, api, err := wireSlack(cfg, log, db, policy, opts...)
	if err != nil {
		return err
	}
	n, err := notifier.New(notifier.Config{Store: db.Store, Policy: policy, Location: loc, Logger: log,
		OnboardingChannel: cfg.OnboardingChan, Now: hooks.now,
		Slack: notifier.SlackClient{Poster: poster, Guard: rt.Guard(), API: api}})
	if err != nil {
		return err
	}
	n.Register(rt, db.Store)
	if hooks.ready != nil {
		hooks.ready(rt, n)
	}
	elector := db.NewElector(schedulerLockKey, store.ElectorOptions{Logger: log})
	defer elector.Close(context.WithoutCancel(ctx)) //nolint:errcheck // closing the connection releases the lock
	sched, err := n.Schedule(notifier.SchedulerOptions{Elector: elector, OnRun: o.jobHook()})
	if err != nil {
		return err
	}
	stopOps, err := o.serve(ctx, rt)
	if err != nil {
		return err
	}
	defer stopOps()

	// Stop in reverse: the Socket Mode link and the scheduler, then
	// delivery and the poster, then the ops listener.
	stopDelivery := startDelivery(context.WithoutCancel(ctx), db, o.delivery(n.Deliver), poster)
	sched.Start()
	log.Info("connecting to Slack over Socket Mode", "api", cfg.SlackAPIURL)
	err = rt.Run(ctx)
	if serr := sched.Shutdown(); serr != nil {
		log.Warn("scheduler did not stop cleanly", "err", serr)
	}
	if derr := stopDelivery(); derr != nil {
		log.Warn("delivery did not stop cleanly", "err", derr)
	}
	var te *bot.TokenError
	if errors.As(err, &te) {
		return usagef("%v", te)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// startDelivery runs the poster, and delivery with deliver (the
// notifier's Deliver) until ctx ends, in the background. The returned stop
// ends delivery (attempts in flight finish), then the poster they post
// through, and returns delivery's error; it may be called once.
func startDelivery(ctx context.Context, db *database, deliver csbot.DeliveryHandler, poster *bot.Poster) (stop func() error) {
	pctx, stopPoster := context.WithCancel(context.WithoutCancel(ctx))
	posterDone := make(chan error, 1)
	go func() { posterDone <- poster.Run(pctx) }()
	dctx, stopRun := context.WithCancel(ctx)
	deliveryDone := make(chan error, 1)
	go func() { deliveryDone <- db.RunDelivery(dctx, deliver) }()
	return func() error {
		stopRun()
		err := <-deliveryDone
		stopPoster()
		<-posterDone
		return err
	}
}

// wireSlack builds the Slack runtime with every handler csbot has, the
// poster it sends through and the Web API client; opts add metrics.
func wireSlack(cfg config, log *slog.Logger, db *database, policy csbot.Policy, opts ...wireOption) (*bot.Runtime, *bot.Poster, *slack.Client, error) {
	w := wiringOf(opts)
	api := bot.NewClient(cfg.BotToken, cfg.AppToken, cfg.SlackAPIURL, bot.WithMetrics(w.metrics))
	poster := bot.NewPoster(api, bot.PosterOptions{Logger: log})
	rt, err := bot.New(api, bot.Config{BotToken: cfg.BotToken, AppToken: cfg.AppToken, Logger: log,
		Sender: poster, Deliveries: db.Store, Users: db.Store, Metrics: w.metrics})
	if err != nil {
		return nil, nil, nil, err
	}
	cmds, err := newCommands(cfg, policy, db, rt.Guard(), log, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	cmds.Register(rt)
	return rt, poster, api, nil
}
