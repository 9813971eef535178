package store

import "testing"

// The caches only move forward: an older row (a read that raced a write)
// never replaces a newer one, and nothing brings a deleted link back.
func TestCachesOnlyMoveForward(t *testing.T) {
	links := newLinkCache()
	links.put("l1", Link{ID: "l1", Version: 3, State: StatePending})
	links.put("l1", Link{ID: "l1", Version: 2, State: StateReceived}) // a stale read's fill
	if l, ok, _ := links.get("l1"); !ok || l.Version != 3 || l.State != StatePending {
		t.Errorf("after a stale put: %+v, %v; want version 3 pending", l, ok)
	}
	links.put("l1", Link{ID: "l1", Version: 4, State: StateReady})
	if l, _, _ := links.get("l1"); l.Version != 4 {
		t.Errorf("a newer write was not kept: version %d", l.Version)
	}
	links.forget("l1")
	links.put("l1", Link{ID: "l1", Version: 9}) // a read that started before the delete
	if _, ok, deleted := links.get("l1"); ok || !deleted {
		t.Errorf("a deleted link came back: ok %v, deleted %v", ok, deleted)
	}
	links.drop("l1") // another instance's change: read it afresh
	if _, ok, deleted := links.get("l1"); ok || deleted {
		t.Errorf("a dropped entry is still there: ok %v, deleted %v", ok, deleted)
	}

	// Only links that are read are kept: a write adds nothing, and a read
	// that raced a write to an unkept link does not add its (older) row.
	links.update("l2", Link{ID: "l2", Version: 1})
	if _, ok, _ := links.get("l2"); ok {
		t.Error("a write added a link no one read")
	}
	mark := links.mark()
	links.update("l2", Link{ID: "l2", Version: 2}) // commits while the read runs
	links.fill("l2", Link{ID: "l2", Version: 1}, mark)
	if _, ok, _ := links.get("l2"); ok {
		t.Error("a read that raced a write kept the row from before it")
	}
	links.fill("l2", Link{ID: "l2", Version: 2}, links.mark())
	links.update("l2", Link{ID: "l2", Version: 3, State: StateReady})
	if l, ok, _ := links.get("l2"); !ok || l.Version != 3 {
		t.Errorf("a read link is not kept up to date by writes: %+v, %v", l, ok)
	}

	snaps := newSnapshotCache()
	snaps.put(Snapshot{LinkID: "l1", Fetch: 2, HolderName: "new"})
	snaps.put(Snapshot{LinkID: "l1", Fetch: 1, HolderName: "old"})
	s, ok, _ := snaps.get("l1")
	if !ok || s.HolderName != "new" {
		t.Errorf("snapshot %+v, want fetch 2's", s)
	}
	big := Snapshot{LinkID: "l1", Fetch: 3, Accounts: []Account{{Transactions: make([]Transaction, maxCachedRows)}}}
	snaps.put(big)
	if _, ok, _ := snaps.get("l1"); ok {
		t.Error("a snapshot too large to keep left the older one in its place")
	}
}
