package store

import "sync"

// changes wakes the readers waiting for a link to change (the browsers'
// long-polled status requests). Every write that moves a link's Version
// notifies it after its transaction commits, so a woken reader sees the
// change. A notification only says "read again": it carries no data, and
// a waiter that misses one (it subscribed after the write) still sees the
// new Version when it reads, which is why a reader subscribes first.
//
// It is in-process; a second instance, or a webhook received elsewhere,
// would feed Notify from its own channel (Postgres LISTEN/NOTIFY).
type changes struct {
	mu      sync.Mutex
	waiters map[string]map[*waiter]struct{}
}

// waiter is one reader's subscription: fn runs once, at the next change.
type waiter struct{ fn func() }

// onChange calls fn once, at the link's next change (on the notifying
// goroutine: fn must not block), unless stop is called first; stop is
// idempotent.
func (c *changes) onChange(linkID string, fn func()) (stop func()) {
	w := &waiter{fn: fn}
	c.mu.Lock()
	if c.waiters == nil {
		c.waiters = map[string]map[*waiter]struct{}{}
	}
	set := c.waiters[linkID]
	if set == nil {
		set = map[*waiter]struct{}{}
		c.waiters[linkID] = set
	}
	set[w] = struct{}{}
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if set, ok := c.waiters[linkID]; ok {
			delete(set, w)
			if len(set) == 0 {
				delete(c.waiters, linkID)
			}
		}
	}
}

// notify wakes every waiter of the link.
func (c *changes) notify(linkID string) {
	c.mu.Lock()
	set := c.waiters[linkID]
	delete(c.waiters, linkID)
	c.mu.Unlock()
	for w := range set {
		w.fn()
	}
}

// count is how many readers wait for the link.
func (c *changes) count(linkID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters[linkID])
}

// Watch returns a channel that is closed when the link next changes (its
// Version moves, or it is deleted), and a stop to call when done waiting.
// Subscribe before reading the link: a change between the read and the
// subscription would otherwise go unnoticed.
func (db *DB) Watch(linkID string) (changed <-chan struct{}, stop func()) {
	ch := make(chan struct{})
	return ch, db.changes.onChange(linkID, func() { close(ch) })
}

// OnChange calls fn once, when the link next changes, unless stop is called
// first: Watch for a waiter that holds no goroutine (a parked request). fn
// runs on the goroutine that made the change and must not block.
func (db *DB) OnChange(linkID string, fn func()) (stop func()) {
	return db.changes.onChange(linkID, fn)
}

// Watching is how many readers wait for the link to change (see Watch).
func (db *DB) Watching(linkID string) int { return db.changes.count(linkID) }

// Notify wakes the readers waiting for the link as if it had changed, and
// forgets what this process knew of it. The store notifies its own writes;
// it is exported for a change that arrives from elsewhere (another
// instance's write).
func (db *DB) Notify(linkID string) {
	db.links.drop(linkID)
	db.snapshots.drop(linkID)
	db.changes.notify(linkID)
}

// OnChangeElsewhere has fn called with the id of each link that another
// instance changed (Postgres), after this process's waiters were woken and
// its caches forgot the link, and with "" when such changes may have been
// missed (the LISTEN connection came back): any link may have changed. fn
// runs on the listener's goroutine and must not block. Never called on
// SQLite, where there are no other instances.
func (db *DB) OnChangeElsewhere(fn func(linkID string)) { db.elsewhere.Store(&fn) }

// changedElsewhere tells OnChangeElsewhere's fn of a change by another instance.
func (db *DB) changedElsewhere(linkID string) {
	if fn := db.elsewhere.Load(); fn != nil {
		(*fn)(linkID)
	}
}

// OnCardWanted has fn called with each card whose new links another
// instance leaves to the holder of its lease (see WantCard); fn runs on the
// listener's goroutine and must not block. Never called on SQLite.
func (db *DB) OnCardWanted(fn func(card Card)) { db.wanted.Store(&fn) }

func (db *DB) cardWanted(card Card) {
	if fn := db.wanted.Load(); fn != nil {
		(*fn)(card)
	}
}

// notified is err, after notifying the link's waiters when err is nil: a
// write that committed changed the link.
func (db *DB) notified(linkID string, err error) error {
	if err == nil {
		db.changed(linkID)
	}
	return err
}

// changed wakes the link's waiters here and, on Postgres, tells the other
// instances (see publish).
func (db *DB) changed(linkID string) {
	db.changes.notify(linkID)
	if db.postgres {
		db.publish(linkID)
	}
}

// notifyAll wakes every waiter and forgets every cached link and snapshot:
// changes from elsewhere may have been missed (a lost LISTEN connection).
func (db *DB) notifyAll() {
	db.links.clear()
	db.snapshots.clear()
	db.changes.mu.Lock()
	all := db.changes.waiters
	db.changes.waiters = nil
	db.changes.mu.Unlock()
	for _, set := range all {
		for w := range set {
			w.fn()
		}
	}
}
