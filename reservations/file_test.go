package reservations

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/lease"
	"leased/server"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// testConfig has two subnets; 198.18.0.50 is reserved in the file.
func testConfig() *config.Config {
	return &config.Config{
		Interfaces:       []string{"eth0"},
		OfferHold:        config.DefaultOfferHold,
		DeclineProbation: config.DefaultDeclineProbation,
		Defaults:         config.SubnetDefaults{LeaseTime: time.Hour},
		Subnets: []config.Subnet{
			{
				Prefix:       netip.MustParsePrefix("198.18.0.0/24"),
				Pools:        []config.Range{{First: mustAddr("198.18.0.100"), Last: mustAddr("198.18.0.109")}},
				LeaseTime:    time.Hour,
				Reservations: []config.Reservation{{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x50}, Addr: mustAddr("198.18.0.50")}},
			},
			{
				Prefix:    netip.MustParsePrefix("198.19.0.0/24"),
				Pools:     []config.Range{{First: mustAddr("198.19.0.100"), Last: mustAddr("198.19.0.101")}},
				LeaseTime: time.Hour,
			},
		},
	}
}

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f := FileIn(dir)
	if f.Path != filepath.Join(dir, "reservations.json") {
		t.Errorf("FileIn = %s", f.Path)
	}
	if rs, err := f.Load(); err != nil || rs != nil {
		t.Fatalf("a missing file: %v %v, want no reservation and no error", rs, err)
	}
	want := []config.Reservation{
		{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x60}, Addr: mustAddr("198.18.0.60"), Hostname: "scanner", Classes: []string{"vip", "lab"}},
		{ClientID: []byte("\x00scan"), Addr: mustAddr("198.19.0.7")},
	}
	for _, rs := range [][]config.Reservation{want, nil} {
		if err := f.Save(rs); err != nil {
			t.Fatal(err)
		}
		got, err := f.Load()
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
	fi, err := os.Stat(f.Path)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("file mode %v %v, want 0640", fi.Mode(), err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d files, want only the reservations file (no temporary left)", len(ents))
	}
}

// TestFileWithoutClassesLoads checks that a file written before
// reservations had classes is read as ever.
func TestFileWithoutClassesLoads(t *testing.T) {
	f := FileIn(t.TempDir())
	old := `{"version": 1, "reservations": [{"address": "198.18.0.60", "hw_addr": "02:00:00:00:00:60", "hostname": "scanner"}]}`
	if err := os.WriteFile(f.Path, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	rs, err := f.Load()
	want := []config.Reservation{{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x60}, Addr: mustAddr("198.18.0.60"), Hostname: "scanner"}}
	if err != nil || !reflect.DeepEqual(rs, want) {
		t.Fatalf("Load: %+v %v, want %+v", rs, err, want)
	}
}

func TestZeroFileKeepsNothing(t *testing.T) {
	var f File
	if err := f.Save([]config.Reservation{{Addr: mustAddr("198.18.0.60")}}); err != nil {
		t.Errorf("Save: %v", err)
	}
	if rs, err := f.Load(); rs != nil || err != nil {
		t.Errorf("Load: %v %v", rs, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "{", "reservations.json"},
		{"wrong version", `{"version": 2, "reservations": []}`, "version 2"},
		{"unknown key", `{"version": 1, "reservations": [], "extra": 1}`, "unknown field"},
		{"entry without address", `{"version": 1, "reservations": [{"hw_addr": "02:00:00:00:00:01"}]}`, "reservations[0]: address"},
		{"entry with a bad hardware address", `{"version": 1, "reservations": [{"address": "198.18.0.5", "hw_addr": "02:00:00:00:00:01"}, {"address": "198.18.0.6", "hw_addr": "zz"}]}`, "reservations[1]: hw_addr"},
		{"entry with a bad client identifier", `{"version": 1, "reservations": [{"address": "198.18.0.5", "client_id": "0x01"}]}`, "reservations[0]: client_id"},
		{"two documents", `{"version": 1, "reservations": []} {}`, "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FileIn(t.TempDir())
			if err := os.WriteFile(f.Path, []byte(tt.content), 0o640); err != nil {
				t.Fatal(err)
			}
			_, err := f.Load()
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), f.Path) {
				t.Errorf("Load: %v, want an error naming %s and %q", err, f.Path, tt.want)
			}
		})
	}
}

