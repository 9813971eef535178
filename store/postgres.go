package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Postgres: the same store on a server that several instances share
// (DATABASE_URL=postgres://...). The store's SQL is written once, in the
// subset both databases speak, with SQLite's ? placeholders; the Postgres
// connections number them ($1, $2, ...) as they go out (see numbered).
// The schema is in migrations/postgres.
//
// Writes run on a pool of PostgresWriters connections, at Postgres's READ
// COMMITTED: every write that must not race another is one guarded
// statement (UPDATE ... WHERE fetch = ? AND state NOT IN terminal, INSERT
// ... ON CONFLICT), which Postgres re-checks under the row's lock, the same
// within an instance as across instances.

// IsPostgresURL reports whether dsn names a Postgres server rather than a
// SQLite file: a postgres:// or postgresql:// URL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// PostgresReaders and PostgresWriters bound an instance's pools on
// Postgres: its connections are server processes, and three instances of 64
// would pass Postgres's default limit of 100 (with the LISTEN connection,
// an instance holds 25).
const (
	PostgresReaders = 16
	PostgresWriters = 8
)

// openPostgres opens the writer and reader pools on the server at url.
func openPostgres(url string) (writer, readers *sql.DB, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, nil, err
	}
	open := func() *sql.DB { return sql.OpenDB(numbered{stdlib.GetConnector(*cfg)}) }
	writer, readers = open(), open()
	readers.SetMaxOpenConns(PostgresReaders)
	readers.SetMaxIdleConns(PostgresReaders)
	readers.SetConnMaxIdleTime(5 * time.Minute)
	return writer, readers, nil
}

// numbered is a connector whose connections take the store's ? placeholders.
type numbered struct{ driver.Connector }

func (n numbered) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := n.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return numberedConn{c.(*stdlib.Conn)}, nil
}

// numberedConn is a pgx connection that rewrites each statement's
// placeholders before Postgres sees it.
type numberedConn struct{ *stdlib.Conn }

func (c numberedConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(numberPlaceholders(query))
}

func (c numberedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, numberPlaceholders(query))
}

func (c numberedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, numberPlaceholders(query), args)
}

func (c numberedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, numberPlaceholders(query), args)
}

// numberPlaceholders turns each ? outside quotes into $1, $2, ...
func numberPlaceholders(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // ' or " while inside a literal or quoted name
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// postgresDiskFailure reports a Postgres error that means the server cannot
// write (disk full, I/O error, read-only transaction or standby): the same
// kind as SQLite's, for Writable.
func postgresDiskFailure(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "53100", "58030", "25006": // disk_full, io_error, read_only_sql_transaction
		return true
	}
	return false
}

// startListening starts the listener on its own connection and waits until
// it listens.
func (db *DB) startListening(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	id := make([]byte, 8)
	rand.Read(id)
	db.instance = hex.EncodeToString(id)
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	db.stopListening, db.listening = stop, make(chan struct{})
	ready := make(chan error, 1)
	go db.listen(lctx, cfg, ready)
	select {
	case err := <-ready:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// changesChannel is the Postgres channel on which instances tell each other
// what changed. A payload is "instance:l:linkID" (a link changed) or
// "instance:c:card" (see WantCard).
const changesChannel = "flinkslink_links"

// publisher sends the NOTIFYs of one instance in batches: the first at once,
// and those that come while it is on its way together, in one statement,
// once it is back. Under load (10,000 pending links write twice a poll) a
// round trip carries hundreds of payloads instead of one, and the same
// link's two writes of one poll become one notification.
type publisher struct {
	mu      sync.Mutex
	pending []string            // in order
	queued  map[string]struct{} // the payloads in pending
	sending bool                // a batch is on its way
	done    sync.WaitGroup      // the sender, while it runs
}

// maxBatch bounds one NOTIFY statement's payloads.
const maxBatch = 1000

// publish tells the other instances that the link changed (NOTIFY): their
// waiting status requests read it again, and their caches forget it. It is
// called after the write's commit and does not wait: a batch goes out on a
// reader connection, so that the writers' queue does not wait for it; a
// lost notification only delays a page until its wait runs out.
func (db *DB) publish(linkID string) { db.notifyOthers("l:" + linkID) }

// WantCard tells the other instances that this one has unfinished links of
// card that another instance fetches (it could not claim the card): the
// holder attaches them to its fetch. Nothing on SQLite.
func (db *DB) WantCard(card Card) {
	if db.postgres {
		db.notifyOthers("c:" + string(card))
	}
}

func (db *DB) notifyOthers(message string) {
	p := &db.pub
	payload := db.instance + ":" + message
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.queued[payload]; ok {
		return // on its way with the next batch already
	}
	if p.queued == nil {
		p.queued = map[string]struct{}{}
	}
	p.queued[payload] = struct{}{}
	p.pending = append(p.pending, payload)
	if !p.sending {
		p.sending = true
		p.done.Add(1)
		go db.sendNotifications()
	}
}

// sendNotifications sends the pending payloads, a batch at a time, until
// none is left.
func (db *DB) sendNotifications() {
	p := &db.pub
	defer p.done.Done()
	for {
		p.mu.Lock()
		n := min(len(p.pending), maxBatch)
		if n == 0 {
			p.sending = false
			p.mu.Unlock()
			return
		}
		batch := slices.Clone(p.pending[:n])
		p.pending = slices.Delete(p.pending, 0, n)
		for _, payload := range batch {
			delete(p.queued, payload)
		}
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := db.ro.ExecContext(ctx, `SELECT pg_notify(?, payload) FROM unnest(?::text[]) AS payload`, changesChannel, batch)
		cancel()
		if err != nil {
			db.listenErr.Store(&err)
		}
	}
}

// listen receives the other instances' changes until ctx ends, reconnecting
// after a failure. After a reconnection it wakes every waiter and forgets
// its caches: notifications sent meanwhile are lost.
func (db *DB) listen(ctx context.Context, cfg *pgx.ConnConfig, ready chan<- error) {
	defer close(db.listening)
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+changesChannel)
		}
		if first {
			ready <- err
			first = false
			if err != nil {
				if conn != nil {
					conn.Close(context.Background())
				}
				return
			}
		} else if err == nil {
			db.notifyAll() // what came while we were not listening is lost
			db.changedElsewhere("")
		}
		if err == nil {
			db.listenErr.Store(nil)
			backoff = 100 * time.Millisecond
			err = db.receive(ctx, conn)
		}
		if conn != nil {
			conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			return
		}
		db.listenErr.Store(&err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// receive hands each notification of another instance to Notify and to
// OnChangeElsewhere's fn, or to OnCardWanted's.
func (db *DB) receive(ctx context.Context, conn *pgx.Conn) error {
	own := db.instance + ":"
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if strings.HasPrefix(n.Payload, own) {
			continue // our own write: already notified here
		}
		_, message, _ := strings.Cut(n.Payload, ":")
		switch kind, what, _ := strings.Cut(message, ":"); {
		case what == "":
		case kind == "l":
			db.Notify(what)
			db.changedElsewhere(what)
		case kind == "c":
			db.cardWanted(Card(what))
		}
	}
}

// Listening returns why this instance does not hear the others' changes
// now (its LISTEN connection is down, or a NOTIFY failed), or nil. Always
// nil on SQLite, where there are no others.
func (db *DB) Listening() error {
	if p := db.listenErr.Load(); p != nil {
		return *p
	}
	return nil
}
