package flinks_test

import (
	"errors"
	"testing"
	"time"

	"flinkslink/flinks"
)

// A parked fetch returns at each 202 with when to poll and where it stood;
// continued from its Checkpoint, it makes exactly the calls and reports
// exactly the states the waiting fetch does, and its time limit still
// counts from the first 202.
func TestParkedFetchContinuesWhereItStopped(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	f.on("GetAccountsDetailAsync", func(n int) answer {
		if n < 3 {
			return pending("OPERATION_PENDING", "req-1")
		}
		return answer{status: 200, body: detailOK("req-1")}
	})
	c := f.client(t, keys)
	var tr trace
	opts := fastOpts()
	opts.PollInterval, opts.Timeout = time.Hour, 24*time.Hour // a parked fetch never waits it out
	opts.Park = true
	opts = tr.opts(opts)

	var parks []*flinks.Parked
	var d *flinks.AccountsDetail
	for step := 0; ; step++ {
		if step > 10 {
			t.Fatal("the fetch never ended")
		}
		before := time.Now()
		var err error
		d, err = c.FetchCached(t.Context(), testLoginID, opts)
		var p *flinks.Parked
		if !errors.As(err, &p) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if p.Checkpoint.RequestID != "req-1" || p.Checkpoint.Polls != len(parks)+1 {
			t.Errorf("park %d: checkpoint %+v", len(parks)+1, p.Checkpoint)
		}
		if p.Until.Before(before.Add(opts.PollInterval)) {
			t.Errorf("park %d: poll again at %v, want an interval on", len(parks)+1, p.Until)
		}
		parks = append(parks, p)
		opts.From = p.Checkpoint
	}
	if len(parks) != 3 || d.RequestID != "req-1" {
		t.Fatalf("%d parks, data %+v; want 3 and the data", len(parks), d)
	}
	equal(t, "calls", tr.callSummary(), []string{
		"POST GenerateAuthorizeToken 200 #1",
		"POST Authorize 200 #1",
		"POST GetAccountsDetail 202 #1",
		"GET GetAccountsDetailAsync 202 #1",
		"GET GetAccountsDetailAsync 202 #2",
		"GET GetAccountsDetailAsync 200 #3",
	})
	equal(t, "stages", tr.stages(), []flinks.Stage{flinks.StageAuthorizing, flinks.StageFetching,
		flinks.StagePending, flinks.StagePending, flinks.StagePending, flinks.StageReady})
	tr.checkTerminal(t, flinks.StageReady)
}

// A parked fetch's time limit goes on counting across parks: continued after
// it ran out, it ends TIMED_OUT with the polls it made, without another call.
func TestParkedFetchKeepsItsTimeLimit(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	f.on("GetAccountsDetailAsync", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	c := f.client(t, keys)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var tr trace
	opts := fastOpts()
	opts.Park, opts.Timeout, opts.PollInterval = true, time.Minute, 10*time.Second
	opts.Now = func() time.Time { return now }
	opts = tr.opts(opts)
	_, err := c.FetchCached(t.Context(), testLoginID, opts)
	var p *flinks.Parked
	if !errors.As(err, &p) {
		t.Fatalf("first 202: %v, want parked", err)
	}
	now = now.Add(61 * time.Second) // the caller came back late
	opts.From = p.Checkpoint
	_, err = c.FetchCached(t.Context(), testLoginID, opts)
	if !errors.Is(err, flinks.ErrTimedOut) {
		t.Fatalf("after the limit: %v, want timed out", err)
	}
	tr.checkTerminal(t, flinks.StageTimedOut)
	if n := len(f.requests()); n != 4 {
		t.Errorf("%d calls, want 4 (token, Authorize, detail, the one last poll)", n)
	}
}
