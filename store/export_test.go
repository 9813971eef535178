package store

import "database/sql"

// Test hooks: compiled only into this package's tests, so the store_test package can look under the API.

// SQL returns the underlying writer pool, to inspect connection settings and raw rows.
func (db *DB) SQL() *sql.DB { return db.db }

// ReadSQL returns the underlying reader pool.
func (db *DB) ReadSQL() *sql.DB { return db.ro }

// WithKey returns a DB that shares db's connections but derives its sub-keys from key, as if the
// database had been opened with another key and the key check had not stopped it.
func (db *DB) WithKey(key []byte) *DB {
	aead, err := newAEAD(derive(key, labelEncrypt))
	if err != nil {
		panic(err)
	}
	return &DB{db: db.db, ro: db.ro, now: db.now, aead: aead, macKey: derive(key, labelMAC),
		eventsStmt: db.eventsStmt, callsAfterStmt: db.callsAfterStmt, linkStmt: db.linkStmt,
		links: newLinkCache(), snapshots: newSnapshotCache()}
}
