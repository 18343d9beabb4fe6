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

func TestValidateDNSFields(t *testing.T) {
	base := Lease{Addr: netip.MustParseAddr("198.18.0.1"), State: Bound}
	tests := []struct {
		name  string
		mod   func(*Lease)
		valid bool
	}{
		{"no FQDN, no DNS records, pending", func(*Lease) {}, true},
		{"FQDN with forward and reverse records", func(l *Lease) { l.FQDN, l.DNS = "pc.example.net", DNSForward|DNSReverse }, true},
		{"FQDN with the reverse record only", func(l *Lease) { l.FQDN, l.DNS = "pc.example.net", DNSReverse }, true},
		{"FQDN without records", func(l *Lease) { l.FQDN = "pc.example.net" }, true},
		{"RFC1035 2.3.4 FQDN of MaxFQDN bytes", func(l *Lease) { l.FQDN = strings.Repeat("a", MaxFQDN) }, true},
		{"RFC1035 2.3.4 FQDN over MaxFQDN bytes", func(l *Lease) { l.FQDN = strings.Repeat("a", MaxFQDN+1) }, false},
		{"DNS records without an FQDN", func(l *Lease) { l.DNS = DNSForward }, false},
		{"unknown DNS records", func(l *Lease) { l.FQDN, l.DNS = "pc.example.net", DNSReverse<<1 }, false},
		{"DNS state added", func(l *Lease) { l.FQDN, l.DNSState = "pc.example.net", DNSAdded }, true},
		{"DNS state removed", func(l *Lease) { l.FQDN, l.DNSState = "pc.example.net", DNSRemoved }, true},
		{"DNS state past removed", func(l *Lease) { l.FQDN, l.DNSState = "pc.example.net", DNSRemoved+1 }, false},
		{"client id, host name and FQDN of MaxClientBytes together", func(l *Lease) {
			l.FQDN = strings.Repeat("f", MaxFQDN)
			l.ClientID = string(make([]byte, MaxClientBytes-MaxFQDN-100))
			l.Hostname = string(make([]byte, 100))
		}, true},
		{"client id, host name and FQDN together over MaxClientBytes", func(l *Lease) {
			l.FQDN = strings.Repeat("f", MaxFQDN)
			l.ClientID = string(make([]byte, MaxClientBytes-MaxFQDN-100))
			l.Hostname = string(make([]byte, 101))
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := base
			tc.mod(&l)
			if err := l.Validate(); (err == nil) != tc.valid {
				t.Errorf("Validate = %v, want valid %v", err, tc.valid)
			}
		})
	}
}

func TestDNSWantedAndDue(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		l      Lease
		wanted DNSState
		due    bool
	}{
		{"bound before expiry, pending", Lease{State: Bound, Expiry: now.Add(time.Hour), FQDN: "a.example"}, DNSAdded, true},
		{"bound before expiry, added", Lease{State: Bound, Expiry: now.Add(time.Hour), FQDN: "a.example", DNSState: DNSAdded}, DNSAdded, false},
		{"bound at expiry", Lease{State: Bound, Expiry: now, FQDN: "a.example", DNSState: DNSAdded}, DNSRemoved, true},
		{"released, removed", Lease{State: Released, Expiry: now, FQDN: "a.example", DNSState: DNSRemoved}, DNSRemoved, false},
		{"declined, pending", Lease{State: Declined, Expiry: now.Add(time.Hour), FQDN: "a.example"}, DNSRemoved, true},
		{"no FQDN is never due", Lease{State: Bound, Expiry: now.Add(time.Hour)}, DNSAdded, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.l.DNSWanted(now); got != tc.wanted {
				t.Errorf("DNSWanted = %v, want %v", got, tc.wanted)
			}
			if got := tc.l.DNSDue(now); got != tc.due {
				t.Errorf("DNSDue = %v, want %v", got, tc.due)
			}
		})
	}
}

func TestMemoryConfirmDNS(t *testing.T) {
	ctx := context.Background()
	a := netip.MustParseAddr("198.18.0.1")
	start := time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.UTC)
	l := Lease{Addr: a, ClientID: "c1", State: Bound, Start: start, Expiry: start.Add(time.Hour),
		FQDN: "pc.example.net", DNS: DNSForward | DNSReverse}
	tests := []struct {
		name    string
		addr    netip.Addr
		start   time.Time
		st      DNSState
		changed bool
		want    DNSState
	}{
		{"matching start sets the state", a, start, DNSAdded, true, DNSAdded},
		{"the same start in another zone matches", a, start.In(time.FixedZone("x", 3600)), DNSRemoved, true, DNSRemoved},
		{"the state it has already changes nothing", a, start, DNSPending, false, DNSPending},
		{"another start is a replaced record: ignored", a, start.Add(time.Nanosecond), DNSAdded, false, DNSPending},
		{"an address without a record: ignored", netip.MustParseAddr("198.18.0.2"), start, DNSAdded, false, DNSPending},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Memory
			if err := m.Commit(ctx, l); err != nil {
				t.Fatal(err)
			}
			changed, err := m.ConfirmDNS(ctx, tc.addr, tc.start, tc.st)
			if err != nil || changed != tc.changed {
				t.Fatalf("ConfirmDNS = %v, %v; want %v", changed, err, tc.changed)
			}
			if got, _ := m.Get(a); got.DNSState != tc.want {
				t.Errorf("DNS state %v, want %v", got.DNSState, tc.want)
			}
		})
	}
	var m Memory
	if _, err := m.ConfirmDNS(ctx, a, start, DNSRemoved+1); err == nil {
		t.Error("an invalid DNS state was accepted")
	}
	m.Close()
	if _, err := m.ConfirmDNS(ctx, a, start, DNSAdded); !errors.Is(err, ErrClosed) {
		t.Errorf("ConfirmDNS after Close: %v", err)
	}
	var _ DNSConfirmer = &m
}
