package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateKey returns the n-byte key kept in the file at path, creating the
// file (and its directory) with a fresh random key on first use. The file is
// readable only by the app's user (0600) and holds the key hex-encoded; a file
// that others can read, or that holds something else, is refused rather than
// silently used. Keys live beside the database but outside it, so a copy of
// the database alone does not reveal what they protect.
//
// The file appears complete or not at all, even if the process is killed
// while creating it, and of two processes creating it at once one wins and
// both use its key.
func LoadOrCreateKey(path string, n int) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: key file: %w", err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		key, err := createKeyFile(path, n)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return key, err
		}
		// Another process (or goroutine) created it meanwhile: use theirs.
	}
	// The file exists: another start created it before.
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("store: key file %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("store: key file %s is readable by other users (mode %v); run chmod 600 on it", path, info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("store: read key file %s: %w", path, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != n {
		return nil, fmt.Errorf("store: key file %s does not hold a %d-byte hex key", path, n)
	}
	return key, nil
}

// createKeyFile writes a fresh key to a temporary file beside path, syncs it,
// and links it into place: path never exists half written (a crash between
// an O_EXCL create and the write would leave an empty key file, and the app
// unable to start). It returns an error wrapping fs.ErrExist when path
// appeared meanwhile.
func createKeyFile(path string, n int) ([]byte, error) {
	dir, base := filepath.Split(path)
	key := make([]byte, n)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("store: key file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("store: create key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("store: write key file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("store: write key file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("store: write key file %s: %w", path, err)
	}
	// A hard link, unlike a rename, fails when path exists: the first
	// creator's key stays.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, fmt.Errorf("store: create key file %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the new name durable; best effort
		d.Close()
	}
	return key, nil
}
