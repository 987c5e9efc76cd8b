package bot

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
)

// ackEnvelopes is how many envelopes BenchmarkAckLatency sends per op.
const ackEnvelopes = 10000

// BenchmarkAckLatency sends 10,000 /csbot ping commands through the fake
// Slack to a runtime on a real database, one after the other, and reports
// the latency from writing each envelope to reading its ack (p50, p99,
// max). The replies (a database ping, a response_url post) run meanwhile.
func BenchmarkAckLatency(b *testing.B) {
	ctx := context.Background()
	h := newHarness(ctx, b)
	h.start(ctx, b, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) }, nil)

	var lat []time.Duration
	for b.Loop() {
		first := len(h.srv.Acks())
		for range ackEnvelopes {
			env, err := h.srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "ping", UserID: csm, ChannelID: acme})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.srv.WaitForAck(ctx, env.ID); err != nil {
				b.Fatal(err)
			}
		}
		for _, a := range h.srv.Acks()[first:] {
			lat = append(lat, a.Latency)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
	b.ReportMetric(float64(ackEnvelopes), "envelopes/op")
}

// BenchmarkReconnect measures a refresh_requested disconnect: the time
// from the old link's close to the new link's hello, and to the reply to
// the next command.
func BenchmarkReconnect(b *testing.B) {
	ctx := context.Background()
	h := newHarness(ctx, b)
	h.start(ctx, b, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) }, nil)

	var relink, reply time.Duration
	n := 0
	for b.Loop() {
		before := connected(h.srv.Snapshot())
		cut := time.Now()
		if err := h.srv.Disconnect("refresh_requested"); err != nil {
			b.Fatal(err)
		}
		snap, err := h.srv.WaitFor(ctx, func(s slacktest.Snapshot) bool { return connected(s) > before })
		if err != nil {
			b.Fatal(err)
		}
		conns := snap.Connections()
		relink += conns[len(conns)-1].ConnectedAt.Sub(conns[len(conns)-2].ClosedAt)
		env, err := h.srv.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/csbot", Text: "ping", UserID: csm, ChannelID: acme})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.srv.WaitForResponse(ctx, env.ID); err != nil {
			b.Fatal(err)
		}
		reply += time.Since(cut)
		n++
	}
	b.ReportMetric(float64(relink.Microseconds())/float64(n), "µs/reconnect")
	b.ReportMetric(float64(reply.Microseconds())/float64(n), "µs/disconnect-to-reply")
}
