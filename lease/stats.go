package lease

// StoreStats are what operators watch of a lease store, whatever its
// backend: its health and its counters since it was opened. The control
// API's status and the metrics show them. A backend fills the fields that
// apply to it and leaves the others zero; all counters only grow.
type StoreStats struct {
	// Writable is false while writes fail: no lease is acknowledged then.
	Writable bool

	Commits       uint64 // Commit calls that returned nil
	FailedCommits uint64 // Commit calls that failed on a write error
	Records       uint64 // lease records made durable
	Batches       uint64 // writes to stable storage, each for many commits (group commit)
	Fsyncs        uint64 // fsync-like calls (fdatasync, fsync)
	Delayed       uint64 // batches held back to gather more commits
	WriteErrors   uint64 // failed writes and syncs, and failed attempts to repair them

	// Conflicts are Commit calls refused with a *ConflictError, Refused
	// those refused at once because too many calls were waiting, and
	// TimedOut those that waited longer than the store's commit timeout
	// (a shared store's). Reconnects counts the store's returns to
	// service after its database became unreachable.
	Conflicts  uint64
	Refused    uint64
	TimedOut   uint64
	Reconnects uint64

	Compactions      uint64 // snapshots installed, by compaction or repair
	CompactionErrors uint64 // compactions that failed (commits went on)

	LogBytes    int64 // bytes of log that recovery would replay now
	LiveRecords int64 // live (non-free) records

	// FreeBytes is the room left for the store on its file system; -1
	// where unknown. SnapshotBytes is the size of the snapshot the store
	// would write now, the room it needs to compact. A backend without
	// files leaves both zero.
	FreeBytes     int64
	SnapshotBytes int64
}

// LowSpaceFloor is the free space below which LowOnSpace reports true
// whatever the size of the snapshot: a store that fills its logs ahead
// needs up to this much at a time.
const LowSpaceFloor = 1 << 20

// LowOnSpace reports whether the store's file system is about to fill:
// its free space is known and below twice the snapshot the store needs
// to compact, or below LowSpaceFloor. It turns true before writes fail,
// so that an operator can act before leases are refused.
func (s StoreStats) LowOnSpace() bool {
	if s.FreeBytes < 0 || (s.FreeBytes == 0 && s.SnapshotBytes == 0) {
		return false // unknown, or a backend without files
	}
	return s.FreeBytes < max(2*s.SnapshotBytes, LowSpaceFloor)
}
