// Package store persists bank links, their fetch timeline, the calls made to Flinks and the fetched
// account data in SQLite.
//
// The Flinks LoginId is a permanent credential to a person's bank data. It is stored only encrypted
// (AES-256-GCM, bound to its link ID) next to a keyed HMAC fingerprint used for lookups; the only way to
// read it back is [DB.LoginID]. It is never part of a returned struct or an error message.
//
// Times are stored as unix milliseconds and returned in UTC, truncated to the millisecond.
// Money is int64 cents; nil means "not provided".
package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3" // also registers the "sqlite3" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// KeySize is the length in bytes of the key given to [Open].
const KeySize = 32

// Errors returned by DB methods. Compare with errors.Is.
var (
	// ErrNotFound means the link (or its snapshot) does not exist, or belongs to another session.
	ErrNotFound = errors.New("store: not found")
	// ErrStale means the write was for a fetch generation that is no longer current, or that already
	// ended: a newer fetch has started, or this one already reached a terminal state.
	ErrStale = errors.New("store: stale fetch")
	// ErrBusy means a fetch is still running for the link, so a new one cannot start.
	ErrBusy = errors.New("store: fetch in progress")
	// ErrKeyMismatch means the key given to Open is not the key this database was created with.
	ErrKeyMismatch = errors.New("store: key does not match this database")
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Labels for deriving independent sub-keys from the one key the app keeps on disk: a key is never
// used for two purposes. Changing a label makes every stored LoginId unreadable.
const (
	labelEncrypt  = "flinkslink/store/v1 LoginId encryption"
	labelMAC      = "flinkslink/store/v1 LoginId fingerprint"
	labelKeyCheck = "flinkslink/store/v1 key check"
)

// bodyLimit caps the response body kept by RecordCall. Flinks answers with whole account histories; the
// calls log is for debugging, and the data itself is in the snapshot.
const bodyLimit = 256 << 10

// DB is the SQLite database of the app. It is safe for concurrent use.
//
// It keeps two pools on the one file. Writes go through db, a single
// connection: concurrent writers queue in Go (bounded by their context)
// rather than in SQLite's busy handler, which polls without any order and,
// with hundreds of fetches and redirects writing at once, let unlucky writers
// time out with "database is locked". Reads go through ro, many query-only
// connections; in WAL mode they never wait for the writer.
type DB struct {
	db *sql.DB // the writer: one connection, BEGIN IMMEDIATE
	// postgres: the database is a Postgres server (see postgres.go).
	postgres bool
	// instance names this process in its change notifications (Postgres).
	instance string
	// listenErr is why the LISTEN connection is down (Postgres); see Listening.
	listenErr atomic.Pointer[error]
	// stopListening ends the listener; listening is closed when it has.
	stopListening context.CancelFunc
	listening     chan struct{}
	// elsewhere is told of every link another instance changed (see
	// OnChangeElsewhere).
	elsewhere atomic.Pointer[func(linkID string)]
	// wanted is told of the cards whose links another instance leaves to
	// this one (see OnCardWanted).
	wanted atomic.Pointer[func(card Card)]
	// pub sends this instance's NOTIFYs (Postgres).
	pub    publisher
	ro     *sql.DB // readers: query_only, deferred transactions
	now    func() time.Time
	aead   cipher.AEAD // encrypts LoginIds at rest
	macKey []byte      // keys the LoginId fingerprint
	// maxSize caps the database file (WithMaxSize); 0: no cap.
	maxSize int64
	// writeErr is the disk failure of the last write (full, I/O error,
	// read-only), nil once a write succeeds again; see Writable.
	writeErr atomic.Pointer[error]
	// changes wakes the readers waiting for a link to change (see Watch).
	changes changes
	// links caches the links as this process's writes left them.
	links *newest[Link]
	// snapshots caches the snapshots it wrote or read.
	snapshots *snapshotCache
	// Prepared on the readers (see prepare).
	eventsStmt, callsAfterStmt, linkStmt *sql.Stmt
}

// Option configures a DB in [Open].
type Option func(*DB)

// WithMaxSize caps the database file at about maxBytes (SQLite's
// max_page_count): past it, writes fail as on a full disk (see Writable).
// It bounds what the app can store on a shared disk; 0 means no cap.
func WithMaxSize(maxBytes int64) Option {
	return func(db *DB) { db.maxSize = maxBytes }
}

// WithNow makes the DB read the time from now instead of time.Now, so tests can pin it.
func WithNow(now func() time.Time) Option {
	return func(db *DB) { db.now = now }
}

// Open opens (creating it if needed) the SQLite database at path and migrates it to the current schema.
// The parent directory is created with mode 0700 and a new database file with mode 0600.
//
// key must be [KeySize] bytes; it is kept outside the database, and encrypts and fingerprints the
// Flinks LoginIds. Open returns [ErrKeyMismatch] when the database was created with another key.
func Open(ctx context.Context, path string, key []byte, opts ...Option) (*DB, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("store: open: key is %d bytes, want %d", len(key), KeySize)
	}
	aead, err := newAEAD(derive(key, labelEncrypt))
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	var sqlDB, roDB *sql.DB
	postgres := IsPostgresURL(path)
	if postgres {
		sqlDB, roDB, err = openPostgres(path)
	} else {
		sqlDB, roDB, err = openSQLite(path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db := &DB{
		db:        sqlDB,
		ro:        roDB,
		postgres:  postgres,
		now:       time.Now,
		aead:      aead,
		macKey:    derive(key, labelMAC),
		links:     newLinkCache(),
		snapshots: newSnapshotCache(),
	}
	for _, opt := range opts {
		opt(db)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if err := db.checkKey(ctx, derive(key, labelKeyCheck)); err != nil {
		db.Close()
		if errors.Is(err, ErrKeyMismatch) {
			return nil, err
		}
		return nil, fmt.Errorf("store: open: %w", err)
	}
	// After the migrations, which may use more than one connection. SQLite
	// takes one writer at a time: writers queue here, in Go. Postgres takes
	// many, and other instances write anyway: a few connections, so that a
	// write's round trip does not hold up the others.
	sqlDB.SetMaxOpenConns(1)
	if postgres {
		sqlDB.SetMaxOpenConns(PostgresWriters)
		sqlDB.SetMaxIdleConns(PostgresWriters)
	}
	// The one writer connection stays open: max_page_count belongs to it.
	sqlDB.SetConnMaxIdleTime(0)
	sqlDB.SetConnMaxLifetime(0)
	if db.maxSize > 0 && !postgres {
		if err := db.SetMaxSize(ctx, db.maxSize); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: open: %w", err)
		}
	}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if postgres {
		if err := db.startListening(ctx, path); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: open: listen: %w", err)
		}
	}
	return db, nil
}

// openSQLite opens the writer and reader pools on the SQLite file at path,
// creating the file (and its folder) private to the app's user.
func openSQLite(path string) (writer, readers *sql.DB, err error) {
	// ":memory:" would give every pooled connection its own empty database.
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, nil, fmt.Errorf("need a file path, got %q", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, nil, err
	}
	// SQLite would create the file 0644; creating it first makes it (and the -wal and -shm files,
	// which SQLite creates with the database file's mode) private to the app's user.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if err := f.Close(); err != nil {
		return nil, nil, err
	}
	writer, err = sql.Open("sqlite3", dsn(abs, false))
	if err != nil {
		return nil, nil, err
	}
	readers, err = sql.Open("sqlite3", dsn(abs, true))
	if err != nil {
		writer.Close()
		return nil, nil, err
	}
	// A bounded reader pool whose connections stay open: database/sql keeps
	// only 2 idle by default, so under load readers were opened and closed
	// by the hundred.
	readers.SetMaxOpenConns(Readers)
	readers.SetMaxIdleConns(Readers)
	readers.SetConnMaxIdleTime(5 * time.Minute)
	return writer, readers, nil
}

