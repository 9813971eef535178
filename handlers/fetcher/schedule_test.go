package fetcher_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks/flinkstest"
	"flinkslink/handlers/fetcher"
	"flinkslink/store"
)

// Fetches waiting on Flinks' 202s hold no goroutine: 300 pending fetches
// between two polls add only the dispatcher and the idle connections, and
// each link still gets its poll when it is due, one Flinks request each.
func TestWaitingFetchesHoldNoGoroutine(t *testing.T) {
	const links = 300
	up := newUpstream(t, map[string]flinkstest.Script{
		"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Pending("OPERATION_PENDING")),
	})
	client, db, first := faultFixture(t, up)
	ids := []string{first.ID}
	for i := 1; i < links; i++ {
		l, _, err := db.CreateLink(t.Context(), store.NewLink{SessionID: "s1", LoginID: fmt.Sprintf("login-%d", i), Institution: "FlinksCapital"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const interval = 400 * time.Millisecond
	f := fetcher.New(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), db, client,
		fetcher.Options{PollInterval: interval, Timeout: time.Hour, Workers: 8})
	for _, id := range ids {
		f.Start(id, 1)
	}
	// Every link polled twice: each has parked and come back at least once.
	deadline := time.Now().Add(2 * time.Minute) // a hang guard
	for up.Count("GetAccountsDetailAsync") < 2*links {
		if time.Now().After(deadline) {
			t.Fatalf("%d polls of %d links", up.Count("GetAccountsDetailAsync"), links)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Some steps run now (8 slots at most); the rest wait as due times.
	peak := 0
	for range 50 {
		peak = max(peak, fetchGoroutines())
		time.Sleep(2 * time.Millisecond)
	}
	// 8 running steps, the dispatcher and the lease renewer: far under one
	// goroutine per waiting fetch (300). (The HTTP client's connections
	// are its pool's, bounded by flinks.New, and not counted.)
	if peak > 16 {
		t.Errorf("%d goroutines more while %d fetches wait on Flinks: they should wait as due times, not goroutines", peak, links)
	}
	if f.Running() != links {
		t.Errorf("Running = %d, want %d (one fetch per card)", f.Running(), links)
	}
	for _, id := range ids {
		l, _ := db.Link(t.Context(), id)
		if l.State != store.StatePending || l.Polls < 1 {
			t.Fatalf("link %s is %s with %d polls, want pending", id, l.State, l.Polls)
		}
	}
	// Flinks' pace: no RequestId is polled faster than the interval.
	last := map[string]time.Time{}
	for _, r := range up.Requests() {
		if r.Endpoint != "GetAccountsDetailAsync" {
			continue
		}
		if prev, ok := last[r.ID]; ok && r.At.Sub(prev) < interval*9/10 {
			t.Errorf("%s polled %v after its previous poll, want ≥ %v", r.ID, r.At.Sub(prev), interval)
		}
		last[r.ID] = r.At
	}
	cancel()
	f.Wait()
}

// fetchGoroutines counts the goroutines running fetcher or Flinks client
// code: what a fetch holds, apart from the HTTP client's pooled connections.
func fetchGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "flinkslink/handlers/fetcher.(") || strings.Contains(g, "flinkslink/flinks.(") {
			count++
		}
	}
	return count
}
