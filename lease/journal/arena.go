package journal

import "encoding/binary"

// chunkBits sets the size of an arena chunk: 1 MiB.
const (
	chunkBits = 20
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

// An arena holds the encoded payloads of the live records, packed in
// fixed-size chunks, so that a million leases cost a few tens of bytes each
// and no pointers for the garbage collector to follow. A record is named by
// a ref: its chunk index shifted left by chunkBits, plus its offset in the
// chunk. Each entry is a 2-byte length followed by the payload.
//
// An arena only grows: a replaced record stays as garbage until compaction
// builds a new arena. Bytes once written never change, so a view taken at
// one moment can be read by another goroutine while the owner goes on
// appending.
type arena struct {
	chunks []*[chunkSize]byte
	used   int   // bytes used in the last chunk
	size   int64 // bytes used in all chunks, garbage included
}

// arenaView is a read-only view of an arena: valid for every ref that
// existed when it was taken.
type arenaView struct {
	chunks []*[chunkSize]byte
}

// view returns a view of a for reading from another goroutine.
func (a *arena) view() arenaView { return arenaView{chunks: a.chunks} }

// add copies payload into the arena and returns its ref.
func (a *arena) add(payload []byte) uint64 {
	need := 2 + len(payload)
	if len(a.chunks) == 0 || a.used+need > chunkSize {
		a.chunks = append(a.chunks, new([chunkSize]byte))
		a.used = 0
	}
	c := a.chunks[len(a.chunks)-1]
	off := a.used
	binary.LittleEndian.PutUint16(c[off:], uint16(len(payload)))
	copy(c[off+2:], payload)
	a.used += need
	a.size += int64(need)
	return uint64(len(a.chunks)-1)<<chunkBits | uint64(off)
}

// get returns the payload named by ref. The result aliases the arena.
func (a *arena) get(ref uint64) []byte { return arenaView{a.chunks}.get(ref) }

// get returns the payload named by ref. The result aliases the arena.
func (v arenaView) get(ref uint64) []byte {
	c := v.chunks[ref>>chunkBits]
	off := int(ref & chunkMask)
	n := int(binary.LittleEndian.Uint16(c[off:]))
	return c[off+2 : off+2+n]
}
