package fetcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"flinkslink/store"
)

// DefaultLeaseTTL is how soon, at most, another instance takes over the
// fetches of one that died (FETCH_LEASE).
const DefaultLeaseTTL = 30 * time.Second

// Leases make "one Flinks call sequence per LoginId" hold across instances
// (store.ClaimCard). A job claims its card before its first step; while this
// process holds cards, one goroutine renews its heartbeat, which keeps them
// all alive (one row, see store.RenewCards), and a job whose card was taken
// over (this process was too late) stops without touching its links. A
// finished job gives its card back. With a shared database (Postgres),
// another goroutine sweeps for unfinished links whose card nobody holds
// (their instance died or stopped) and fetches them here; and a fetch
// attaches the card's links that another instance received: those stored
// before its first step, and those it is asked for (cardWanted).
//
// The times, as fractions of the lease time L (FETCH_LEASE): a claim or a
// renewal holds the cards for 2L/3; renewals come every L/6, so a live holder
// may miss two in a row (a stalled machine, a slow database) and keep its
// cards; sweeps come every L/6 too. When a holder dies, its leases run out
// at most 2L/3 later and the next sweep takes them: within 5L/6 of the death,
// inside the lease time.

// holderID names this process in the lease table.
func holderID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func (f *Fetcher) leaseTTL() time.Duration {
	if f.opts.LeaseTTL > 0 {
		return f.opts.LeaseTTL
	}
	return DefaultLeaseTTL
}

// leaseHold is how long a claim or a renewal holds a card: 2L/3.
func (f *Fetcher) leaseHold() time.Duration { return f.leaseTTL() * 2 / 3 }

// leaseBeat is the period of renewals and of sweeps: L/6.
func (f *Fetcher) leaseBeat() time.Duration { return f.leaseTTL() / 6 }

// holdLease makes sure the job holds its card's lease before a step, and
// reports whether it does. false with a nil error: another instance runs
// this card's fetch.
func (f *Fetcher) holdLease(ctx context.Context, j *job) (bool, error) {
	f.mu.Lock()
	fresh := j.leased && f.beatFreshLocked()
	f.mu.Unlock()
	if fresh {
		return true, nil // the renewer keeps it
	}
	ctx = context.WithoutCancel(ctx)
	if err := f.beat(ctx); err != nil {
		return false, err
	}
	ok, err := f.store.ClaimCard(ctx, j.card, f.holder)
	if err != nil || !ok {
		return false, err
	}
	f.mu.Lock()
	j.leased = true
	if !f.renewing && f.base.Err() == nil {
		f.renewing = true
		go f.renewLeases()
	}
	f.mu.Unlock()
	return true, nil
}

// beat makes sure this process's heartbeat is alive for a while yet before
// a claim. The renewer keeps it so while this process holds cards; a claim
// after a quiet spell beats first, one at a time (claims would otherwise all
// write the same row at once).
func (f *Fetcher) beat(ctx context.Context) error {
	f.beating.Lock()
	defer f.beating.Unlock()
	f.mu.Lock()
	fresh := f.beatFreshLocked()
	f.mu.Unlock()
	if fresh {
		return nil
	}
	until := time.Now().Add(f.leaseHold())
	if err := f.store.Beat(ctx, f.holder, until); err != nil {
		return err
	}
	f.mu.Lock()
	f.beatUntil = until
	f.mu.Unlock()
	return nil
}

// beatFreshLocked reports whether the heartbeat has more than half its hold
// to run (the renewer keeps it so); f.mu must be held.
func (f *Fetcher) beatFreshLocked() bool {
	return f.beatUntil.After(time.Now().Add(f.leaseHold() / 2))
}

// renewLeases renews every card this process holds, every leaseBeat, while
// it holds any; a job whose card was not renewed was taken over
// and stops where it is (see cancelLocked), leaving its links to the new
// holder.
func (f *Fetcher) renewLeases() {
	tick := time.NewTicker(f.leaseBeat())
	defer tick.Stop()
	for {
		select {
		case <-f.base.Done():
			f.mu.Lock()
			f.renewing = false
			f.mu.Unlock()
			return
		case <-tick.C:
		}
		f.mu.Lock()
		holding := 0
		for _, j := range f.jobs {
			if j.leased {
				holding++
			}
		}
		if holding == 0 {
			f.renewing = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		until := time.Now().Add(f.leaseHold())
		held, err := f.store.RenewCards(f.base, f.holder, until)
		if err != nil {
			if f.base.Err() == nil {
				f.log.Error("fetch: renew leases", "err", err)
			}
			continue // the next tick tries again; a step re-claims its own
		}
		f.mu.Lock()
		f.beatUntil = until
		for _, j := range f.jobs {
			if j.leased && !j.done && !held[j.card] {
				f.log.Warn("fetch: another instance took this card's fetch over", "links", len(j.members))
				j.lost = true
				f.cancelLocked(j)
			}
			delete(held, j.card)
		}
		f.mu.Unlock()
		// What is left no job of ours fetches any more (a fetch that ended
		// while a newer one of the same card had begun): give it back.
		for card := range held {
			if err := f.store.ReleaseCard(f.base, card, f.holder); err != nil && f.base.Err() == nil {
				f.log.Error("fetch: release lease", "err", err)
			}
		}
	}
}

// releaseLease gives the job's card back: its fetch ended here.
func (f *Fetcher) releaseLease(j *job) {
	f.mu.Lock()
	held := j.leased && !j.lost
	j.leased = false
	if newer := f.jobs[j.fp]; newer != nil && newer != j {
		held = false // a newer fetch of the card ("Try again") runs on this lease
	}
	f.mu.Unlock()
	if !held {
		return
	}
	if err := f.store.ReleaseCard(context.WithoutCancel(f.base), j.card, f.holder); err != nil {
		f.log.Error("fetch: release lease", "err", err)
	}
}

// Release gives back every lease this process holds, at once: a graceful
// stop, after Wait. Another instance takes the fetches over at its next
// sweep instead of when the leases run out.
func (f *Fetcher) Release(ctx context.Context) error {
	f.mu.Lock()
	f.beatUntil = time.Time{}
	f.mu.Unlock()
	return f.store.ReleaseCards(ctx, f.holder)
}

// heldElsewhere ends a job whose card another instance holds: that one
// fetches it, and is asked to attach this card's links (see cardWanted)
// when a link asked for the fetch here. Links this process resumed (it
// found them orphaned) need no asking: they were stored before the holder
// claimed the card, and its first step reads every link of the card.
func (f *Fetcher) heldElsewhere(j *job) {
	f.mu.Lock()
	j.done = true
	f.closeLocked(j)
	f.wg.Done()
	announce := j.announce
	f.mu.Unlock()
	if announce {
		f.store.WantCard(j.card)
	}
}

// cardWanted runs when another instance asks this one, the card's holder,
// to attach the card's links it received (store.OnCardWanted): the job
// fetching the card reads them and attaches them. It must not block.
func (f *Fetcher) cardWanted(card store.Card) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.acceptingLocked() {
		return
	}
	for _, j := range f.jobs {
		if j.card == card && !j.done {
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.attachNewcomers(f.base, j)
			}()
			return
		}
	}
}

