package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"

	"flinkslink/store"
)

func TestState_Terminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state store.State
		want  bool
	}{
		{store.StateReceived, false},
		{store.StateAuthorizing, false},
		{store.StateFetching, false},
		{store.StatePending, false},
		{store.StateRetrying, false},
		{store.StateReady, true},
		{store.StateFailed, true},
		{store.StateTimedOut, true},
	} {
		if got := tc.state.Terminal(); got != tc.want {
			t.Errorf("%s.Terminal() = %v, want %v", tc.state, got, tc.want)
		}
	}
}

func TestCreateLink(t *testing.T) {
	t.Parallel()

	t.Run("New", func(t *testing.T) {
		t.Parallel()
		db, clk := newDB(t)
		link, created, err := db.CreateLink(t.Context(), store.NewLink{
			SessionID: "s1", LoginID: "login-1", Institution: "FlinksCapital", Tag: "tag-1",
			AccountIDs: []string{"acc-1", "acc-2"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !created {
			t.Errorf("created = false, want true")
		}
		if !regexp.MustCompile(`^[a-z2-7]{26}$`).MatchString(link.ID) {
			t.Errorf("ID = %q, want 26 lowercase base32 characters", link.ID)
		}
		now := clk.Now()
		want := store.Link{
			ID: link.ID, SessionID: "s1", Institution: "FlinksCapital", Tag: "tag-1",
			AccountIDs: []string{"acc-1", "acc-2"}, State: store.StateReceived, Fetch: 1,
			FetchStartedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1, LastEvent: 1, // its first event
		}
		if !reflect.DeepEqual(link, want) {
			t.Errorf("CreateLink = %+v, want %+v", link, want)
		}
		if got, err := db.Link(t.Context(), link.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Link = %+v, %v; want %+v", got, err, want)
		}
		events, err := db.Events(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].State != store.StateReceived || events[0].Fetch != 1 || !events[0].At.Equal(now) {
			t.Errorf("Events = %+v, want one received event of fetch 1 at %v", events, now)
		}
	})

	t.Run("NoAccountIDsIsNil", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		if link.AccountIDs != nil {
			t.Errorf("AccountIDs = %#v, want nil", link.AccountIDs)
		}
	})

	t.Run("SameSessionAndLoginIDReturnsExisting", func(t *testing.T) {
		t.Parallel()
		db, clk := newDB(t)
		first := mustCreate(t, db, "s1", "login-1")
		clk.Advance(time.Minute)
		again, created, err := db.CreateLink(t.Context(), store.NewLink{SessionID: "s1", LoginID: "login-1", Institution: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		if created {
			t.Errorf("created = true, want false")
		}
		if !reflect.DeepEqual(again, first) {
			t.Errorf("second CreateLink = %+v, want the first link %+v", again, first)
		}
		if events, _ := db.Events(t.Context(), first.ID); len(events) != 1 {
			t.Errorf("events = %d, want 1", len(events))
		}
	})

	t.Run("OtherSessionOrLoginIDCreatesAnother", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		a := mustCreate(t, db, "s1", "login-1")
		b := mustCreate(t, db, "s2", "login-1")
		c := mustCreate(t, db, "s1", "login-2")
		if a.ID == b.ID || a.ID == c.ID || b.ID == c.ID {
			t.Errorf("IDs %s, %s, %s: want three different links", a.ID, b.ID, c.ID)
		}
	})

	t.Run("ConcurrentDuplicatesMakeOneRow", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		const n = 50
		var (
			wg      sync.WaitGroup
			links   [n]store.Link
			created [n]bool
			errs    [n]error
		)
		for i := range n {
			wg.Go(func() {
				links[i], created[i], errs[i] = db.CreateLink(t.Context(), store.NewLink{SessionID: "s1", LoginID: "login-1"})
			})
		}
		wg.Wait()
		var createdCount int
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("CreateLink %d: %v", i, errs[i])
			}
			if created[i] {
				createdCount++
			}
			if links[i].ID != links[0].ID {
				t.Errorf("CreateLink %d: ID %s, want %s", i, links[i].ID, links[0].ID)
			}
		}
		if createdCount != 1 {
			t.Errorf("created=true %d times, want 1", createdCount)
		}
		if all, err := db.LinksForSession(t.Context(), "s1"); err != nil || len(all) != 1 {
			t.Errorf("LinksForSession = %d links, %v; want 1", len(all), err)
		}
		if got := count(t, db, "events", links[0].ID); got != 1 {
			t.Errorf("events = %d, want 1", got)
		}
	})

	t.Run("RejectsEmptySessionOrLoginID", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		for _, nl := range []store.NewLink{{SessionID: "", LoginID: "login-1"}, {SessionID: "s1", LoginID: ""}} {
			if _, _, err := db.CreateLink(t.Context(), nl); err == nil {
				t.Errorf("CreateLink(%+v): err = nil, want an error", nl)
			}
		}
	})
}

