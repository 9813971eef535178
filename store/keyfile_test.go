package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// Two starts creating the key at once (or a start killed while creating it)
// must not leave two keys or a half-written file: every caller gets the one
// key the file holds, and no temporary file is left behind.
func TestLoadOrCreateKeyConcurrentFirstStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "loginid.key")
	keys := make([][]byte, 16)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = store.LoadOrCreateKey(path, 32) })
	}
	wg.Wait()
	for i := range keys {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("caller %d got another key than caller 0", i)
		}
	}
	onDisk, err := store.LoadOrCreateKey(path, 32)
	if err != nil || !bytes.Equal(onDisk, keys[0]) {
		t.Fatalf("key file holds another key (%v)", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the key file", names)
	}
}
