package journal

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"leased/lease"
)

func TestRecordRoundTrip(t *testing.T) {
	full := testLease(7, "client", 3)
	full.ClientID = strings.Repeat("c", 255)
	full.Hostname = strings.Repeat("h", 255)
	full.HW.Len = 16
	for i := range full.HW.Addr {
		full.HW.Addr[i] = byte(i + 1)
	}
	tests := []struct {
		name string
		l    lease.Lease
	}{
		{"bound lease with every field", testLease(1, "a", 1)},
		{"longest client id, host name and hardware address", full},
		{"empty strings and hardware address", lease.Lease{Addr: addrN(2), State: lease.Released, Start: testTime, Expiry: testTime}},
		{"zero times stay zero", lease.Lease{Addr: addrN(3), State: lease.Expired}},
		{"times before 1970", lease.Lease{Addr: addrN(4), State: lease.Declined, Start: time.Date(1901, 1, 1, 0, 0, 0, 1, time.UTC), Expiry: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{"free tombstone", lease.Lease{Addr: addrN(5), State: lease.Free}},
		{"non-UTC time comes back as the same instant", lease.Lease{Addr: addrN(6), State: lease.Bound, Start: testTime.In(time.FixedZone("x", 3600)), Expiry: testTime}},
		{"RFC3396 client id of 300 bytes", wideLease(8, 300, 0)},
		{"RFC3396 host name of 300 bytes", wideLease(9, 0, 300)},
		{"client id and host name of MaxClientBytes together", wideLease(10, lease.MaxClientBytes-256, 256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := appendRecord(nil, &tt.l)
			p, n, err := checkFrame(frame)
			if err != nil {
				t.Fatalf("checkFrame: %v", err)
			}
			if n != len(frame) {
				t.Errorf("frame size %d, encoded %d", n, len(frame))
			}
			got, err := decodePayload(p)
			if err != nil {
				t.Fatalf("decodePayload: %v", err)
			}
			if !sameLease(got, tt.l) {
				t.Errorf("round trip: got %+v, want %+v", got, tt.l)
			}
			if got.Start.IsZero() != tt.l.Start.IsZero() {
				t.Errorf("zero start: got %v, want %v", got.Start, tt.l.Start)
			}
			if k := keyAddr(payloadKey(p)); k != tt.l.Addr {
				t.Errorf("key %v, want %v", k, tt.l.Addr)
			}
			if payloadFree(p) != (tt.l.State == lease.Free) {
				t.Errorf("payloadFree = %v for state %v", payloadFree(p), tt.l.State)
			}
			wantKind := byte(kindLease)
			if len(tt.l.ClientID) > 255 || len(tt.l.Hostname) > 255 {
				wantKind = kindLeaseWide
			}
			if p[0] != wantKind {
				t.Errorf("record kind %d, want %d", p[0], wantKind)
			}
		})
	}
}

// wideLease returns a bound lease of address n with a client identifier
// of idLen bytes and a host name of nameLen bytes.
func wideLease(n, idLen, nameLen int) lease.Lease {
	l := testLease(n, "", 1)
	l.ClientID = strings.Repeat("i", idLen)
	l.Hostname = strings.Repeat("h", nameLen)
	return l
}

// TestRecordFormatVersion1 decodes records built byte by byte in the
// layout of version 1 of the format (kind 1, one-byte lengths), as every
// store written before kind 2 holds them, and checks the encoding of both
// kinds byte for byte.
func TestRecordFormatVersion1(t *testing.T) {
	want := lease.Lease{
		Addr: netip.MustParseAddr("198.18.0.7"), ClientID: "\x01id", Hostname: "pc",
		State: lease.Bound, Start: time.Unix(1740830400, 5).UTC(), Expiry: time.Unix(1740834000, 0).UTC(),
		HW: lease.HardwareAddr{Type: 1, Len: 6, Addr: [16]byte{2, 0, 0, 0, 0, 7}},
	}
	v1 := v1Payload(want)
	if got := appendPayload(nil, &want); !bytes.Equal(got, v1) {
		t.Errorf("encoding of a short record:\n got %x\nwant %x (version 1)", got, v1)
	}
	got, err := decodePayload(v1)
	if err != nil {
		t.Fatalf("decodePayload(version 1): %v", err)
	}
	if !sameLease(got, want) {
		t.Errorf("version 1 decoded to %+v, want %+v", got, want)
	}

	long := want
	long.ClientID = strings.Repeat("x", 300)
	wide := []byte{kindLeaseWide}
	wide = append(wide, v1[1:payloadFixed+6]...) // fixed fields and chaddr as in version 1
	wide = append(wide, 0x2c, 0x01)              // 300
	wide = append(wide, long.ClientID...)
	wide = append(wide, 2, 0, 'p', 'c')
	if got := appendPayload(nil, &long); !bytes.Equal(got, wide) {
		t.Errorf("encoding of a long record:\n got %x\nwant %x", got, wide)
	}
}

// v1Payload builds the payload of l byte by byte as version 1 of the
// format lays it out, without the encoder under test.
func v1Payload(l lease.Lease) []byte {
	a := l.Addr.As4()
	p := []byte{1, a[0], a[1], a[2], a[3], byte(l.State)}
	for _, t := range []time.Time{l.Start, l.Expiry} {
		p = binary.LittleEndian.AppendUint64(p, uint64(t.Unix()))
		p = binary.LittleEndian.AppendUint32(p, uint32(t.Nanosecond()))
	}
	p = append(p, l.HW.Type, l.HW.Len)
	p = append(p, l.HW.Addr[:l.HW.Len]...)
	p = append(p, byte(len(l.ClientID)))
	p = append(p, l.ClientID...)
	p = append(p, byte(len(l.Hostname)))
	return append(p, l.Hostname...)
}

func TestCheckFrameRejects(t *testing.T) {
	l := testLease(1, "a", 1)
	good := appendRecord(nil, &l)
	// reframe re-computes the frame around a modified payload, so that
	// only the payload check can reject it.
	reframe := func(edit func(p []byte) []byte) []byte {
		p := edit(bytes.Clone(good[frameHeaderSize:]))
		return appendFrame(nil, p)
	}
	tests := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"empty input", nil, "record header"},
		{"header only", good[:frameHeaderSize], "record:"},
		{"truncated payload", good[:len(good)-1], "record:"},
		{"length below minimum", func() []byte { b := bytes.Clone(good); binary.LittleEndian.PutUint16(b, 3); return b }(), "outside"},
		{"length above maximum", func() []byte { b := bytes.Clone(good); binary.LittleEndian.PutUint16(b, maxPayload+1); return b }(), "outside"},
		{"flipped payload bit fails checksum", func() []byte { b := bytes.Clone(good); b[len(b)-1] ^= 1; return b }(), "checksum"},
		{"unknown record kind", reframe(func(p []byte) []byte { p[0] = 9; return p }), "kind"},
		{"state zero", reframe(func(p []byte) []byte { p[5] = 0; return p }), "state"},
		{"state past free", reframe(func(p []byte) []byte { p[5] = 6; return p }), "state"},
		{"nanoseconds out of range", reframe(func(p []byte) []byte { binary.LittleEndian.PutUint32(p[14:], 1e9); return p }), "nanoseconds"},
		{"hardware address longer than 16", reframe(func(p []byte) []byte { p[31] = 17; return p }), "hardware"},
		{"client id length past the end", reframe(func(p []byte) []byte { p[32+6] = 200; return p }), "record"},
		{"trailing byte after host name", reframe(func(p []byte) []byte { return append(p, 0) }), "fields"},
		{"kind 2 client id length past the end", reframe(func(p []byte) []byte { return wide(p, 2, 0, 0) }), "record"},
		{"kind 2 ends inside the host name length", reframe(func(p []byte) []byte {
			return wide(p, 0, 0, 0)[:payloadFixed+6+2+1]
		}), "host name"},
		{"kind 2 client id and host name over MaxClientBytes", reframe(func(p []byte) []byte {
			p = wide(p, 0, lease.MaxClientBytes-10, 11)
			return p
		}), "65268 bytes > 65267"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := checkFrame(tt.frame)
			if err == nil {
				t.Fatalf("checkFrame accepted a bad frame")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// wide re-encodes the kind 1 payload p of a lease with a 6-byte hardware
// address as kind 2 with a client identifier of idLen bytes and a host name
// of nameLen bytes; extra is added to the client identifier's length field.
func wide(p []byte, extra, idLen, nameLen int) []byte {
	w := append([]byte{kindLeaseWide}, p[1:payloadFixed+6]...)
	w = binary.LittleEndian.AppendUint16(w, uint16(idLen+extra))
	w = append(w, make([]byte, idLen)...)
	w = binary.LittleEndian.AppendUint16(w, uint16(nameLen))
	return append(w, make([]byte, nameLen)...)
}

func TestFileHeaderRejects(t *testing.T) {
	good := appendFileHeader(nil, fileHeader{magic: logMagic, gen: 7})
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", good[:10], "bytes"},
		{"flipped bit", func() []byte { b := bytes.Clone(good); b[12] ^= 1; return b }(), "checksum"},
		{"snapshot magic in a log", appendFileHeader(nil, fileHeader{magic: snapshotMagic, gen: 7}), "magic"},
		{"future version", func() []byte {
			b := bytes.Clone(good[:28])
			binary.LittleEndian.PutUint32(b[8:], 2)
			return binary.LittleEndian.AppendUint32(b, checksum(b))
		}(), "version"},
	}
	if h, err := parseFileHeader(good, logMagic); err != nil || h.gen != 7 {
		t.Fatalf("parseFileHeader(good) = %+v, %v", h, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFileHeader(tt.b, logMagic)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseFileHeader: error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder: it must
// never panic, and what it accepts must encode back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	for i, l := range []lease.Lease{testLease(1, "a", 1), {Addr: addrN(2), State: lease.Free}, wideLease(3, 300, 2),
		dnsLease(4, "d", 1, lease.DNSAdded), dnsLease(5, "e", 1, lease.DNSPending)} {
		f.Add(appendRecord(nil, &l))
		f.Add(appendRecord(nil, &l)[:10+i])
	}
	f.Add(appendConfirm(nil, addrN(4), testTime, lease.DNSRemoved))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := checkFrame(b)
		if err != nil {
			if _, derr := decodePayload(b); derr == nil && checkPayload(b) != nil {
				t.Fatalf("decodePayload accepted what checkPayload rejects")
			}
			return
		}
		if p[0] == kindConfirm {
			if _, err := decodePayload(p); err == nil {
				t.Fatalf("a confirmation decoded as a lease")
			}
			again := appendConfirm(nil, keyAddr(payloadKey(p)), payloadStart(p), lease.DNSState(p[5]))
			if !bytes.Equal(again, b[:n]) {
				t.Fatalf("re-encoding of a confirmation differs:\n got %x\nwant %x", again, b[:n])
			}
			return
		}
		l, err := decodePayload(p)
		if err != nil {
			t.Fatalf("decodePayload rejected a checked payload: %v", err)
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("decoded lease is invalid: %v", err)
		}
		// A short record may come as kind 2, which the encoder writes
		// for long ones only: it must mean the same lease.
		again := appendRecord(nil, &l)
		if p[0] == again[frameHeaderSize] && !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, b[:n])
		}
		if back, err := decodePayload(again[frameHeaderSize:]); err != nil || !sameLease(back, l) {
			t.Fatalf("re-encoding decodes to %+v, %v; want %+v", back, err, l)
		}
	})
}

