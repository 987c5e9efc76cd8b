package store_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/store"
	"github.com/csbot/csbot/store/pgtest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkImportUsage measures csbot's validated, upserting import of
// 1,000,000 usage rows against a raw COPY of the same CSV file into
// usage_daily, both into the full schema with its indexes and foreign
// keys, in the same run. Accounts get external ids equal to their internal
// ids so the one file suits both. It reports both rates, their ratio, and
// the import's peak heap (the file is streamed, never held whole).
//
//	go test -run '^$' -bench ImportUsage -benchtime 1x ./store/
func BenchmarkImportUsage(b *testing.B) {
	ctx := context.Background()
	const accounts, days = 1000, 1000
	url := pgtest.NewDatabase(ctx, b)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO accounts (external_id, name, tier, arr_cents)
		SELECT g::text, 'Account ' || g, 'tech', 100000 FROM generate_series(1, $1::int) g`, accounts)
	if err != nil {
		b.Fatal(err)
	}
	path := writeUsageCSV(b, accounts, days)
	s, err := store.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	kind, _ := csbot.LookupImportKind("usage")

	var rawTotal, importTotal time.Duration
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		truncateUsage(ctx, b, conn)
		f := mustOpen(b, path)
		start := time.Now()
		_, err := conn.PgConn().CopyFrom(ctx, f, `COPY usage_daily (account_id, day, active_users, licensed_seats, events) FROM STDIN (FORMAT csv, HEADER true)`)
		rawTotal += time.Since(start)
		f.Close()
		if err != nil {
			b.Fatalf("raw copy: %v", err)
		}

		truncateUsage(ctx, b, conn)
		f = mustOpen(b, path)
		stop := sampleHeap(&peak)
		start = time.Now()
		res, err := s.Import(ctx, kind, f)
		importTotal += time.Since(start)
		stop()
		f.Close()
		if err != nil {
			b.Fatalf("import: %v", err)
		}
		if res.Inserted != accounts*days {
			b.Fatalf("import inserted %d rows, want %d", res.Inserted, accounts*days)
		}
	}
	rows := float64(accounts * days * b.N)
	rawRate := rows / rawTotal.Seconds()
	importRate := rows / importTotal.Seconds()
	b.ReportMetric(rawRate, "raw-copy-rows/s")
	b.ReportMetric(importRate, "import-rows/s")
	b.ReportMetric(importRate/rawRate, "import/raw")
	b.ReportMetric(float64(peak)/(1<<20), "import-peak-heap-MB")
	b.ReportMetric(0, "ns/op")
}

func writeUsageCSV(b *testing.B, accounts, days int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "usage.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("account_external_id,day,active_users,licensed_seats,events\n")
	day0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf []byte
	for a := 1; a <= accounts; a++ {
		for d := 0; d < days; d++ {
			buf = strconv.AppendInt(buf[:0], int64(a), 10)
			buf = append(buf, ',')
			buf = day0.AddDate(0, 0, d).AppendFormat(buf, "2006-01-02")
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64((a*7+d*13)%50), 10)
			buf = append(buf, ",50,"...)
			buf = strconv.AppendInt(buf, int64((a+d)%997*11), 10)
			buf = append(buf, '\n')
			w.Write(buf)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

func truncateUsage(ctx context.Context, b *testing.B, conn *pgx.Conn) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	if _, err := conn.Exec(ctx, "TRUNCATE usage_daily"); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
}

func mustOpen(b *testing.B, path string) *os.File {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// sampleHeap records the largest live heap seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > *peak {
				*peak = v
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// BenchmarkScoreBook measures the whole recompute of a demo book: read the
// facts of every account in set-based queries, score them, write the
// daily snapshots. The book has CSBOT_BENCH_ACCOUNTS accounts (default
// 100,000; loading them takes a few minutes before the timer starts). It
// reports seconds per recompute and the peak heap.
//
//	go test -run '^$' -bench ScoreBook -benchtime 3x -timeout 30m ./store/
func BenchmarkScoreBook(b *testing.B) {
	ctx := context.Background()
	accounts := 100_000
	if v := os.Getenv("CSBOT_BENCH_ACCOUNTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("CSBOT_BENCH_ACCOUNTS: %v", err)
		}
		accounts = n
	}
	s, err := store.Open(ctx, pgtest.NewDatabase(ctx, b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	loadStart := time.Now()
	loadDemo(ctx, b, s, csbot.DemoOptions{Accounts: accounts, Seed: 1, Now: now})
	b.Logf("loaded a %d-account demo book in %v", accounts, time.Since(loadStart).Round(time.Second))
	p := csbot.DefaultPolicy()
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stop := sampleHeap(&peak)
		facts, err := s.AccountFacts(ctx, now)
		if err != nil {
			b.Fatal(err)
		}
		scores, _ := csbot.ScoreAll(facts, p, now)
		n, err := s.SaveScores(ctx, scores)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if n != int64(accounts) {
			b.Fatalf("wrote %d snapshots, want %d", n, accounts)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/recompute")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// benchAccounts is the size of a benchmark's demo book:
// CSBOT_BENCH_ACCOUNTS when set, else def.
func benchAccounts(b *testing.B, def int) int {
	b.Helper()
	v := os.Getenv("CSBOT_BENCH_ACCOUNTS")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 10 {
		b.Fatalf("CSBOT_BENCH_ACCOUNTS=%q: want a number of accounts, at least 10", v)
	}
	return n
}

// benchNow is the instant the lookup benchmarks' demo books are made and
// read at.
func benchNow() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

// newBenchBook returns a store holding a scored demo book of
// CSBOT_BENCH_ACCOUNTS accounts (default 10,000: it loads in well under a
// minute), and the ids of its accounts.
func newBenchBook(ctx context.Context, b *testing.B) (*store.Store, []int64) {
	b.Helper()
	accounts := benchAccounts(b, 10_000)
	url := pgtest.NewDatabase(ctx, b)
	s, err := store.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	began := time.Now()
	loadDemo(ctx, b, s, csbot.DemoOptions{Accounts: accounts, Seed: 1, Now: benchNow()})
	facts, err := s.AccountFacts(ctx, benchNow())
	if err != nil {
		b.Fatal(err)
	}
	scores, _ := csbot.ScoreAll(facts, csbot.DefaultPolicy(), benchNow())
	if _, err := s.SaveScores(ctx, scores); err != nil {
		b.Fatal(err)
	}
	// Statistics, as autovacuum gathers them within a minute of a load:
	// the benchmarks measure the steady state, not the planner's guesses
	// about tables it has never seen.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded and scored a %d-account demo book in %v", accounts, time.Since(began).Round(time.Second))
	ids := make([]int64, len(facts))
	for i, f := range facts {
		ids[i] = f.AccountID
	}
	return s, ids
}

// BenchmarkFindAccounts measures account lookups by each kind of match,
// and a mix of them, in a demo book of CSBOT_BENCH_ACCOUNTS accounts
// (default 10,000).
//
//	go test -run '^$' -bench FindAccounts ./store/
func BenchmarkFindAccounts(b *testing.B) {
	ctx := context.Background()
	s, _ := newBenchBook(ctx, b)
	queries := []struct {
		name, query string
		kind        csbot.MatchKind // "" when nothing matches
	}{
		{"external_id", "acc-000042", csbot.MatchExternalID},
		{"name", "vandelay industries", csbot.MatchName},
		{"domain", "https://www.globex.example/pricing", csbot.MatchDomain},
		{"email", "jo@hooli.example", csbot.MatchDomain},
		{"normalized", "The ACME corporation", csbot.MatchNormalized},
		{"partial", "wonka", csbot.MatchPartial},
		{"partial-common-word", "freight", csbot.MatchPartial}, // starts a word of 1 name in 45
		{"fuzzy", "umbrela corp", csbot.MatchFuzzy},
		{"nomatch", "xyzzy qwertz", ""},
	}
	for _, q := range queries {
		got, err := s.FindAccounts(ctx, q.query, 10)
		if err != nil {
			b.Fatal(err)
		}
		if kind := lookupKind(got); kind != q.kind {
			b.Fatalf("FindAccounts(%q) found kind %q, want %q", q.query, kind, q.kind)
		}
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.FindAccounts(ctx, q.query, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("mix", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := s.FindAccounts(ctx, queries[i%len(queries)].query, 10); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// lookupKind is the kind of a lookup's matches, "" when none.
func lookupKind(l csbot.AccountLookup) csbot.MatchKind {
	if len(l.Matches) == 0 {
		return ""
	}
	return l.Matches[0].Kind
}

// BenchmarkAccountDetail measures reading what /health shows of one
// account, account after account of a demo book of CSBOT_BENCH_ACCOUNTS
// accounts (default 10,000).
//
//	go test -run '^$' -bench AccountDetail ./store/
func BenchmarkAccountDetail(b *testing.B) {
	ctx := context.Background()
	s, ids := newBenchBook(ctx, b)
	i := 0
	for b.Loop() {
		d, err := s.AccountDetail(ctx, ids[(i*7919)%len(ids)], benchNow())
		if err != nil {
			b.Fatal(err)
		}
		if d.Facts.AccountID != d.Account.ID {
			b.Fatalf("AccountDetail(%d) facts of account %d", d.Account.ID, d.Facts.AccountID)
		}
		i++
	}
}

// BenchmarkRenewals measures the first page (40 lines) of the renewals of
// the next 90 days, with the totals of all of them, for the busiest CSM
// and for the whole of a demo book of CSBOT_BENCH_ACCOUNTS accounts
// (default 10,000).
//
//	go test -run '^$' -bench Renewals ./store/
func BenchmarkRenewals(b *testing.B) {
	ctx := context.Background()
	s, _ := newBenchBook(ctx, b)
	csm, err := s.BusiestCSM(ctx)
	if err != nil {
		b.Fatal(err)
	}
	today := time.Date(benchNow().Year(), benchNow().Month(), benchNow().Day(), 0, 0, 0, 0, time.UTC)
	for _, bb := range []struct {
		name string
		f    csbot.RenewalFilter
	}{
		{"csm-90d", csbot.RenewalFilter{From: today, To: today.AddDate(0, 0, 90), Owners: []string{csm.SlackID}, Limit: 40}},
		{"csm-90d-at-risk", csbot.RenewalFilter{From: today, To: today.AddDate(0, 0, 90), Owners: []string{csm.SlackID}, AtRisk: true, Limit: 40}},
		{"book-90d", csbot.RenewalFilter{From: today, To: today.AddDate(0, 0, 90), Limit: 40}},
		{"book-90d-at-risk", csbot.RenewalFilter{From: today, To: today.AddDate(0, 0, 90), AtRisk: true, Limit: 40}},
	} {
		rep, err := s.Renewals(ctx, bb.f)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Total == 0 || len(rep.Lines) == 0 {
			b.Fatalf("%s: no renewals in the next 90 days", bb.name)
		}
		b.Logf("%s: %d renewals, %d months, page of %d", bb.name, rep.Total, len(rep.Months), len(rep.Lines))
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Renewals(ctx, bb.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
