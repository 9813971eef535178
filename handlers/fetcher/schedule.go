package fetcher

import (
	"container/heap"
	"time"
)

// DefaultWorkers bounds the Flinks call sequences that run at once: the
// fetch steps due at the same moment queue for a slot. The Flinks client
// keeps as many idle connections (flinks.New), so each slot reuses one.
const DefaultWorkers = 64

// A pending fetch is a due time, not a goroutine: between two polls of
// Flinks (FetchOptions.Park) its job waits in the due queue, which holds
// the time of its next call, also stored on its links (next_poll_at, which a
// restart resumes from). One dispatcher goroutine, alive only while some
// job is queued, hands each job to a worker slot when its time comes; a step
// runs until Flinks answers 202 again (the job is queued for its next poll)
// or the fetch ends.

// dueQueue is a min-heap of jobs by due time; guarded by Fetcher.mu.
type dueQueue []*job

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, k int) bool { return q[i].dueAt.Before(q[k].dueAt) }
func (q dueQueue) Swap(i, k int) {
	q[i], q[k] = q[k], q[i]
	q[i].dueIndex, q[k].dueIndex = i, k
}
func (q *dueQueue) Push(x any) {
	j := x.(*job)
	j.dueIndex = len(*q)
	*q = append(*q, j)
}
func (q *dueQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	j.dueIndex = -1
	return j
}

// Every job counts in Fetcher.wg from its creation until it ends (finish)
// or is abandoned because the fetcher's base context ended (its links stay
// unfinished, for the next start to resume): Wait returns once every job
// has done one or the other.

// scheduleLocked queues j's next step at at (now or earlier: at once);
// f.mu must be held. A job queued after base ended is abandoned.
func (f *Fetcher) scheduleLocked(j *job, at time.Time) {
	if f.base.Err() != nil {
		f.abandonLocked(j)
		return
	}
	j.dueAt = at
	if j.dueIndex >= 0 {
		heap.Fix(&f.due, j.dueIndex)
	} else {
		heap.Push(&f.due, j)
	}
	if !f.dispatching {
		f.dispatching = true
		f.wg.Add(1) // j counts already: Wait cannot have returned
		go f.dispatch()
		return
	}
	select {
	case f.kick <- struct{}{}:
	default: // a kick is already pending
	}
}

// abandonLocked lets go of a job that will not run again in this process;
// f.mu must be held.
func (f *Fetcher) abandonLocked(j *job) {
	if j.dueIndex >= 0 {
		heap.Remove(&f.due, j.dueIndex)
	}
	f.wg.Done()
}

// wakeLocked moves a queued job's step to now: its Flinks calls were
// stopped (a cancel, the last link leaving, a webhook's data), and the step
// ends the fetch (see finish) instead of waiting for its due time. Whoever
// stops a job's calls wakes it; f.mu must be held.
func (f *Fetcher) wakeLocked(j *job) {
	// At shutdown every job's context ends: the dispatcher lets them go.
	if j.dueIndex >= 0 && f.base.Err() == nil {
		f.scheduleLocked(j, time.Now())
	}
}

// dispatch runs each queued job's step when it is due, in a worker slot,
// until the queue is empty; once base ends, it abandons what is queued.
func (f *Fetcher) dispatch() {
	defer f.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		f.mu.Lock()
		if f.base.Err() != nil && len(f.due) > 0 {
			n := len(f.due)
			for len(f.due) > 0 {
				f.abandonLocked(f.due[0])
			}
			f.log.Info("fetches waiting for their next poll stopped by shutdown; will resume at next start", "fetches", n)
		}
		if len(f.due) == 0 {
			f.dispatching = false
			f.mu.Unlock()
			return
		}
		next := f.due[0]
		if wait := time.Until(next.dueAt); wait > 0 {
			f.mu.Unlock()
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-f.kick:
			case <-f.base.Done():
			}
			continue
		}
		heap.Pop(&f.due)
		f.mu.Unlock()
		select {
		case f.slots <- struct{}{}:
		case <-f.base.Done():
			f.mu.Lock()
			f.abandonLocked(next)
			f.mu.Unlock()
			continue
		}
		go func() {
			defer func() { <-f.slots }()
			f.step(next)
		}()
	}
}

// Health is what /healthz says of the background fetches.
type Health struct {
	Fetches int           // Flinks fetches in this process (one per LoginId)
	Leases  int           // of them, those holding their card's lease
	Late    time.Duration // how far past its due time the next step is (0: none due)
}

// Health reports the fetches' state now. Late grows when every worker slot
// is busy for long, or the dispatcher is stuck.
func (f *Fetcher) Health() Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := Health{Fetches: len(f.jobs)}
	for _, j := range f.jobs {
		if j.leased && !j.lost {
			h.Leases++
		}
	}
	if len(f.due) > 0 {
		h.Late = max(time.Since(f.due[0].dueAt), 0)
	}
	return h
}
