package control

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"leased/config"
)

// ReservationsFileName is the name of the run-time reservations file in
// the lease store's directory.
const ReservationsFileName = "reservations.json"

// ReservationsFile returns the path of the run-time reservations file of
// the lease store in directory storeDir.
func ReservationsFile(storeDir string) string {
	return filepath.Join(storeDir, ReservationsFileName)
}

// reservationsVersion is the version of the file's format.
const reservationsVersion = 1

// reservationsDoc is the file's content:
//
//	{
//	  "version": 1,
//	  "reservations": [
//	    {"address": "198.18.0.50", "hw_addr": "02:00:00:00:00:50", "hostname": "printer"},
//	    {"address": "198.18.0.51", "client_id": "00:73:63:61:6e"}
//	  ]
//	}
type reservationsDoc struct {
	Version      int              `json:"version"`
	Reservations []NewReservation `json:"reservations"`
}

// maxReservationsFile bounds the file LoadReservations reads.
const maxReservationsFile = 64 << 20

// Config returns r as a configuration reservation, checking the syntax of
// its fields; the engine checks the rest when it applies it.
func (r *NewReservation) Config() (config.Reservation, error) {
	c := config.Reservation{Addr: r.Address, Hostname: r.Hostname}
	if !r.Address.Is4() {
		return c, errors.New("address: an IPv4 address is required")
	}
	if r.HWAddr != "" {
		b, err := ParseHex(r.HWAddr)
		if err != nil || len(b) > 16 {
			return c, fmt.Errorf("hw_addr: %q is not a hardware address such as 02:00:00:00:00:01", r.HWAddr)
		}
		c.HWAddr = net.HardwareAddr(b)
	}
	if r.ClientID != "" {
		b, err := ParseHex(r.ClientID)
		if err != nil {
			return c, fmt.Errorf("client_id: %v", err)
		}
		c.ClientID = b
	}
	return c, nil
}

// newReservationOf is the inverse of NewReservation.Config for the
// reservations the engine accepts at run time.
func newReservationOf(r config.Reservation) NewReservation {
	return NewReservation{
		Address: r.Addr, Hostname: r.Hostname,
		HWAddr: formatColonHex(r.HWAddr), ClientID: hex.EncodeToString(r.ClientID),
	}
}

// LoadReservations reads the run-time reservations file at path. A file
// that does not exist holds no reservation. Errors name the file and, for
// an entry at fault, its index.
func LoadReservations(path string) ([]config.Reservation, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("control: reservations file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxReservationsFile+1))
	if err != nil {
		return nil, fmt.Errorf("control: reservations file: %w", err)
	}
	if len(data) > maxReservationsFile {
		return nil, fmt.Errorf("control: %s: larger than %d MiB", path, maxReservationsFile>>20)
	}
	var doc reservationsDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("control: %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("control: %s: more than one JSON value", path)
	}
	if doc.Version != reservationsVersion {
		return nil, fmt.Errorf("control: %s: version %d, want %d", path, doc.Version, reservationsVersion)
	}
	out := make([]config.Reservation, 0, len(doc.Reservations))
	for i := range doc.Reservations {
		r, err := doc.Reservations[i].Config()
		if err != nil {
			return nil, fmt.Errorf("control: %s: reservations[%d]: %w", path, i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// SaveReservations replaces the file at path with rs, atomically: it
// writes a temporary file in the same directory, syncs it, renames it
// over the old one and syncs the directory, so that a crash leaves either
// the old file or the new one, whole.
func SaveReservations(path string, rs []config.Reservation) error {
	doc := reservationsDoc{Version: reservationsVersion, Reservations: make([]NewReservation, 0, len(rs))}
	for _, r := range rs {
		doc.Reservations = append(doc.Reservations, newReservationOf(r))
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("control: %s: %w", path, err)
	}
	data = append(data, '\n')

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("control: save reservations: %w", err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("control: save reservations to %s: %w", path, err)
	}
	if err := tmp.Chmod(0o640); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("control: save reservations to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("control: save reservations to %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("control: save reservations: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("control: save reservations: sync %s: %w", dir, err)
	}
	return nil
}

// RestoreReservations applies the reservations of the file at path to
// eng, as at start, and returns how many it applied. It stops at the
// first the engine refuses (the configuration may have changed while the
// server was stopped), naming the file, the entry and why.
func RestoreReservations(eng Engine, path string) (int, error) {
	rs, err := LoadReservations(path)
	if err != nil {
		return 0, err
	}
	for i, r := range rs {
		if err := eng.AddReservation(r); err != nil {
			return i, fmt.Errorf("control: %s: reservations[%d] (%v): %w; fix or remove the entry", path, i, r.Addr, err)
		}
	}
	return len(rs), nil
}
