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

	Compactions      uint64 // snapshots installed, by compaction or repair
	CompactionErrors uint64 // compactions that failed (commits went on)

	LogBytes    int64 // bytes of log that recovery would replay now
	LiveRecords int64 // live (non-free) records
}
