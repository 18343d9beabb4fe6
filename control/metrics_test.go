package control

import (
	"bufio"
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"leased/dhcpv4"
	"leased/lease"
	"leased/netio"
	"leased/server"
)

// scrape returns the samples reg exposes in the text format, keyed by
// name and labels as written ("leased_drops_total{reason=\"malformed\"}").
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	MetricsHandler(reg).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsReadLiveCounters(t *testing.T) {
	f := newFixture(t)
	var packets netio.Stats
	packets.Received = 11
	packets.Malformed = 2
	packets.Foreign = 1
	packets.Replies = 4
	packets.SendErrors = 1
	packets.Pauses = 7
	packets.ReceivedByType[dhcpv4.Discover] = 3
	packets.ReceivedByType[dhcpv4.Request] = 2
	packets.ReceivedByType[dhcpv4.Release] = 1
	packets.SentByType[dhcpv4.Offer] = 3
	packets.SentByType[dhcpv4.Ack] = 1
	packets.Outcomes = map[string]uint64{"offer": 3, "ack": 1, "malformed": 1, "pool-exhausted": 2, "not-for-us": 1, "released": 1,
		"store-not-writable": 5, "ack-kept": 2, "rate-limited": 6, "offer-unheld": 4, "bad-giaddr": 4, "wrong-source": 1}
	store := lease.StoreStats{Commits: 5, FailedCommits: 1, Records: 6, Batches: 4, Fsyncs: 9, Delayed: 3, WriteErrors: 1,
		Conflicts: 7, Refused: 8, TimedOut: 10, Reconnects: 11,
		Compactions: 2, CompactionErrors: 0, LogBytes: 1234, LiveRecords: 4, Writable: true,
		FreeBytes: 3 << 20, SnapshotBytes: 2 << 20}
	started := time.Unix(1700000000, 500_000_000)
	reg, err := NewRegistry(MetricsSources{
		Packets: func() netio.Stats { return packets },
		Pools:   f.eng.PoolStats,
		Store:   func() lease.StoreStats { return store },
		Version: "1.2.3",
		Started: started,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := scrape(t, reg)
	want := map[string]float64{
		`leased_packets_received_total{type="discover"}`:     3,
		`leased_packets_received_total{type="request"}`:      2,
		`leased_packets_received_total{type="release"}`:      1,
		`leased_packets_received_total{type="inform"}`:       0,
		`leased_packets_sent_total{type="offer"}`:            3,
		`leased_packets_sent_total{type="ack"}`:              1,
		`leased_packets_sent_total{type="nak"}`:              0,
		`leased_datagrams_received_total`:                    11,
		`leased_send_errors_total`:                           1,
		`leased_receive_pauses_total`:                        7,
		`leased_drops_total{reason="malformed"}`:             3, // 2 unparseable + 1 the engine refused
		`leased_drops_total{reason="foreign-interface"}`:     1,
		`leased_drops_total{reason="pool-exhausted"}`:        2,
		`leased_drops_total{reason="not-for-us"}`:            1,
		`leased_drops_total{reason="no-subnet"}`:             0,
		`leased_outcomes_total{reason="offer"}`:              3,
		`leased_outcomes_total{reason="released"}`:           1,
		`leased_outcomes_total{reason="ack-kept"}`:           2,
		`leased_outcomes_total{reason="store-not-writable"}`: 5,
		`leased_drops_total{reason="store-not-writable"}`:    5,
		`leased_drops_total{reason="rate-limited"}`:          6,
		`leased_outcomes_total{reason="rate-limited"}`:       6,
		`leased_outcomes_total{reason="offer-unheld"}`:       4,
		`leased_drops_total{reason="bad-giaddr"}`:            4,
		`leased_drops_total{reason="wrong-source"}`:          1,
		`leased_drops_total{reason="chose-other"}`:           0,
		`leased_drops_total{reason="ignored-class"}`:         0,

		`leased_leases{state="bound",subnet="198.18.0.0/24"}`:                       2,
		`leased_leases{state="offered",subnet="198.18.0.0/24"}`:                     1,
		`leased_leases{state="released",subnet="198.18.0.0/24"}`:                    1,
		`leased_leases{state="bound",subnet="198.19.0.0/24"}`:                       1,
		`leased_pool_size{pool="198.18.0.100-198.18.0.109",subnet="198.18.0.0/24"}`: 10,
		`leased_pool_used{pool="198.18.0.100-198.18.0.109",subnet="198.18.0.0/24"}`: 3,
		`leased_pool_free{pool="198.18.0.100-198.18.0.109",subnet="198.18.0.0/24"}`: 7,
		`leased_pool_size{pool="198.19.0.100-198.19.0.101",subnet="198.19.0.0/24"}`: 2,
		`leased_reservations{source="config",subnet="198.18.0.0/24"}`:               1,
		`leased_reservations{source="runtime",subnet="198.18.0.0/24"}`:              0,

		`leased_store_log_bytes`:               1234,
		`leased_store_live_records`:            4,
		`leased_store_commits_total`:           5,
		`leased_store_commit_failures_total`:   1,
		`leased_store_records_total`:           6,
		`leased_store_batches_total`:           4,
		`leased_store_fsyncs_total`:            9,
		`leased_store_delayed_batches_total`:   3,
		`leased_store_write_errors_total`:      1,
		`leased_store_conflicts_total`:         7,
		`leased_store_refused_total`:           8,
		`leased_store_timeouts_total`:          10,
		`leased_store_reconnects_total`:        11,
		`leased_store_compactions_total`:       2,
		`leased_store_compaction_errors_total`: 0,
		`leased_store_writable`:                1,
		`leased_store_free_bytes`:              3 << 20,
		`leased_store_snapshot_bytes`:          2 << 20,
		`leased_store_low_space`:               1, // 3 MiB free < twice 2 MiB
		`leased_start_time_seconds`:            1700000000.5,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	info := false
	for k, v := range got {
		if strings.HasPrefix(k, `leased_build_info{goversion="go`) && strings.HasSuffix(k, `",version="1.2.3"}`) && v == 1 {
			info = true
		}
	}
	if !info {
		t.Error("no leased_build_info{version=\"1.2.3\"} 1")
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}

	// Live: the next scrape sees the new counts, with no bookkeeping of
	// our own in between.
	packets.ReceivedByType[dhcpv4.Discover] = 4
	store.Writable = false
	(&dhcpClient{mac: mac(7)}).dora(t, f.eng, link("198.18.0.0/24"))
	got = scrape(t, reg)
	for k, v := range map[string]float64{
		`leased_packets_received_total{type="discover"}`:                            4,
		`leased_store_writable`:                                                     0,
		`leased_leases{state="bound",subnet="198.18.0.0/24"}`:                       3,
		`leased_pool_used{pool="198.18.0.100-198.18.0.109",subnet="198.18.0.0/24"}`: 4,
	} {
		if got[k] != v {
			t.Errorf("second scrape: %s = %v, want %v", k, got[k], v)
		}
	}
}

func TestMetricsOwnRegistry(t *testing.T) {
	// Two registries side by side, as two servers in one process (or two
	// tests) would make: nothing is shared, so nothing collides.
	for range 2 {
		reg, err := NewRegistry(MetricsSources{Commits: NewCommitTimer(time.Now)})
		if err != nil {
			t.Fatalf("NewRegistry: %v", err)
		}
		got := scrape(t, reg)
		if _, ok := got["leased_commit_duration_seconds_count"]; !ok {
			t.Error("no commit histogram")
		}
		if _, ok := got[`leased_packets_received_total{type="discover"}`]; ok {
			t.Error("packet metrics without a packet source")
		}
	}
}

func TestCommitTimer(t *testing.T) {
	now := t0
	clock := func() time.Time { now = now.Add(2 * time.Millisecond); return now }
	ct := NewCommitTimer(clock)
	st := &testStore{}
	timed := ct.Wrap(st)
	ctx := context.Background()
	l := lease.Lease{Addr: mustAddr("198.18.0.5"), State: lease.Bound}
	for range 3 {
		if err := timed.Commit(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	st.failWith(errors.New("disk full"))
	if err := timed.Commit(ctx, l); err == nil {
		t.Fatal("the wrapper hid the store's error")
	}
	if got, ok := st.Get(l.Addr); !ok || got.State != lease.Bound {
		t.Error("the wrapper did not pass the commit on")
	}
	if w, ok := timed.(interface{ Writable() bool }); !ok || !w.Writable() {
		t.Error("the wrapper of a store that does not say it cannot commit says it cannot")
	}
	down := &unwritableStore{}
	if w, ok := ct.Wrap(down).(interface{ Writable() bool }); !ok || w.Writable() {
		t.Error("the wrapper of a store that cannot commit does not say so")
	}
	n := 0
	timed.All(func(lease.Lease) bool { n++; return true })
	if n != 1 {
		t.Errorf("All through the wrapper: %d leases", n)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(ct)
	got := scrape(t, reg)
	for k, v := range map[string]float64{
		`leased_commit_duration_seconds_count`:               4,
		`leased_commit_duration_seconds_sum`:                 0.008,
		`leased_commit_duration_seconds_bucket{le="0.001"}`:  0,
		`leased_commit_duration_seconds_bucket{le="0.0025"}`: 4,
		`leased_commit_errors_total`:                         1,
	} {
		if g := got[k]; g < v-1e-9 || g > v+1e-9 {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
}

// BenchmarkTimedCommit is the cost the commit timer adds to each commit,
// over a memory store (compare BenchmarkUntimedCommit). The records come
// in a slice, as the engine passes them.
func BenchmarkTimedCommit(b *testing.B) {
	benchCommit(b, NewCommitTimer(time.Now).Wrap(&lease.Memory{}))
}

func BenchmarkUntimedCommit(b *testing.B) { benchCommit(b, &lease.Memory{}) }

func benchCommit(b *testing.B, st lease.Store) {
	ctx := context.Background()
	ls := []lease.Lease{{Addr: mustAddr("198.18.0.5"), State: lease.Bound}}
	b.ReportAllocs()
	for b.Loop() {
		if err := st.Commit(ctx, ls...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScrape(b *testing.B) {
	e, err := server.New(testConfig(), &lease.Memory{}, func() time.Time { return t0 })
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		(&dhcpClient{mac: mac(byte(i + 1))}).dora(b, e, link("198.18.0.0/24"))
	}
	reg, err := NewRegistry(MetricsSources{Packets: func() netio.Stats { return netio.Stats{} }, Pools: e.PoolStats})
	if err != nil {
		b.Fatal(err)
	}
	h := MetricsHandler(reg)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	}
}

// unwritableStore is a store that says it cannot commit.
type unwritableStore struct{ lease.Memory }

func (*unwritableStore) Writable() bool { return false }
