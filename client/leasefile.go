package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"leased/atomicfile"
)

// DefaultStateDir is the directory of the lease file and the PID file of
// a client by default: a directory of its own, apart from the server's
// lease store (/var/lib/leased), so that a client and a server on one
// host never share a directory.
const DefaultStateDir = "/var/lib/leased-client"

// LeaseFileName returns the lease file of interface iface in the state
// directory dir: dir/client-IFACE.json.
func LeaseFileName(dir, iface string) string {
	return filepath.Join(dir, "client-"+iface+".json")
}

// WriteLeaseFile writes l to path as JSON, atomically and durably: to a
// temporary file in the same directory, synced, renamed over path, and the
// directory synced. A crash leaves either the old file or the new one.
// The directory is created (mode 0755) if missing.
func WriteLeaseFile(path string, l *Lease) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("lease file %s: %w", path, err)
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("lease file %s: %w", path, err)
	}
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("lease file %s: %w", path, err)
	}
	return nil
}

// ReadLeaseFile reads the lease saved at path. A missing file is an error
// for which errors.Is(err, fs.ErrNotExist) holds; a file that does not hold
// a lease is an error naming it.
func ReadLeaseFile(path string) (*Lease, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lease file: %w", err)
	}
	l := new(Lease)
	if err := json.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("lease file %s: %w", path, err)
	}
	return l, nil
}

// RemoveLeaseFile removes the lease file at path; a file already gone is
// not an error.
func RemoveLeaseFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lease file: %w", err)
	}
	return nil
}
