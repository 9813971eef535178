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
func LoadOrCreateKey(path string, n int) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: key file: %w", err)
	}
	key := make([]byte, n)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("store: key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("store: write key file %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("store: write key file %s: %w", path, err)
		}
		return key, nil
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("store: create key file %s: %w", path, err)
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
	key, err = hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != n {
		return nil, fmt.Errorf("store: key file %s does not hold a %d-byte hex key", path, n)
	}
	return key, nil
}
