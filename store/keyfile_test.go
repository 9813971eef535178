package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flinkslink/store"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "app.key")

	t.Run("CreatesOwnerOnlyFile", func(t *testing.T) {
		key, err := store.LoadOrCreateKey(path, 32)
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != 32 {
			t.Fatalf("key length %d, want 32", len(key))
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("mode %v, want 0600", got)
		}
		again, err := store.LoadOrCreateKey(path, 32)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(key, again) {
			t.Error("second load returned a different key")
		}
	})

	t.Run("RefusesReadableByOthers", func(t *testing.T) {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(path, 0o600)
		if _, err := store.LoadOrCreateKey(path, 32); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("err = %v, want a refusal naming chmod 600", err)
		}
	})

	t.Run("RefusesGarbage", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.key")
		if err := os.WriteFile(bad, []byte("not hex\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.LoadOrCreateKey(bad, 32); err == nil {
			t.Error("garbage key file accepted")
		}
	})
}
