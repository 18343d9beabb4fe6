package journal

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"leased/lease"
)

// TestLongClientFieldsSurviveReopenAndCompaction: a client identifier or
// host name longer than 255 bytes (RFC 3396 long options) is stored as a
// kind 2 record, and comes back whole from the log and from a snapshot,
// beside ordinary records.
func TestLongClientFieldsSurviveReopenAndCompaction(t *testing.T) {
	dir := t.TempDir()
	want := map[netip.Addr]lease.Lease{}
	for _, l := range []lease.Lease{
		testLease(1, "short", 1),
		wideLease(2, 300, 0),
		wideLease(3, 0, 300),
		wideLease(4, lease.MaxClientBytes-300, 300),
		testLease(5, "short", 1),
	} {
		want[l.Addr] = l
	}
	s, err := Open(dir, Options{CompactMinBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range want {
		commitT(t, s, l)
	}
	checkContents(t, "after commit", s, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, dir, Options{CompactMinBytes: -1})
	checkContents(t, "replayed from the log", s, want)
	if err := s.Compact(context.Background()); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	checkContents(t, "after compaction", s, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{CompactMinBytes: -1})
	checkContents(t, "loaded from the snapshot", s, want)
}

// TestOpenReadsVersion1Files: a snapshot and a log written by a version
// that knew kind 1 records only, built here byte by byte, open as they
// were written, and the store goes on in them with long records.
func TestOpenReadsVersion1Files(t *testing.T) {
	dir := t.TempDir()
	inSnap := []lease.Lease{testLease(1, "a", 1), testLease(2, "b", 1)}
	inLog := []lease.Lease{testLease(2, "b", 2), {Addr: addrN(1), State: lease.Free}, testLease(3, "c", 1)}

	snap := appendFileHeader(nil, fileHeader{magic: snapshotMagic, gen: 2, count: uint64(len(inSnap))})
	for _, l := range inSnap {
		snap = appendFrame(snap, v1Payload(l))
	}
	log := appendFileHeader(nil, fileHeader{magic: logMagic, gen: 2})
	batch := make([]byte, batchHeaderSize)
	for _, l := range inLog {
		batch = appendFrame(batch, v1Payload(l))
	}
	putBatchHeader(batch, len(batch)-batchHeaderSize, len(inLog))
	log = append(log, batch...)
	log = append(log, make([]byte, 4096)...) // filled ahead with zeros, as the writer does
	for name, b := range map[string][]byte{snapshotName: snap, logName(2): log} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}

	want := map[netip.Addr]lease.Lease{addrN(2): inLog[0], addrN(3): inLog[2]}
	s, err := Open(dir, Options{CompactMinBytes: -1})
	if err != nil {
		t.Fatalf("Open of version 1 files: %v", err)
	}
	checkContents(t, "version 1 files", s, want)
	long := wideLease(4, 400, 0)
	commitT(t, s, long)
	want[long.Addr] = long
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{CompactMinBytes: -1})
	checkContents(t, "version 1 files and a long record", s, want)
}
