package handlers

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"flinkslink/handlers/parking"
	"flinkslink/store"
)

// DefaultLongPollWait is how long a status request waits for its link to
// change before it answers anyway: under the 30 s that proxies and load
// balancers commonly allow an idle response.
const DefaultLongPollWait = 25 * time.Second

// settleAfterChange is how long a woken request waits before it reads the
// link: the fetcher stores a call and the state it leads to one after the
// other, and one answer with both saves the browser a request.
const settleAfterChange = 15 * time.Millisecond

// errParked is awaitChange's answer when the request's connection was
// parked (see package parking): the handler returns without writing, and
// the request is served again, as Resumed, when it is to be answered.
var errParked = errors.New("status request parked")

// awaitChange holds a status request whose URL names the version the page
// shows (?v=) until the link changes, the wait runs out, the server stops,
// or the browser goes away, and returns the link as it is then. A request
// without a version (the first one, a script) is answered at once, and so is
// one whose page is already out of date or shows a finished fetch, and one
// served again after its wait (parking.Resumed).
//
// Over HTTP/1.1 the wait holds no goroutine: the connection is parked
// (errParked). Over HTTP/2 the handler waits on its goroutine.
//
// It reads only our database, and waits on the store's change notification:
// however many browsers wait, none of them reaches Flinks.
func (h *Handler) awaitChange(c echo.Context, read func() (store.Link, error)) (store.Link, error) {
	seen, err := strconv.ParseInt(c.QueryParam("v"), 10, 64)
	id := c.Param("id")
	if err != nil || !linkIDPattern.MatchString(id) || parking.Resumed(c.Request()) {
		return read()
	}
	// Subscribe first: a change between the read and the subscription would
	// otherwise be missed until the wait ran out.
	changed := newSignal()
	stop := h.store.OnChange(id, changed.fire)
	link, err := read()
	if err != nil || link.Version != seen || link.State.Terminal() {
		stop()
		return link, err
	}
	wait := h.cfg.LongPollWait
	if d := h.viewChangesIn(link); d > 0 && d < wait {
		wait = d // the page changes with time alone: "taking longer than usual"
	}
	if wake, err := h.cfg.Parking.Park(c.Response(), c.Request(), wait, stop); err == nil {
		changed.then(func() { time.AfterFunc(settleAfterChange, wake) })
		c.Set(parkedKey, true)
		return link, errParked
	}
	defer stop()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-changed.ch:
		settle := time.NewTimer(settleAfterChange)
		defer settle.Stop()
		select {
		case <-settle.C:
		case <-h.draining:
		case <-c.Request().Context().Done():
		}
	case <-timer.C:
	case <-h.draining:
		// Shutting down: answer now, so the browser asks again (of the next
		// instance, or of this one once it is back) instead of holding the
		// graceful stop for up to the whole wait.
	case <-c.Request().Context().Done():
		return link, nil // gone: nothing will read the answer
	}
	return read()
}

// parkedKey marks a parked request's echo context: it is logged when it is
// served again, with its answer.
const parkedKey = "status.parked"

// signal is a link's change as a waiter sees it: a channel closed at the
// change (for a request waiting on its goroutine), or a function run then
// (for a parked one), set after the subscription.
type signal struct {
	ch    chan struct{}
	mu    sync.Mutex
	fired bool
	next  func()
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

// fire is the store's notification; it does not block.
func (s *signal) fire() {
	s.mu.Lock()
	if s.fired {
		s.mu.Unlock()
		return
	}
	s.fired = true
	close(s.ch)
	next := s.next
	s.mu.Unlock()
	if next != nil {
		next()
	}
}

// then runs fn at the change, or now if it came already.
func (s *signal) then(fn func()) {
	s.mu.Lock()
	if !s.fired {
		s.next = fn
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	fn()
}

// viewChangesIn is how long until a running fetch's page changes with no
// change to the link: the "taking longer than usual" notice; 0 when nothing
// is due.
func (h *Handler) viewChangesIn(l store.Link) time.Duration {
	if l.State.Terminal() || l.FetchStartedAt.IsZero() || h.longerThanUsual(l) {
		return 0
	}
	return l.FetchStartedAt.Add(h.cfg.LongerThanUsual).Sub(h.now())
}

// Drain answers every waiting status request at once and makes later ones
// answer without waiting: the server is stopping. main registers it with
// http.Server.RegisterOnShutdown. It is idempotent.
func (h *Handler) Drain() { h.drainOnce.Do(func() { close(h.draining) }) }

// statusURL is the status element's poll URL, naming the version it shows.
func statusURL(l store.Link) string {
	return linkPath(l.ID) + "/status?v=" + strconv.FormatInt(l.Version, 10)
}
