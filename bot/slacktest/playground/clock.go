package playground

import (
	"fmt"
	"sync"
	"time"
)

// Clock is the playground's time: the wall clock, moved forward on
// demand. The simulator, csbot's store and the page all read it, so that
// what the schedules send "on Monday at 09:00" is stamped Monday 09:00.
// It never goes back. A Clock is safe for concurrent use.
type Clock struct {
	wall func() time.Time

	mu     sync.Mutex
	offset time.Duration
}

// NewClock returns a clock that reads wall (time.Now when nil), not yet
// moved.
func NewClock(wall func() time.Time) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall}
}

// Now returns the playground's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall().Add(c.offset)
}

// AdvanceTo moves the clock forward to t, from where it runs on. It
// returns an error, and leaves the clock alone, when t is not later than
// now.
func (c *Clock) AdvanceTo(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.wall()
	now := wall.Add(c.offset)
	if !t.After(now) {
		return fmt.Errorf("the clock only moves forward: %s is not after %s", t.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	c.offset = t.Sub(wall)
	return nil
}
