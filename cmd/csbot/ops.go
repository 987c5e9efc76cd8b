package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/csbot/csbot/commands/draft"
	"github.com/csbot/csbot/store"
)

// Operations: what CSBOT_HTTP_ADDR serves while the bot runs.
//
//	/healthz  200 "ok" while the process runs
//	/readyz   200 when the database answers, its schema is this build's (or
//	          newer) and the Socket Mode link is up; else 503, one line per check
//	/metrics  Prometheus metrics: csbot's own, the Go runtime's and the process's

// Bounds of the checks and scrapes, so that a hung database never hangs a
// probe.
const (
	readyTimeout   = 2 * time.Second
	queueTimeout   = 2 * time.Second
	queueCacheTTL  = 10 * time.Second
	opsStopTimeout = 5 * time.Second
)

// ops is the metrics registry of the bot process, the metrics measured
// outside package bot, and the HTTP listener that serves them. A nil *ops
// (CSBOT_HTTP_ADDR unset) measures and serves nothing.
type ops struct {
	addr string
	log  *slog.Logger
	reg  *prometheus.Registry
	db   opsStore
	// queueTTL is how long a read of the delivery queue serves scrapes;
	// readinessTimeout bounds each check of /readyz.
	queueTTL         time.Duration
	readinessTimeout time.Duration
	// stopping: the bot is shutting down, /readyz says so.
	stopping atomic.Bool

	bot *bot.Metrics

	jobRuns     *prometheus.CounterVec   // job
	jobFailures *prometheus.CounterVec   // job
	jobSeconds  *prometheus.HistogramVec // job
	jobLastOK   *prometheus.GaugeVec     // job

	deliveries      *prometheus.CounterVec // kind, outcome
	deliverySeconds prometheus.Histogram
	llmCalls        *prometheus.CounterVec // outcome
	llmSeconds      prometheus.Histogram
	llmTokens       *prometheus.CounterVec // type
}

// opsStore is what ops reads from the database.
type opsStore interface {
	Ping(ctx context.Context) error
	SchemaStatus(ctx context.Context) (store.SchemaStatus, error)
	QueueStats(ctx context.Context, at time.Time) (store.QueueStats, error)
}

// linkState is the Socket Mode link as /readyz sees it; *bot.Runtime
// satisfies it.
type linkState interface {
	Connected() (up bool, since time.Time)
}

// newOps returns the operations side of the bot process on db, or nil
// when cfg.HTTPAddr is empty.
func newOps(cfg config, log *slog.Logger, db opsStore) (*ops, error) {
	if cfg.HTTPAddr == "" {
		return nil, nil
	}
	reg := prometheus.NewRegistry()
	o := &ops{
		addr:             cfg.HTTPAddr,
		log:              log.With("component", "ops"),
		reg:              reg,
		db:               db,
		queueTTL:         queueCacheTTL,
		readinessTimeout: readyTimeout,
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csbot_job_runs_total",
			Help: "Runs of the notifier's scheduled jobs on this replica (the leader's), by job.",
		}, []string{"job"}),
		jobFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csbot_job_failures_total",
			Help: "Runs of the notifier's scheduled jobs that failed (the next run catches up), by job.",
		}, []string{"job"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "csbot_job_seconds",
			Help:    "Time a run of a scheduled job took, by job.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"job"}),
		jobLastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "csbot_job_last_success_timestamp_seconds",
			Help: "When a scheduled job last ran without error on this replica (Unix seconds), by job.",
		}, []string{"job"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csbot_delivery_attempts_total",
			Help: "Delivery attempts of notifications (River jobs), by notification kind and outcome: sent, retry, unknown (retried after a look in the channel's history), failed (for good), skipped.",
		}, []string{"kind", "outcome"}),
		deliverySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "csbot_delivery_attempt_seconds",
			Help:    "Time one delivery attempt took, the wait for the channel's pace included.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		llmCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csbot_llm_calls_total",
			Help: "EBR drafts asked of the language model, by outcome: ok, timeout, bad_answer, error (then csbot drafts from its template).",
		}, []string{"outcome"}),
		llmSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "csbot_llm_call_seconds",
			Help:    "Time an EBR draft took the language model, retries included.",
			Buckets: []float64{.5, 1, 2.5, 5, 10, 20, 30, 60, 120},
		}),
		llmTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csbot_llm_tokens_total",
			Help: "Tokens of EBR drafts, by type: prompt, completion.",
		}, []string{"type"}),
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		o.jobRuns, o.jobFailures, o.jobSeconds, o.jobLastOK,
		o.deliveries, o.deliverySeconds, o.llmCalls, o.llmSeconds, o.llmTokens,
		newQueueCollector(o),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	var err error
	if o.bot, err = bot.NewMetrics(reg); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return o, nil
}

