package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Snapshot is the account data of a link as fetched from Flinks. A link has at most one: the latest.
type Snapshot struct {
	LinkID          string
	Fetch           int       // fetch generation that produced it
	FetchedAt       time.Time // when it was stored
	Institution     string
	InstitutionName string
	LastRefresh     time.Time // when the institution's data was last refreshed, per Flinks; zero if unknown
	HolderName      string
	Accounts        []Account // in the order Flinks returned them
	// StaleCode, when not empty, is the FlinksCode that says why this data may
	// be older than the fetch: the cached Authorize replayed a failed refresh
	// (QUESTION_NOT_FOUND), so the data is as of LastRefresh and only the
	// person, reconnecting, can let Flinks refresh it.
	StaleCode string
	// UnreadableTransactions counts the transactions Flinks sent that could
	// not be read and are left out.
	UnreadableTransactions int
}

// Account is one bank account of a snapshot. Money is in cents; nil means Flinks did not provide it.
type Account struct {
	ID       string // Flinks account ID; required, unique within the snapshot
	Title    string
	Last4    string // only the last four digits of the account number; see CompleteFetch
	Type     string
	Category string
	Currency string

	AccountType string

	Current        *int64
	Available      *int64
	Limit          *int64
	OverdraftLimit *int64

	HolderName   string
	Transactions []Transaction // newest first, as Flinks returned them
}

// Transaction is one transaction of an account. Money is in cents; nil means absent.
type Transaction struct {
	ID          string // Flinks transaction ID; unique within its account when not empty
	Date        string // YYYY-MM-DD
	Description string
	Debit       *int64
	Credit      *int64
	Balance     *int64
}

// CompleteFetch stores snap as the link's snapshot, replacing any previous one, and moves the link to
// ready with an event carrying note, all in one transaction: if anything fails, nothing is written.
// snap.LinkID and snap.Fetch are set from the arguments; a zero snap.FetchedAt means now.
//
// Data minimisation: of each Account.Last4 only the last four digits are kept, so a full account
// number given by mistake is not stored.
//
// It returns ErrStale if fetch is not the link's current fetch or that fetch already ended, and
// ErrNotFound if the link does not exist. It returns an error, and writes nothing, if the data is
// invalid: an empty or repeated account ID, a transaction ID repeated within an account, or a
// transaction date that is not YYYY-MM-DD.
func (db *DB) CompleteFetch(ctx context.Context, linkID string, fetch int, snap Snapshot, note Note) error {
	for i, a := range snap.Accounts {
		for j, t := range a.Transactions {
			if _, err := time.Parse(time.DateOnly, t.Date); err != nil {
				return fmt.Errorf("store: complete fetch: account %d transaction %d: date %q is not YYYY-MM-DD: %w", i, j, t.Date, ErrInvalid)
			}
		}
	}
	return db.notified(linkID, db.noteWrite(db.completeFetch(ctx, linkID, fetch, snap, note)))
}

func (db *DB) completeFetch(ctx context.Context, linkID string, fetch int, snap Snapshot, note Note) error {
	now := db.timestamp()
	snap.LinkID, snap.Fetch = linkID, fetch
	if snap.FetchedAt.IsZero() {
		snap.FetchedAt = now
	}

	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: complete fetch: %w", err)
	}
	defer tx.Rollback()

	var (
		requestID string
		polls     int
	)
	err = tx.QueryRowContext(ctx, `
		UPDATE links SET state = ?, next_poll_at = NULL, error_code = '', error_message = '', updated_at = ?
		WHERE id = ? AND "fetch" = ? AND state NOT IN `+terminalStates+`
		RETURNING request_id, polls`,
		StateReady, millis(now), linkID, fetch).Scan(&requestID, &polls)
	if errors.Is(err, sql.ErrNoRows) {
		err = staleOrMissing(ctx, tx, linkID)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrStale) {
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("store: complete fetch: %w", err)
	}
	if err := replaceSnapshot(ctx, tx, snap); err != nil {
		return fmt.Errorf("store: complete fetch: %w", err)
	}
	eventID, err := insertEvent(ctx, tx, Event{
		LinkID: linkID, Fetch: fetch, At: now, State: StateReady, RequestID: requestID, Polls: polls, Note: note,
	})
	if err != nil {
		return fmt.Errorf("store: complete fetch: %w", err)
	}
	link, err := touch(ctx, tx, linkID, eventID, 0, true)
	if err != nil {
		return fmt.Errorf("store: complete fetch: %w", err)
	}
	// Read back as Snapshot returns it, for the cache: every page shows it next.
	stored, err := readSnapshot(ctx, tx, linkID)
	if err != nil {
		return fmt.Errorf("store: complete fetch: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: complete fetch: %w", err)
	}
	db.links.update(link.ID, link)
	db.snapshots.put(stored)
	return nil
}

