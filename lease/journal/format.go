package journal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/netip"
	"time"

	"leased/lease"
)

// The on-disk format; doc.go describes it in prose.
const (
	// formatVersion is the version written in every file header.
	formatVersion = 1

	// fileHeaderSize is the size of the header that starts every log and
	// snapshot file: magic[8] version[4] generation[8] count[8] crc[4].
	fileHeaderSize = 32

	// batchHeaderSize is the size of the header of one batch in a log:
	// magic[4] length[4] count[4] crc[4].
	batchHeaderSize = 16

	// batchMagic starts every batch header.
	batchMagic = 0x4c424a31 // "1JBL" little-endian

	// frameHeaderSize is the size of the header of one record frame:
	// length[2] crc[4].
	frameHeaderSize = 6

	// kindLease is the first byte of a lease record payload whose client
	// identifier and host name are 255 bytes or less each, with a
	// one-byte length each: every record of version 1 of the format, and
	// still all that ordinary clients need.
	kindLease = 1

	// kindLeaseWide is the first byte of a lease record payload with a
	// two-byte length each for the client identifier and the host name,
	// for a client that sent one of them longer than 255 bytes (RFC 3396
	// long options). It is written only then, so that a store of
	// ordinary clients stays readable by the versions that know kind 1
	// only.
	kindLeaseWide = 2

	// kindLeaseDNS is the first byte of a lease record payload laid out
	// as kind 2 and followed by the DNS fields: the FQDN with a one-byte
	// length, the DNS records and the DNS state. It is written only for
	// a record with an FQDN or a DNS state, so that a store without DNS
	// updates stays readable by the versions that know kinds 1 and 2.
	kindLeaseDNS = 3

	// kindConfirm is the first byte of a DNS confirmation payload: the
	// address, a DNS state and the Start of the record it confirms. It
	// sets the DNS state of the address's record when that record has
	// that Start, and changes nothing otherwise. It is not a lease
	// record: it is never in a snapshot, nor in memory.
	kindConfirm = 4

	// payloadFixed is the size of the fixed part of a lease payload: kind,
	// address, state, start, expiry, hardware type and length.
	payloadFixed = 1 + 4 + 1 + 12 + 12 + 1 + 1

	// minLeasePayload is the size of the smallest lease payload, and
	// confirmPayload the size of every confirmation payload: kind,
	// address, DNS state, start.
	minLeasePayload = payloadFixed + 1 + 1
	confirmPayload  = 1 + 4 + 1 + 12

	// minPayload and maxPayload bound the size of a payload, of any kind.
	// maxPayload is below 65,536, so that a payload's length fits the two
	// bytes of its frame and of its arena entry: lease.MaxClientBytes
	// bounds the client identifier, the host name and the FQDN together.
	minPayload = confirmPayload
	maxPayload = payloadFixed + 16 + 2 + 2 + 1 + lease.MaxClientBytes + 2

	// maxFrame is the largest record frame.
	maxFrame = frameHeaderSize + maxPayload
)

// File magics: the first 8 bytes of a log and of a snapshot.
const (
	logMagic      = "LEASEDJL"
	snapshotMagic = "LEASEDJS"
)

// castagnoli is the CRC-32C table used for every checksum in the store.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// fileHeader is the decoded header of a log or snapshot file.
type fileHeader struct {
	magic string
	gen   uint64 // generation: the log's number, or the first log a snapshot does not cover
	count uint64 // snapshots: number of records; logs: 0
}

// appendFileHeader appends the encoded header h to dst.
func appendFileHeader(dst []byte, h fileHeader) []byte {
	start := len(dst)
	dst = append(dst, h.magic...)
	dst = binary.LittleEndian.AppendUint32(dst, formatVersion)
	dst = binary.LittleEndian.AppendUint64(dst, h.gen)
	dst = binary.LittleEndian.AppendUint64(dst, h.count)
	return binary.LittleEndian.AppendUint32(dst, checksum(dst[start:]))
}

