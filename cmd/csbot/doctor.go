package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/store"
	"github.com/slack-go/slack"
)

// doctorListed is how many findings of one kind csbot doctor prints
// unless --all is given.
const doctorListed = 10

// doctor checks csbot's setup and prints what it finds, a line each.
type doctor struct {
	w        io.Writer
	all      bool
	problems int
	warnings int
}

// ok prints a check that passed.
func (d *doctor) ok(format string, args ...any) {
	fmt.Fprintf(d.w, "ok    %s\n", fmt.Sprintf(format, args...))
}

// info prints what is neither good nor bad: a check skipped.
func (d *doctor) info(format string, args ...any) {
	fmt.Fprintf(d.w, "--    %s\n", fmt.Sprintf(format, args...))
}

// problem prints what stops csbot working as it should, and its fix.
func (d *doctor) problem(what, fix string) { d.report(true, what, fix) }

// warn prints what csbot works around, and its fix.
func (d *doctor) warn(what, fix string) { d.report(false, what, fix) }

func (d *doctor) report(problem bool, what, fix string) {
	d.count(problem, 1)
	fmt.Fprintf(d.w, "%s  %s; fix: %s\n", severityTag(problem), what, fix)
}

func (d *doctor) count(problem bool, n int) {
	if problem {
		d.problems += n
	} else {
		d.warnings += n
	}
}

func severityTag(problem bool) string {
	if problem {
		return "FAIL"
	}
	return "WARN"
}

// many reports total findings of one kind, of which line describes the
// first n: a line each for the first doctorListed (all of them with
// --all), then one line counting the rest.
func (d *doctor) many(problem bool, n, total int, more string, line func(i int) (what, fix string)) {
	shown := n
	if !d.all {
		shown = min(n, doctorListed)
	}
	for i := range shown {
		what, fix := line(i)
		d.report(problem, what, fix)
	}
	if rest := total - shown; rest > 0 {
		d.count(problem, rest)
		fmt.Fprintf(d.w, "%s  ...and %d more %s (csbot doctor --all lists them)\n", severityTag(problem), rest, more)
	}
}

// runDoctor checks the Slack tokens and scopes, the account channels and
// the data csbot needs, prints a line per finding with its fix and a
// summary, and fails (exit code 1) when it found problems. Without Slack
// tokens it checks the database only.
func runDoctor(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stdout)
	all := fs.Bool("all", false, fmt.Sprintf("list every finding, not the first %d of each kind", doctorListed))
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: csbot doctor [--all]")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	d := &doctor{w: stdout, all: *all}
	d.checkConfig(cfg)
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		d.problem(fmt.Sprintf("the database can't be opened: %v", err), "check DATABASE_URL (or CSBOT_DATA_DIR for the embedded database)")
	} else {
		defer db.close()
		if err := d.checkData(ctx, db.Store); err != nil {
			return err
		}
	}
	slackChecked := "done"
	switch {
	case cfg.BotToken == "" && cfg.AppToken == "":
		d.info("Slack checks skipped: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set")
		slackChecked = "skipped"
	default:
		var s *store.Store
		if db != nil {
			s = db.Store
		}
		if err := d.checkSlack(ctx, cfg, s); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout)
	switch {
	case d.problems == 0 && d.warnings == 0:
		fmt.Fprintf(stdout, "All is well (Slack checks %s).\n", slackChecked)
	case d.problems == 0:
		fmt.Fprintf(stdout, "No problems; %d %s (Slack checks %s).\n", d.warnings, countWord(d.warnings, "warning", "warnings"), slackChecked)
	default:
		fmt.Fprintf(stdout, "%d %s, %d %s (Slack checks %s).\n", d.problems, countWord(d.problems, "problem", "problems"),
			d.warnings, countWord(d.warnings, "warning", "warnings"), slackChecked)
		return fmt.Errorf("doctor found %d %s", d.problems, countWord(d.problems, "problem", "problems"))
	}
	return nil
}

func countWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkConfig checks the settings csbot refuses to start with.
func (d *doctor) checkConfig(cfg config) {
	bad := false
	if _, err := cfg.location(); err != nil {
		d.problem(err.Error(), "set CSBOT_TIMEZONE to an IANA zone such as Europe/Berlin")
		bad = true
	}
	if _, err := cfg.fiscalStart(); err != nil {
		d.problem(err.Error(), "set CSBOT_FISCAL_YEAR_START to a month, 1 to 12")
		bad = true
	}
	if err := cfg.checkChannelPattern(); err != nil {
		d.problem(err.Error(), "set it to a pattern with {name} or {external_id}, e.g. acct-{name}")
		bad = true
	}
	if _, err := loadPolicy(cfg.PolicyFile); err != nil {
		d.problem("CSBOT_POLICY_FILE: "+err.Error(), "correct the file, or unset CSBOT_POLICY_FILE for the default policy")
		bad = true
	}
	if !bad {
		d.ok("configuration: time zone %s, fiscal year from month %d, channel names %s", cfg.Timezone, cfg.FiscalStart, cfg.ChannelPattern)
	}
}

// checkData reports the gaps in the data: accounts without a CSM, a
// renewal contact or a channel, and users without a time zone. Its error
// is the database failing.
func (d *doctor) checkData(ctx context.Context, s *store.Store) error {
	n, err := s.AccountCount(ctx)
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	d.ok("database: %d accounts", n)
	limit := doctorListed + 1
	if d.all {
		limit = math.MaxInt32
	}
	g, err := s.SetupGaps(ctx, limit)
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	d.many(true, len(g.AccountsWithoutCSM), g.AccountsWithoutCSMTotal, "accounts without a CSM", func(i int) (string, string) {
		a := g.AccountsWithoutCSM[i]
		return fmt.Sprintf("%s has no CSM: its alerts and reminders reach nobody", accountLabel(a)),
			fmt.Sprintf("give %s a csm (Slack id or e-mail) in the accounts import", a.ExternalID)
	})
	d.many(false, len(g.AccountsWithoutRenewalContact), g.AccountsWithoutRenewalContactTotal, "accounts without a renewal contact", func(i int) (string, string) {
		a := g.AccountsWithoutRenewalContact[i]
		return fmt.Sprintf("%s has no renewal contact: nobody on file signs its renewal", accountLabel(a)),
			fmt.Sprintf("add a contact with role renewal for %s in the contacts import", a.ExternalID)
	})
	d.many(false, len(g.UsersWithoutTimezone), g.UsersWithoutTimezoneTotal, "users without a time zone", func(i int) (string, string) {
		u := g.UsersWithoutTimezone[i]
		who := u.SlackID
		if u.Name != "" {
			who = fmt.Sprintf("%s (%s, %s)", u.SlackID, u.Name, u.Role)
		}
		return fmt.Sprintf("%s has no time zone: their reminders and digests follow CSBOT_TIMEZONE", who),
			fmt.Sprintf("give %s a timezone (e.g. Europe/Berlin) in the users import", u.SlackID)
	})
	without, err := s.AccountsWithoutChannel(ctx)
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	if len(without) > 0 {
		d.warn(fmt.Sprintf("%d %s no channel: %s alerts go to the CSM's direct messages", len(without),
			countWord(len(without), "account has", "accounts have"), countWord(len(without), "its", "their")),
			"csbot channels sync creates them (--dry-run shows what it would do), or type /health link <account> in an existing channel")
	}
	if g.AccountsWithoutCSMTotal == 0 && g.AccountsWithoutRenewalContactTotal == 0 && g.UsersWithoutTimezoneTotal == 0 && len(without) == 0 {
		d.ok("data: every account has a CSM, a renewal contact and a channel; every user has a time zone")
	}
	return nil
}

