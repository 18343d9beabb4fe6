package control

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"leased/ddns"
	"leased/dhcpv4"
	"leased/events"
	"leased/lease"
	"leased/netio"
	"leased/server"
)

// MetricsSources are where the metrics come from. Each source is read at
// scrape time; a nil one leaves its metrics out.
type MetricsSources struct {
	// Packets returns the socket counters (netio.Server.Stats).
	Packets func() netio.Stats
	// Pools returns the utilisation of the subnets and pools
	// (server.Engine.PoolStats).
	Pools func() []server.SubnetStats
	// Store returns the lease store's counters (journal.Store.StoreStats).
	Store func() lease.StoreStats
	// Commits times the lease commits (see CommitTimer).
	Commits *CommitTimer
	// Version and Started are exported as leased_build_info and
	// leased_start_time_seconds.
	Version string
	Started time.Time
	// Connections returns the counters of the control plane's listeners
	// by name ("unix", "tcp", "metrics"; see LimitedListener.Stats).
	Connections func() map[string]ConnStats
	// Hooks returns the counters of the lease event hooks
	// (events.Hooks.Stats).
	Hooks func() events.Stats
	// DDNS returns the counters of the DNS updater (ddns.Updater.Stats);
	// nil when DNS updates are off.
	DDNS func() ddns.Stats
}

// NewRegistry returns a registry of its own holding the leased metrics
// of src, and the Go runtime and process metrics. docs/operations.md
// describes every metric.
func NewRegistry(src MetricsSources) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	cs := []prometheus.Collector{
		newLiveCollector(src),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if src.Commits != nil {
		cs = append(cs, src.Commits)
	}
	if src.Connections != nil {
		cs = append(cs, newConnCollector(src.Connections))
	}
	if src.Hooks != nil {
		cs = append(cs, newHooksCollector(src.Hooks))
	}
	if src.DDNS != nil {
		cs = append(cs, newDDNSCollector(src.DDNS))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// MetricsHandler serves the metrics of reg in the Prometheus exposition
// formats, at most a few scrapes at a time.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:            reg,
		MaxRequestsInFlight: 4,
		Timeout:             30 * time.Second,
	})
}

// dropReasons are the label values of leased_drops_total. Each names an
// outcome of the engine (server.Reason) that sends nothing, except
// "foreign-interface" and "rate-limited", counted by the sockets, and
// "malformed", which both count.
var dropReasons = []server.Reason{
	server.ReasonMalformed, server.ReasonUnsupported, server.ReasonNoSubnet, server.ReasonExhausted,
	server.ReasonNotForUs, server.ReasonOfferWithdrawn, server.ReasonUnknownClient,
	server.ReasonNoBinding, server.ReasonCommitFailed, server.ReasonNotWritable, server.ReasonRateLimited,
	server.ReasonBadGIAddr, server.ReasonWrongSource, server.ReasonChoseOther, server.ReasonIgnoredClass,
}

// messageTypeLabel returns the label value of a message type: its RFC
// name, lower case, without "DHCP" ("discover").
func messageTypeLabel(t dhcpv4.MessageType) string {
	return strings.ToLower(strings.TrimPrefix(t.String(), "DHCP"))
}

// liveCollector reads the counters of the sockets, engine and store at
// scrape time: nothing is counted twice.
type liveCollector struct {
	src MetricsSources

	received, sent, datagrams, sendErrors, drops, outcomes *prometheus.Desc
	pauses                                                 *prometheus.Desc
	leases, poolSize, poolUsed, poolFree, reservations     *prometheus.Desc
	storeLogBytes, storeLive, storeCommits, storeFailed    *prometheus.Desc
	storeRecords, storeBatches, storeFsyncs, storeWriteErr *prometheus.Desc
	storeDelayed                                           *prometheus.Desc
	storeConflicts, storeRefused, storeTimedOut            *prometheus.Desc
	storeReconnects                                        *prometheus.Desc
	storeCompactions, storeCompactionErrs, storeWritable   *prometheus.Desc
	storeFree, storeSnapshot, storeLowSpace                *prometheus.Desc
	buildInfo, startTime                                   *prometheus.Desc
}