// replaceSnapshot deletes the snapshot of snap.LinkID, if any (its accounts and transactions go with it,
// ON DELETE CASCADE), and inserts snap.
func replaceSnapshot(ctx context.Context, tx *sql.Tx, snap Snapshot) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM snapshots WHERE link_id = ?`, snap.LinkID); err != nil {
		return fmt.Errorf("delete snapshot: %w", err)
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO snapshots (link_id, "fetch", fetched_at, institution, institution_name, last_refresh, holder_name,
			stale_code, unreadable_transactions)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		snap.LinkID, snap.Fetch, millis(snap.FetchedAt.UTC()), snap.Institution, snap.InstitutionName,
		nullMillis(snap.LastRefresh), snap.HolderName, snap.StaleCode, snap.UnreadableTransactions)
	if err != nil {
		return fmt.Errorf("insert snapshot: %w", err)
	}

	// Prepared once, executed per row: a year of history is thousands of transactions.
	accountStmt, err := tx.PrepareContext(ctx, `
		INSERT INTO accounts (link_id, position, id, title, last4, type, category, currency, account_type,
			current, available, credit_limit, overdraft_limit, holder_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("insert accounts: %w", err)
	}
	defer accountStmt.Close()
	txnStmt, err := tx.PrepareContext(ctx, `
		INSERT INTO transactions (link_id, account_pos, position, id, date, description, debit, credit, balance)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("insert transactions: %w", err)
	}
	defer txnStmt.Close()

	for i, a := range snap.Accounts {
		_, err := accountStmt.ExecContext(ctx, snap.LinkID, i, a.ID, a.Title, last4(a.Last4), a.Type, a.Category,
			a.Currency, a.AccountType, a.Current, a.Available, a.Limit, a.OverdraftLimit, a.HolderName)
		if err != nil {
			return fmt.Errorf("insert account %d: %w", i, err)
		}
		for j, t := range a.Transactions {
			_, err := txnStmt.ExecContext(ctx, snap.LinkID, i, j, t.ID, t.Date, t.Description, t.Debit, t.Credit, t.Balance)
			if err != nil {
				return fmt.Errorf("insert account %d transaction %d: %w", i, j, err)
			}
		}
	}
	return nil
}

// Snapshot returns the latest snapshot of a link: accounts in their original order, transactions newest
// first. It returns ErrNotFound if the link has none (or does not exist).
func (db *DB) Snapshot(ctx context.Context, linkID string) (Snapshot, error) {
	if s, ok, deleted := db.snapshots.get(linkID); deleted {
		return Snapshot{}, ErrNotFound
	} else if ok {
		return s, nil
	}
	// A read transaction so that the three queries see the same snapshot even if CompleteFetch replaces
	// it meanwhile; on the reader pool, it never waits for the writer.
	mark := db.snapshots.mark()
	tx, err := db.ro.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Snapshot{}, fmt.Errorf("store: snapshot: %w", err)
	}
	defer tx.Rollback()
	snap, err := readSnapshot(ctx, tx, linkID)
	if errors.Is(err, ErrNotFound) {
		return Snapshot{}, err
	} else if err != nil {
		return Snapshot{}, fmt.Errorf("store: snapshot: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Snapshot{}, fmt.Errorf("store: snapshot: %w", err)
	}
	db.snapshots.fill(snap, mark)
	snap.Accounts = slices.Clone(snap.Accounts) // the cache keeps its own
	return snap, nil
}

// SnapshotBrief is Snapshot without the transactions: what a list of links
// shows (holder, accounts, totals) without reading every transaction.
// It returns ErrNotFound if the link has no snapshot.
func (db *DB) SnapshotBrief(ctx context.Context, linkID string) (Snapshot, error) {
	tx, err := db.ro.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Snapshot{}, fmt.Errorf("store: snapshot brief: %w", err)
	}
	defer tx.Rollback()
	snap, err := readSnapshotOnly(ctx, tx, linkID, false)
	if errors.Is(err, ErrNotFound) {
		return Snapshot{}, err
	} else if err != nil {
		return Snapshot{}, fmt.Errorf("store: snapshot brief: %w", err)
	}
	return snap, tx.Commit()
}

// readSnapshot reads the snapshot of a link, or returns ErrNotFound.
func readSnapshot(ctx context.Context, tx *sql.Tx, linkID string) (Snapshot, error) {
	return readSnapshotOnly(ctx, tx, linkID, true)
}

// readSnapshotOnly reads the snapshot of a link and its accounts, with their
// transactions when withTransactions, or returns ErrNotFound.
func readSnapshotOnly(ctx context.Context, tx *sql.Tx, linkID string, withTransactions bool) (Snapshot, error) {
	var (
		s           Snapshot
		fetchedAt   int64
		lastRefresh sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `
		SELECT link_id, "fetch", fetched_at, institution, institution_name, last_refresh, holder_name,
			stale_code, unreadable_transactions
		FROM snapshots WHERE link_id = ?`, linkID).
		Scan(&s.LinkID, &s.Fetch, &fetchedAt, &s.Institution, &s.InstitutionName, &lastRefresh, &s.HolderName,
			&s.StaleCode, &s.UnreadableTransactions)
	if errors.Is(err, sql.ErrNoRows) {
		return Snapshot{}, ErrNotFound
	} else if err != nil {
		return Snapshot{}, err
	}
	s.FetchedAt = fromMillis(fetchedAt)
	s.LastRefresh = fromNullMillis(lastRefresh)

	if s.Accounts, err = readAccounts(ctx, tx, linkID); err != nil {
		return Snapshot{}, err
	}
	if !withTransactions {
		return s, nil
	}
	if err := readTransactions(ctx, tx, linkID, s.Accounts); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

// readAccounts reads the accounts of a snapshot, by position.
func readAccounts(ctx context.Context, tx *sql.Tx, linkID string) ([]Account, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT position, id, title, last4, type, category, currency, account_type,
			current, available, credit_limit, overdraft_limit, holder_name
		FROM accounts WHERE link_id = ? ORDER BY position`, linkID)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	var accounts []Account
	for rows.Next() {
		var (
			a                                    Account
			pos                                  int
			current, available, limit, overdraft sql.NullInt64
		)
		err := rows.Scan(&pos, &a.ID, &a.Title, &a.Last4, &a.Type, &a.Category, &a.Currency, &a.AccountType,
			&current, &available, &limit, &overdraft, &a.HolderName)
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		// Positions are 0..n-1 as written by replaceSnapshot; anything else is a corrupted snapshot.
		if pos != len(accounts) {
			return nil, fmt.Errorf("accounts: position %d, want %d", pos, len(accounts))
		}
		a.Current, a.Available, a.Limit, a.OverdraftLimit = ptr(current), ptr(available), ptr(limit), ptr(overdraft)
		accounts = append(accounts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	return accounts, nil
}

// readTransactions reads the transactions of a snapshot into accounts (indexed by position), newest first.
func readTransactions(ctx context.Context, tx *sql.Tx, linkID string, accounts []Account) error {
	// One query for all accounts, in primary key order: no sort, no per-account round trip.
	rows, err := tx.QueryContext(ctx, `
		SELECT account_pos, id, date, description, debit, credit, balance
		FROM transactions WHERE link_id = ? ORDER BY account_pos, position`, linkID)
	if err != nil {
		return fmt.Errorf("transactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			t                      Transaction
			pos                    int
			debit, credit, balance sql.NullInt64
		)
		if err := rows.Scan(&pos, &t.ID, &t.Date, &t.Description, &debit, &credit, &balance); err != nil {
			return fmt.Errorf("transactions: %w", err)
		}
		if pos < 0 || pos >= len(accounts) {
			return fmt.Errorf("transactions: account position %d out of range", pos)
		}
		t.Debit, t.Credit, t.Balance = ptr(debit), ptr(credit), ptr(balance)
		accounts[pos].Transactions = append(accounts[pos].Transactions, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("transactions: %w", err)
	}
	return nil
}

// last4 returns the last four digits of an account number (or of an already shortened one, such as
// "****1234"); other characters are dropped.
func last4(number string) string {
	digits := make([]byte, 0, len(number))
	for i := 0; i < len(number); i++ {
		if c := number[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if len(digits) > 4 {
		digits = digits[len(digits)-4:]
	}
	return string(digits)
}

// ptr converts a nullable stored integer to a nullable int64.
func ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}
