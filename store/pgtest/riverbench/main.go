// Command riverbench measures what River (riverqueue/river, on pgx) and the
// app's lease table (store.ClaimCard, store.RenewCards) each cost to keep
// 10,000 cards polled every 10 s by 1 or 3 instances on one Postgres: polls
// a second, their gaps over the interval, Postgres's CPU and WAL. It is the
// measurement behind the README's "Why a lease table and not River"; a
// module of its own, so that River is no dependency of the app.
//
//	go run . -dsn postgres://… -mode river -instances 1 [-workers 256]
//	go run . -dsn postgres://… -mode leases -instances 3
//
// The Postgres should be a throwaway one (it truncates the tables it uses);
// the app's figures were taken on a cluster started as store/pgtest does.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"flinkslink/store"
)

var (
	mode       = flag.String("mode", "river", "river or leases")
	instances  = flag.Int("instances", 1, "instances (clients)")
	cards      = flag.Int("cards", 10000, "cards")
	interval   = flag.Duration("interval", 10*time.Second, "Flinks poll interval")
	warm       = flag.Duration("warm", 20*time.Second, "warm-up")
	window     = flag.Duration("window", 60*time.Second, "measured window")
	maxWorkers = flag.Int("workers", 64, "River MaxWorkers per client")
	dsn        = flag.String("dsn", "postgres://postgres@127.0.0.1:55432/river?sslmode=disable", "database")
)

type log struct {
	mu    sync.Mutex
	works map[int][]time.Time
	late  []time.Duration // work start − scheduled time (river)
}

func (l *log) add(card int, at time.Time) {
	l.mu.Lock()
	l.works[card] = append(l.works[card], at)
	l.mu.Unlock()
}

type PollArgs struct {
	Card int `json:"card"`
}

func (PollArgs) Kind() string { return "poll" }

type PollWorker struct {
	river.WorkerDefaults[PollArgs]
	log *log
}

func (w *PollWorker) Work(ctx context.Context, job *river.Job[PollArgs]) error {
	w.log.add(job.Args.Card, time.Now())
	time.Sleep(5 * time.Millisecond) // Flinks answers the poll
	return river.JobSnooze(*interval)
}

func main() {
	flag.Parse()
	ctx := context.Background()
	l := &log{works: map[int][]time.Time{}}
	db, err := sql.Open("pgx", *dsn)
	check(err)
	var stop func()
	switch *mode {
	case "river":
		stop = runRiver(ctx, l)
	case "leases":
		stop = runLeases(ctx, l)
	}
	time.Sleep(*warm)
	cpu0, wal0, start := pgCPU(), wal(db), time.Now()
	time.Sleep(*window)
	cpu1, wal1, end := pgCPU(), wal(db), time.Now()
	stop()
	var dev []time.Duration
	polls := 0
	l.mu.Lock()
	for _, ts := range l.works {
		for i, t := range ts {
			if t.Before(start) || t.After(end) {
				continue
			}
			polls++
			if i > 0 && !ts[i-1].Before(start) {
				dev = append(dev, ts[i].Sub(ts[i-1])-*interval)
			}
		}
	}
	l.mu.Unlock()
	slices.Sort(dev)
	pct := func(p int) time.Duration {
		if len(dev) == 0 {
			return 0
		}
		return dev[min(len(dev)-1, len(dev)*p/100)]
	}
	secs := end.Sub(start).Seconds()
	fmt.Printf("%s, %d instance(s), %d cards every %v: %.0f polls/s (of %.0f); gap over the interval p50 %v, p99 %v, max %v; Postgres CPU %.0f %% of a core; WAL %.0f KB/s\n",
		*mode, *instances, *cards, *interval, float64(polls)/secs, float64(*cards)/interval.Seconds(),
		pct(50).Round(time.Millisecond), pct(99).Round(time.Millisecond), pct(100).Round(time.Millisecond),
		100*cpuBetween(cpu0, cpu1)/secs, float64(wal1-wal0)/1024/secs)
}

