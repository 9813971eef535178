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
	waiters map[string]map[chan struct{}]struct{}
}

// watch returns a channel closed at the link's next change, and a stop
// that forgets it; stop is idempotent.
func (c *changes) watch(linkID string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	c.mu.Lock()
	if c.waiters == nil {
		c.waiters = map[string]map[chan struct{}]struct{}{}
	}
	set := c.waiters[linkID]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		c.waiters[linkID] = set
	}
	set[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if set, ok := c.waiters[linkID]; ok {
			delete(set, ch)
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
	for ch := range set {
		close(ch)
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
	return db.changes.watch(linkID)
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

// notified is err, after notifying the link's waiters when err is nil: a
// write that committed changed the link.
func (db *DB) notified(linkID string, err error) error {
	if err == nil {
		db.changes.notify(linkID)
	}
	return err
}
