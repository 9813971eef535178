package store

import (
	"slices"
	"sync"
)

// newest is an in-memory copy of rows by link ID in which entries only move
// forward: a row replaces the entry only when it is newer (a link's Version,
// a snapshot's fetch), so a read that raced a write cannot bring back the
// row before it. A deleted link leaves a tombstone that no row replaces.
// Bounded by count; past the bound it starts afresh (the next reads fill it).
//
// Another instance's writes are not seen here: whoever delivers their
// notifications (DB.Notify) also drops the entry.
//
// A cache may keep only what is read (the link cache): writes then update
// the entries there are (update) and reads add them (mark, then fill). A
// write that finds no entry moves the generation, and a read that saw the
// generation move while it read does not add its row: it may be older than
// that write.
type newest[T any] struct {
	mu    sync.RWMutex
	m     map[string]entry[T]
	max   int
	order func(T) int64 // a row's age: higher is newer
	gen   uint64        // moved by each update that found no entry
}

type entry[T any] struct {
	row  T
	gone bool // a tombstone: the link was deleted
}

// get returns the link's row, ok when there is one, and deleted when the
// link is known to be gone.
func (c *newest[T]) get(id string) (row T, ok, deleted bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[id]
	if ok && e.gone {
		return row, false, true
	}
	return e.row, ok, false
}

// put stores row for the link unless the entry is as new or newer.
func (c *newest[T]) put(id string, row T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]entry[T])
	}
	if old, ok := c.m[id]; ok && (old.gone || c.order(old.row) >= c.order(row)) {
		return
	}
	c.m[id] = entry[T]{row: row}
}

// update is put for a write to a cache that keeps only what is read: the
// row replaces an entry that is older, and is not added when there is none.
func (c *newest[T]) update(id string, row T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[id]
	if !ok {
		c.gen++ // a read under way may hold an older row: it must not add it
		return
	}
	if !old.gone && c.order(old.row) < c.order(row) {
		c.m[id] = entry[T]{row: row}
	}
}

// mark is the generation a read starts from (see fill).
func (c *newest[T]) mark() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// fill is put for a read that began at mark: a row for a link with no entry
// is added only if no write to such a link came meanwhile.
func (c *newest[T]) fill(id string, row T, mark uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; !ok && c.gen != mark {
		return
	}
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]entry[T])
	}
	if old, ok := c.m[id]; ok && (old.gone || c.order(old.row) >= c.order(row)) {
		return
	}
	c.m[id] = entry[T]{row: row}
}

// forget leaves a tombstone for a deleted link.
func (c *newest[T]) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]entry[T])
	}
	c.m[id] = entry[T]{gone: true}
}

// drop removes the link's entry, whatever it holds: the next read fills it.
// A read already under way does not: it may hold the row from before the
// change that made the entry go.
func (c *newest[T]) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
	c.gen++
}

// clear forgets every entry, tombstones included.
func (c *newest[T]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	c.gen++ // reads under way must not add what they read before this
}

// The caches' bounds. A link is about 1 KB; a snapshot is kept only up to
// maxCachedRows accounts and transactions (larger ones are read when asked).
const (
	maxCachedLinks     = 200_000
	maxCachedSnapshots = 5000
	maxCachedRows      = 2000
)

// linkCache keeps the links that this process read, as it last wrote or
// read them, so a browser's status answer (thousands a second, each right
// after the change that woke it) reads the link from memory instead of
// SQLite. Every write of the store updates the row it leaves behind (UPDATE
// ... RETURNING, in the write's transaction), so the entry a woken reader
// finds is the change that woke it. A link no one reads (a fetch waiting on
// Flinks with no browser watching) is not kept: 10,000 of them would hold
// 5 MB. Newer means a higher Version.
func newLinkCache() *newest[Link] {
	return &newest[Link]{max: maxCachedLinks, order: func(l Link) int64 { return l.Version }}
}

// snapshotCache keeps the snapshots this process wrote (read back in the
// write's transaction) or read, so a summary shown again (each answer once
// the link is ready, another tab, the next page of transactions) is not read
// again. A newer fetch's snapshot replaces an older one, never the reverse.
type snapshotCache struct{ newest[Snapshot] }

func newSnapshotCache() *snapshotCache {
	return &snapshotCache{newest[Snapshot]{max: maxCachedSnapshots, order: func(s Snapshot) int64 { return int64(s.Fetch) }}}
}

// get returns a copy the caller may change.
func (c *snapshotCache) get(linkID string) (Snapshot, bool, bool) {
	s, ok, deleted := c.newest.get(linkID)
	s.Accounts = slices.Clone(s.Accounts)
	return s, ok, deleted
}

// put keeps s, written by this process, unless it is too large to keep, in
// which case an older snapshot of the link is dropped too.
func (c *snapshotCache) put(s Snapshot) {
	if tooLarge(s) {
		c.drop(s.LinkID)
		return
	}
	c.newest.put(s.LinkID, s)
}

// fill keeps s, read since mark, as newest.fill does.
func (c *snapshotCache) fill(s Snapshot, mark uint64) {
	if !tooLarge(s) {
		c.newest.fill(s.LinkID, s, mark)
	}
}

// tooLarge reports a snapshot with more rows than a cached one may have.
func tooLarge(s Snapshot) bool {
	rows := len(s.Accounts)
	for _, a := range s.Accounts {
		rows += len(a.Transactions)
	}
	return rows > maxCachedRows
}