// accountLabel names an account with its CRM id: "Acme Corp (ACME-001)".
func accountLabel(a csbot.Account) string {
	return fmt.Sprintf("%s (%s)", a.Name, a.ExternalID)
}

// checkSlack checks the tokens, the bot token's scopes against
// bot.Manifest, and, with s, the account channels. Its error is the
// database failing.
func (d *doctor) checkSlack(ctx context.Context, cfg config, s *store.Store) error {
	api := slack.New(cfg.BotToken, slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionAppLevelToken(cfg.AppToken), slack.OptionRetry(3))
	botOK := false
	if cfg.BotToken == "" {
		d.problem("SLACK_BOT_TOKEN is not set", "set it to the app's Bot User OAuth Token (xoxb-, on its OAuth & Permissions page)")
	} else if auth, err := api.AuthTestContext(ctx); err != nil {
		d.problem(fmt.Sprintf("Slack refuses SLACK_BOT_TOKEN (auth.test: %v)", err),
			"set it to the app's current Bot User OAuth Token (xoxb-, on its OAuth & Permissions page); reinstall the app if it was revoked")
	} else {
		botOK = true
		d.ok("bot token: @%s (%s) in %s (%s)", auth.User, auth.UserID, auth.Team, auth.TeamID)
		d.checkScopes(auth.Header.Get("X-OAuth-Scopes"))
	}
	if cfg.AppToken == "" {
		d.problem("SLACK_APP_TOKEN is not set: csbot receives commands and clicks over Socket Mode with it",
			"create an app-level token with connections:write (the app's Basic Information page) and set SLACK_APP_TOKEN (xapp-)")
	} else if _, _, err := api.StartSocketModeContext(ctx); err != nil {
		d.problem(fmt.Sprintf("Slack refuses SLACK_APP_TOKEN (apps.connections.open: %v)", err),
			"set it to an app-level token (xapp-) with connections:write, and turn Socket Mode on in the app's settings")
	} else {
		d.ok("app token: Socket Mode connections open")
	}
	if !botOK || s == nil {
		d.info("account channel checks skipped: they need a good bot token and the database")
		return nil
	}
	return d.checkChannels(ctx, api, s)
}

// checkScopes compares the bot token's scopes (Slack's x-oauth-scopes
// header) with those bot.Manifest declares.
func (d *doctor) checkScopes(header string) {
	if strings.TrimSpace(header) == "" {
		d.warn("Slack did not say which scopes the bot token has (no x-oauth-scopes header)",
			"compare the app's OAuth & Permissions page with the scopes in manifest.yml")
		return
	}
	have := map[string]bool{}
	for sc := range strings.SplitSeq(header, ",") {
		have[strings.TrimSpace(sc)] = true
	}
	want := bot.Manifest().BotScopes
	var missing, extra []string
	for _, sc := range want {
		if !have[sc] {
			missing = append(missing, sc)
		}
	}
	for sc := range have {
		if sc != "" && !slices.Contains(want, sc) {
			extra = append(extra, sc)
		}
	}
	slices.Sort(extra)
	if len(missing) > 0 {
		d.problem(fmt.Sprintf("the bot token lacks %s %s that csbot uses", countWord(len(missing), "scope", "scopes"), strings.Join(missing, ", ")),
			"update the app from manifest.yml (or add what is missing on its OAuth & Permissions page) and reinstall it to the workspace")
	}
	if len(extra) > 0 {
		d.warn(fmt.Sprintf("the bot token has %s csbot does not use: %s", countWord(len(extra), "a scope", "scopes"), strings.Join(extra, ", ")),
			"take what csbot does not use off the app (manifest.yml lists what it needs) and reinstall it")
	}
	if len(missing) == 0 && len(extra) == 0 {
		d.ok("bot token scopes: the %d that manifest.yml declares", len(want))
	}
}