// parseFileHeader decodes a file header and checks its magic, version and
// checksum. b must hold at least fileHeaderSize bytes.
func parseFileHeader(b []byte, magic string) (fileHeader, error) {
	if len(b) < fileHeaderSize {
		return fileHeader{}, fmt.Errorf("file header: %d bytes, want %d", len(b), fileHeaderSize)
	}
	b = b[:fileHeaderSize]
	if got, want := binary.LittleEndian.Uint32(b[28:]), checksum(b[:28]); got != want {
		return fileHeader{}, fmt.Errorf("file header: checksum %#08x, want %#08x", got, want)
	}
	if string(b[:8]) != magic {
		return fileHeader{}, fmt.Errorf("file header: magic %q, want %q", b[:8], magic)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != formatVersion {
		return fileHeader{}, fmt.Errorf("file header: format version %d, this program reads %d", v, formatVersion)
	}
	return fileHeader{
		magic: magic,
		gen:   binary.LittleEndian.Uint64(b[12:]),
		count: binary.LittleEndian.Uint64(b[20:]),
	}, nil
}

// putBatchHeader writes a batch header for a body of length bytes holding
// count records into b[:batchHeaderSize].
func putBatchHeader(b []byte, length, count int) {
	binary.LittleEndian.PutUint32(b[0:], batchMagic)
	binary.LittleEndian.PutUint32(b[4:], uint32(length))
	binary.LittleEndian.PutUint32(b[8:], uint32(count))
	binary.LittleEndian.PutUint32(b[12:], checksum(b[:12]))
}

// parseBatchHeader decodes a batch header. ok is false when the magic or
// the header checksum is wrong.
func parseBatchHeader(b []byte) (length, count int64, ok bool) {
	if len(b) < batchHeaderSize || binary.LittleEndian.Uint32(b) != batchMagic {
		return 0, 0, false
	}
	if binary.LittleEndian.Uint32(b[12:]) != checksum(b[:12]) {
		return 0, 0, false
	}
	return int64(binary.LittleEndian.Uint32(b[4:])), int64(binary.LittleEndian.Uint32(b[8:])), true
}

// appendRecord appends the frame of the lease record l to dst: the payload
// length, its CRC-32C and the payload. l must be valid (lease.Validate).
func appendRecord(dst []byte, l *lease.Lease) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0)
	dst = appendPayload(dst, l)
	p := dst[start+frameHeaderSize:]
	binary.LittleEndian.PutUint16(dst[start:], uint16(len(p)))
	binary.LittleEndian.PutUint32(dst[start+2:], checksum(p))
	return dst
}

// appendFrame appends a frame around an already encoded payload.
func appendFrame(dst, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, checksum(payload))
	return append(dst, payload...)
}

// appendPayload appends the payload encoding of l to dst: of kind
// kindLeaseDNS when it has an FQDN, DNS records or a DNS state; else of
// kind kindLease when its client identifier and host name fit a
// one-byte length, else of kind kindLeaseWide.
func appendPayload(dst []byte, l *lease.Lease) []byte {
	kind := byte(kindLease)
	switch {
	case l.FQDN != "" || l.DNS != 0 || l.DNSState != 0:
		kind = kindLeaseDNS
	case len(l.ClientID) > 255 || len(l.Hostname) > 255:
		kind = kindLeaseWide
	}
	a := l.Addr.As4()
	dst = append(dst, kind)
	dst = append(dst, a[:]...)
	dst = append(dst, byte(l.State))
	dst = appendTime(dst, l.Start)
	dst = appendTime(dst, l.Expiry)
	hw := l.HW.Bytes()
	dst = append(dst, l.HW.Type, byte(len(hw)))
	dst = append(dst, hw...)
	dst = appendText(dst, kind, l.ClientID)
	dst = appendText(dst, kind, l.Hostname)
	if kind != kindLeaseDNS {
		return dst
	}
	dst = append(dst, byte(len(l.FQDN)))
	dst = append(dst, l.FQDN...)
	return append(dst, byte(l.DNS), byte(l.DNSState))
}

// appendConfirm appends the frame of a confirmation that the record of
// addr with the given start has reached DNS state st.
func appendConfirm(dst []byte, addr netip.Addr, start time.Time, st lease.DNSState) []byte {
	at := len(dst)
	a := addr.As4()
	dst = append(dst, 0, 0, 0, 0, 0, 0, kindConfirm, a[0], a[1], a[2], a[3], byte(st))
	dst = appendTime(dst, start)
	p := dst[at+frameHeaderSize:]
	binary.LittleEndian.PutUint16(dst[at:], uint16(len(p)))
	binary.LittleEndian.PutUint32(dst[at+2:], checksum(p))
	return dst
}

