package control

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/server"
)

func TestReservationsFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := ReservationsFile(dir)
	if path != filepath.Join(dir, "reservations.json") {
		t.Errorf("ReservationsFile = %s", path)
	}
	if rs, err := LoadReservations(path); err != nil || rs != nil {
		t.Fatalf("a missing file: %v %v, want no reservation and no error", rs, err)
	}
	want := []config.Reservation{
		{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x60}, Addr: mustAddr("198.18.0.60"), Hostname: "scanner"},
		{ClientID: []byte("\x00scan"), Addr: mustAddr("198.19.0.7")},
	}
	for _, rs := range [][]config.Reservation{want, nil} {
		if err := SaveReservations(path, rs); err != nil {
			t.Fatal(err)
		}
		got, err := LoadReservations(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, rs) {
			t.Errorf("loaded %+v, want %+v", got, rs)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("file mode %v %v, want 0640", fi.Mode(), err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d files, want only the reservations file (no temporary left)", len(ents))
	}
}

func TestLoadReservationsErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "{", "reservations.json"},
		{"wrong version", `{"version": 2, "reservations": []}`, "version 2"},
		{"unknown key", `{"version": 1, "reservations": [], "extra": 1}`, "unknown field"},
		{"entry without address", `{"version": 1, "reservations": [{"hw_addr": "02:00:00:00:00:01"}]}`, "reservations[0]: address"},
		{"entry with a bad hardware address", `{"version": 1, "reservations": [{"address": "198.18.0.5", "hw_addr": "02:00:00:00:00:01"}, {"address": "198.18.0.6", "hw_addr": "zz"}]}`, "reservations[1]: hw_addr"},
		{"two documents", `{"version": 1, "reservations": []} {}`, "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ReservationsFile(t.TempDir())
			if err := os.WriteFile(path, []byte(tt.content), 0o640); err != nil {
				t.Fatal(err)
			}
			_, err := LoadReservations(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("LoadReservations: %v, want an error naming %s and %q", err, path, tt.want)
			}
		})
	}
}

func TestSaveReservationsFailureLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be: the final rename fails.
	path := filepath.Join(dir, "in-the-way")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	rs := []config.Reservation{{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Addr: mustAddr("198.18.0.61")}}
	if err := SaveReservations(path, rs); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("saving over a directory: %v, want an error naming it", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after the failure, want the temporary file removed", len(ents))
	}
	if err := SaveReservations(filepath.Join(dir, "missing", "r.json"), rs); err == nil {
		t.Error("saving into a missing directory succeeded")
	}
}

func TestRestoreReservations(t *testing.T) {
	newEngine := func() *server.Engine {
		e, err := server.New(testConfig(), &testStore{}, func() time.Time { return t0 })
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	path := ReservationsFile(t.TempDir())
	rs := []config.Reservation{
		{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x60}, Addr: mustAddr("198.18.0.60")},
		{ClientID: []byte{0, 1, 2}, Addr: mustAddr("198.19.0.7")},
	}
	if err := SaveReservations(path, rs); err != nil {
		t.Fatal(err)
	}
	e := newEngine()
	n, err := RestoreReservations(e, path)
	if err != nil || n != 2 {
		t.Fatalf("RestoreReservations: %d %v", n, err)
	}
	if got := e.RuntimeReservations(); !reflect.DeepEqual(got, rs) {
		t.Errorf("engine has %+v, want %+v", got, rs)
	}

	t.Run("an entry the configuration conflicts with is named", func(t *testing.T) {
		bad := append(rs[:1:1], config.Reservation{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x61}, Addr: mustAddr("198.18.0.50")})
		if err := SaveReservations(path, bad); err != nil {
			t.Fatal(err)
		}
		_, err := RestoreReservations(newEngine(), path)
		if !errors.Is(err, server.ErrAlreadyReserved) || !strings.Contains(err.Error(), "reservations[1] (198.18.0.50)") {
			t.Errorf("RestoreReservations: %v, want reservations[1] already reserved", err)
		}
	})
	t.Run("missing file restores nothing", func(t *testing.T) {
		if n, err := RestoreReservations(newEngine(), filepath.Join(t.TempDir(), "none.json")); n != 0 || err != nil {
			t.Errorf("%d %v", n, err)
		}
	})
}
