package store

import (
	"math"
	"slices"
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

// snapshotCache keeps the snapshots this process wrote (read back in the
// write's transaction) or read, so a summary shown again (each poll's answer
// once the link is ready, another tab, the next page of transactions) is
// not read again. A snapshot is written once per fetch; a newer fetch's
// replaces it, and an older one's is never put over a newer one. Large
// snapshots are not kept: they are read when asked for.
type snapshotCache struct {
	mu sync.RWMutex
	m  map[string]Snapshot
}

// The cache's bounds: snapshots of at most maxCachedRows accounts and
// transactions, at most maxCachedSnapshots of them (then it starts afresh).
const (
	maxCachedRows      = 2000
	maxCachedSnapshots = 5000
)

func (c *snapshotCache) get(linkID string) (s Snapshot, ok, deleted bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok = c.m[linkID]
	if ok && s.Fetch == math.MaxInt {
		return Snapshot{}, false, true
	}
	if ok {
		s.Accounts = slices.Clone(s.Accounts) // the caller's to change
	}
	return s, ok, false
}

func (c *snapshotCache) put(s Snapshot) {
	rows := len(s.Accounts)
	for _, a := range s.Accounts {
		rows += len(a.Transactions)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[s.LinkID]; ok && old.Fetch >= s.Fetch {
		return
	}
	if rows > maxCachedRows {
		delete(c.m, s.LinkID) // a newer snapshot than the one kept: read it when asked
		return
	}
	if c.m == nil || len(c.m) >= maxCachedSnapshots {
		c.m = make(map[string]Snapshot)
	}
	c.m[s.LinkID] = s
}

// forget leaves a tombstone for a deleted link.
func (c *snapshotCache) forget(linkID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]Snapshot)
	}
	c.m[linkID] = Snapshot{LinkID: linkID, Fetch: math.MaxInt}
}

// drop removes a link's entry: the next read fills it.
func (c *snapshotCache) drop(linkID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, linkID)
}