// attachNewcomers attaches to the job the card's unfinished links that it
// does not have: with a shared database, another instance may have received
// a link of this card while this one fetches it. It runs at a job's first
// step, and when another instance asks (cardWanted), or may have asked while
// this one was not listening (changedElsewhere("")).
func (f *Fetcher) attachNewcomers(ctx context.Context, j *job) {
	if !f.shared {
		return // one instance: its links attach when they start (join)
	}
	f.mu.Lock()
	loginID := j.loginID // "" once the job is closed
	f.mu.Unlock()
	if loginID == "" {
		return
	}
	links, err := f.store.LinksByLoginID(ctx, loginID)
	if err != nil {
		f.log.Error("fetch: read the card's links", "err", err)
		return
	}
	var newcomers []store.Link
	f.mu.Lock()
	for _, l := range links {
		if other := f.links[l.ID]; other != nil && other != j {
			// Another fetch here has it (one ending with a failure it is
			// writing, say): a link of this process attaches through join.
			continue
		}
		if m := j.members[l.ID]; !l.State.Terminal() && (m == nil || m.fetch < l.Fetch) {
			newcomers = append(newcomers, l)
		}
	}
	f.mu.Unlock()
	if len(newcomers) > 0 {
		f.join(loginID, newcomers, false)
	}
}

// sweep fetches, every leaseBeat, the unfinished links whose card
// nobody holds (see store.Orphaned): their instance died or stopped. It runs
// with a shared database only, until base ends.
func (f *Fetcher) sweep() {
	tick := time.NewTicker(f.leaseBeat())
	defer tick.Stop()
	for {
		select {
		case <-f.base.Done():
			return
		case <-tick.C:
		}
		if n, err := f.resumeOrphans(f.base); err != nil && f.base.Err() == nil {
			f.log.Error("fetch: take over unfinished links", "err", err)
		} else if n > 0 {
			f.log.Info("fetch: took over unfinished links nobody fetched", "links", n)
		}
	}
}

// changedElsewhere runs for each link another instance changed (store.
// OnChangeElsewhere; "" when any may have): a member of a job here whose
// link that instance finished (a webhook it received, its owner's Stop
// there) or deleted leaves the job, and a job left with no member stops
// its Flinks calls at once, as when its links go away here, rather than at
// its next poll, which may be far off. It must not block: the reading is
// done on a goroutine of its own.
func (f *Fetcher) changedElsewhere(linkID string) {
	type check struct {
		j *job
		t target
	}
	var checks []check
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.acceptingLocked() {
		return
	}
	add := func(id string, j *job) {
		if m := j.members[id]; m != nil && !j.done {
			checks = append(checks, check{j, target{linkID: id, fetch: m.fetch, m: m}})
		}
	}
	if linkID == "" {
		for id, j := range f.links {
			add(id, j)
		}
		// Asks for a card (cardWanted) may have been missed too.
		var jobs []*job
		for _, j := range f.jobs {
			if !j.done {
				jobs = append(jobs, j)
			}
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for _, j := range jobs {
				f.attachNewcomers(f.base, j)
			}
		}()
	} else if j := f.links[linkID]; j != nil {
		add(linkID, j)
	}
	if len(checks) == 0 {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for _, c := range checks {
			f.recheck(c.j, c.t)
		}
	}()
}

// recheck reads a member's link again after another instance changed it.
func (f *Fetcher) recheck(j *job, t target) {
	l, err := f.store.Link(f.base, t.linkID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		f.drop(j, t)
	case err != nil:
		// The next step's writes find out (ErrStale, ErrNotFound).
	case l.State.Terminal() && l.Fetch == t.fetch:
		f.log.Info("fetch: another instance finished a link of this fetch", "link", t.linkID, "state", l.State)
		f.drop(j, t)
	}
}
