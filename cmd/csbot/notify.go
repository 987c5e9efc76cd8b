package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
)

// schedulerLockKey is the advisory lock whose holder runs the scheduled
// passes ("csbot-sc" in ASCII).
const schedulerLockKey int64 = 0x637362_6f742d7363

// runNotify runs one pass of everything the schedules would do at one
// moment, and delivers what it wrote.
func runNotify(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	fs.SetOutput(stdout)
	once := fs.Bool("once", false, "run one pass of every schedule, deliver what is due, and exit")
	atValue := fs.String("at", "", "the moment of the pass, an RFC 3339 time or a date (default now)")
	dryRun := fs.Bool("dry-run", false, "print what would be sent; record and send nothing")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up delivering after this long")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if !*once {
		return usagef("notify: only --once is supported: the bot itself (csbot with no command) runs the schedules")
	}
	policy, err := loadPolicy(cfg.PolicyFile)
	if err != nil {
		return err
	}
	loc, err := cfg.location()
	if err != nil {
		return err
	}
	at, err := atFlag(fs, *atValue)
	if err != nil {
		return err
	}
	if !*dryRun && (cfg.BotToken == "" || cfg.AppToken == "") {
		return usagef("notify: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN to send, or pass --dry-run to see what would be sent")
	}
	// The store's clock runs from --at, so that what falls due, and the
	// delivery queue's idea of now, agree with the pass.
	began := time.Now()
	clock := func() time.Time { return at.Add(time.Since(began)) }
	db, err := openDatabase(ctx, cfg, log, store.WithClock(clock))
	if err != nil {
		return err
	}
	defer db.close()

	ncfg := notifier.Config{Store: db.Store, Policy: policy, Location: loc, Now: clock, Logger: log,
		OnboardingChannel: cfg.OnboardingChan}
	var poster *bot.Poster
	if !*dryRun {
		api := bot.NewClient(cfg.BotToken, cfg.AppToken, cfg.SlackAPIURL)
		poster = bot.NewPoster(api, bot.PosterOptions{Logger: log})
		ncfg.Slack = notifier.SlackClient{Poster: poster, Guard: bot.NewGuard(api, 0, nil, log), API: api}
	}
	n, err := notifier.New(ncfg)
	if err != nil {
		return err
	}
	passes, err := n.RunOnce(ctx, at, *dryRun)
	if err != nil {
		return err
	}
	for _, p := range passes {
		fmt.Fprintf(stdout, "%s pass at %s: %d notifications%s (%v)\n", p.Pass, at.Format(time.RFC3339),
			len(p.Notifications), countsText(p.Counts), p.Took.Round(time.Millisecond))
	}
	if *dryRun {
		return printPreview(ctx, n, passes, stdout)
	}

	dctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	stopDelivery := startDelivery(dctx, db, n.Deliver, poster)
	waitErr := n.WaitDelivered(dctx, 0, func(left int) {
		if left > 0 {
			fmt.Fprintf(stdout, "delivering: %d left\n", left)
		}
	})
	derr := stopDelivery()
	if waitErr != nil {
		return fmt.Errorf("notify: delivery did not finish: %w", waitErr)
	}
	if derr != nil {
		return derr
	}
	fmt.Fprintln(stdout, "delivered: every notification due is posted or recorded as failed")
	return nil
}

// countsText formats a pass's counts: " (new 3, resolved 1)".
func countsText(c map[string]int) string {
	var parts []string
	for _, k := range []string{"new", "worse", "reopened", "resolved", "baselined", "watched", "snoozed", "off",
		"digest", "appended", "due", "late", "queued", "unrouted"} {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// printPreview prints, for a dry run, each notification: where it would
// go and its text.
func printPreview(ctx context.Context, n *notifier.Notifier, passes []notifier.PassResult, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tTO\tKEY\tMESSAGE")
	for _, p := range passes {
		for _, nt := range p.Notifications {
			to := nt.Channel
			if to == "" {
				to = "@" + nt.User
			}
			text, err := n.Preview(ctx, nt)
			if err != nil {
				text = "(cannot render: " + err.Error() + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", nt.Kind, to, nt.Key, text)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "dry run: nothing was recorded or sent")
	return nil
}
