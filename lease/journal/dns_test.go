package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/lease"
)

// dnsLease returns testLease(n, client, v) with an FQDN, both DNS
// records and DNS state st.
func dnsLease(n int, client string, v int, st lease.DNSState) lease.Lease {
	l := testLease(n, client, v)
	l.FQDN = l.Hostname + ".example.net"
	l.DNS = lease.DNSForward | lease.DNSReverse
	l.DNSState = st
	return l
}

func TestRecordDNSRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		l    lease.Lease
		kind byte
	}{
		{"no DNS fields stay kind 1", testLease(1, "a", 1), kindLease},
		{"FQDN with both records, pending", dnsLease(2, "b", 1, lease.DNSPending), kindLeaseDNS},
		{"FQDN with the reverse record only, added", func() lease.Lease {
			l := dnsLease(3, "c", 1, lease.DNSAdded)
			l.DNS = lease.DNSReverse
			return l
		}(), kindLeaseDNS},
		{"FQDN without records", func() lease.Lease { l := dnsLease(4, "d", 1, 0); l.DNS = 0; return l }(), kindLeaseDNS},
		{"DNS state without an FQDN", func() lease.Lease { l := testLease(5, "e", 1); l.DNSState = lease.DNSRemoved; return l }(), kindLeaseDNS},
		{"FQDN of MaxFQDN bytes", func() lease.Lease { l := dnsLease(6, "f", 1, 0); l.FQDN = strings.Repeat("f", lease.MaxFQDN); return l }(), kindLeaseDNS},
		{"FQDN with RFC3396 long client id and host name filling MaxClientBytes", func() lease.Lease {
			l := wideLease(7, lease.MaxClientBytes-lease.MaxFQDN-300, 300)
			l.FQDN, l.DNS, l.DNSState = strings.Repeat("f", lease.MaxFQDN), lease.DNSForward, lease.DNSRemoved
			return l
		}(), kindLeaseDNS},
		{"free tombstone with an FQDN", func() lease.Lease { l := dnsLease(8, "g", 1, 0); l.State = lease.Free; return l }(), kindLeaseDNS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.l.Validate(); err != nil {
				t.Fatalf("test lease invalid: %v", err)
			}
			frame := appendRecord(nil, &tt.l)
			p, n, err := checkFrame(frame)
			if err != nil {
				t.Fatalf("checkFrame: %v", err)
			}
			if n != len(frame) || p[0] != tt.kind {
				t.Errorf("frame of %d bytes (encoded %d), kind %d; want kind %d", n, len(frame), p[0], tt.kind)
			}
			got, err := decodePayload(p)
			if err != nil {
				t.Fatalf("decodePayload: %v", err)
			}
			if !sameLease(got, tt.l) {
				t.Errorf("round trip: got %+v, want %+v", got, tt.l)
			}
			if payloadDNSState(p) != tt.l.DNSState || !payloadStart(p).Equal(tt.l.Start) || payloadFree(p) != (tt.l.State == lease.Free) {
				t.Errorf("payload accessors: state %v start %v free %v", payloadDNSState(p), payloadStart(p), payloadFree(p))
			}
		})
	}
}

