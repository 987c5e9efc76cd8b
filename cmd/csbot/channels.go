package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/commands"
)

// channelsUsage is csbot channels' synopsis.
const channelsUsage = "usage: csbot channels sync [--pattern acct-{name}] [--private] [--dry-run]"

// runChannels runs csbot channels sync: a Slack channel for every account
// without one.
func runChannels(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "sync" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(stdout, channelsUsage)
			return nil
		}
		return usagef("%s", channelsUsage)
	}
	fs := flag.NewFlagSet("channels sync", flag.ContinueOnError)
	fs.SetOutput(stdout)
	pattern := fs.String("pattern", cfg.ChannelPattern, "channel name: {name}, {external_id} and {domain} of the account, made a valid Slack channel name (default CSBOT_CHANNEL_PATTERN)")
	private := fs.Bool("private", false, "create private channels instead of public ones")
	dryRun := fs.Bool("dry-run", false, "only say what would be done; change nothing in Slack or the database")
	fs.Usage = func() {
		fmt.Fprintln(stdout, channelsUsage)
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args[1:]); help || err != nil {
		return err
	}
	if *pattern == "" {
		*pattern = csbot.DefaultChannelPattern
	}
	if err := csbot.CheckChannelPattern(*pattern); err != nil {
		return usagef("channels sync: --pattern: %v", err)
	}
	if cfg.BotToken == "" {
		return usagef("channels sync talks to Slack: set SLACK_BOT_TOKEN (xoxb-, with the channels:manage, groups:write and pins:write scopes manifest.yml declares)")
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
	results, err := cmds.SyncChannels(ctx, commands.ChannelOptions{Pattern: *pattern, Private: *private, DryRun: *dryRun,
		Actor: csbot.AuditActorCLI})
	printChannelResults(stdout, results, *dryRun)
	if err != nil {
		return fmt.Errorf("channels sync: %w", err)
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("channels sync: %d of %d accounts got no channel; see above", failed, len(results))
	}
	return nil
}

// printChannelResults prints a line per account, its notes under it, and
// the counts.
func printChannelResults(w io.Writer, results []commands.ChannelResult, dryRun bool) {
	if len(results) == 0 {
		fmt.Fprintln(w, "every account has a channel: nothing to do")
		return
	}
	counts := map[commands.ChannelOutcome]int{}
	for _, r := range results {
		counts[r.Outcome]++
		name := "#" + r.Name
		switch r.Outcome {
		case commands.ChannelCreated, commands.ChannelMatched:
			verb := "created"
			if r.Outcome == commands.ChannelMatched {
				verb = "linked"
			}
			var parts []string
			if r.Outcome == commands.ChannelMatched {
				parts = append(parts, "the channel existed")
			}
			if len(r.Invited) > 0 {
				parts = append(parts, "invited "+strings.Join(r.Invited, ", "))
			}
			if r.Pinned {
				parts = append(parts, "summary pinned")
			}
			fmt.Fprintf(w, "%s %s (%s) for %s", verb, name, r.ChannelID, r.Account.Name)
			if len(parts) > 0 {
				fmt.Fprintf(w, ": %s", strings.Join(parts, "; "))
			}
			fmt.Fprintln(w)
		case commands.ChannelWouldCreate:
			fmt.Fprintf(w, "would create %s for %s\n", name, r.Account.Name)
		case commands.ChannelWouldMatch:
			fmt.Fprintf(w, "would link %s (%s), which exists, for %s\n", name, r.ChannelID, r.Account.Name)
		case commands.ChannelLinkedMeanwhile:
			fmt.Fprintf(w, "skipped %s (%s): the account got a channel meanwhile (%s), which it keeps\n", r.Account.Name, name, r.ChannelID)
		default:
			fmt.Fprintf(w, "failed %s (%s): %v\n", r.Account.Name, name, r.Err)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  ! %s\n", n)
		}
	}
	meanwhile := ""
	if n := counts[commands.ChannelLinkedMeanwhile]; n > 0 {
		meanwhile = fmt.Sprintf(", %d got a channel meanwhile", n)
	}
	if dryRun {
		fmt.Fprintf(w, "%d accounts without a channel: %d would be created, %d existing would be linked, %d can't be%s (dry run: nothing was changed)\n",
			len(results), counts[commands.ChannelWouldCreate], counts[commands.ChannelWouldMatch], counts[commands.ChannelFailed], meanwhile)
		return
	}
	fmt.Fprintf(w, "%d accounts without a channel: %d created, %d existing linked, %d failed%s\n",
		len(results), counts[commands.ChannelCreated], counts[commands.ChannelMatched], counts[commands.ChannelFailed], meanwhile)
}

// checkChannelPattern returns a usage error when CSBOT_CHANNEL_PATTERN is
// set and cannot name account channels (csbot.CheckChannelPattern); unset,
// csbot.DefaultChannelPattern applies.
func (c config) checkChannelPattern() error {
	if c.ChannelPattern == "" {
		return nil
	}
	if err := csbot.CheckChannelPattern(c.ChannelPattern); err != nil {
		return usagef("CSBOT_CHANNEL_PATTERN: %v", err)
	}
	return nil
}
