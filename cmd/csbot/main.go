// Command csbot is a self-hosted Slack bot for Customer Success teams.
//
// Run without arguments, it starts the bot (for now: the embedded database,
// the demo portfolio on first run, and a summary of the book). Subcommands
// migrate the schema, import CSV files and load a demo portfolio; run
// `csbot --help` for the list and every environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/csbot/csbot/bot"
)

// config is every setting csbot reads from the environment.
type config struct {
	AppToken       string        `envconfig:"SLACK_APP_TOKEN" desc:"xapp- app-level token (connections:write) for Socket Mode"`
	BotToken       string        `envconfig:"SLACK_BOT_TOKEN" desc:"xoxb- bot token"`
	SlackAPIURL    string        `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base URL (tests and the playground point it at the fake server)"`
	DatabaseURL    string        `envconfig:"DATABASE_URL" desc:"PostgreSQL URL; empty starts the embedded database under CSBOT_DATA_DIR"`
	DataDir        string        `envconfig:"CSBOT_DATA_DIR" default:".csbot" desc:"where the embedded database lives"`
	OpenAIKey      string        `envconfig:"OPENAI_API_KEY" desc:"key for the LLM that drafts EBRs; empty (and no base URL) = deterministic drafts"`
	OpenAIBaseURL  string        `envconfig:"OPENAI_BASE_URL" desc:"any OpenAI-compatible endpoint (e.g. a local Ollama or vLLM)"`
	OpenAIModel    string        `envconfig:"OPENAI_MODEL" default:"gpt-4o-mini" desc:"model name for EBR drafts"`
	OpenAITimeout  time.Duration `envconfig:"OPENAI_TIMEOUT" default:"60s" desc:"how long one EBR draft may wait for the model, retries included; then csbot drafts from its template"`
	OpenAITokens   int           `envconfig:"OPENAI_MAX_COMPLETION_TOKENS" default:"2000" desc:"cap on the tokens of the model's answer"`
	Timezone       string        `envconfig:"CSBOT_TIMEZONE" default:"UTC" desc:"default IANA time zone for schedules (users' own zones win)"`
	PolicyFile     string        `envconfig:"CSBOT_POLICY_FILE" desc:"health, signal, reminder and notification policy overrides"`
	OnboardingChan string        `envconfig:"CSBOT_ONBOARDING_CHANNEL" desc:"channel id where handoffs go besides the account channel"`
	HTTPAddr       string        `envconfig:"CSBOT_HTTP_ADDR" desc:"optional listener for /healthz, /readyz and /metrics, e.g. 127.0.0.1:9090"`
	FiscalStart    int           `envconfig:"CSBOT_FISCAL_YEAR_START" default:"1" desc:"month (1-12) the fiscal year starts, for quarters"`
	LogLevel       string        `envconfig:"CSBOT_LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	LogFormat      string        `envconfig:"CSBOT_LOG_FORMAT" desc:"json or text; empty: text on a terminal, JSON lines otherwise"`
	ChannelPattern string        `envconfig:"CSBOT_CHANNEL_PATTERN" default:"acct-{name}" desc:"name of the account channels csbot creates: {name}, {external_id} or {domain}, made a valid Slack channel name"`
	PlaygroundAddr string        `envconfig:"CSBOT_PLAYGROUND_ADDR" default:"127.0.0.1:8088" desc:"where the local playground page listens when no Slack tokens are set (a free port when this one is taken)"`
}

// location returns CSBOT_TIMEZONE's zone, or a usage error naming it.
func (c config) location() (*time.Location, error) {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		return nil, usagef("CSBOT_TIMEZONE=%q is not an IANA time zone (like Europe/Berlin or America/New_York)", c.Timezone)
	}
	return loc, nil
}

// fiscalStart returns CSBOT_FISCAL_YEAR_START's month, or a usage error.
func (c config) fiscalStart() (time.Month, error) {
	if c.FiscalStart < 1 || c.FiscalStart > 12 {
		return 0, usagef("CSBOT_FISCAL_YEAR_START=%d is not a month: use 1 (January) to 12 (December)", c.FiscalStart)
	}
	return time.Month(c.FiscalStart), nil
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a mistake on the command line or in input: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// commandHelp lists the subcommands for --help.
func commandHelp() []struct{ name, help string } {
	return []struct{ name, help string }{
		{"(none)", "run the bot; with DATABASE_URL unset, on the embedded database (the demo portfolio is loaded on first run)"},
		{"migrate", "bring the database schema up to date"},
		{"import KIND FILE.csv [--no-score]", "import a CSV file, all or nothing, then rescore the book and queue the alerts it raises; kinds: users, accounts, contacts, renewals, usage, tickets, nps, invoices, outages, touchpoints"},
		{"demo [--accounts N] [--seed S] [--backfill 35d] [--out DIR]", "load a deterministic demo portfolio and score it (with daily snapshots of the days before, for trends), or write its CSV files to DIR"},
		{"score [--at DATE] [--backfill 90d]", "compute every account's health score and risk signals and store the daily snapshot (and those of the days before)"},
		{"policy", "print the policy in force (defaults + CSBOT_POLICY_FILE) as YAML, a starting point for a policy file"},
		{"try '/health acme' [--as U123] [--channel C123] [--json]", "run a slash command against the database without Slack, through the same handlers, and print the reply"},
		{"notify --once [--at TIME] [--dry-run]", "run one pass of every schedule (scores and alerts, renewal reminders) as at TIME, deliver what is due and exit; --dry-run prints what would be sent"},
		{"digest --preview @MANAGER [--at TIME] [--json]", "print a manager's weekly at-risk digest as it would be sent, without sending it"},
		{"summary", "print a summary of the book: accounts by tier and band, ARR, renewals in the next 90 days"},
		{"audit [--account acme] [--since 30d] [--actor U123] [--limit 100] [--json]", "print the audit log, newest first: who looked up, clicked, submitted, imported or changed what, when, on which account, from which channel"},
		{"channels sync [--pattern acct-{name}] [--private] [--dry-run]", "create a Slack channel for every account without one (or link the existing one of that name), invite its CSM and AE, and pin a summary; needs SLACK_BOT_TOKEN"},
		{"doctor [--all]", "check the Slack tokens and scopes, the account channels, and the data csbot needs (time zones, CSMs, renewal contacts); a line per finding with its fix; exit 1 when something needs fixing"},
	}
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	if err := envconfig.Process("", &cfg); err != nil {
		fmt.Fprintf(stderr, "csbot: configuration: %v\n", err)
		return exitUsage
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	cmd, rest := "", args
	if len(args) > 0 {
		cmd, rest = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "-h", "--help", "-help", "help":
		printUsage(stdout)
		return exitOK
	case "":
		err = runBot(ctx, cfg, log, stdout)
	case "migrate":
		err = runMigrate(ctx, cfg, log, rest, stdout)
	case "import":
		err = runImport(ctx, cfg, log, rest, stdout, stderr)
	case "demo":
		err = runDemo(ctx, cfg, log, rest, stdout)
	case "summary":
		err = runSummary(ctx, cfg, log, rest, stdout)
	case "score":
		err = runScore(ctx, cfg, log, rest, stdout)
	case "policy":
		err = runPolicy(ctx, cfg, rest, stdout)
	case "try":
		err = runTry(ctx, cfg, log, rest, stdout)
	case "notify":
		err = runNotify(ctx, cfg, log, rest, stdout)
	case "digest":
		err = runDigest(ctx, cfg, log, rest, stdout)
	case "audit":
		err = runAudit(ctx, cfg, log, rest, stdout)
	case "channels":
		err = runChannels(ctx, cfg, log, rest, stdout)
	case "doctor":
		err = runDoctor(ctx, cfg, log, rest, stdout)
	default:
		if strings.HasPrefix(cmd, "-") {
			err = usagef("unknown flag %q; run csbot --help", cmd)
		} else {
			err = usagef("unknown command %q; run csbot --help", cmd)
		}
	}
	return exitCode(err, stderr)
}

// exitCode prints err for a person and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "csbot: %v\n", err)
		}
		return exitUsage
	}
	var ie *importFailure
	if errors.As(err, &ie) {
		ie.print(stderr)
		return exitUsage
	}
	fmt.Fprintf(stderr, "csbot: %v\n", err)
	return exitFailure
}

// newLogger returns csbot's logger on w at level (CSBOT_LOG_LEVEL, info
// when unknown), in format (CSBOT_LOG_FORMAT): "json" or "text", or, when
// empty or unknown, text on a terminal and JSON lines otherwise. Lines
// logged with a context carry its request id (see bot.NewContextHandler).
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	switch strings.ToLower(format) {
	case "json":
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		if isTerminal(w) {
			h = slog.NewTextHandler(w, opts)
		}
	}
	return slog.New(bot.NewContextHandler(h))
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "csbot: a Slack bot for Customer Success teams")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: csbot [command] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range commandHelp() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.help)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 runtime failure, 2 usage or input error.")
	fmt.Fprintln(w)
	var cfg config
	_ = envconfig.Usagef("", &cfg, w, envUsageFormat)
}

// envUsageFormat lists each variable with its default and meaning.
const envUsageFormat = `Environment:
{{range .}}  {{usage_key .}}{{if usage_default .}} (default {{usage_default .}}){{end}}
      {{usage_description .}}
{{end}}`
