package store_test

import (
	"testing"
	"time"

	"flinkslink/store"
)

// One instance at a time holds a card's lease; another takes it once it runs
// out, and then the first one's renewal no longer includes it. Released
// leases leave their unfinished links orphaned, for another to take.
func TestFetchLeases(t *testing.T) {
	t.Parallel()
	db, clk := newDB(t)
	ctx := t.Context()
	l := mustCreate(t, db, "s1", "login-1")
	card := db.CardOf("login-1")
	if card != db.CardOf("login-1") || card == db.CardOf("login-2") {
		t.Fatal("a card does not name its LoginId")
	}
	orphans := func() int {
		links, err := db.Orphaned(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(links)
	}
	if n := orphans(); n != 1 {
		t.Fatalf("%d orphaned links before any lease, want the new one", n)
	}
	claim := func(holder string, ttl time.Duration) bool {
		if err := db.Beat(ctx, holder, clk.Now().Add(ttl)); err != nil {
			t.Fatal(err)
		}
		ok, err := db.ClaimCard(ctx, card, holder)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("a", 10*time.Second) {
		t.Fatal("a could not claim a free card")
	}
	if !claim("a", 10*time.Second) {
		t.Fatal("a could not claim its own card again")
	}
	if claim("b", 10*time.Second) {
		t.Fatal("b took a card a holds")
	}
	if n := orphans(); n != 0 {
		t.Errorf("%d orphaned links while a holds the card", n)
	}
	// a's heartbeat keeps every card it holds: renewed, the card outlives
	// the claim's own time.
	clk.Advance(8 * time.Second)
	if held, err := db.RenewCards(ctx, "a", clk.Now().Add(10*time.Second)); err != nil || !held[card] || len(held) != 1 {
		t.Fatalf("a's renewal: %v, %v; want its one card", held, err)
	}
	clk.Advance(8 * time.Second) // past the claim's 10 s, within the renewal's
	if n := orphans(); n != 0 || claim("b", 10*time.Second) {
		t.Fatalf("%d orphaned links, or b took the card, while a's heartbeat is renewed", n)
	}
	clk.Advance(3 * time.Second) // a died: its heartbeat ran out
	if n := orphans(); n != 1 {
		t.Errorf("%d orphaned links once the lease ran out, want 1", n)
	}
	if !claim("b", 10*time.Second) {
		t.Fatal("b could not take over a lease that ran out")
	}
	held, err := db.RenewCards(ctx, "a", clk.Now().Add(10*time.Second))
	if err != nil || held[card] {
		t.Fatalf("a renewed a card b took over: %v, %v", held, err)
	}
	held, err = db.RenewCards(ctx, "b", clk.Now().Add(10*time.Second))
	if err != nil || !held[card] {
		t.Fatalf("b's renewal: %v, %v", held, err)
	}
	if err := db.ReleaseCard(ctx, card, "a"); err != nil || orphans() != 0 {
		t.Fatalf("a released b's lease: %v", err)
	}
	if err := db.ReleaseCards(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if n := orphans(); n != 1 {
		t.Errorf("%d orphaned links after b gave its leases back, want 1", n)
	}
	if err := db.RecordState(ctx, l.ID, 1, store.StateUpdate{State: store.StateFailed, ErrorCode: "X"}); err != nil {
		t.Fatal(err)
	}
	if n := orphans(); n != 0 {
		t.Errorf("a finished link is orphaned")
	}
}