func runRiver(ctx context.Context, l *log) func() {
	pool, err := pgxpool.New(ctx, *dsn)
	check(err)
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	check(err)
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	check(err)
	_, err = pool.Exec(ctx, "TRUNCATE river_job")
	check(err)
	for i := range *instances {
		p, err := pgxpool.New(ctx, *dsn+"&pool_max_conns=25")
		check(err)
		workers := river.NewWorkers()
		river.AddWorker(workers, &PollWorker{log: l})
		c, err := river.NewClient(riverpgxv5.New(p), &river.Config{
			ID:      fmt.Sprintf("instance-%d", i),
			Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: *maxWorkers}},
			Workers: workers,
		})
		check(err)
		check(c.Start(ctx))
		stops = append(stops, func() { c.Stop(ctx) })
	}
	// The cards' first polls spread over one interval, as resumed fetches are.
	now := time.Now()
	var params []river.InsertManyParams
	for i := range *cards {
		params = append(params, river.InsertManyParams{Args: PollArgs{Card: i}, InsertOpts: &river.InsertOpts{
			ScheduledAt: now.Add(time.Duration(i) * *interval / time.Duration(*cards)),
			UniqueOpts:  river.UniqueOpts{ByArgs: true},
		}})
	}
	c0, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	check(err)
	for len(params) > 0 {
		n := min(1000, len(params))
		_, err := c0.InsertMany(ctx, params[:n])
		check(err)
		params = params[n:]
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

var stops []func()

// runLeases: the app's own store, each instance claiming its cards'
// leases and renewing its heartbeat every 5 s (FETCH_LEASE 30 s), the
// polls timed in memory as the fetcher's due queue does.
func runLeases(ctx context.Context, l *log) func() {
	var dbs []*store.DB
	for range *instances {
		db, err := store.Open(ctx, *dsn, []byte(strings.Repeat("k", 32)))
		check(err)
		dbs = append(dbs, db)
	}
	raw, err := sql.Open("pgx", *dsn)
	check(err)
	_, err = raw.Exec("TRUNCATE fetch_leases, fetch_holders")
	check(err)
	done := make(chan struct{})
	now := time.Now()
	var wg sync.WaitGroup
	slots := make(chan struct{}, 64)
	for i := range *instances {
		holder := "instance-" + strconv.Itoa(i)
		db := dbs[i]
		check(db.Beat(ctx, holder, now.Add(20*time.Second)))
		for c := i; c < *cards; c += *instances {
			card := db.CardOf(fmt.Sprintf("login-%d", c))
			ok, err := db.ClaimCard(ctx, card, holder)
			check(err)
			if !ok {
				panic("claim")
			}
			var poll func()
			poll = func() {
				select {
				case <-done:
					return
				case slots <- struct{}{}:
				}
				l.add(c, time.Now())
				time.Sleep(5 * time.Millisecond)
				<-slots
				time.AfterFunc(*interval, poll)
			}
			time.AfterFunc(time.Duration(c)**interval/time.Duration(*cards), poll)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(5 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					_, err := db.RenewCards(ctx, holder, time.Now().Add(20*time.Second))
					check(err)
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

// pgCPU is the CPU seconds each postgres process has used so far, by pid.
func pgCPU() map[string]float64 {
	out := map[string]float64{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "(postgres") {
			continue
		}
		f := strings.Fields(s[i+2:])
		u, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[filepath.Base(filepath.Dir(p))] = (u + st) / 100
	}
	return out
}

// cpuBetween is the CPU seconds the postgres processes used between two
// readings (a process that started meanwhile counts from zero).
func cpuBetween(a, b map[string]float64) float64 {
	total := 0.0
	for pid, t := range b {
		total += t - a[pid]
	}
	return total
}

func wal(db *sql.DB) int64 {
	var n int64
	check(db.QueryRow("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").Scan(&n))
	return n
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