// The reads of a live page, prepared once: database/sql keeps each one
// prepared on every reader connection it has run on, instead of SQLite
// compiling the SQL again for each poll.
const (
	eventsSQL = `SELECT id, link_id, "fetch", at, state, request_id, polls, note, kind, args, error_code, error_message
		FROM events WHERE link_id = ? ORDER BY id`
	callsAfterSQL = `SELECT c.id, c.link_id, c."fetch", c.at, c.endpoint, c.method, c.status_code, c.flinks_code, c.request_id,
			c.attempt, c.duration_ns, c.err, coalesce(b.body, c.body)
		FROM calls c LEFT JOIN calls b ON b.id = c.body_of
		WHERE c.link_id = ? AND c.id > ? ORDER BY c.id`
	linkByIDSQL = `SELECT ` + linkColumns + ` FROM links WHERE id = ?`
)

func (db *DB) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{{&db.eventsStmt, eventsSQL}, {&db.callsAfterStmt, callsAfterSQL}, {&db.linkStmt, linkByIDSQL}} {
		st, err := db.ro.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*p.stmt = st
	}
	return nil
}

// Readers bounds the reader pool: 32 a core (64 here). A pool of 4 made 600
// concurrent redirects wait 16.5 s on one loaded core (7.5 s with 64;
// unbounded, 4–13 s from run to run).
var Readers = 32 * runtime.GOMAXPROCS(0)

