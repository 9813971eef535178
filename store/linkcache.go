package store

import (
	"math"
	"sync"
)

// linkCache keeps the links as this process last wrote or read them, so a
// browser's status answer (thousands a second, each right after the change
// that woke it) reads the link from memory instead of SQLite. Every write
// of the store puts the row it leaves behind (UPDATE ... RETURNING, in the
// write's transaction), so the entry a woken reader finds is the change
// that woke it.
//
// Entries only move forward: a link's Version grows with each write, and a
// put or fill older than the entry is ignored (a read that raced a write
// cannot bring back the row before it). A deleted link leaves a tombstone.
// Another instance's writes are not seen here: whoever delivers its
// notifications (Notify) also forgets the entry.
type linkCache struct {
	mu sync.RWMutex
	m  map[string]Link
}

// maxCachedLinks bounds the cache (about 1 KB a link); past it, it starts
// afresh.
const maxCachedLinks = 200_000

// gone marks a tombstone: a Version no write reaches.
const gone = math.MaxInt64

func (c *linkCache) get(id string) (l Link, ok, deleted bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	l, ok = c.m[id]
	if ok && l.Version == gone {
		return Link{}, false, true
	}
	return l, ok, false
}

// put stores a link as a write left it.
func (c *linkCache) put(l Link) { c.store(l) }

// fill stores a link as a read found it.
func (c *linkCache) fill(l Link) { c.store(l) }

func (c *linkCache) store(l Link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedLinks {
		c.m = make(map[string]Link)
	}
	if old, ok := c.m[l.ID]; ok && old.Version >= l.Version {
		return
	}
	c.m[l.ID] = l
}

// forget leaves a tombstone for a deleted link.
func (c *linkCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]Link)
	}
	c.m[id] = Link{ID: id, Version: gone}
}

// drop removes a link's entry, whatever it holds: the next read fills it.
func (c *linkCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
