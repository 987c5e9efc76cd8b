package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/notifier"
	"github.com/csbot/csbot/store"
)

// runBot runs the bot. Until the Slack runtime exists it makes sure the
// database is ready (loading the demo portfolio on first run) and prints a
// summary of the book.
func runBot(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) error {
	policy, err := loadPolicy(cfg.PolicyFile) // a bad policy file stops the bot at start
	if err != nil {
		return err
	}
	if _, err := cfg.location(); err != nil {
		return err
	}
	if _, err := cfg.fiscalStart(); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	n, err := db.AccountCount(ctx)
	if err != nil {
		return err
	}
	if n == 0 && cfg.DatabaseURL == "" {
		fmt.Fprintln(stdout, "First run: loading the demo portfolio (csbot demo).")
		now := time.Now().UTC()
		if err := loadDemo(ctx, db.Store, csbot.DemoOptions{Now: now}, stdout); err != nil {
			return err
		}
		if err := scoreDays(ctx, db.Store, policy, now, demoBackfillDays, stdout); err != nil {
			return err
		}
	}
	if err := printSummary(ctx, db.Store, stdout); err != nil {
		return err
	}
	if cfg.BotToken == "" && cfg.AppToken == "" {
		return runPlayground(ctx, cfg, log, db, policy, stdout)
	}
	log.Info("running on Slack", "mode", "slack")
	return runSlack(ctx, cfg, log, db, policy, slackHooks{})
}

func runMigrate(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usagef("migrate takes no arguments")
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	v, err := store.SchemaVersion()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema is up to date (version %d)\n", v)
	return nil
}

func runSummary(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usagef("summary takes no arguments")
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	return printSummary(ctx, db.Store, stdout)
}

// importFailure is a refused import file: printed row by row, exit code 2.
type importFailure struct {
	file string
	err  *csbot.ImportError
}

func (f *importFailure) Error() string { return f.file + ": " + f.err.Error() }

func (f *importFailure) print(w io.Writer) {
	if f.err.Problem != "" {
		fmt.Fprintf(w, "csbot: %s: %s\n", f.file, f.err.Problem)
		return
	}
	for _, r := range f.err.Rows {
		fmt.Fprintf(w, "%s: %v\n", f.file, r)
	}
	if more := f.err.Total - len(f.err.Rows); more > 0 {
		fmt.Fprintf(w, "%s: ... and %d more bad rows\n", f.file, more)
	}
	rows := "rows"
	if f.err.Total == 1 {
		rows = "row"
	}
	fmt.Fprintf(w, "csbot: %s: %d bad %s; nothing was imported\n", f.file, f.err.Total, rows)
}

