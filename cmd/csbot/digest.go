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
	"github.com/csbot/csbot/notifier"
)

// runDigest prints a manager's weekly at-risk digest without sending it.
func runDigest(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	fs.SetOutput(stdout)
	preview := fs.Bool("preview", false, "print the digest; nothing is sent")
	atValue := fs.String("at", "", "as at this RFC 3339 time or date (default now)")
	asJSON := fs.Bool("json", false, "print the digest's data and Block Kit as JSON")
	// The manager may come before or after the flags.
	var manager string
	rest := args
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		manager, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usagef("digest: %v", err)
	}
	if manager == "" && fs.NArg() > 0 {
		manager = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usagef("digest: unexpected argument %q", fs.Arg(0))
	}
	if !*preview {
		return usagef("digest: only --preview is supported: the bot sends digests itself, Monday 09:00 in each manager's zone")
	}
	manager = strings.TrimPrefix(strings.TrimSpace(manager), "@")
	if !csbot.IsSlackUserID(manager) {
		return usagef("digest: name the manager by Slack user id, e.g. csbot digest --preview @U012AB3CD")
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
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	u, err := db.UserBySlackID(ctx, manager)
	if errors.Is(err, csbot.ErrNotFound) || (err == nil && u.Role != csbot.UserManager) {
		return usagef("digest: %s is not a manager in csbot's users (import users with role manager)", manager)
	} else if err != nil {
		return err
	}
	d, err := db.Digest(ctx, manager, at, policy)
	if err != nil {
		return err
	}
	if u.Timezone != "" {
		if l, err := time.LoadLocation(u.Timezone); err == nil {
			loc = l
		}
	}
	msg := notifier.RenderDigest(d, loc)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"digest": d, "text": msg.Text, "blocks": msg.Blocks})
	}
	fmt.Fprintf(stdout, "Digest for %s (%s), %s — preview, not sent\n\n", u.Name, manager, d.Week)
	fmt.Fprintln(stdout, bot.PlainText(msg.Blocks))
	return nil
}
