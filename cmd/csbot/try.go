package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands"
	"github.com/slack-go/slack"
)

// tryTeamID is the team id csbot try puts in its requests.
const tryTeamID = "T0TRY"

// runTry runs a slash command against the database without Slack, through
// the same handlers, and prints the reply as text (or its Block Kit JSON).
func runTry(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("try", flag.ContinueOnError)
	fs.SetOutput(stdout)
	as := fs.String("as", "", "Slack user id to run the command as (default: the CSM with the most accounts)")
	channel := fs.String("channel", "", "Slack channel id the command is typed in (default: a direct message)")
	asJSON := fs.Bool("json", false, "print the reply's Block Kit JSON instead of text")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: csbot try '/health acme' [--as U123] [--channel C123] [--json]")
		fs.PrintDefaults()
	}
	line, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return usagef("try: %v", err)
	}
	if line == "" {
		return usagef("try: which command? e.g. csbot try '/health acme' or csbot try '/renewals 30'")
	}
	name, text, _ := strings.Cut(line, " ")
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	policy, err := loadPolicy(cfg.PolicyFile)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	cmds, err := newCommands(cfg, policy, db, nil, log)
	if err != nil {
		return err
	}
	fn := cmds.Command(name)
	if fn == nil {
		return usagef("try: csbot has no %s command here; try one of %s", name, strings.Join(cmds.Names(), ", "))
	}
	actor, err := tryActor(ctx, db, *as)
	if err != nil {
		return err
	}
	ch := *channel
	if ch == "" {
		ch = "D0TRY" + strings.TrimPrefix(actor.SlackID, "U")
	}
	now := time.Now()
	req := bot.CommandRequest{
		Request: bot.Request{Actor: actor, UserID: actor.SlackID, ChannelID: ch, TeamID: tryTeamID,
			Received: now, Acked: now, Started: now},
		Command: name,
		Text:    strings.TrimSpace(text),
	}
	rep, err := fn(ctx, req)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// A reply that opens a window and fills it in later (/ebr) is
	// followed to what it fills in.
	for rep.Then != nil && (rep.OpenView != nil || rep.UpdateView != nil) {
		then := rep.Then
		if rep, err = then(ctx, "V0TRY"); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Text   string        `json:"text"`
			Blocks []slack.Block `json:"blocks,omitempty"`
		}{rep.Text, rep.Blocks})
	}
	printReply(stdout, actor, rep)
	return nil
}

// parseInterleaved parses flags given before, after or among the words of
// the command ("csbot try /health acme --as U1"), and returns the words
// joined by spaces.
func parseInterleaved(fs *flag.FlagSet, args []string) (string, error) {
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			return strings.Join(words, " "), nil
		}
		words = append(words, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// tryActor returns who csbot try acts as: the user with Slack id as, or
// the CSM with the most accounts.
func tryActor(ctx context.Context, db *database, as string) (bot.Actor, error) {
	if as == "" {
		u, err := db.BusiestCSM(ctx)
		if errors.Is(err, csbot.ErrNotFound) {
			return bot.Actor{SlackID: "U0TRY", Name: "someone csbot doesn't know"}, nil
		}
		if err != nil {
			return bot.Actor{}, err
		}
		as = u.SlackID
	}
	if !csbot.IsSlackUserID(as) {
		return bot.Actor{}, usagef("try: --as %q is not a Slack user id (like U012AB3CD)", as)
	}
	return bot.ResolveActor(ctx, db, as)
}

// printReply prints a reply for a terminal: who it was run as and who
// would see it, then its blocks (or its text).
func printReply(w io.Writer, actor bot.Actor, rep bot.Reply) {
	who := actor.SlackID
	if actor.Name != "" {
		who = actor.Name + " (" + actor.SlackID + ")"
	}
	seen := "only you would see this"
	if rep.Visibility == bot.InChannel {
		seen = "posted in the channel"
	}
	fmt.Fprintf(w, "as %s; %s\n\n", who, seen)
	switch {
	case len(rep.Blocks) > 0:
		fmt.Fprint(w, bot.PlainText(rep.Blocks))
	case rep.Text != "":
		fmt.Fprintln(w, bot.Unmrkdwn(rep.Text))
	case rep.UpdateView != nil:
		fmt.Fprintf(w, "[window: %s]\n\n%s", rep.UpdateView.Title.Text, bot.PlainText(rep.UpdateView.Blocks.BlockSet))
	case rep.OpenView != nil:
		fmt.Fprintln(w, "(opens a form, which csbot try cannot show)")
	default:
		fmt.Fprintln(w, "(no reply)")
	}
}

// newCommands builds the slash command handlers from the configuration.
// channels is nil outside Slack; opts add metrics.
func newCommands(cfg config, policy csbot.Policy, db *database, channels commands.Channels, log *slog.Logger, opts ...wireOption) (*commands.Commands, error) {
	loc, err := cfg.location()
	if err != nil {
		return nil, err
	}
	month, err := cfg.fiscalStart()
	if err != nil {
		return nil, err
	}
	if err := cfg.checkChannelPattern(); err != nil {
		return nil, err
	}
	cc := commands.Config{Store: db.Store, Policy: policy, FiscalYearStart: month,
		Location: loc, Channels: channels, Logger: log, OnboardingChannel: cfg.OnboardingChan,
		ChannelPattern: cfg.ChannelPattern}
	w := wiringOf(opts)
	if cfg.BotToken != "" {
		// Account channels ("Create account channel", csbot channels
		// sync) are made through the Web API, counted in the metrics like
		// every other call.
		cc.Slack = bot.NewClient(cfg.BotToken, cfg.AppToken, cfg.SlackAPIURL, bot.WithMetrics(w.metrics))
	}
	cc.Now = w.now
	if d := newDrafter(cfg, log, w.draftObserve); d != nil {
		cc.Drafter = d
	}
	return commands.New(cc), nil
}
