package control

import (
	"github.com/prometheus/client_golang/prometheus"

	"leased/events"
)

// HookStatus counts the lease events of one hook, for status.
type HookStatus struct {
	Queued   uint64 `json:"queued"`
	Done     uint64 `json:"done"`
	Failed   uint64 `json:"failed"`
	TimedOut uint64 `json:"timed_out"`
	Dropped  uint64 `json:"dropped"`
	Pending  int    `json:"pending"`
}

// hookStatus returns the status of the configured hooks by name
// ("script", "webhook"), or nil when none is.
func hookStatus(st events.Stats) map[string]HookStatus {
	m := map[string]HookStatus{}
	for name, h := range namedHooks(st) {
		m[name] = HookStatus{Queued: h.Queued, Done: h.Done, Failed: h.Failed, TimedOut: h.TimedOut, Dropped: h.Dropped, Pending: h.Pending}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// namedHooks returns the configured hooks of st by name.
func namedHooks(st events.Stats) map[string]*events.HookStats {
	m := map[string]*events.HookStats{}
	if st.Script != nil {
		m["script"] = st.Script
	}
	if st.Webhook != nil {
		m["webhook"] = st.Webhook
	}
	return m
}

// hooksCollector exports the counters of the lease event hooks.
type hooksCollector struct {
	stats                                   func() events.Stats
	queued, done, failed, timedOut, dropped *prometheus.Desc
	pending                                 *prometheus.Desc
}

func newHooksCollector(stats func() events.Stats) *hooksCollector {
	d := prometheus.NewDesc
	hook := []string{"hook"}
	return &hooksCollector{
		stats:    stats,
		queued:   d("leased_hook_events_queued_total", "Lease events queued for a hook (script, webhook).", hook, nil),
		done:     d("leased_hook_events_done_total", "Lease events a hook was run for, successfully or not.", hook, nil),
		failed:   d("leased_hook_events_failed_total", "Lease events a hook failed on: the script exited non-zero, did not start or timed out; the webhook gave up after its retries.", hook, nil),
		timedOut: d("leased_hook_timeouts_total", "Script runs killed at their timeout; webhook attempts that ran out of time.", hook, nil),
		dropped:  d("leased_hook_events_dropped_total", "Lease events dropped because the hook's queue was full.", hook, nil),
		pending:  d("leased_hook_events_pending", "Lease events waiting in the hook's queue.", hook, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *hooksCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queued, c.done, c.failed, c.timedOut, c.dropped, c.pending} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *hooksCollector) Collect(ch chan<- prometheus.Metric) {
	for name, h := range namedHooks(c.stats()) {
		for _, m := range []struct {
			d *prometheus.Desc
			v uint64
		}{{c.queued, h.Queued}, {c.done, h.Done}, {c.failed, h.Failed}, {c.timedOut, h.TimedOut}, {c.dropped, h.Dropped}} {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v), name)
		}
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(h.Pending), name)
	}
}
