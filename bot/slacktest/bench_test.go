package slacktest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/csbot/csbot/bot/slacktest"
)

// ackAll acks every envelope the client receives, until ctx ends.
func ackAll(ctx context.Context, c *socketmode.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-c.Events:
			if evt.Request != nil && evt.Request.EnvelopeID != "" {
				_ = c.Ack(*evt.Request)
			}
		}
	}
}

// BenchmarkAckLatency measures, through slack-go's own client acking at
// once, the time from writing an envelope to reading its ack, one envelope
// at a time: the floor under any bot's ack latency on loopback.
func BenchmarkAckLatency(b *testing.B) {
	benchmarkAcks(b, false)
}

// BenchmarkAckBurst is BenchmarkAckLatency with every envelope sent at once:
// the latencies then include queueing in slack-go's buffered channels.
func BenchmarkAckBurst(b *testing.B) {
	benchmarkAcks(b, true)
}

func benchmarkAcks(b *testing.B, burst bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := slacktest.New(b)
	client := startSocketClient(ctx, b, srv)
	go ackAll(ctx, client)

	b.ResetTimer()
	for range b.N {
		env, err := srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "ping", UserID: "U1", ChannelID: "C1"})
		if err != nil {
			b.Fatal(err)
		}
		if !burst {
			if _, err := srv.WaitForAck(ctx, env.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	snap, err := srv.WaitFor(ctx, func(s slacktest.Snapshot) bool { return len(s.Acks()) >= b.N })
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	lat := make([]time.Duration, 0, b.N)
	for _, a := range snap.Acks() {
		lat = append(lat, a.Latency)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkReconnect measures how long slack-go takes from a
// refresh_requested disconnect to its next hello.
func BenchmarkReconnect(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := slacktest.New(b)
	client := startSocketClient(ctx, b, srv)
	go ackAll(ctx, client)

	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		if err := srv.Disconnect("refresh_requested"); err != nil {
			b.Fatal(err)
		}
		next, err := srv.WaitForConnection(ctx, i+2)
		if err != nil {
			b.Fatal(err)
		}
		total += next.ConnectedAt.Sub(srv.Connections()[i].ClosedAt)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/reconnect")
}
