package journal

import "leased/lease"

// StoreStats returns what operators watch of the store, in the form every
// lease store backend shares (see Stats for the journal's own).
func (s *Store) StoreStats() lease.StoreStats {
	st := s.Stats()
	return lease.StoreStats{
		Writable:         st.Writable,
		Commits:          st.Commits,
		FailedCommits:    st.FailedCommits,
		Records:          st.Records,
		Batches:          st.Batches,
		Fsyncs:           st.Fsyncs,
		Delayed:          st.Delayed,
		WriteErrors:      st.WriteErrors,
		Compactions:      st.Compactions,
		CompactionErrors: st.CompactionErrors,
		LogBytes:         st.LogBytes,
		LiveRecords:      st.LiveRecords,
		FreeBytes:        st.FreeBytes,
		SnapshotBytes:    st.SnapshotBytes,
	}
}
