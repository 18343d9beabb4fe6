package reservations

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"leased/atomicfile"
	"leased/config"
	"leased/dhcpv4"
)

// FileName is the name of the run-time reservations file in the lease
// store's directory.
const FileName = "reservations.json"

// version is the version of the file's format.
const version = 1

// maxFileSize bounds the file Load reads.
const maxFileSize = 64 << 20

// File is the run-time reservations file at Path. The zero File keeps
// nothing: Save does nothing and Load finds no reservation.
type File struct {
	Path string
}

// FileIn returns the run-time reservations file of the lease store in
// directory storeDir.
func FileIn(storeDir string) File {
	return File{Path: filepath.Join(storeDir, FileName)}
}

// Entry is one reservation in the file, and the body of the control API's
// POST /v1/reservations: an address for a client named by exactly one of
// HWAddr and ClientID (hex bytes), with an optional host name and
// client classes (names of classes of the configuration). Files written
// before classes existed read as entries without them.
type Entry struct {
	Address  netip.Addr `json:"address"`
	HWAddr   string     `json:"hw_addr,omitempty"`
	ClientID string     `json:"client_id,omitempty"`
	Hostname string     `json:"hostname,omitempty"`
	Classes  []string   `json:"classes,omitempty"`
}

// document is the file's content.
type document struct {
	Version      int     `json:"version"`
	Reservations []Entry `json:"reservations"`
}

// Load reads the file. A file that does not exist holds no reservation.
// Errors name the file and, for an entry at fault, its index.
func (f File) Load() ([]config.Reservation, error) {
	if f.Path == "" {
		return nil, nil
	}
	path := f.Path
	r, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reservations file: %w", err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reservations file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("reservations file %s: larger than %d MiB", path, maxFileSize>>20)
	}
	var doc document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reservations file %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("reservations file %s: more than one JSON value", path)
	}
	if doc.Version != version {
		return nil, fmt.Errorf("reservations file %s: version %d, want %d", path, doc.Version, version)
	}
	out := make([]config.Reservation, 0, len(doc.Reservations))
	for i := range doc.Reservations {
		r, err := doc.Reservations[i].Reservation()
		if err != nil {
			return nil, fmt.Errorf("reservations file %s: reservations[%d]: %w", path, i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Save replaces the file with rs, atomically and durably (mode 0640; see
// package atomicfile): a crash leaves either the old file or the new one,
// whole. The directory must exist.
func (f File) Save(rs []config.Reservation) error {
	if f.Path == "" {
		return nil
	}
	doc := document{Version: version, Reservations: make([]Entry, 0, len(rs))}
	for _, r := range rs {
		doc.Reservations = append(doc.Reservations, EntryOf(r))
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("reservations file %s: %w", f.Path, err)
	}
	data = append(data, '\n')
	if err := atomicfile.Write(f.Path, data, 0o640); err != nil {
		return fmt.Errorf("save reservations to %s: %w", f.Path, err)
	}
	return nil
}

// Engine is what Restore needs of the server engine; *server.Engine and
// *server.Reloadable are ones.
type Engine interface {
	AddReservation(r config.Reservation) error
}

// Restore applies the reservations of the file to eng, as at start, and
// returns how many it applied. It stops at the first the engine refuses
// (the configuration may have changed while the server was stopped),
// naming the file, the entry and why.
func (f File) Restore(eng Engine) (int, error) {
	rs, err := f.Load()
	if err != nil {
		return 0, err
	}
	for i, r := range rs {
		if err := eng.AddReservation(r); err != nil {
			return i, fmt.Errorf("reservations file %s: reservations[%d] (%v): %w; fix or remove the entry", f.Path, i, r.Addr, err)
		}
	}
	return len(rs), nil
}

// Reservation returns e as a configuration reservation, checking the
// syntax of its fields; the engine checks the rest when it applies it.
func (e *Entry) Reservation() (config.Reservation, error) {
	c := config.Reservation{Addr: e.Address, Hostname: e.Hostname, Classes: slices.Clone(e.Classes)}
	if !e.Address.Is4() {
		return c, errors.New("address: an IPv4 address is required")
	}
	if e.HWAddr != "" {
		b, err := ParseHex(e.HWAddr)
		if err != nil || len(b) > 16 {
			return c, fmt.Errorf("hw_addr: %q is not a hardware address such as 02:00:00:00:00:01", e.HWAddr)
		}
		c.HWAddr = net.HardwareAddr(b)
	}
	if e.ClientID != "" {
		b, err := ParseHex(e.ClientID)
		if err != nil {
			return c, fmt.Errorf("client_id: %v", err)
		}
		c.ClientID = b
	}
	return c, nil
}

// EntryOf is the inverse of Entry.Reservation for the reservations the
// engine accepts at run time.
func EntryOf(r config.Reservation) Entry {
	e := Entry{Address: r.Addr, Hostname: r.Hostname, ClientID: hex.EncodeToString(r.ClientID), Classes: slices.Clone(r.Classes)}
	if len(r.HWAddr) > 0 {
		e.HWAddr = r.HWAddr.String()
	}
	return e
}

// ParseHex parses bytes that an operator wrote in hex, by the rule of
// dhcpv4.ParseHex ("01:02:0a", "01-02-0a" or "01020a"), as the
// reservations file, the control API and the command line take hardware
// addresses and client identifiers; unlike dhcpv4.ParseHex, it refuses the
// empty string, and its error quotes what was written.
func ParseHex(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("no bytes")
	}
	b, err := dhcpv4.ParseHex(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not hex bytes such as 01:02:0a", s)
	}
	return b, nil
}
