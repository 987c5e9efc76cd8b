package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
)

// runSlack runs the bot on Slack (or on whatever SLACK_API_URL points at)
// until ctx ends: the poster first, then the Socket Mode runtime, whose
// in-flight work drains before the poster stops.
func runSlack(ctx context.Context, cfg config, log *slog.Logger, db *database, policy csbot.Policy) error {
	if cfg.BotToken == "" || cfg.AppToken == "" {
		missing := "SLACK_BOT_TOKEN"
		if cfg.AppToken == "" {
			missing = "SLACK_APP_TOKEN"
		}
		return usagef("%s is not set: set both SLACK_BOT_TOKEN (xoxb-) and SLACK_APP_TOKEN (xapp-), or neither", missing)
	}
	rt, poster, err := wireSlack(cfg, log, db, policy)
	if err != nil {
		return err
	}
	pctx, stopPoster := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPoster()
	posterDone := make(chan error, 1)
	go func() { posterDone <- poster.Run(pctx) }()
	log.Info("connecting to Slack over Socket Mode", "api", cfg.SlackAPIURL)
	err = rt.Run(ctx)
	stopPoster()
	<-posterDone
	var te *bot.TokenError
	if errors.As(err, &te) {
		return usagef("%v", te)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// wireSlack builds the Slack runtime with every handler csbot has, and the
// poster it sends through.
func wireSlack(cfg config, log *slog.Logger, db *database, policy csbot.Policy) (*bot.Runtime, *bot.Poster, error) {
	api := bot.NewClient(cfg.BotToken, cfg.AppToken, cfg.SlackAPIURL)
	poster := bot.NewPoster(api, bot.PosterOptions{Logger: log})
	rt, err := bot.New(api, bot.Config{BotToken: cfg.BotToken, AppToken: cfg.AppToken, Logger: log,
		Sender: poster, Deliveries: db.Store, Users: db.Store})
	if err != nil {
		return nil, nil, err
	}
	cmds, err := newCommands(cfg, policy, db, rt.Guard(), log)
	if err != nil {
		return nil, nil, err
	}
	cmds.Register(rt)
	return rt, poster, nil
}