// appendText appends a length-prefixed text field of a payload of kind:
// a one-byte length for kindLease, two bytes for the others.
func appendText(dst []byte, kind byte, s string) []byte {
	if kind != kindLease {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(s)))
	} else {
		dst = append(dst, byte(len(s)))
	}
	return append(dst, s...)
}

// textLen reads the length of the text field at p[i:] of a payload of
// kind, and returns it with the size of the length itself; ok is false
// when p ends before the length.
func textLen(p []byte, i int, kind byte) (n, size int, ok bool) {
	if kind != kindLease {
		if i+2 > len(p) {
			return 0, 0, false
		}
		return int(binary.LittleEndian.Uint16(p[i:])), 2, true
	}
	if i >= len(p) {
		return 0, 0, false
	}
	return int(p[i]), 1, true
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(t.Unix()))
	return binary.LittleEndian.AppendUint32(dst, uint32(t.Nanosecond()))
}

func readTime(b []byte) time.Time {
	return time.Unix(int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint32(b[8:]))).UTC()
}

// checkFrame checks the record frame at the start of b: that it is
// complete, that its checksum matches and that its payload is a well-formed
// lease record. It returns the payload and the frame's total size.
func checkFrame(b []byte) (payload []byte, size int, err error) {
	if len(b) < frameHeaderSize {
		return nil, 0, fmt.Errorf("record header: %d of %d bytes", len(b), frameHeaderSize)
	}
	n := int(binary.LittleEndian.Uint16(b))
	if n < minPayload || n > maxPayload {
		return nil, 0, fmt.Errorf("record length %d outside [%d, %d]", n, minPayload, maxPayload)
	}
	if len(b) < frameHeaderSize+n {
		return nil, 0, fmt.Errorf("record: %d of %d bytes", len(b)-frameHeaderSize, n)
	}
	p := b[frameHeaderSize : frameHeaderSize+n]
	if got, want := binary.LittleEndian.Uint32(b[2:]), checksum(p); got != want {
		return nil, 0, fmt.Errorf("record checksum %#08x, want %#08x", got, want)
	}
	if err := checkPayload(p); err != nil {
		return nil, 0, err
	}
	return p, frameHeaderSize + n, nil
}

// checkPayload reports whether p is a well-formed payload, a lease or a
// confirmation, without allocating.
func checkPayload(p []byte) error {
	if len(p) < minPayload {
		return fmt.Errorf("record of %d bytes, shorter than %d", len(p), minPayload)
	}
	kind := p[0]
	if kind == kindConfirm {
		return checkConfirm(p)
	}
	if kind != kindLease && kind != kindLeaseWide && kind != kindLeaseDNS {
		return fmt.Errorf("record kind %d, want 1 to %d", kind, kindConfirm)
	}
	if len(p) < minLeasePayload {
		return fmt.Errorf("record of %d bytes, shorter than %d", len(p), minLeasePayload)
	}
	if s := lease.State(p[5]); !s.Valid() {
		return fmt.Errorf("record state %d is invalid", p[5])
	}
	if binary.LittleEndian.Uint32(p[14:]) >= 1e9 || binary.LittleEndian.Uint32(p[26:]) >= 1e9 {
		return fmt.Errorf("record time has more than 999999999 nanoseconds")
	}
	i := payloadFixed - 1
	hlen := int(p[i])
	if hlen > 16 {
		return fmt.Errorf("record hardware address length %d > 16", hlen)
	}
	i += 1 + hlen
	text := 0
	for _, what := range [...]string{"client identifier", "host name"} {
		n, size, ok := textLen(p, i, kind)
		if !ok {
			return fmt.Errorf("record ends before its %s", what)
		}
		i += size + n
		text += n
	}
	if kind == kindLeaseDNS {
		n, err := checkDNSFields(p, i)
		if err != nil {
			return err
		}
		i += 1 + n + 2
		text += n
	}
	if i != len(p) {
		return fmt.Errorf("record of %d bytes holds %d bytes of fields", len(p), i)
	}
	if text > lease.MaxClientBytes {
		return fmt.Errorf("record client identifier, host name and FQDN of %d bytes > %d", text, lease.MaxClientBytes)
	}
	return nil
}

