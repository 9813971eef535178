package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strconv"
	"strings"
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
// Within one instance writes go through one connection, as with SQLite, so
// the store's read-then-write transactions run one at a time there.

// IsPostgresURL reports whether dsn names a Postgres server rather than a
// SQLite file: a postgres:// or postgresql:// URL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// PostgresReaders bounds an instance's reader pool on Postgres: its
// connections are server processes, and three instances with 64 each would
// pass Postgres's default limit of 100.
const PostgresReaders = 16

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