// ErrInvalid is wrapped by a write refused because its data is invalid:
// writing it again cannot succeed.
var ErrInvalid = errors.New("store: invalid data")

// SetMaxSize caps the database file at about maxBytes from now on (0: no
// cap); the file never shrinks below its current size by it. Writes that
// would grow it past the cap fail like writes to a full disk.
//
// On Postgres it is not supported: the server's disk is the server's to
// bound (see README, Running more than one instance).
func (db *DB) SetMaxSize(ctx context.Context, maxBytes int64) error {
	if db.postgres {
		return fmt.Errorf("store: set max size: %w on Postgres", errors.ErrUnsupported)
	}
	var pageSize int64
	if err := db.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return fmt.Errorf("store: set max size: %w", err)
	}
	pages := int64(1<<31 - 2) // SQLite's own maximum: no cap
	if maxBytes > 0 {
		pages = max(maxBytes/pageSize, 1)
	}
	if _, err := db.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		return fmt.Errorf("store: set max size: %w", err)
	}
	return nil
}

// Writable returns the disk failure (full, I/O error, read-only) that made
// the last write fail, or nil when the last write succeeded: the database
// can be read but not written while it is not nil.
func (db *DB) Writable() error {
	if p := db.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// noteWrite records a write's outcome for Writable and returns err.
func (db *DB) noteWrite(err error) error {
	var se sqlite3.Error
	switch {
	case err == nil:
		db.writeErr.Store(nil)
	case errors.As(err, &se) && (se.Code == sqlite3.ErrFull || se.Code == sqlite3.ErrIoErr ||
		se.Code == sqlite3.ErrReadonly || se.Code == sqlite3.ErrCantOpen),
		postgresDiskFailure(err):
		db.writeErr.Store(&err)
	}
	return err
}

// dsn returns the mattn/go-sqlite3 data source name for the database file at path (absolute), for the
// writer pool or, with readOnly, the reader pool.
//
// The settings are DSN parameters rather than PRAGMA statements run after sql.Open because database/sql
// keeps a pool of connections and opens new ones whenever it likes: the driver applies DSN parameters to
// every connection it opens, while a PRAGMA only affects the one connection that happened to run it
// (foreign_keys and busy_timeout are per connection).
func dsn(path string, readOnly bool) string {
	params := url.Values{}
	// WAL lets readers (the htmx polls) run while the fetch goroutine writes. It is a property of the
	// file, set by the writer; readers find it there.
	if !readOnly {
		params.Set("_journal_mode", "WAL")
	}
	// SQLite ignores FOREIGN KEY clauses (and ON DELETE CASCADE) unless this is on.
	params.Set("_foreign_keys", "on")
	// Wait up to 5 s for a lock instead of failing with SQLITE_BUSY. Our own writers queue in Go (the
	// writer pool has one connection); this covers checkpoints and another process on the file.
	params.Set("_busy_timeout", "5000")
	if readOnly {
		// A reader cannot write by mistake, and its transactions (Snapshot's) are plain read
		// transactions that never take the write lock.
		params.Set("_query_only", "true")
		params.Set("_txlock", "deferred")
		// Each reader has its own page cache (2 MB by default, 64 readers):
		// the links a page polls are read from the store's memory, and the
		// rest is in the OS's file cache anyway.
		params.Set("_cache_size", "-256")
	} else {
		// BEGIN IMMEDIATE takes the write lock when the transaction starts, so a transaction that reads
		// and then writes cannot find its snapshot stale at the first write (SQLITE_BUSY_SNAPSHOT,
		// which no busy timeout retries).
		params.Set("_txlock", "immediate")
	}
	// NORMAL is durable across application crashes in WAL mode; only an OS crash or power loss can
	// lose the last transactions, which a re-fetch recovers.
	params.Set("_synchronous", "NORMAL")
	// Deleted rows (a deleted link, a replaced snapshot) are overwritten with zeros rather than left in
	// free pages: the data is a person's bank history.
	params.Set("_secure_delete", "on")
	// A file: URI so that a path containing '?' or '#' is escaped rather than taken for parameters.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	return u.String()
}

// migrate applies the embedded migrations that have not been applied yet.
func (db *DB) migrate(ctx context.Context) error {
	dir, dialect := "migrations", goose.DialectSQLite3
	if db.postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	// Not goose's global registry of Go migrations: it is package-level state we don't use.
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.postgres {
		// Instances starting together: one migrates, the others wait for it
		// (a Postgres advisory lock held for the migration's session).
		// Retried every second for up to five minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// p.Close would close db.db, which the DB owns: the provider is simply dropped.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// checkKey records check in a new database and compares it with the recorded value in an existing one.
// check is derived from the key but is not a key itself. Without it, a wrong key would open the
// database happily, fail to decrypt every LoginId and let duplicate links in (its fingerprints differ).
func (db *DB) checkKey(ctx context.Context, check []byte) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO meta (name, value) VALUES ('key_check', ?) ON CONFLICT (name) DO NOTHING`, check); err != nil {
		return err
	}
	var stored []byte
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'key_check'`).Scan(&stored); err != nil {
		return err
	}
	if !hmac.Equal(stored, check) {
		return ErrKeyMismatch
	}
	return tx.Commit()
}

// Close closes the database.
func (db *DB) Close() error {
	if db.stopListening != nil {
		db.stopListening()
		<-db.listening
	}
	db.pub.done.Wait() // the last notifications, on their way
	for _, st := range []*sql.Stmt{db.eventsStmt, db.callsAfterStmt, db.linkStmt} {
		if st != nil {
			st.Close()
		}
	}
	err := errors.Join(db.ro.Close(), db.db.Close())
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database can be reached.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.ro.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// derive returns the sub-key of key for one purpose, named by label.
func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// newAEAD returns AES-256-GCM with a random nonce per message, prepended to the ciphertext.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// loginKey returns the fingerprint of a LoginId: deterministic, so it can be indexed and compared,
// and keyed, so it cannot be checked against guessed LoginIds without the key.
func (db *DB) loginKey(loginID string) []byte {
	m := hmac.New(sha256.New, db.macKey)
	m.Write([]byte(loginID))
	return m.Sum(nil)
}

// encryptLoginID encrypts a LoginId for the link linkID. The link ID is authenticated data: a
// ciphertext copied into another row does not decrypt.
func (db *DB) encryptLoginID(linkID, loginID string) []byte {
	return db.aead.Seal(nil, nil, []byte(loginID), []byte(linkID))
}

// errDecrypt is deliberately vague: it must not echo anything about the secret.
var errDecrypt = errors.New("cannot decrypt the LoginId (wrong key or corrupted row)")

func (db *DB) decryptLoginID(linkID string, enc []byte) (string, error) {
	plain, err := db.aead.Open(nil, nil, enc, []byte(linkID))
	if err != nil {
		return "", errDecrypt
	}
	return string(plain), nil
}

// newID returns a new random link ID: 26 lowercase base32 characters, 130 random bits.
// IDs appear in URLs, so they must be unguessable.
func newID() string {
	return strings.ToLower(rand.Text())
}

// timestamp returns the current time as stored: UTC, millisecond precision.
func (db *DB) timestamp() time.Time {
	return db.now().UTC().Truncate(time.Millisecond)
}

// millis converts t to the stored form.
func millis(t time.Time) int64 { return t.UnixMilli() }

// nullMillis converts t to the stored form, NULL for the zero time.
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMillis converts a stored time back.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// fromNullMillis converts a stored nullable time back, the zero time for NULL.
func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}
