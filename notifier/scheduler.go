package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
)

// The scheduler's jobs.
const (
	// JobScores recomputes scores and signals and raises alerts, every
	// Policy.Notifications.ScoreIntervalMinutes.
	JobScores = "scores"
	// JobDue writes what the calendar makes due (renewal reminders at the
	// reminder hour in each CSM's zone), every quarter of an hour on the
	// quarter, which is 09:00 sharp in every zone the world uses.
	JobDue = "due"
)

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Clock drives the jobs; tests pass a fake one. Default: the wall
	// clock. The notifier's passes read the same clock.
	Clock clockwork.Clock
	// Elector decides which replica runs the jobs (see store.Elector):
	// only the leader does, and the others check again at each run. Nil
	// runs them here, for a single replica.
	Elector gocron.Elector
	// OnRun, when set, is called after each run of a job on this replica,
	// with the time the pass ran as at and its error. Tests wait on it
	// before moving a fake clock again.
	OnRun func(job string, at time.Time, err error)
}

// Scheduler runs the notifier's passes on a schedule with gocron.
//
// gocron does not run a job it missed while the process was down, and need
// not: each pass works out from the database what should have been written
// by now and was not, so the first run after a restart catches up on
// everything once. Both jobs also run at start.
type Scheduler struct {
	s gocron.Scheduler
}

// Schedule returns the notifier's scheduler, not yet started.
func (n *Notifier) Schedule(opts SchedulerOptions) (*Scheduler, error) {
	clock := opts.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	sopts := []gocron.SchedulerOption{
		gocron.WithClock(clock),
		gocron.WithLocation(time.UTC),
		gocron.WithStopTimeout(time.Minute),
	}
	if opts.Elector != nil {
		sopts = append(sopts, gocron.WithDistributedElector(opts.Elector))
	}
	s, err := gocron.NewScheduler(sopts...)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	run := func(name string, pass func(ctx context.Context, now time.Time, dryRun bool) (PassResult, error)) gocron.Task {
		return gocron.NewTask(func(ctx context.Context) {
			at := clock.Now()
			_, err := pass(ctx, at, false)
			if err != nil && !errors.Is(err, context.Canceled) {
				n.log.ErrorContext(ctx, "notifier pass failed; the next run catches up", "pass", name, "err", err)
			}
			if opts.OnRun != nil {
				opts.OnRun(name, at, err)
			}
		})
	}
	every := time.Duration(n.cfg.Policy.Notifications.ScoreIntervalMinutes) * time.Minute
	jobs := []struct {
		name string
		def  gocron.JobDefinition
		task gocron.Task
	}{
		{JobScores, gocron.DurationJob(every), run(JobScores, n.ScorePass)},
		{JobDue, gocron.CronJob("*/15 * * * *", false), run(JobDue, n.DuePass)},
	}
	for _, j := range jobs {
		_, err := s.NewJob(j.def, j.task,
			gocron.WithName(j.name),
			// A run due while the last one still runs waits for it
			// rather than being dropped: passes are short and idempotent,
			// and a dropped run would leave up to a whole interval of
			// work undone.
			gocron.WithSingletonMode(gocron.LimitModeWait),
			gocron.WithStartAt(gocron.WithStartImmediately()),
		)
		if err != nil {
			_ = s.Shutdown()
			return nil, fmt.Errorf("scheduler: job %s: %w", j.name, err)
		}
	}
	return &Scheduler{s: s}, nil
}

// Start starts the jobs.
func (s *Scheduler) Start() { s.s.Start() }

// Shutdown stops the jobs and waits for runs in flight.
func (s *Scheduler) Shutdown() error {
	if err := s.s.Shutdown(); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	return nil
}

// NextRuns returns when each job runs next, by name.
func (s *Scheduler) NextRuns() (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, j := range s.s.Jobs() {
		t, err := j.NextRun()
		if err != nil {
			return nil, fmt.Errorf("scheduler: %w", err)
		}
		out[j.Name()] = t
	}
	return out, nil
}