func newLiveCollector(src MetricsSources) *liveCollector {
	d := prometheus.NewDesc
	return &liveCollector{
		src:        src,
		received:   d("leased_packets_received_total", "DHCP requests received, by message type (after parsing; see leased_datagrams_received_total).", []string{"type"}, nil),
		sent:       d("leased_packets_sent_total", "DHCP replies sent, by message type.", []string{"type"}, nil),
		datagrams:  d("leased_datagrams_received_total", "UDP datagrams read on the DHCP socket, parseable or not.", nil, nil),
		sendErrors: d("leased_send_errors_total", "Replies that could not be sent.", nil, nil),
		pauses:     d("leased_receive_pauses_total", "Reads of the DHCP socket put off for receive-delay, to read several requests at once under load.", nil, nil),
		drops:      d("leased_drops_total", "Requests answered with silence, by reason.", []string{"reason"}, nil),
		outcomes:   d("leased_outcomes_total", "Decisions of the engine, by reason (offer, ack, nak-address, released, pool-exhausted, ...).", []string{"reason"}, nil),

		leases:       d("leased_leases", "Leases, by subnet and state (offered, bound, released, expired, declined).", []string{"subnet", "state"}, nil),
		poolSize:     d("leased_pool_size", "Addresses in the pool.", []string{"subnet", "pool"}, nil),
		poolUsed:     d("leased_pool_used", "Addresses of the pool offered, bound, declined or reserved.", []string{"subnet", "pool"}, nil),
		poolFree:     d("leased_pool_free", "Addresses of the pool free to hand out.", []string{"subnet", "pool"}, nil),
		reservations: d("leased_reservations", "Reservations, by subnet and source (config, runtime).", []string{"subnet", "source"}, nil),

		storeLogBytes:       d("leased_store_log_bytes", "Bytes of lease store log that recovery would replay now.", nil, nil),
		storeLive:           d("leased_store_live_records", "Live (non-free) records in the lease store.", nil, nil),
		storeCommits:        d("leased_store_commits_total", "Commits the lease store made durable.", nil, nil),
		storeFailed:         d("leased_store_commit_failures_total", "Commits the lease store failed on a write error.", nil, nil),
		storeRecords:        d("leased_store_records_total", "Lease records made durable.", nil, nil),
		storeBatches:        d("leased_store_batches_total", "Log writes, each one write and one fdatasync for many commits (group commit).", nil, nil),
		storeFsyncs:         d("leased_store_fsyncs_total", "fdatasync and fsync calls of the lease store.", nil, nil),
		storeDelayed:        d("leased_store_delayed_batches_total", "Log writes held back for commit-delay to gather more leases.", nil, nil),
		storeWriteErr:       d("leased_store_write_errors_total", "Failed writes and syncs of the lease store, and failed attempts to repair it.", nil, nil),
		storeConflicts:      d("leased_store_conflicts_total", "Commits a shared store refused because another server had bound the address first.", nil, nil),
		storeRefused:        d("leased_store_refused_total", "Commits a shared store refused at once because too many were waiting for the database.", nil, nil),
		storeTimedOut:       d("leased_store_timeouts_total", "Commits of a shared store that took longer than its commit-timeout.", nil, nil),
		storeReconnects:     d("leased_store_reconnects_total", "Returns of a shared store to service after its database became unreachable.", nil, nil),
		storeCompactions:    d("leased_store_compactions_total", "Snapshots installed by compaction or repair.", nil, nil),
		storeCompactionErrs: d("leased_store_compaction_errors_total", "Compactions that failed.", nil, nil),
		storeWritable:       d("leased_store_writable", "1 while the lease store takes writes, 0 while writes fail (no lease is acknowledged then).", nil, nil),
		storeFree:           d("leased_store_free_bytes", "Bytes free for the lease store on its file system; -1 when unknown.", nil, nil),
		storeSnapshot:       d("leased_store_snapshot_bytes", "Size of the snapshot the lease store would write now: the room it needs to compact.", nil, nil),
		storeLowSpace:       d("leased_store_low_space", "1 while the free space is below twice the snapshot size (or 1 MiB): the disk is about to fill.", nil, nil),

		buildInfo: d("leased_build_info", "Always 1; the labels say which leased this is.", []string{"version", "goversion"}, nil),
		startTime: d("leased_start_time_seconds", "When the server started, in seconds since the Unix epoch.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.received, c.sent, c.datagrams, c.sendErrors, c.drops, c.outcomes, c.pauses,
		c.leases, c.poolSize, c.poolUsed, c.poolFree, c.reservations,
		c.storeLogBytes, c.storeLive, c.storeCommits, c.storeFailed, c.storeRecords, c.storeBatches,
		c.storeFsyncs, c.storeDelayed, c.storeWriteErr, c.storeCompactions,
		c.storeConflicts, c.storeRefused, c.storeTimedOut, c.storeReconnects, c.storeCompactionErrs, c.storeWritable,
		c.storeFree, c.storeSnapshot, c.storeLowSpace,
		c.buildInfo, c.startTime,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Packets != nil {
		st := c.src.Packets()
		for t := dhcpv4.Discover; t <= dhcpv4.ForceRenew; t++ {
			counter(c.received, st.ReceivedByType[t], messageTypeLabel(t))
			counter(c.sent, st.SentByType[t], messageTypeLabel(t))
		}
		counter(c.datagrams, st.Received)
		counter(c.sendErrors, st.SendErrors)
		counter(c.pauses, st.Pauses)
		counter(c.drops, st.Foreign, "foreign-interface")
		for _, r := range dropReasons {
			n := st.Outcomes[r.String()]
			if r == server.ReasonMalformed {
				n += st.Malformed
			}
			counter(c.drops, n, r.String())
		}
		for _, r := range server.Reasons() {
			if r != server.ReasonNone {
				counter(c.outcomes, st.Outcomes[r.String()], r.String())
			}
		}
	}
	if c.src.Pools != nil {
		for _, sub := range c.src.Pools() {
			prefix := sub.Prefix.String()
			for _, s := range lease.LiveStates() {
				gauge(c.leases, float64(sub.Leases[s]), prefix, s.String())
			}
			gauge(c.reservations, float64(sub.ReservedConfig), prefix, SourceConfig)
			gauge(c.reservations, float64(sub.ReservedRuntime), prefix, SourceRuntime)
			for _, p := range sub.Pools {
				name := p.First.String() + "-" + p.Last.String()
				gauge(c.poolSize, float64(p.Size), prefix, name)
				gauge(c.poolUsed, float64(p.Used), prefix, name)
				gauge(c.poolFree, float64(p.Free), prefix, name)
			}
		}
	}
	if c.src.Store != nil {
		st := c.src.Store()
		gauge(c.storeLogBytes, float64(st.LogBytes))
		gauge(c.storeLive, float64(st.LiveRecords))
		counter(c.storeCommits, st.Commits)
		counter(c.storeFailed, st.FailedCommits)
		counter(c.storeRecords, st.Records)
		counter(c.storeBatches, st.Batches)
		counter(c.storeFsyncs, st.Fsyncs)
		counter(c.storeDelayed, st.Delayed)
		counter(c.storeWriteErr, st.WriteErrors)
		counter(c.storeConflicts, st.Conflicts)
		counter(c.storeRefused, st.Refused)
		counter(c.storeTimedOut, st.TimedOut)
		counter(c.storeReconnects, st.Reconnects)
		counter(c.storeCompactions, st.Compactions)
		counter(c.storeCompactionErrs, st.CompactionErrors)
		writable := 0.0
		if st.Writable {
			writable = 1
		}
		gauge(c.storeWritable, writable)
		gauge(c.storeFree, float64(st.FreeBytes))
		gauge(c.storeSnapshot, float64(st.SnapshotBytes))
		low := 0.0
		if st.LowOnSpace() {
			low = 1
		}
		gauge(c.storeLowSpace, low)
	}
	gauge(c.buildInfo, 1, c.src.Version, runtime.Version())
	if !c.src.Started.IsZero() {
		gauge(c.startTime, float64(c.src.Started.UnixNano())/1e9)
	}
}

// CommitTimer measures how long lease commits take: Wrap the store given
// to the engine, and register the timer (it is a prometheus.Collector of
// leased_commit_duration_seconds and leased_commit_errors_total).
type CommitTimer struct {
	now      func() time.Time
	duration prometheus.Histogram
	errors   prometheus.Counter
}

// commitBuckets are the upper bounds of the commit latency histogram, in
// seconds: from 100 µs (a batch on fast flash) to 2.5 s (a disk in
// trouble).
var commitBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// NewCommitTimer returns a timer that reads time from now.
func NewCommitTimer(now func() time.Time) *CommitTimer {
	return &CommitTimer{
		now: now,
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "leased_commit_duration_seconds",
			Help:    "Time from a lease commit's call to its return: waiting for the batch, write and fdatasync.",
			Buckets: commitBuckets,
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leased_commit_errors_total",
			Help: "Lease commits that returned an error (no acknowledgement was sent for them).",
		}),
	}
}

