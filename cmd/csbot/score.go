package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
)

// runScore computes every account's health and signals at one instant (or
// for each of the last N days) and writes the daily snapshots.
func runScore(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stdout)
	atValue := fs.String("at", "", "score as of this date or RFC 3339 time (default now)")
	backfill := fs.String("backfill", "", "also write daily snapshots for this many days before, e.g. 90d")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	at, err := atFlag(fs, *atValue)
	if err != nil {
		return err
	}
	days, err := parseDays(*backfill)
	if err != nil {
		return usagef("score: --backfill %q: %v", *backfill, err)
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
	return scoreDays(ctx, db.Store, policy, at, days, stdout)
}

// scoreDays scores at each of the days before at (oldest first, so each
// day's trend reads the snapshots written before it) and then at at,
// printing a line per pass and the signals of the last.
func scoreDays(ctx context.Context, s *store.Store, p csbot.Policy, at time.Time, days int, w io.Writer) error {
	var signals []csbot.Signal
	for d := days; d >= 0; d-- {
		when := at.AddDate(0, 0, -d)
		began := time.Now()
		facts, err := s.AccountFacts(ctx, when)
		if err != nil {
			return err
		}
		scores, sigs := csbot.ScoreAll(facts, p, when)
		written, err := s.SaveScores(ctx, scores)
		if err != nil {
			return err
		}
		signals = sigs
		if d == 0 || d%10 == 0 {
			fmt.Fprintf(w, "%s: %d accounts scored (%s), %d signals, in %v\n", when.Format("2006-01-02"),
				written, bandCounts(scores), len(sigs), time.Since(began).Round(time.Millisecond))
		}
	}
	byKind := map[csbot.SignalKind]int{}
	for _, sg := range signals {
		byKind[sg.Kind]++
	}
	kinds := make([]string, 0, len(byKind))
	for k, n := range byKind {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	if len(kinds) > 0 {
		fmt.Fprintf(w, "Open signals: %s\n", strings.Join(kinds, ", "))
	}
	return nil
}

func bandCounts(scores []csbot.HealthScore) string {
	n := map[csbot.Band]int{}
	for _, h := range scores {
		n[h.Band]++
	}
	s := fmt.Sprintf("%d green, %d yellow, %d red", n[csbot.BandGreen], n[csbot.BandYellow], n[csbot.BandRed])
	if n[""] > 0 {
		s += fmt.Sprintf(", %d without data", n[""])
	}
	return s
}

// parseDays parses "90d" or "90" as a number of days; "" is 0.
func parseDays(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "d"))
	if err != nil || n < 0 || n > 3650 {
		return 0, errors.New("want a number of days like 90d (0..3650)")
	}
	return n, nil
}