// TestRecordFormatKind3And4 checks the layout of a lease with DNS fields
// (kind 3) and of a confirmation (kind 4) byte for byte, as the package
// documentation gives it.
func TestRecordFormatKind3And4(t *testing.T) {
	l := dnsLease(7, "id", 1, lease.DNSAdded)
	l.DNS = lease.DNSForward
	v1 := v1Payload(l)
	want := []byte{kindLeaseDNS}
	want = append(want, v1[1:payloadFixed+6]...) // fixed fields and chaddr as in kind 1
	want = binary.LittleEndian.AppendUint16(want, uint16(len(l.ClientID)))
	want = append(want, l.ClientID...)
	want = binary.LittleEndian.AppendUint16(want, uint16(len(l.Hostname)))
	want = append(want, l.Hostname...)
	want = append(want, byte(len(l.FQDN)))
	want = append(want, l.FQDN...)
	want = append(want, 1, 1) // forward record; added
	if got := appendPayload(nil, &l); !bytes.Equal(got, want) {
		t.Errorf("kind 3:\n got %x\nwant %x", got, want)
	}

	start := time.Unix(1740830400, 5)
	conf := []byte{kindConfirm, 198, 18, 0, 7, byte(lease.DNSRemoved)}
	conf = binary.LittleEndian.AppendUint64(conf, 1740830400)
	conf = binary.LittleEndian.AppendUint32(conf, 5)
	got := appendConfirm(nil, netip.MustParseAddr("198.18.0.7"), start, lease.DNSRemoved)
	if !bytes.Equal(got, appendFrame(nil, conf)) {
		t.Errorf("kind 4:\n got %x\nwant %x", got[frameHeaderSize:], conf)
	}
	p, _, err := checkFrame(got)
	if err != nil {
		t.Fatalf("checkFrame(confirmation): %v", err)
	}
	if _, err := decodePayload(p); err == nil {
		t.Error("a confirmation decoded as a lease")
	}
	if payloadFree(p) || keyAddr(payloadKey(p)) != netip.MustParseAddr("198.18.0.7") || !payloadStart(p).Equal(start) {
		t.Error("confirmation accessors")
	}
}