// Wrap returns st with every Commit timed.
// It says whether it can commit (a Writable method, which package server
// asks) as st does.
func (c *CommitTimer) Wrap(st lease.Store) lease.Store {
	w, _ := st.(interface{ Writable() bool })
	return &timedStore{Store: st, t: c, w: w}
}

// Describe implements prometheus.Collector.
func (c *CommitTimer) Describe(ch chan<- *prometheus.Desc) {
	c.duration.Describe(ch)
	c.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *CommitTimer) Collect(ch chan<- prometheus.Metric) {
	c.duration.Collect(ch)
	c.errors.Collect(ch)
}

// timedStore is a lease.Store whose commits a CommitTimer times.
type timedStore struct {
	lease.Store
	t *CommitTimer
	w interface{ Writable() bool } // Store's, or nil
}

// Commit implements lease.Store.
func (s *timedStore) Commit(ctx context.Context, leases ...lease.Lease) error {
	start := s.t.now()
	err := s.Store.Commit(ctx, leases...)
	s.t.duration.Observe(s.t.now().Sub(start).Seconds())
	if err != nil {
		s.t.errors.Inc()
	}
	return err
}

// Writable reports whether the store can commit now, as the store says
// (see server.Engine); a store that does not say always can.
func (s *timedStore) Writable() bool {
	return s.w == nil || s.w.Writable()
}