func TestHexForms(t *testing.T) {
	f := FileIn(t.TempDir())
	content := `{"version": 1, "reservations": [
		{"address": "198.18.0.5", "hw_addr": "02-00-00-00-00-05"},
		{"address": "198.18.0.6", "hw_addr": "020000000006"},
		{"address": "198.18.0.7", "client_id": "00:73:63"}]}`
	if err := os.WriteFile(f.Path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	rs, err := f.Load()
	if err != nil || len(rs) != 3 {
		t.Fatalf("Load: %v %v", rs, err)
	}
	if rs[0].HWAddr.String() != "02:00:00:00:00:05" || rs[1].HWAddr.String() != "02:00:00:00:00:06" || string(rs[2].ClientID) != "\x00sc" {
		t.Errorf("loaded %+v", rs)
	}
}

func TestSaveFailureLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be: the final rename fails.
	f := File{Path: filepath.Join(dir, "in-the-way")}
	if err := os.Mkdir(f.Path, 0o700); err != nil {
		t.Fatal(err)
	}
	rs := []config.Reservation{{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Addr: mustAddr("198.18.0.61")}}
	if err := f.Save(rs); err == nil || !strings.Contains(err.Error(), f.Path) {
		t.Fatalf("saving over a directory: %v, want an error naming it", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after the failure, want the temporary file removed", len(ents))
	}
	if err := (File{Path: filepath.Join(dir, "missing", "r.json")}).Save(rs); err == nil {
		t.Error("saving into a missing directory succeeded")
	}
}

func TestRestore(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	newEngine := func() *server.Engine {
		cfg := testConfig()
		cfg.ClientClasses = []config.ClientClass{{Name: "vip"}}
		e, err := server.New(cfg, &lease.Memory{}, func() time.Time { return t0 })
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	f := FileIn(t.TempDir())
	rs := []config.Reservation{
		{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x60}, Addr: mustAddr("198.18.0.60"), Classes: []string{"vip"}},
		{ClientID: []byte{0, 1, 2}, Addr: mustAddr("198.19.0.7")},
	}
	if err := f.Save(rs); err != nil {
		t.Fatal(err)
	}
	e := newEngine()
	n, err := f.Restore(e)
	if err != nil || n != 2 {
		t.Fatalf("Restore: %d %v", n, err)
	}
	if got := e.RuntimeReservations(); !reflect.DeepEqual(got, rs) {
		t.Errorf("engine has %+v, want %+v", got, rs)
	}

	t.Run("an entry the configuration conflicts with is named", func(t *testing.T) {
		bad := append(rs[:1:1], config.Reservation{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x61}, Addr: mustAddr("198.18.0.50")})
		if err := f.Save(bad); err != nil {
			t.Fatal(err)
		}
		_, err := f.Restore(newEngine())
		if !errors.Is(err, server.ErrAlreadyReserved) || !strings.Contains(err.Error(), "reservations[1] (198.18.0.50)") {
			t.Errorf("Restore: %v, want reservations[1] already reserved", err)
		}
	})
	t.Run("an entry naming a class no longer configured is named", func(t *testing.T) {
		bad := []config.Reservation{{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x61}, Addr: mustAddr("198.18.0.61"), Classes: []string{"gone"}}}
		if err := f.Save(bad); err != nil {
			t.Fatal(err)
		}
		_, err := f.Restore(newEngine())
		if !errors.Is(err, server.ErrInvalidReservation) || !strings.Contains(err.Error(), `reservations[0] (198.18.0.61): server: reserve 198.18.0.61: invalid reservation: unknown class "gone"`) {
			t.Errorf("Restore: %v, want reservations[0] with an unknown class", err)
		}
	})
	t.Run("missing file restores nothing", func(t *testing.T) {
		if n, err := FileIn(t.TempDir()).Restore(newEngine()); n != 0 || err != nil {
			t.Errorf("%d %v", n, err)
		}
	})
}

func TestParseHex(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
		ok   bool
	}{
		{"01:02:0a", []byte{1, 2, 10}, true},
		{"01-02-0A", []byte{1, 2, 10}, true},
		{"01020a", []byte{1, 2, 10}, true},
		{"", nil, false},         // the operator wrote nothing: refused, unlike dhcpv4.ParseHex
		{"01::02", nil, false},   // an empty pair
		{"1:2:3", nil, false},    // pairs of digits only
		{"01:02-03", nil, false}, // one separator
	} {
		got, err := ParseHex(tc.in)
		if (err == nil) != tc.ok || !bytes.Equal(got, tc.want) {
			t.Errorf("ParseHex(%q) = % x, %v; want % x, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