func TestCheckFrameRejectsDNSFields(t *testing.T) {
	l := dnsLease(1, "a", 1, lease.DNSAdded)
	good := appendPayload(nil, &l)
	conf := appendConfirm(nil, l.Addr, l.Start, lease.DNSAdded)[frameHeaderSize:]
	edit := func(p []byte, f func(p []byte) []byte) []byte { return appendFrame(nil, f(bytes.Clone(p))) }
	tests := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"DNS state past removed", edit(good, func(p []byte) []byte { p[len(p)-1] = 3; return p }), "DNS state"},
		{"unknown DNS record bits", edit(good, func(p []byte) []byte { p[len(p)-2] = 4; return p }), "DNS records"},
		{"DNS records without an FQDN", edit(good, func(p []byte) []byte {
			i := len(p) - 2 - len(l.FQDN) - 1
			return append(p[:i], 0, 1, 0)
		}), "without an FQDN"},
		{"FQDN over MaxFQDN", edit(good, func(p []byte) []byte {
			i := len(p) - 2 - len(l.FQDN) - 1
			p = append(p[:i], byte(lease.MaxFQDN+1))
			return append(append(p, strings.Repeat("f", lease.MaxFQDN+1)...), 1, 1)
		}), "FQDN of 254"},
		{"ends before the FQDN", edit(good, func(p []byte) []byte { return p[:len(p)-2-len(l.FQDN)-1] }), "before its FQDN"},
		{"ends before the DNS state", edit(good, func(p []byte) []byte { return p[:len(p)-1] }), "DNS state"},
		{"trailing byte after the DNS state", edit(good, func(p []byte) []byte { return append(p, 0) }), "fields"},
		{"confirmation with a trailing byte", edit(conf, func(p []byte) []byte { return append(p, 0) }), "confirmation of 19"},
		{"confirmation of an invalid state", edit(conf, func(p []byte) []byte { p[5] = 3; return p }), "confirmation DNS state"},
		{"confirmation nanoseconds out of range", edit(conf, func(p []byte) []byte { binary.LittleEndian.PutUint32(p[14:], 1e9); return p }), "nanoseconds"},
		{"a lease payload as short as a confirmation", edit(good, func(p []byte) []byte { return p[:confirmPayload] }), "shorter than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := checkFrame(tt.frame)
			if err == nil {
				t.Fatal("checkFrame accepted a bad frame")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// TestOpenStoreWrittenBeforeDNS opens a store written by the version
// before the DNS fields existed (testdata: a snapshot and a log, kinds 1
// and 2), and checks that it reads as before and that records without
// DNS fields are still written in the old kinds.
func TestOpenStoreWrittenBeforeDNS(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{snapshotName, logName(2)} {
		b, err := os.ReadFile(filepath.Join("testdata", "store-before-dns", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want := map[netip.Addr]lease.Lease{}
	for _, l := range []lease.Lease{testLease(1, "one", 2), wideLease(2, 300, 3), testLease(4, "four", 1)} {
		want[l.Addr] = l
	}
	s := openT(t, dir, Options{})
	checkContents(t, "store written before DNS fields", s, want)
	// Confirming a record of the old kind re-encodes it with DNS fields.
	l := want[addrN(1)]
	if changed, err := s.ConfirmDNS(context.Background(), l.Addr, l.Start, lease.DNSRemoved); err != nil || !changed {
		t.Fatalf("ConfirmDNS = %v, %v", changed, err)
	}
	l.DNSState = lease.DNSRemoved
	want[l.Addr] = l
	checkContents(t, "after a confirmation", s, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkContents(t, "reopened", openT(t, dir, Options{}), want)
}

// TestConfirmDNS checks which confirmations change a record: only one
// for the record's own Start, as the store keeps it.
func TestConfirmDNS(t *testing.T) {
	ctx := context.Background()
	base := dnsLease(1, "a", 1, lease.DNSPending)
	base.Start = base.Start.Add(123456789 * time.Nanosecond)
	tests := []struct {
		name    string
		prepare func(t *testing.T, s *Store) // after committing base
		addr    netip.Addr
		start   time.Time
		st      lease.DNSState
		changed bool
		want    *lease.Lease // nil: no record
	}{
		{"the record's Start: confirmed", nil, base.Addr, base.Start, lease.DNSAdded, true,
			func() *lease.Lease { l := base; l.DNSState = lease.DNSAdded; return &l }()},
		{"the same instant in another zone, with a monotonic reading: confirmed", nil, base.Addr,
			base.Start.In(time.FixedZone("x", -7200)), lease.DNSRemoved, true,
			func() *lease.Lease { l := base; l.DNSState = lease.DNSRemoved; return &l }()},
		{"a nanosecond off: ignored", nil, base.Addr, base.Start.Add(time.Nanosecond), lease.DNSAdded, false, &base},
		{"the state it has: unchanged", nil, base.Addr, base.Start, lease.DNSPending, false, &base},
		{"replaced by a later commit: ignored", func(t *testing.T, s *Store) {
			commitT(t, s, dnsLease(1, "a", 2, lease.DNSPending))
		}, base.Addr, base.Start, lease.DNSAdded, false, func() *lease.Lease { l := dnsLease(1, "a", 2, 0); return &l }()},
		{"freed: ignored", func(t *testing.T, s *Store) {
			l := base
			l.State = lease.Free
			commitT(t, s, l)
		}, base.Addr, base.Start, lease.DNSRemoved, false, nil},
		{"an address without a record: ignored", nil, addrN(2), base.Start, lease.DNSAdded, false, &base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, Options{})
			commitT(t, s, base)
			if tt.prepare != nil {
				tt.prepare(t, s)
			}
			changed, err := s.ConfirmDNS(ctx, tt.addr, tt.start, tt.st)
			if err != nil || changed != tt.changed {
				t.Fatalf("ConfirmDNS = %v, %v; want %v", changed, err, tt.changed)
			}
			want := map[netip.Addr]lease.Lease{}
			if tt.want != nil {
				want[tt.want.Addr] = *tt.want
			}
			checkContents(t, "at once", s, want)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			checkContents(t, "after Close and Open", openT(t, dir, Options{}), want)
		})
	}
}

func TestConfirmDNSRefuses(t *testing.T) {
	ctx := context.Background()
	l := dnsLease(1, "a", 1, 0)
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	commitT(t, s, l)
	if _, err := s.ConfirmDNS(ctx, l.Addr, l.Start, lease.DNSRemoved+1); err == nil {
		t.Error("an invalid DNS state was accepted")
	}
	if _, err := s.ConfirmDNS(ctx, netip.MustParseAddr("2001:db8::1"), l.Start, lease.DNSAdded); err == nil {
		t.Error("an IPv6 address was accepted")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.ConfirmDNS(done, l.Addr, l.Start, lease.DNSAdded); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
	s.Close()
	if _, err := s.ConfirmDNS(ctx, l.Addr, l.Start, lease.DNSAdded); !errors.Is(err, lease.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	ro := openT(t, dir, Options{ReadOnly: true})
	if _, err := ro.ConfirmDNS(ctx, l.Addr, l.Start, lease.DNSAdded); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only: %v", err)
	}
	var _ lease.DNSConfirmer = s
}

// TestConfirmDNSDurability checks when a confirmation is on the disk: a
// crash image taken after the next commit's batch, or after the writer
// wrote it alone (ConfirmFlush), holds it.
func TestConfirmDNSDurability(t *testing.T) {
	ctx := context.Background()
	l := dnsLease(1, "a", 1, lease.DNSPending)
	confirmed := l
	confirmed.DNSState = lease.DNSAdded
	other := testLease(2, "b", 1)
	tests := []struct {
		name   string
		flush  time.Duration
		after  func(t *testing.T, s *Store, batches uint64)
		leases uint64 // lease records written in all
	}{
		{"rides on the next commit", time.Hour, func(t *testing.T, s *Store, _ uint64) {
			commitT(t, s, other)
		}, 2},
		{"written alone after ConfirmFlush", time.Millisecond, func(t *testing.T, s *Store, batches uint64) {
			waitFor(t, "the confirmation's batch", func() bool { return s.Stats().Batches > batches })
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, Options{ConfirmFlush: tt.flush})
			commitT(t, s, l)
			batches := s.Stats().Batches
			if ok, err := s.ConfirmDNS(ctx, l.Addr, l.Start, lease.DNSAdded); !ok || err != nil {
				t.Fatalf("ConfirmDNS = %v, %v", ok, err)
			}
			if got := s.Stats().Batches; got != batches {
				t.Errorf("ConfirmDNS waited for a batch: %d batches, %d before", got, batches)
			}
			tt.after(t, s, batches)
			crash := copyDir(t, dir)
			got := contents(openT(t, crash, Options{}))
			if g := got[l.Addr]; !sameLease(g, confirmed) {
				t.Errorf("after a crash: %+v, want %+v", g, confirmed)
			}
			if st := s.Stats(); st.Confirmations != 1 || st.Records != tt.leases {
				t.Errorf("Confirmations = %d, Records = %d; want 1 and %d (leases only)", st.Confirmations, st.Records, tt.leases)
			}
		})
	}
}

// TestReplayConfirmationNeedsStart replays logs built record by record:
// a confirmation applies to the record of its address only when that
// record has its Start, whatever came before it.
func TestReplayConfirmationNeedsStart(t *testing.T) {
	v1, v2 := dnsLease(1, "a", 1, 0), dnsLease(1, "a", 2, 0)
	free := v1
	free.State = lease.Free
	rec := func(l lease.Lease) []byte { return appendRecord(nil, &l) }
	conf := func(l lease.Lease, st lease.DNSState) []byte { return appendConfirm(nil, l.Addr, l.Start, st) }
	with := func(l lease.Lease, st lease.DNSState) *lease.Lease { l.DNSState = st; return &l }
	tests := []struct {
		name    string
		records [][]byte
		want    *lease.Lease
	}{
		{"confirmation of the live record", [][]byte{rec(v1), conf(v1, lease.DNSAdded)}, with(v1, lease.DNSAdded)},
		{"later confirmation wins", [][]byte{rec(v1), conf(v1, lease.DNSAdded), conf(v1, lease.DNSRemoved)}, with(v1, lease.DNSRemoved)},
		{"confirmation of a replaced record", [][]byte{rec(v1), rec(v2), conf(v1, lease.DNSAdded)}, with(v2, 0)},
		{"a record replaces a confirmed one", [][]byte{rec(v1), conf(v1, lease.DNSAdded), rec(v2)}, with(v2, 0)},
		{"confirmation of a freed record", [][]byte{rec(v1), rec(free), conf(v1, lease.DNSRemoved)}, nil},
		{"confirmation without a record", [][]byte{conf(v1, lease.DNSAdded)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, batchHeaderSize)
			for _, r := range tt.records {
				b = append(b, r...)
			}
			putBatchHeader(b, len(b)-batchHeaderSize, len(tt.records))
			log := append(appendFileHeader(nil, fileHeader{magic: logMagic, gen: 1}), b...)
			r := &recovery{state: state{live: map[uint32]uint64{}, arena: &arena{}}, warn: func(string, ...any) {}}
			if err := r.replayBytes(log, 1, true); err != nil {
				t.Fatal(err)
			}
			ref, ok := r.live[payloadKey(rec(v1)[frameHeaderSize:])]
			switch {
			case tt.want == nil && ok:
				t.Errorf("a record is live; want none")
			case tt.want != nil && !ok:
				t.Errorf("no record; want %+v", *tt.want)
			case ok:
				got, err := decodePayload(r.arena.get(ref))
				if err != nil || !sameLease(got, *tt.want) {
					t.Errorf("got %+v, %v; want %+v", got, err, *tt.want)
				}
			}
		})
	}
}

// TestCompactionKeepsDNSFields confirms a record while a compaction
// writes its snapshot: the compacted state keeps the confirmation, and
// so does the store after a restart.
func TestCompactionKeepsDNSFields(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := dnsLease(1, "a", 1, lease.DNSAdded), dnsLease(2, "b", 1, lease.DNSPending)
	var s *Store
	confirmed := make(chan error, 1)
	s = openT(t, dir, Options{CompactMinBytes: -1, hook: func(step string) {
		if step == stepSnapshotWritten {
			_, err := s.ConfirmDNS(ctx, b.Addr, b.Start, lease.DNSAdded)
			confirmed <- err
		}
	}})
	commitT(t, s, a, b)
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-confirmed; err != nil {
		t.Fatal(err)
	}
	b.DNSState = lease.DNSAdded
	want := map[netip.Addr]lease.Lease{a.Addr: a, b.Addr: b}
	checkContents(t, "after the compaction", s, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkContents(t, "reopened", openT(t, dir, Options{}), want)
}

// TestCommitOfNoLeasesReturns: a Commit without leases returns once the
// batch it joined is synced (it used to wait for another commit, as the
// writer took a batch without records for an empty one), and the empty
// batch it may leave in the log reads back.
func TestCommitOfNoLeasesReturns(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	done := make(chan error, 1)
	go func() { done <- s.Commit(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Commit of no leases did not return")
	}
	l := testLease(1, "a", 1)
	commitT(t, s, l)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkContents(t, "reopened", openT(t, dir, Options{}), map[netip.Addr]lease.Lease{l.Addr: l})
}

// TestConfirmDNSAllocationFree: a confirmation costs no allocation once
// the store's buffers have grown, so that the DNS updater does not load
// the garbage collector of the server it runs in.
func TestConfirmDNSAllocationFree(t *testing.T) {
	s := openT(t, t.TempDir(), Options{ConfirmFlush: time.Hour})
	l := dnsLease(1, "a", 1, 0)
	commitT(t, s, l)
	states := [2]lease.DNSState{lease.DNSAdded, lease.DNSRemoved}
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		i++
		if ok, err := s.ConfirmDNS(context.Background(), l.Addr, l.Start, states[i%2]); !ok || err != nil {
			t.Fatalf("ConfirmDNS = %v, %v", ok, err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per ConfirmDNS, want 0", n)
	}
}