// FuzzLogRecovery feeds arbitrary bytes as a log after a valid header:
// recovery must never panic, and must either succeed or report a
// *CorruptError.
func FuzzLogRecovery(f *testing.F) {
	var valid []byte
	for i := range 3 {
		l := testLease(i, "c", i)
		b := make([]byte, batchHeaderSize)
		b = appendRecord(b, &l)
		putBatchHeader(b, len(b)-batchHeaderSize, 1)
		valid = append(valid, b...)
	}
	// A batch of a lease with DNS fields and a confirmation of it.
	dl := dnsLease(3, "d", 1, lease.DNSPending)
	b := appendRecord(make([]byte, batchHeaderSize), &dl)
	b = appendConfirm(b, dl.Addr, dl.Start, lease.DNSAdded)
	putBatchHeader(b, len(b)-batchHeaderSize, 2)
	f.Add(append(bytes.Clone(valid), b...))
	f.Add(valid)
	f.Add(valid[:len(valid)-5])
	f.Add(append(bytes.Clone(valid), make([]byte, 100)...))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, last := range []bool{true, false} {
			r := &recovery{state: state{live: map[uint32]uint64{}, arena: &arena{}}, warn: func(string, ...any) {}}
			log := append(appendFileHeader(nil, fileHeader{magic: logMagic, gen: 1}), body...)
			err := r.replayBytes(log, 1, last)
			if err != nil {
				if _, ok := err.(*CorruptError); !ok {
					t.Fatalf("replay: %v is not a *CorruptError", err)
				}
				continue
			}
			if r.lastValid > int64(len(log)) {
				t.Fatalf("valid length %d beyond file of %d", r.lastValid, len(log))
			}
			// Salvage must always succeed.
			r = &recovery{state: state{live: map[uint32]uint64{}, arena: &arena{}}, salvage: true, warn: func(string, ...any) {}}
			if err := r.replayBytes(log, 1, last); err != nil {
				t.Fatalf("salvage: %v", err)
			}
		}
	})
}

