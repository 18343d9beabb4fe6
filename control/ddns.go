package control

import (
	"github.com/prometheus/client_golang/prometheus"

	"leased/ddns"
)

// DDNSStatus counts the dynamic DNS updates (package ddns), for status.
type DDNSStatus struct {
	// Queued counts the updates taken on, from lease events and rescans
	// of the store; Done those finished; Failed the attempts no server
	// answered or a server failed; Refused the attempts the servers
	// refused; Conflicts the names found held by another client.
	Queued    uint64 `json:"queued"`
	Done      uint64 `json:"done"`
	Failed    uint64 `json:"failed"`
	Refused   uint64 `json:"refused"`
	Conflicts uint64 `json:"conflicts"`
	// Retrying is the number of updates waiting for a retry now.
	Retrying int `json:"retrying"`
	// Rescans counts the rescans of the lease store, Ignored the updates
	// of leases no subnet's ddns section covers, Dropped the lease events
	// the updater's queue dropped (a rescan makes up for them).
	Rescans uint64 `json:"rescans"`
	Ignored uint64 `json:"ignored"`
	Dropped uint64 `json:"dropped"`
}

func ddnsStatus(st ddns.Stats) *DDNSStatus {
	return &DDNSStatus{Queued: st.Queued, Done: st.Done, Failed: st.Failed, Refused: st.Refused, Conflicts: st.Conflicts,
		Retrying: st.Retrying, Rescans: st.Rescans, Ignored: st.Ignored, Dropped: st.Dropped}
}

// ddnsCollector exports the counters of the DNS updater.
type ddnsCollector struct {
	stats                      func() ddns.Stats
	updates, retrying, dropped *prometheus.Desc
	rescans                    *prometheus.Desc
}

func newDDNSCollector(stats func() ddns.Stats) *ddnsCollector {
	d := prometheus.NewDesc
	return &ddnsCollector{
		stats:    stats,
		updates:  d("leased_ddns_updates_total", "Dynamic DNS updates by result: done (finished), failed (no answer, or a server failure: retried), refused (NOTAUTH, REFUSED or a TSIG error: retried), conflict (the name is another client's).", []string{"result"}, nil),
		retrying: d("leased_ddns_retrying", "Dynamic DNS updates waiting for a retry.", nil, nil),
		dropped:  d("leased_ddns_queue_dropped_total", "Lease events dropped because the DNS updater's queue was full; a rescan of the lease store makes up for them.", nil, nil),
		rescans:  d("leased_ddns_rescans_total", "Rescans of the lease store for DNS updates not confirmed.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *ddnsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.updates, c.retrying, c.dropped, c.rescans} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *ddnsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, r := range []struct {
		result string
		v      uint64
	}{{"done", st.Done}, {"failed", st.Failed}, {"refused", st.Refused}, {"conflict", st.Conflicts}} {
		ch <- prometheus.MustNewConstMetric(c.updates, prometheus.CounterValue, float64(r.v), r.result)
	}
	ch <- prometheus.MustNewConstMetric(c.retrying, prometheus.GaugeValue, float64(st.Retrying))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.Dropped))
	ch <- prometheus.MustNewConstMetric(c.rescans, prometheus.CounterValue, float64(st.Rescans))
}