func TestLinkForSession(t *testing.T) {
	t.Parallel()
	db, _ := newDB(t)
	link := mustCreate(t, db, "s1", "login-1")

	t.Run("OwnSession", func(t *testing.T) {
		got, err := db.LinkForSession(t.Context(), "s1", link.ID)
		if err != nil || !reflect.DeepEqual(got, link) {
			t.Errorf("LinkForSession = %+v, %v; want %+v", got, err, link)
		}
	})
	t.Run("OtherSessionIsNotFound", func(t *testing.T) {
		if _, err := db.LinkForSession(t.Context(), "s2", link.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("UnknownLinkIsNotFound", func(t *testing.T) {
		if _, err := db.LinkForSession(t.Context(), "s1", "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
		if _, err := db.Link(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Link: err = %v, want ErrNotFound", err)
		}
	})
}

func TestLinksForSession(t *testing.T) {
	t.Parallel()
	db, clk := newDB(t)
	a := mustCreate(t, db, "s1", "login-a")
	clk.Advance(time.Second)
	mustCreate(t, db, "s2", "login-x")
	b := mustCreate(t, db, "s1", "login-b")
	c := mustCreate(t, db, "s1", "login-c") // same created_at as b: creation order still decides

	links, err := db.LinksForSession(t.Context(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(links), []string{c.ID, b.ID, a.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("LinksForSession = %v, want newest first %v", got, want)
	}
	if links, err := db.LinksForSession(t.Context(), "nobody"); err != nil || len(links) != 0 {
		t.Errorf("LinksForSession(unknown) = %v, %v; want none", links, err)
	}
}

func TestLinksByLoginID(t *testing.T) {
	t.Parallel()
	db, clk := newDB(t)
	a := mustCreate(t, db, "s1", "login-1")
	clk.Advance(time.Second)
	mustCreate(t, db, "s1", "login-2")
	b := mustCreate(t, db, "s2", "login-1")

	links, err := db.LinksByLoginID(t.Context(), "login-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(links), []string{b.ID, a.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("LinksByLoginID = %v, want %v", got, want)
	}
	if links, err := db.LinksByLoginID(t.Context(), "login-3"); err != nil || len(links) != 0 {
		t.Errorf("LinksByLoginID(unknown) = %v, %v; want none", links, err)
	}
}

func TestUnfinished(t *testing.T) {
	t.Parallel()
	db, clk := newDB(t)
	var want []string
	for i, state := range []store.State{
		store.StateReceived, store.StateFailed, store.StatePending, store.StateTimedOut,
		store.StateRetrying, store.StateAuthorizing, store.StateFetching,
	} {
		clk.Advance(time.Second)
		link := mustCreate(t, db, "s1", fmt.Sprintf("login-%d", i))
		if state != store.StateReceived {
			mustRecord(t, db, link.ID, 1, state)
		}
		if !state.Terminal() {
			want = append(want, link.ID)
		}
	}
	ready := mustCreate(t, db, "s1", "login-ready")
	if err := db.CompleteFetch(t.Context(), ready.ID, 1, store.Snapshot{}, store.NoteOf(store.NoteDataReceived, 3)); err != nil {
		t.Fatal(err)
	}

	links, err := db.Unfinished(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(links); !reflect.DeepEqual(got, want) {
		t.Errorf("Unfinished = %v, want oldest first %v", got, want)
	}
}

func TestRecordState(t *testing.T) {
	t.Parallel()

	t.Run("UpdatesLinkAndAppendsEvent", func(t *testing.T) {
		t.Parallel()
		db, clk := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		clk.Advance(time.Second)
		next := clk.Now().Add(10 * time.Second)
		u := store.StateUpdate{
			State: store.StatePending, RequestID: "req-1", Polls: 3, NextPollAt: next,
			Note: store.NoteOf(store.NotePending, 3),
		}
		if err := db.RecordState(t.Context(), link.ID, 1, u); err != nil {
			t.Fatal(err)
		}
		got, err := db.Link(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := link
		want.State, want.RequestID, want.Polls, want.NextPollAt = store.StatePending, "req-1", 3, next
		want.UpdatedAt = clk.Now()    // every change moves it: "Updated" on the links list is true while pending
		want.PendingSince = clk.Now() // the first 202: the time limit counts from it
		want.Version++                // the page's long poll wakes on it
		want.LastEvent++              // the event it appended (a fresh database: ids in order)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Link = %+v, want %+v", got, want)
		}
		events, err := db.Events(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantEvent := store.Event{
			ID: events[len(events)-1].ID, LinkID: link.ID, Fetch: 1, At: clk.Now(), State: store.StatePending,
			RequestID: "req-1", Polls: 3, Note: u.Note,
		}
		if len(events) != 2 || !reflect.DeepEqual(events[1], wantEvent) {
			t.Errorf("Events = %+v, want [received, %+v]", events, wantEvent)
		}
	})

	t.Run("FailureKeepsErrorAndSetsUpdatedAt", func(t *testing.T) {
		t.Parallel()
		db, clk := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		clk.Advance(time.Minute)
		err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{
			State: store.StateFailed, ErrorCode: "INVALID_LOGIN", ErrorMessage: "The LoginId is not valid",
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := db.Link(t.Context(), link.ID)
		if got.ErrorCode != "INVALID_LOGIN" || got.ErrorMessage != "The LoginId is not valid" {
			t.Errorf("error = %q %q, want INVALID_LOGIN and its message", got.ErrorCode, got.ErrorMessage)
		}
		if !got.UpdatedAt.Equal(clk.Now()) {
			t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, clk.Now())
		}
	})

	t.Run("RetryKeepsItsReasonUntilTheNextState", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{
			State: store.StateRetrying, ErrorCode: "NETWORK", ErrorMessage: "connection reset",
		})
		if err != nil {
			t.Fatal(err)
		}
		// The page says what is being retried.
		got, _ := db.Link(t.Context(), link.ID)
		if got.ErrorCode != "NETWORK" || got.ErrorMessage != "connection reset" {
			t.Errorf("link error = %q %q in state retrying, want the reason retried", got.ErrorCode, got.ErrorMessage)
		}
		if err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{State: store.StateFetching, Polls: 0}); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Link(t.Context(), link.ID); got.ErrorCode != "" || got.ErrorMessage != "" {
			t.Errorf("link error = %q %q after the retry, want none", got.ErrorCode, got.ErrorMessage)
		}
		events, _ := db.Events(t.Context(), link.ID)
		if last := events[len(events)-2]; last.ErrorCode != "NETWORK" || last.ErrorMessage != "connection reset" {
			t.Errorf("event error = %q %q, want the retry's reason", last.ErrorCode, last.ErrorMessage)
		}
	})

	t.Run("StaleFetchIsRefused", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		mustRecord(t, db, link.ID, 1, store.StateTimedOut)
		if _, err := db.StartNewFetch(t.Context(), link.ID); err != nil {
			t.Fatal(err)
		}
		before, _ := db.Link(t.Context(), link.ID)
		events := count(t, db, "events", link.ID)

		err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{State: store.StatePending, RequestID: "old"})
		if !errors.Is(err, store.ErrStale) {
			t.Errorf("RecordState(old fetch): err = %v, want ErrStale", err)
		}
		err = db.RecordState(t.Context(), link.ID, 3, store.StateUpdate{State: store.StatePending})
		if !errors.Is(err, store.ErrStale) {
			t.Errorf("RecordState(future fetch): err = %v, want ErrStale", err)
		}
		if after, _ := db.Link(t.Context(), link.ID); !reflect.DeepEqual(after, before) {
			t.Errorf("link changed by a stale update: %+v, want %+v", after, before)
		}
		if got := count(t, db, "events", link.ID); got != events {
			t.Errorf("events = %d, want %d (no event for a stale update)", got, events)
		}
	})

	t.Run("TerminalEndsTheFetch", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		mustRecord(t, db, link.ID, 1, store.StateFailed)
		err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{State: store.StatePending})
		if !errors.Is(err, store.ErrStale) {
			t.Errorf("RecordState after failed: err = %v, want ErrStale", err)
		}
		if got, _ := db.Link(t.Context(), link.ID); got.State != store.StateFailed {
			t.Errorf("State = %s, want failed", got.State)
		}
	})

	t.Run("UnknownLinkIsNotFound", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		err := db.RecordState(t.Context(), "nope", 1, store.StateUpdate{State: store.StatePending})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("RejectsInvalidOrReadyState", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		for _, s := range []store.State{"", "done", store.StateReady} {
			if err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{State: s}); err == nil {
				t.Errorf("RecordState(%q): err = nil, want an error", s)
			}
		}
		if got, _ := db.Link(t.Context(), link.ID); got.State != store.StateReceived {
			t.Errorf("State = %s, want received", got.State)
		}
	})
}

