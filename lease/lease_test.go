package lease

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestStateNames(t *testing.T) {
	for s := Bound; int(s) < NumStates; s++ {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseState("bogus"); err == nil {
		t.Error("ParseState accepted an unknown state")
	}
	if State(0).Valid() || State(99).Valid() {
		t.Error("invalid states reported valid")
	}
	if Offered.Valid() {
		t.Error("Offered reported valid for a stored record")
	}
}

func TestLiveStates(t *testing.T) {
	var names []string
	for _, s := range LiveStates() {
		names = append(names, s.String())
		got, err := ParseLiveState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseLiveState(%q) = %v, %v", s.String(), got, err)
		}
		if int(s) >= NumStates {
			t.Errorf("%v >= NumStates", s)
		}
	}
	if got, want := strings.Join(names, ","), "offered,bound,released,expired,declined"; got != want {
		t.Errorf("LiveStates = %s, want %s", got, want)
	}
	for _, s := range []string{"free", "invalid", "", "Bound", "bogus"} {
		if _, err := ParseLiveState(s); err == nil {
			t.Errorf("ParseLiveState(%q) succeeded", s)
		}
	}
	if s := State(9).String(); s != "state(9)" {
		t.Errorf("State(9) = %q", s)
	}
}

func TestHardwareAddrString(t *testing.T) {
	h := HardwareAddr{Type: 1, Len: 6, Addr: [16]byte{2, 0, 0xab, 0, 0, 1}}
	if got := h.String(); got != "02:00:ab:00:00:01" {
		t.Errorf("got %q", got)
	}
	if got := (HardwareAddr{Len: 200}).String(); len(got) != 16*3-1 {
		t.Errorf("overlong Len not clamped: %q", got)
	}
}

func TestValidate(t *testing.T) {
	ok := Lease{Addr: netip.MustParseAddr("198.18.0.1"), State: Bound}
	tests := []struct {
		name string
		mod  func(*Lease)
	}{
		{"IPv6 address", func(l *Lease) { l.Addr = netip.MustParseAddr("2001:db8::1") }},
		{"zero state", func(l *Lease) { l.State = 0 }},
		{"hardware address over 16 bytes", func(l *Lease) { l.HW.Len = 17 }},
		{"client id over MaxClientBytes", func(l *Lease) { l.ClientID = string(make([]byte, MaxClientBytes+1)) }},
		{"host name over MaxClientBytes", func(l *Lease) { l.Hostname = string(make([]byte, MaxClientBytes+1)) }},
		{"client id and host name together over MaxClientBytes", func(l *Lease) {
			l.ClientID = string(make([]byte, MaxClientBytes/2+1))
			l.Hostname = string(make([]byte, MaxClientBytes/2+1))
		}},
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	// RFC 3396: an option longer than 255 bytes is split and joined, so a
	// store must take what one DHCP message can carry.
	for _, tc := range []struct {
		name         string
		id, hostname int
	}{
		{"RFC3396 client id of 300 bytes", 300, 0},
		{"RFC3396 host name of 300 bytes", 0, 300},
		{"client id and host name of MaxClientBytes together", MaxClientBytes - 1000, 1000},
	} {
		l := ok
		l.ClientID, l.Hostname = string(make([]byte, tc.id)), string(make([]byte, tc.hostname))
		if err := l.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, tc := range tests {
		l := ok
		tc.mod(&l)
		if l.Validate() == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestMemoryStore(t *testing.T) {
	var m Memory
	ctx := context.Background()
	a := netip.MustParseAddr("198.18.0.1")
	l := Lease{Addr: a, ClientID: "c1", State: Bound, Expiry: time.Unix(100, 0)}
	if err := m.Commit(ctx, l); err != nil {
		t.Fatal(err)
	}
	l.State = Released
	if err := m.Commit(ctx, l); err != nil {
		t.Fatal(err)
	}
	if got, ok := m.Get(a); !ok || got.State != Released || m.Len() != 1 {
		t.Errorf("a later record must replace the earlier: %+v", got)
	}
	l.State = Free
	if err := m.Commit(ctx, l); err != nil || m.Len() != 0 {
		t.Errorf("a Free record must delete: len %d, err %v", m.Len(), err)
	}
	m.Fail = errors.New("disk full")
	if err := m.Commit(ctx, Lease{Addr: a, State: Bound}); err == nil || m.Len() != 0 {
		t.Error("Fail did not fail the commit")
	}
	m.Fail = nil
	if err := m.Commit(ctx, Lease{Addr: a}); err == nil {
		t.Error("an invalid record was stored")
	}
	m.Close()
	if err := m.Commit(ctx, Lease{Addr: a, State: Bound}); !errors.Is(err, ErrClosed) {
		t.Errorf("commit after close: %v", err)
	}
}

func TestStoreStatsLowOnSpace(t *testing.T) {
	for _, tc := range []struct {
		name           string
		free, snapshot int64
		want           bool
	}{
		{"free space unknown", -1, 10 << 20, false},
		{"a backend without files", 0, 0, false},
		{"full", 0, 4 << 20, true},
		{"below twice the snapshot", 8<<20 - 1, 4 << 20, true},
		{"twice the snapshot", 8 << 20, 4 << 20, false},
		{"small snapshot, below the floor", LowSpaceFloor - 1, 100, true},
		{"small snapshot, at the floor", LowSpaceFloor, 100, false},
	} {
		st := StoreStats{FreeBytes: tc.free, SnapshotBytes: tc.snapshot}
		if got := st.LowOnSpace(); got != tc.want {
			t.Errorf("%s: LowOnSpace of %d free, %d snapshot = %v, want %v", tc.name, tc.free, tc.snapshot, got, tc.want)
		}
	}
}