// wireOptions are what wireSlack adds to the runtime, the Web API client
// and the commands; none for a nil o.
func (o *ops) wireOptions() []wireOption {
	if o == nil {
		return nil
	}
	return []wireOption{func(w *wiring) {
		w.metrics = o.bot
		w.draftObserve = o.observeDraft
	}}
}

// wireOption adds to what wireSlack and newCommands build.
type wireOption func(*wiring)

// wiring is what the wireOptions set.
type wiring struct {
	// metrics records the runtime and its Web API calls.
	metrics *bot.Metrics
	// draftObserve sees every EBR draft asked of the language model.
	draftObserve func(draft.Usage, error)
	// now is the commands' clock; the wall clock when nil.
	now func() time.Time
}

// wiringOf applies opts.
func wiringOf(opts []wireOption) wiring {
	var w wiring
	for _, o := range opts {
		o(&w)
	}
	return w
}

// jobHook returns the notifier scheduler's OnRun that counts job runs,
// or nil.
func (o *ops) jobHook() func(job string, at time.Time, err error) {
	if o == nil {
		return nil
	}
	return func(job string, at time.Time, err error) {
		o.jobRuns.WithLabelValues(job).Inc()
		o.jobSeconds.WithLabelValues(job).Observe(max(time.Since(at), 0).Seconds())
		switch {
		case err == nil:
			o.jobLastOK.WithLabelValues(job).SetToCurrentTime()
		case errors.Is(err, context.Canceled):
			// stopped by shutdown, not a failure
		default:
			o.jobFailures.WithLabelValues(job).Inc()
		}
	}
}

// delivery returns h counting its attempts by kind and outcome.
func (o *ops) delivery(h csbot.DeliveryHandler) csbot.DeliveryHandler {
	if o == nil {
		return h
	}
	return func(ctx context.Context, d csbot.Delivery) csbot.DeliveryResult {
		start := time.Now()
		res := h(ctx, d)
		o.deliverySeconds.Observe(time.Since(start).Seconds())
		o.deliveries.WithLabelValues(string(d.Notification.Kind), res.Status.String()).Inc()
		return res
	}
}

// observeDraft records one EBR draft asked of the language model.
func (o *ops) observeDraft(u draft.Usage, err error) {
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded):
		outcome = "timeout"
	case errors.Is(err, draft.ErrBadAnswer):
		outcome = "bad_answer"
	default:
		outcome = "error"
	}
	o.llmCalls.WithLabelValues(outcome).Inc()
	if u.Latency > 0 {
		o.llmSeconds.Observe(u.Latency.Seconds())
	}
	o.llmTokens.WithLabelValues("prompt").Add(float64(u.PromptTokens))
	o.llmTokens.WithLabelValues("completion").Add(float64(u.CompletionTokens))
}

// serve listens on the address and serves /healthz, /readyz (link is the
// Socket Mode link) and /metrics in the background. stop makes /readyz
// answer 503 at once and shuts the listener down; call it when the bot
// stops. For a nil o, it does nothing.
func (o *ops) serve(ctx context.Context, link linkState) (stop func(), err error) {
	if o == nil {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("CSBOT_HTTP_ADDR: %w", err)
	}
	hs := &http.Server{
		Handler:           o.handler(link),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.log.Error("ops listener failed", "err", err)
		}
	}()
	o.log.Info("serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	var once sync.Once
	return func() {
		once.Do(func() {
			o.stopping.Store(true)
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsStopTimeout)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil {
				_ = hs.Close()
			}
			<-done
		})
	}, nil
}

// handler routes the three endpoints.
func (o *ops) handler(link linkState) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		checks, ready := o.ready(r.Context(), link)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		for _, c := range checks {
			fmt.Fprintln(w, c)
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(o.log.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	}))
	return mux
}

