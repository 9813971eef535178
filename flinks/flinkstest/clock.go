// Package flinkstest holds what tests of Flinks clients need: a hand-driven
// clock and a scripted fake Flinks API server. It is imported only by tests.
package flinkstest

import (
	"sync"
	"time"
)

// Epoch is where a NewClock(time.Time{}) starts: a fixed instant, so that
// dates in test output do not change from one run to the next.
var Epoch = time.Date(2026, 1, 21, 20, 47, 47, 145_999_000, time.UTC)

// Clock is a time source that moves only when told to. Its Now can stand in
// for time.Now wherever a component takes a clock. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at start, or at Epoch when start is zero.
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = Epoch
	}
	return &Clock{t: start}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