func TestStartNewFetch(t *testing.T) {
	t.Parallel()

	t.Run("BusyWhileRunning", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		for _, s := range []store.State{store.StateReceived, store.StatePending} {
			if s != store.StateReceived {
				mustRecord(t, db, link.ID, 1, s)
			}
			if _, err := db.StartNewFetch(t.Context(), link.ID); !errors.Is(err, store.ErrBusy) {
				t.Errorf("StartNewFetch in %s: err = %v, want ErrBusy", s, err)
			}
		}
		if got, _ := db.Link(t.Context(), link.ID); got.Fetch != 1 {
			t.Errorf("Fetch = %d, want 1", got.Fetch)
		}
	})

	t.Run("NextGenerationAfterTerminal", func(t *testing.T) {
		t.Parallel()
		db, clk := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		if err := db.CompleteFetch(t.Context(), link.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		ready, _ := db.Link(t.Context(), link.ID)
		clk.Advance(time.Hour)

		got, err := db.StartNewFetch(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := ready
		want.Fetch, want.State, want.FetchStartedAt, want.UpdatedAt = 2, store.StateReceived, clk.Now(), clk.Now()
		want.Version++
		want.LastEvent++
		if !reflect.DeepEqual(got, want) {
			t.Errorf("StartNewFetch = %+v, want %+v", got, want)
		}
		if stored, _ := db.Link(t.Context(), link.ID); !reflect.DeepEqual(stored, got) {
			t.Errorf("Link = %+v, want what StartNewFetch returned %+v", stored, got)
		}
		events, _ := db.Events(t.Context(), link.ID)
		if last := events[len(events)-1]; last.Fetch != 2 || last.State != store.StateReceived {
			t.Errorf("last event = %+v, want received of fetch 2", last)
		}
		if snap, err := db.Snapshot(t.Context(), link.ID); err != nil || snap.Fetch != 1 {
			t.Errorf("Snapshot = fetch %d, %v; want the previous snapshot (fetch 1)", snap.Fetch, err)
		}
	})

	t.Run("ClearsRequestAndError", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{
			State: store.StateTimedOut, RequestID: "req", Polls: 40, ErrorCode: "TIMED_OUT", ErrorMessage: "gave up",
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.StartNewFetch(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RequestID != "" || got.Polls != 0 || got.ErrorCode != "" || got.ErrorMessage != "" || !got.NextPollAt.IsZero() {
			t.Errorf("StartNewFetch = %+v, want RequestID, Polls, NextPollAt and the error cleared", got)
		}
	})

	t.Run("UnknownLinkIsNotFound", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		if _, err := db.StartNewFetch(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestDeleteLink(t *testing.T) {
	t.Parallel()

	t.Run("RemovesEverythingAboutTheLink", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		ctx := t.Context()
		link := mustCreate(t, db, "s1", "login-1")
		keep := mustCreate(t, db, "s2", "login-2")
		for _, l := range []store.Link{link, keep} {
			mustRecord(t, db, l.ID, 1, store.StateFetching)
			if err := db.RecordCall(ctx, l.ID, 1, store.Call{Endpoint: "/Authorize", StatusCode: 200}); err != nil {
				t.Fatal(err)
			}
			if err := db.CompleteFetch(ctx, l.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); err != nil {
				t.Fatal(err)
			}
		}

		if err := db.DeleteLink(ctx, link.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Link(ctx, link.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Link after delete: err = %v, want ErrNotFound", err)
		}
		if _, err := db.Snapshot(ctx, link.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Snapshot after delete: err = %v, want ErrNotFound", err)
		}
		tables := []string{"events", "calls", "snapshots", "accounts", "transactions"}
		for _, table := range tables {
			if got := count(t, db, table, link.ID); got != 0 {
				t.Errorf("%s rows of the deleted link = %d, want 0", table, got)
			}
			if got := count(t, db, table, keep.ID); got == 0 {
				t.Errorf("%s rows of the other link = 0, want them kept", table)
			}
		}
		if err := db.DeleteLink(ctx, link.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second DeleteLink: err = %v, want ErrNotFound", err)
		}
	})
}

// ids returns the IDs of links, in order.
func ids(links []store.Link) []string {
	var out []string
	for _, l := range links {
		out = append(out, l.ID)
	}
	return out
}