// check is the outcome of one readiness check, written as one line:
// "ok database", "fail slack: socket mode link down".
type check struct {
	name   string
	err    error
	detail string
}

func (c check) String() string {
	switch {
	case c.err != nil:
		return "fail " + c.name + ": " + shortError(c.err)
	case c.detail != "":
		return "ok " + c.name + ": " + c.detail
	}
	return "ok " + c.name
}

// ready runs the readiness checks, each bounded by the readiness
// timeout, and reports whether all passed.
func (o *ops) ready(ctx context.Context, link linkState) ([]check, bool) {
	checks := make([]check, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, o.readinessTimeout)
		defer cancel()
		checks[0] = check{name: "database"}
		if err := o.db.Ping(cctx); err != nil {
			checks[0].err = fmt.Errorf("no answer within %v: %w", o.readinessTimeout, err)
		}
	})
	wg.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, o.readinessTimeout)
		defer cancel()
		checks[1] = check{name: "schema"}
		st, err := o.db.SchemaStatus(cctx)
		switch {
		case err != nil:
			checks[1].err = err
		case st.Behind():
			checks[1].err = fmt.Errorf("migrations missing (%v): run csbot migrate", st)
		case st.Ahead():
			checks[1].detail = st.String() + " (the database is newer than this build)"
		default:
			checks[1].detail = st.String()
		}
	})
	checks[2] = check{name: "slack"}
	switch up, since := link.Connected(); {
	case o.stopping.Load():
		checks[2].err = errors.New("shutting down")
	case !up:
		checks[2].err = errors.New("socket mode link down")
	default:
		checks[2].detail = "socket mode link up since " + since.UTC().Format(time.RFC3339)
	}
	wg.Wait()
	ready := true
	for _, c := range checks {
		ready = ready && c.err == nil
	}
	return checks, ready
}

// shortError is err's text on one line, cut to a readable length.
func shortError(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// queueCollector reports the delivery queue from the database at scrape
// time, reading it at most once per ops.queueTTL and never waiting longer
// than queueTimeout, so that scrapes stay cheap.
type queueCollector struct {
	o         *ops
	due       *prometheus.Desc
	scheduled *prometheus.Desc
	oldest    *prometheus.Desc
	errors    prometheus.Counter

	mu   sync.Mutex
	last store.QueueStats
	at   time.Time // of last; zero when none
}

func newQueueCollector(o *ops) *queueCollector {
	return &queueCollector{
		o:         o,
		due:       prometheus.NewDesc("csbot_delivery_queue_due", "Notifications due and not yet delivered (pending, or an attempt in flight).", nil, nil),
		scheduled: prometheus.NewDesc("csbot_delivery_queue_scheduled", "Notifications to deliver later (a delay, or a retry's backoff).", nil, nil),
		oldest:    prometheus.NewDesc("csbot_delivery_queue_oldest_due_seconds", "How long the longest-waiting due notification has waited since it fell due; 0 when none is due.", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "csbot_delivery_queue_read_errors_total",
			Help: "Reads of the delivery queue for /metrics that failed (the queue gauges are then left out of that scrape).",
		}),
	}
}

// Describe sends the descriptions of the queue's metrics.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.due
	ch <- c.scheduled
	ch <- c.oldest
	c.errors.Describe(ch)
}

// Collect reads the queue (or takes the last read, when fresh) and sends
// its gauges; when the read fails it sends none of them.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	if q, ok := c.stats(); ok {
		ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, float64(q.Due))
		ch <- prometheus.MustNewConstMetric(c.scheduled, prometheus.GaugeValue, float64(q.Scheduled))
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, q.OldestDue.Seconds())
	}
	c.errors.Collect(ch)
}

// stats returns the queue as last read, reading it again when the last
// read is older than the TTL.
func (c *queueCollector) stats() (store.QueueStats, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if !c.at.IsZero() && now.Sub(c.at) < c.o.queueTTL {
		return c.last, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), queueTimeout)
	defer cancel()
	q, err := c.o.db.QueueStats(ctx, now)
	if err != nil {
		c.errors.Inc()
		c.at = time.Time{}
		c.o.log.Debug("read the delivery queue for metrics", "err", err)
		return store.QueueStats{}, false
	}
	c.last, c.at = q, now
	return q, true
}
