package store_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"flinkslink/flinks/flinkstest"
	"flinkslink/store"
	"flinkslink/store/pgtest"
)

// onPostgres runs the suite on Postgres (FLINKSLINK_TEST_DB=postgres, as
// make test does after the SQLite run): each test gets a database of its
// own on a throwaway cluster.
var onPostgres = os.Getenv("FLINKSLINK_TEST_DB") == "postgres"

func TestMain(m *testing.M) { pgtest.Main(m) }

// location is where a test's new database is: a file in a temporary
// folder, or a new database on the Postgres cluster.
func location(tb testing.TB) string {
	if onPostgres {
		return pgtest.NewDatabase(tb)
	}
	return filepath.Join(tb.TempDir(), "app.db")
}

// sqliteOnly skips a test about the SQLite file itself (its path, modes,
// page cap, pools) when the suite runs on Postgres.
func sqliteOnly(t *testing.T) {
	t.Helper()
	if onPostgres {
		t.Skip("about the SQLite file")
	}
}

// newClock is a test clock pinned until advanced.
func newClock() *flinkstest.Clock {
	return flinkstest.NewClock(time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC))
}

// testKey returns a valid key made of b.
func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, store.KeySize) }

// mustOpen opens the database at path with testKey(1) and closes it at the end of the test.
func mustOpen(tb testing.TB, path string, opts ...store.Option) *store.DB {
	tb.Helper()
	db, err := store.Open(tb.Context(), path, testKey(1), opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

// newDB opens a new database in a temporary directory, on a pinned clock.
func newDB(tb testing.TB) (*store.DB, *flinkstest.Clock) {
	tb.Helper()
	clk := newClock()
	return mustOpen(tb, location(tb), store.WithNow(clk.Now)), clk
}

// mustCreate creates a link for sessionID and loginID.
func mustCreate(tb testing.TB, db *store.DB, sessionID, loginID string) store.Link {
	tb.Helper()
	link, created, err := db.CreateLink(tb.Context(), store.NewLink{
		SessionID: sessionID, LoginID: loginID, Institution: "FlinksCapital", Tag: "t",
	})
	if err != nil {
		tb.Fatalf("CreateLink: %v", err)
	}
	if !created {
		tb.Fatalf("CreateLink: created=false, want true")
	}
	return link
}

// mustRecord records a state on fetch 1.
func mustRecord(tb testing.TB, db *store.DB, linkID string, fetch int, state store.State) {
	tb.Helper()
	if err := db.RecordState(tb.Context(), linkID, fetch, store.StateUpdate{State: state, Note: store.Note{Kind: store.NoteKind(state)}}); err != nil {
		tb.Fatalf("RecordState(%s): %v", state, err)
	}
}

// count returns the number of rows of table (a constant name) matching link_id.
func count(tb testing.TB, db *store.DB, table, linkID string) int {
	tb.Helper()
	var n int
	if err := db.SQL().QueryRowContext(tb.Context(), `SELECT count(*) FROM `+table+` WHERE link_id = ?`, linkID).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestOpen(t *testing.T) {
	t.Parallel()

	t.Run("CreatesPrivateDirAndFileAndMigrates", func(t *testing.T) {
		sqliteOnly(t)
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data", "nested")
		path := filepath.Join(dir, "app.db")
		db := mustOpen(t, path)

		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := info.Mode().Perm(), os.FileMode(0o700); got != want {
			t.Errorf("dir mode = %v, want %v", got, want)
		}
		info, err = os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := info.Mode().Perm(), os.FileMode(0o600); got != want {
			t.Errorf("file mode = %v, want %v", got, want)
		}
		for _, table := range []string{"meta", "links", "events", "calls", "snapshots", "accounts", "transactions"} {
			var n int
			err := db.SQL().QueryRowContext(t.Context(),
				`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("table %s: %d in schema, want 1", table, n)
			}
		}
		if err := db.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("ReopenMigratesNothingAndKeepsData", func(t *testing.T) {
		t.Parallel()
		path := location(t)
		clk := newClock()
		ctx := t.Context()

		db, err := store.Open(ctx, path, testKey(1), store.WithNow(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		link := mustCreate(t, db, "s1", "login-restart")
		clk.Advance(time.Second)
		mustRecord(t, db, link.ID, 1, store.StateFetching)
		if err := db.RecordCall(ctx, link.ID, 1, store.Call{Endpoint: "/GetAccountsDetail", Method: "POST", StatusCode: 200, Attempt: 1, Duration: 1500 * time.Millisecond, Body: []byte(`{"ok":true}`)}); err != nil {
			t.Fatal(err)
		}
		if err := db.CompleteFetch(ctx, link.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		wantLink, _ := db.Link(ctx, link.ID)
		wantEvents, _ := db.Events(ctx, link.ID)
		wantCalls, _ := db.Calls(ctx, link.ID)
		wantSnap, _ := db.Snapshot(ctx, link.ID)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = mustOpen(t, path, store.WithNow(clk.Now))
		gotLink, err := db.Link(ctx, link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotLink, wantLink) {
			t.Errorf("Link after reopen = %+v, want %+v", gotLink, wantLink)
		}
		if got, err := db.Events(ctx, link.ID); err != nil || !reflect.DeepEqual(got, wantEvents) || len(got) != 3 {
			t.Errorf("Events after reopen = %+v, %v; want %+v (3 events)", got, err, wantEvents)
		}
		if got, err := db.Calls(ctx, link.ID); err != nil || !reflect.DeepEqual(got, wantCalls) || len(got) != 1 {
			t.Errorf("Calls after reopen = %+v, %v; want %+v (1 call)", got, err, wantCalls)
		}
		if got, err := db.Snapshot(ctx, link.ID); err != nil || !reflect.DeepEqual(got, wantSnap) {
			t.Errorf("Snapshot after reopen = %+v, %v; want %+v", got, err, wantSnap)
		}
		if got, err := db.LoginID(ctx, link.ID); err != nil || got != "login-restart" {
			t.Errorf("LoginID after reopen = %q, %v; want %q", got, err, "login-restart")
		}
	})

	t.Run("EveryPooledConnectionHasTheSettings", func(t *testing.T) {
		sqliteOnly(t)
		t.Parallel()
		db, _ := newDB(t)
		ctx := t.Context()
		settings := []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"synchronous", "1"}, // NORMAL
			{"secure_delete", "1"},
		}
		check := func(name string, conn *sql.Conn, extra ...struct{ pragma, want string }) {
			t.Helper()
			for _, tc := range append(settings, extra...) {
				var got string
				if err := conn.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
					t.Fatalf("%s: PRAGMA %s: %v", name, tc.pragma, err)
				}
				if got != tc.want {
					t.Errorf("%s: PRAGMA %s = %s, want %s", name, tc.pragma, got, tc.want)
				}
			}
		}

		// The writer: one connection, with the foreign keys really enforced.
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("writer", conn, struct{ pragma, want string }{"query_only", "0"})
		_, err = conn.ExecContext(ctx, `INSERT INTO events (link_id, "fetch", at, state, request_id, polls, note, error_code, error_message)
			VALUES ('no-such-link', 1, 0, 'received', '', 0, '', '', '')`)
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Errorf("writer: insert event of unknown link: err = %v, want a FOREIGN KEY error", err)
		}
		conn.Close()
		if got := db.SQL().Stats().MaxOpenConnections; got != 1 {
			t.Errorf("writer pool allows %d connections, want 1: writers queue in Go, not in SQLite's busy handler", got)
		}

		// Readers: holding several at once forces the pool to open new ones after Open returned.
		const n = 4
		for i := range n {
			conn, err := db.ReadSQL().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			check(fmt.Sprintf("reader %d", i), conn, struct{ pragma, want string }{"query_only", "1"})
			if _, err := conn.ExecContext(ctx, `DELETE FROM links`); err == nil {
				t.Errorf("reader %d: a DELETE succeeded on a query-only connection", i)
			}
		}
		if got := db.ReadSQL().Stats().OpenConnections; got < n {
			t.Errorf("open reader connections = %d, want at least %d", got, n)
		}
	})

	// Hundreds of writers at once (fetches, redirects) all succeed: none fails
	// with "database is locked" after waiting out SQLite's busy timeout, while
	// readers keep reading.
	t.Run("ManyConcurrentWritersAllSucceed", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make(chan error, 10000)
		for i := range 300 {
			wg.Go(func() {
				l, _, err := db.CreateLink(ctx, store.NewLink{SessionID: fmt.Sprint("s", i%60), LoginID: fmt.Sprint("login-", i), Institution: "FlinksCapital"})
				if err != nil {
					errs <- err
					return
				}
				for k := range 10 {
					if err := db.RecordCall(ctx, l.ID, 1, store.Call{Endpoint: "GetAccountsDetailAsync", Attempt: k}); err != nil {
						errs <- err
					}
					if err := db.RecordState(ctx, l.ID, 1, store.StateUpdate{State: store.StatePending, Polls: k}); err != nil {
						errs <- err
					}
					if _, err := db.Link(ctx, l.ID); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("RejectsKeyOfWrongLength", func(t *testing.T) {
		sqliteOnly(t)
		t.Parallel()
		for _, size := range []int{0, 16, 31, 33, 64} {
			dir := filepath.Join(t.TempDir(), "data")
			db, err := store.Open(t.Context(), filepath.Join(dir, "app.db"), make([]byte, size))
			if err == nil {
				db.Close()
				t.Errorf("Open with a %d-byte key: err = nil, want an error", size)
				continue
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Open with a %d-byte key created %s (stat err = %v)", size, dir, err)
			}
		}
	})

	t.Run("RejectsKeyOfAnotherDatabase", func(t *testing.T) {
		t.Parallel()
		path := location(t)
		db, err := store.Open(t.Context(), path, testKey(1))
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		db, err = store.Open(t.Context(), path, testKey(2))
		if err == nil {
			db.Close()
		}
		if !errors.Is(err, store.ErrKeyMismatch) {
			t.Errorf("Open with another key: err = %v, want ErrKeyMismatch", err)
		}
	})

	t.Run("RejectsInMemory", func(t *testing.T) {
		sqliteOnly(t)
		t.Parallel()
		for _, path := range []string{"", ":memory:"} {
			db, err := store.Open(t.Context(), path, testKey(1))
			if err == nil {
				db.Close()
				t.Errorf("Open(%q): err = nil, want an error", path)
			}
		}
	})

	t.Run("PathWithSpecialCharacters", func(t *testing.T) {
		sqliteOnly(t)
		t.Parallel()
		path := filepath.Join(t.TempDir(), "a b?c#d%20", "app.db")
		db := mustOpen(t, path)
		mustCreate(t, db, "s1", "login")
		if _, err := os.Stat(path); err != nil {
			t.Errorf("database not at %s: %v", path, err)
		}
	})
}

func TestLoginID(t *testing.T) {
	t.Parallel()
	const secret = "7d9a1c2e-LOGINID-SECRET-4b8f-a3c1-0e5f6a7b8c9d"

	t.Run("NotStoredInClear", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "app.db")
		db, err := store.Open(t.Context(), path, testKey(1))
		if err != nil {
			t.Fatal(err)
		}
		link := mustCreate(t, db, "s1", secret)
		mustRecord(t, db, link.ID, 1, store.StatePending)
		if got := fmt.Sprintf("%+v", link); strings.Contains(got, secret) {
			t.Errorf("Link %s contains the LoginId", got)
		}
		check := func(when string) {
			t.Helper()
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				raw, err := os.ReadFile(p)
				if errors.Is(err, os.ErrNotExist) {
					continue
				} else if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(raw, []byte(secret)) {
					t.Errorf("%s: %s contains the LoginId in clear", when, filepath.Base(p))
				}
			}
		}
		check("open") // the row is still in the -wal file
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		check("closed") // checkpointed into the database file
	})

	t.Run("RoundTrips", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", secret)
		got, err := db.LoginID(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != secret {
			t.Errorf("LoginID = %q, want %q", got, secret)
		}
	})

	t.Run("UnknownLink", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		if _, err := db.LoginID(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LoginID(unknown): err = %v, want ErrNotFound", err)
		}
	})

	t.Run("WrongKeyCannotDecrypt", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", secret)
		other := db.WithKey(testKey(2))
		got, err := other.LoginID(t.Context(), link.ID)
		if err == nil {
			t.Fatalf("LoginID with another key = %q, want an error", got)
		}
		if got != "" || strings.Contains(err.Error(), secret) {
			t.Errorf("LoginID with another key = %q, %v; want \"\" and an error without the LoginId", got, err)
		}
		if links, err := other.LinksByLoginID(t.Context(), secret); err != nil || len(links) != 0 {
			t.Errorf("LinksByLoginID with another key = %d links, %v; want none", len(links), err)
		}
	})

	t.Run("CiphertextIsBoundToItsLink", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		a := mustCreate(t, db, "s1", secret)
		b := mustCreate(t, db, "s2", "another-login")
		_, err := db.SQL().ExecContext(t.Context(),
			`UPDATE links SET login_enc = (SELECT login_enc FROM links WHERE id = ?) WHERE id = ?`, a.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := db.LoginID(t.Context(), b.ID); err == nil {
			t.Errorf("LoginID with a ciphertext copied from another link = %q, want an error", got)
		}
	})
}

// TestReaderPoolIsBoundedAndKept: 64 concurrent readers share at most
// store.Readers connections, and none is closed and reopened for being idle.
func TestReaderPoolIsBoundedAndKept(t *testing.T) {
	sqliteOnly(t)
	db, _ := newDB(t)
	link := mustCreate(t, db, "s1", "login-1")
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 20 {
				if _, err := db.Link(t.Context(), link.ID); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := db.ReadSQL().Stats()
	if st.MaxOpenConnections != store.Readers || st.OpenConnections > store.Readers {
		t.Errorf("reader pool: max %d, open %d; want at most %d", st.MaxOpenConnections, st.OpenConnections, store.Readers)
	}
	if st.MaxIdleClosed != 0 {
		t.Errorf("%d reader connections closed for being idle and reopened", st.MaxIdleClosed)
	}
}

// Instances that start together on a new database migrate it once: each
// opens it, and every one sees the whole schema.
func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	if !onPostgres {
		t.Skip("one instance on SQLite")
	}
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			db, err := store.Open(t.Context(), url, testKey(1))
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			_, _, err = db.CreateLink(t.Context(), store.NewLink{SessionID: "s", LoginID: "l", Institution: "FlinksCapital"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("an instance starting with the others: %v", err)
		}
	}
}
