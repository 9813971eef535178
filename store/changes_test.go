package store_test

import (
	"slices"
	"testing"
	"time"

	"flinkslink/store"
	"flinkslink/store/pgtest"
)

// Every write a page shows moves the link's Version and wakes its watchers;
// a watcher of another link sleeps on.
func TestWatchWakesOnEveryChange(t *testing.T) {
	t.Parallel()
	db, _ := newDB(t)
	l := mustCreate(t, db, "s1", "login-1")
	other := mustCreate(t, db, "s1", "login-2")
	version := l.Version
	if version < 1 {
		t.Fatalf("new link's Version = %d, want ≥ 1", version)
	}
	otherCh, stopOther := db.Watch(other.ID)
	defer stopOther()

	writes := []struct {
		name  string
		write func() error
	}{
		{"RecordState", func() error {
			return db.RecordState(t.Context(), l.ID, 1, store.StateUpdate{State: store.StatePending, RequestID: "r1", Polls: 1})
		}},
		{"RecordCall", func() error {
			return db.RecordCall(t.Context(), l.ID, 1, store.Call{Endpoint: "GetAccountsDetailAsync", StatusCode: 202})
		}},
		{"CompleteFetch", func() error {
			return db.CompleteFetch(t.Context(), l.ID, 1, store.Snapshot{}, store.NoteOf(store.NoteDataReceived, 0))
		}},
		{"StartNewFetch", func() error { _, err := db.StartNewFetch(t.Context(), l.ID); return err }},
		{"DeleteLink", func() error { return db.DeleteLink(t.Context(), l.ID) }},
	}
	for _, w := range writes {
		ch, stop := db.Watch(l.ID)
		if n := db.Watching(l.ID); n != 1 {
			t.Fatalf("%s: Watching = %d, want 1", w.name, n)
		}
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		select {
		case <-ch:
		default:
			t.Fatalf("%s did not wake the watcher", w.name)
		}
		stop()
		stop() // idempotent
		if w.name == "DeleteLink" {
			break
		}
		got, err := db.Link(t.Context(), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != version+1 {
			t.Errorf("after %s: Version = %d, want %d", w.name, got.Version, version+1)
		}
		version = got.Version
	}
	select {
	case <-otherCh:
		t.Error("a change of one link woke the watcher of another")
	default:
	}
	// A refused write (stale fetch) changes nothing and wakes nobody.
	ch, stop := db.Watch(other.ID)
	defer stop()
	if err := db.RecordState(t.Context(), other.ID, 7, store.StateUpdate{State: store.StatePending}); err == nil {
		t.Fatal("stale write accepted")
	}
	select {
	case <-ch:
		t.Error("a refused write woke the watcher")
	default:
	}
}

// On Postgres, a change one instance stores wakes the readers waiting on
// another (LISTEN/NOTIFY), and that instance reads the new state, not the
// one it had cached.
func TestChangesReachAnotherInstance(t *testing.T) {
	if !onPostgres {
		t.Skip("one instance on SQLite")
	}
	url := pgtest.NewDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	l := mustCreate(t, a, "s1", "login-1")
	if _, err := b.Link(t.Context(), l.ID); err != nil { // b caches it
		t.Fatal(err)
	}
	heardByA, heardByB := make(chan string, 100), make(chan string, 100)
	a.OnChangeElsewhere(func(id string) { heardByA <- id })
	b.OnChangeElsewhere(func(id string) { heardByB <- id })
	var lat []time.Duration
	for i := range 20 {
		changed, stop := b.Watch(l.ID)
		start := time.Now()
		if err := a.RecordState(t.Context(), l.ID, 1, store.StateUpdate{State: store.StatePending, RequestID: "r1", Polls: i + 1}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-changed:
			lat = append(lat, time.Since(start))
		case <-time.After(time.Minute): // a hang guard
			t.Fatalf("change %d did not reach the other instance", i+1)
		}
		stop()
		got, err := b.Link(t.Context(), l.ID)
		if err != nil || got.Polls != i+1 {
			t.Fatalf("the other instance reads polls %d (%v), want %d", got.Polls, err, i+1)
		}
	}
	slices.Sort(lat)
	t.Logf("a change on one instance woke a reader on another: median %v, max %v (20 changes)", lat[len(lat)/2], lat[len(lat)-1])
	for i := range 20 {
		if id := <-heardByB; id != l.ID {
			t.Fatalf("b's OnChangeElsewhere heard %q for a's change %d, want %q", id, i+1, l.ID)
		}
	}
	// b's change reaches a's OnChangeElsewhere; a's own 20 do not (they
	// would come first: notifications arrive in commit order).
	other := mustCreate(t, a, "s2", "login-2")
	if err := b.RecordState(t.Context(), other.ID, 1, store.StateUpdate{State: store.StateAuthorizing}); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-heardByA:
		if id != other.ID {
			t.Errorf("a's OnChangeElsewhere heard %q first, want b's link %q, not a's own writes", id, other.ID)
		}
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("b's change did not reach a's OnChangeElsewhere")
	}
	if err := b.Listening(); err != nil {
		t.Errorf("Listening: %v", err)
	}
}
