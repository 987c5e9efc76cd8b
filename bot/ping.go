package bot

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// pinger is the part of the store that /csbot ping times.
type pinger interface {
	Ping(ctx context.Context) error
}

// registerBuiltins registers /csbot and the events the runtime handles
// itself (see onBuiltinEvent and the default App Home).
func (r *Runtime) registerBuiltins() {
	r.HandleCommand("/csbot", r.csbotCommand)
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	r.reg.builtinEvents = []string{"app_home_opened", "channel_id_changed", "channel_shared", "channel_unshared", "member_joined_channel"}
}

// csbotCommand answers /csbot ping and /csbot help.
func (r *Runtime) csbotCommand(ctx context.Context, req CommandRequest) (Reply, error) {
	switch strings.ToLower(strings.TrimSpace(req.Text)) {
	case "ping":
		return r.ping(ctx, req), nil
	case "", "help":
		return r.help(), nil
	}
	return notice(fmt.Sprintf("I don't know `%s`. Try `/csbot ping` or `/csbot help`.", Escape(strings.TrimSpace(req.Text)))), nil
}

// ping answers "pong" with the timings of the request and the state of
// the link and the database.
func (r *Runtime) ping(ctx context.Context, req CommandRequest) Reply {
	var b strings.Builder
	b.WriteString("pong\n")
	fmt.Fprintf(&b, "• ack: %s after the envelope arrived\n", ms(req.Acked.Sub(req.Received)))
	fmt.Fprintf(&b, "• handler: started %s after the ack\n", ms(req.Started.Sub(req.Acked)))
	if p, ok := r.deliveries.(pinger); ok {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		began := time.Now()
		err := p.Ping(pctx)
		cancel()
		if err != nil {
			b.WriteString("• database: not answering\n")
		} else {
			fmt.Fprintf(&b, "• database: %s round trip\n", ms(time.Since(began)))
		}
	}
	if n, since := r.linkInfo(); n > 0 {
		fmt.Fprintf(&b, "• Socket Mode: link up for %s (%d connection%s since start)\n",
			time.Since(since).Round(time.Second), n, plural(n))
	}
	if req.RetryAttempt > 0 {
		fmt.Fprintf(&b, "• Slack delivered this %d time%s\n", req.RetryAttempt+1, plural(int64(req.RetryAttempt+1)))
	}
	return notice(strings.TrimSpace(b.String()))
}

// help lists the commands with their usage, marking those not available
// yet.
func (r *Runtime) help() Reply {
	var b strings.Builder
	b.WriteString("*csbot* keeps the customer success team's accounts in view. Commands:\n")
	for _, c := range Manifest().Commands {
		fmt.Fprintf(&b, "• `%s %s`: %s", c.Command, Escape(c.UsageHint), Escape(c.Description))
		if r.reg.command(c.Command) == nil {
			b.WriteString(" _(coming soon)_")
		}
		b.WriteString("\n")
	}
	b.WriteString("Replies are visible only to you unless you share them; csbot keeps internal data out of channels shared with other organisations.")
	return notice(b.String())
}

// ms formats d in milliseconds.
func ms(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}