// replayBytes replays a log held in memory.
func (r *recovery) replayBytes(b []byte, gen uint64, last bool) error {
	return r.replayWindow("log", newWindow(bytes.NewReader(b), int64(len(b))), gen, last, 0)
}

// FuzzSnapshotLoad feeds arbitrary bytes as a snapshot after a valid
// header: loading must never panic, and must either succeed or report a
// *CorruptError; salvage must always succeed.
func FuzzSnapshotLoad(f *testing.F) {
	var body []byte
	for i := range 3 {
		l := testLease(i, "c", i)
		body = appendRecord(body, &l)
	}
	dl := dnsLease(3, "d", 1, lease.DNSRemoved)
	f.Add(uint8(4), appendRecord(bytes.Clone(body), &dl))
	f.Add(uint8(3), body)
	f.Add(uint8(3), body[:len(body)-4])
	f.Add(uint8(2), body)
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, count uint8, body []byte) {
		snap := append(appendFileHeader(nil, fileHeader{magic: snapshotMagic, gen: 2, count: uint64(count)}), body...)
		for _, salvage := range []bool{false, true} {
			r := &recovery{state: state{arena: &arena{}}, salvage: salvage, warn: func(string, ...any) {}}
			err := r.loadSnapshotWindow("snapshot", newWindow(bytes.NewReader(snap), int64(len(snap))), 0)
			if err == nil {
				if len(r.live) > int(count) {
					t.Fatalf("%d records from a snapshot of %d", len(r.live), count)
				}
				continue
			}
			if salvage {
				t.Fatalf("salvage: %v", err)
			}
			if _, ok := err.(*CorruptError); !ok {
				t.Fatalf("load: %v is not a *CorruptError", err)
			}
		}
	})
}