// checkChannels checks every linked account channel: it exists, is not
// archived, has csbot in it, and is not shared with another
// organisation. One conversations.list pass covers the channels csbot
// can see; conversations.info asks about the others.
func (d *doctor) checkChannels(ctx context.Context, api *slack.Client, s *store.Store) error {
	accounts, err := s.AccountsWithChannel(ctx)
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	if len(accounts) == 0 {
		d.info("no account has a channel linked yet")
		return nil
	}
	byChannel := map[string][]csbot.Account{}
	var ids []string
	for _, a := range accounts {
		if _, ok := byChannel[a.SlackChannelID]; !ok {
			ids = append(ids, a.SlackChannelID)
		}
		byChannel[a.SlackChannelID] = append(byChannel[a.SlackChannelID], a)
	}
	seen := map[string]slack.Channel{}
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, Limit: 200}
	for {
		chs, next, err := api.GetConversationsContext(ctx, params)
		if err != nil {
			d.problem(fmt.Sprintf("Slack refuses to list the workspace's channels (conversations.list: %v)", err),
				"give the app the channels:read and groups:read scopes of manifest.yml and reinstall it")
			return nil
		}
		for _, ch := range chs {
			if _, ok := byChannel[ch.ID]; ok {
				seen[ch.ID] = ch
			}
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	type finding struct {
		problem   bool
		what, fix string
	}
	var found []finding
	good := 0
	for _, id := range ids {
		linked := byChannel[id]
		owner := accountNames(linked)
		ch, ok := seen[id]
		if !ok {
			info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
			if err != nil {
				found = append(found, finding{true,
					fmt.Sprintf("%s, the channel of %s, doesn't exist or csbot can't see it (conversations.info: %v)", id, owner, err),
					fmt.Sprintf("if it is private, invite @csbot to it (/invite @csbot); else type /health link %s in the account's channel", linked[0].Name)})
				continue
			}
			ch = *info
		}
		name := "#" + ch.Name
		label := fmt.Sprintf("%s (%s), the channel of %s,", name, id, owner)
		before := len(found)
		switch {
		case ch.IsArchived:
			found = append(found, finding{true, label + " is archived: csbot can't post there",
				fmt.Sprintf("unarchive %s, or type /health link %s in the account's active channel", name, linked[0].Name)})
		case !ch.IsMember:
			found = append(found, finding{true, label + " doesn't have csbot in it",
				fmt.Sprintf("invite @csbot to %s: /invite @csbot", name)})
		}
		if ch.IsExtShared || ch.IsPendingExtShared {
			found = append(found, finding{false,
				label + " is shared with another organisation: csbot keeps internal data out of it and sends its alerts to the CSM's direct messages",
				fmt.Sprintf("if the team has an internal channel for %s, type /health link %s in it", linked[0].Name, linked[0].Name)})
		}
		if len(found) == before {
			good++
		}
	}
	// Problems first, then warnings, each kind capped like the others.
	slices.SortStableFunc(found, func(a, b finding) int {
		switch {
		case a.problem == b.problem:
			return 0
		case a.problem:
			return -1
		}
		return 1
	})
	problems := 0
	for _, f := range found {
		if f.problem {
			problems++
		}
	}
	d.many(true, problems, problems, "account channels with problems", func(i int) (string, string) { return found[i].what, found[i].fix })
	d.many(false, len(found)-problems, len(found)-problems, "account channels with warnings", func(i int) (string, string) {
		return found[problems+i].what, found[problems+i].fix
	})
	if good > 0 {
		d.ok("account channels: %d of %d exist, have csbot in them and are internal", good, len(ids))
	}
	return nil
}

// accountNames names the accounts of a channel: "Acme Corp" or "Acme
// Corp and Acme Labs".
func accountNames(accounts []csbot.Account) string {
	names := make([]string, len(accounts))
	for i, a := range accounts {
		names[i] = a.Name
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
