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