// runImport imports one CSV file, all or nothing, and then rescores the
// book and decides its alerts, as the hourly pass would (--no-score skips
// that); the bot delivers them.
func runImport(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	rescore := true
	if i := slices.Index(args, "--no-score"); i >= 0 {
		rescore = false
		args = slices.Delete(slices.Clone(args), i, i+1)
	}
	if len(args) != 2 {
		return usagef("usage: csbot import KIND FILE.csv [--no-score] (kinds: %s)", strings.Join(csbot.ImportKindNames(), ", "))
	}
	var policy csbot.Policy
	var loc *time.Location
	if rescore {
		var err error
		if policy, err = loadPolicy(cfg.PolicyFile); err != nil {
			return err
		}
		if loc, err = cfg.location(); err != nil {
			return err
		}
	}
	kind, err := csbot.LookupImportKind(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	f, err := os.Open(args[1])
	if err != nil {
		return usagef("cannot open %s: %v", args[1], errors.Unwrap(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return usagef("%s is a directory, not a CSV file", args[1])
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	began := time.Now()
	res, err := db.Import(ctx, kind, f)
	if err != nil {
		return asImportFailure(filepath.Base(args[1]), err)
	}
	printImport(stdout, res, time.Since(began))
	auditImport(ctx, db.Store, log, res, filepath.Base(args[1]))
	if !rescore {
		return nil
	}
	n, err := notifier.New(notifier.Config{Store: db.Store, Policy: policy, Location: loc, Logger: log})
	if err != nil {
		return err
	}
	pass, err := n.ScorePass(ctx, time.Now().UTC(), false)
	if err != nil {
		return fmt.Errorf("imported, but rescoring failed (the bot's next pass catches up): %w", err)
	}
	fmt.Fprintf(stdout, "rescored %d accounts: %d notifications queued%s (the bot delivers them)\n",
		pass.Scored, len(pass.Notifications), countsText(pass.Counts))
	return nil
}

// asImportFailure marks a refused file as an input error.
func asImportFailure(file string, err error) error {
	var ie *csbot.ImportError
	if errors.As(err, &ie) {
		return &importFailure{file: file, err: ie}
	}
	return err
}

func printImport(w io.Writer, res store.ImportResult, took time.Duration) {
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s: %s\n", res.Kind, warn)
	}
	rate := ""
	if took > 0 && res.Rows > 0 {
		rate = fmt.Sprintf(", %.0f rows/s", float64(res.Rows)/took.Seconds())
	}
	fmt.Fprintf(w, "%-11s %8d rows: %d inserted, %d updated, %d unchanged, %d warnings in %v%s\n",
		res.Kind, res.Rows, res.Inserted, res.Updated, res.Unchanged, len(res.Warnings), took.Round(time.Millisecond), rate)
}

func runDemo(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	accounts := fs.Int("accounts", 200, "number of accounts (1..100000)")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same portfolio")
	out := fs.String("out", "", "write the CSV files to this directory instead of loading them")
	backfill := fs.String("backfill", strconv.Itoa(demoBackfillDays)+"d", "score the portfolio for this many days before today too, so trends exist")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *accounts < 1 || *accounts > 100_000 {
		return usagef("demo: --accounts must be between 1 and 100000")
	}
	days, err := parseDays(*backfill)
	if err != nil {
		return usagef("demo: --backfill %q: %v", *backfill, err)
	}
	opts := csbot.DemoOptions{Accounts: *accounts, Seed: *seed, Now: time.Now().UTC()}
	if *out != "" {
		return writeDemo(opts, *out, stdout)
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
	if err := loadDemo(ctx, db.Store, opts, stdout); err != nil {
		return err
	}
	if err := scoreDays(ctx, db.Store, policy, opts.Now, days, stdout); err != nil {
		return err
	}
	return printSummary(ctx, db.Store, stdout)
}

// demoBackfillDays is how many days of snapshots the demo writes, enough
// for the 7- and 30-day trends.
const demoBackfillDays = 35

// loadDemo loads a demo portfolio through the import path, printing a
// line per kind.
func loadDemo(ctx context.Context, s *store.Store, opts csbot.DemoOptions, stdout io.Writer) error {
	return s.ImportDemo(ctx, csbot.NewDemo(opts), func(res store.ImportResult, took time.Duration) {
		printImport(stdout, res, took)
	})
}

func writeDemo(opts csbot.DemoOptions, dir string, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	demo := csbot.NewDemo(opts)
	for _, name := range demo.Kinds() {
		path := filepath.Join(dir, name+".csv")
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := demo.WriteCSV(name, f); err != nil {
			f.Close()
			return fmt.Errorf("demo: write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("demo: write %s: %w", path, err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	fmt.Fprintf(stdout, "load them in this order with: csbot import KIND %s/KIND.csv\n", dir)
	return nil
}

func printSummary(ctx context.Context, s *store.Store, w io.Writer) error {
	const window = 90
	sum, err := s.BookSummary(ctx, time.Now().UTC(), window)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nBook: %d accounts, %s ARR\n", sum.Accounts, sum.ARR)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  tier\taccounts\tARR\t")
	for _, t := range sum.ByTier {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t\n", t.Tier, t.Accounts, t.ARR)
	}
	tw.Flush()
	if len(sum.ByBand) > 0 {
		fmt.Fprintf(w, "Health: %d green, %d yellow, %d red", sum.ByBand["green"], sum.ByBand["yellow"], sum.ByBand["red"])
		if sum.Unscored > 0 {
			fmt.Fprintf(w, ", %d not scored yet", sum.Unscored)
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "Health: not scored yet")
	}
	fmt.Fprintf(w, "Renewals in the next %d days: %d, %s ARR\n", window, sum.Renewals, sum.RenewalsARR)
	return nil
}
