package journal

import "testing"

// StoreStats carries the journal's own counters over field by field.
func TestStoreStatsMatchesStats(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	commitT(t, s, testLease(1, "a", 1), testLease(2, "b", 1))
	commitT(t, s, testLease(3, "c", 1))
	js, ls := s.Stats(), s.StoreStats()
	if !ls.Writable || ls.Commits != js.Commits || ls.Commits == 0 || ls.Records != js.Records ||
		ls.Batches != js.Batches || ls.Fsyncs != js.Fsyncs || ls.LiveRecords != 3 || ls.LogBytes != js.LogBytes ||
		ls.FailedCommits != js.FailedCommits || ls.WriteErrors != js.WriteErrors || ls.Delayed != js.Delayed ||
		ls.Compactions != js.Compactions || ls.CompactionErrors != js.CompactionErrors ||
		ls.SnapshotBytes != js.SnapshotBytes || ls.SnapshotBytes <= 0 || ls.FreeBytes != js.FreeBytes {
		t.Errorf("StoreStats %+v, Stats %+v", ls, js)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
