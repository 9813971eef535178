package pgtest_test

import (
	"database/sql"
	"testing"

	"flinkslink/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Each test gets its own empty database on a cluster that really runs.
func TestNewDatabaseIsEmptyAndOwn(t *testing.T) {
	a, b := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	if a == b {
		t.Fatal("two tests share a database")
	}
	db, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE x (n int)`); err != nil {
		t.Fatal(err)
	}
	other, _ := sql.Open("pgx", b)
	defer other.Close()
	var n int
	if err := other.QueryRow(`SELECT count(*) FROM pg_tables WHERE tablename = 'x'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the other database sees the table: %d, %v", n, err)
	}
}