// checkDNSFields checks the DNS fields of a kindLeaseDNS payload, which
// start at p[i:], and returns the length of the FQDN.
func checkDNSFields(p []byte, i int) (int, error) {
	if i >= len(p) {
		return 0, fmt.Errorf("record ends before its FQDN")
	}
	n := int(p[i])
	switch {
	case n > lease.MaxFQDN:
		return 0, fmt.Errorf("record FQDN of %d bytes > %d", n, lease.MaxFQDN)
	case i+1+n+2 > len(p):
		return 0, fmt.Errorf("record ends before its DNS state")
	}
	dns, st := p[i+1+n], p[i+1+n+1]
	switch {
	case dns&^byte(lease.DNSForward|lease.DNSReverse) != 0:
		return 0, fmt.Errorf("record DNS records %#x unknown", dns)
	case n == 0 && dns != 0:
		return 0, fmt.Errorf("record DNS records without an FQDN")
	case lease.DNSState(st) > lease.DNSRemoved:
		return 0, fmt.Errorf("record DNS state %d is invalid", st)
	}
	return n, nil
}

// checkConfirm checks a confirmation payload.
func checkConfirm(p []byte) error {
	switch {
	case len(p) != confirmPayload:
		return fmt.Errorf("confirmation of %d bytes, want %d", len(p), confirmPayload)
	case lease.DNSState(p[5]) > lease.DNSRemoved:
		return fmt.Errorf("confirmation DNS state %d is invalid", p[5])
	case binary.LittleEndian.Uint32(p[14:]) >= 1e9:
		return fmt.Errorf("record time has more than 999999999 nanoseconds")
	}
	return nil
}

// payloadKey returns the store key of a checked payload: its IPv4 address
// as a big-endian number, so that key order is address order.
func payloadKey(p []byte) uint32 { return binary.BigEndian.Uint32(p[1:5]) }

// payloadFree reports whether a checked lease payload is a Free
// (tombstone) record.
func payloadFree(p []byte) bool { return p[0] != kindConfirm && lease.State(p[5]) == lease.Free }

// payloadStart returns the Start of a checked payload, of a lease or a
// confirmation: both keep it at the same offset.
func payloadStart(p []byte) time.Time { return readTime(p[6:]) }

// payloadDNSState returns the DNS state of a checked lease payload.
func payloadDNSState(p []byte) lease.DNSState {
	if p[0] != kindLeaseDNS {
		return lease.DNSPending
	}
	return lease.DNSState(p[len(p)-1])
}

// decodePayload decodes a lease payload. Times come back in UTC without a
// monotonic reading; hardware address bytes beyond its length are zero.
// A confirmation is not a lease: it fails.
func decodePayload(p []byte) (lease.Lease, error) {
	if err := checkPayload(p); err != nil {
		return lease.Lease{}, err
	}
	if p[0] == kindConfirm {
		return lease.Lease{}, fmt.Errorf("record kind %d is a confirmation, not a lease", kindConfirm)
	}
	var l lease.Lease
	l.Addr = netip.AddrFrom4([4]byte(p[1:5]))
	l.State = lease.State(p[5])
	l.Start = readTime(p[6:])
	l.Expiry = readTime(p[18:])
	l.HW.Type = p[30]
	l.HW.Len = p[31]
	i := payloadFixed
	i += copy(l.HW.Addr[:], p[i:i+int(l.HW.Len)])
	n, size, _ := textLen(p, i, p[0])
	i += size
	l.ClientID = string(p[i : i+n])
	i += n
	n, size, _ = textLen(p, i, p[0])
	i += size
	l.Hostname = string(p[i : i+n])
	i += n
	if p[0] == kindLeaseDNS {
		n = int(p[i])
		l.FQDN = string(p[i+1 : i+1+n])
		l.DNS = lease.DNSFlags(p[i+1+n])
		l.DNSState = lease.DNSState(p[i+2+n])
	}
	return l, nil
}

// keyAddr converts a store key back to an address.
func keyAddr(k uint32) netip.Addr {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], k)
	return netip.AddrFrom4(a)
}
