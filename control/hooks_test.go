package control

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"leased/events"
)

// TestHookMetricsAndStatus: the counters of each configured hook are
// exported by hook name, and none for a hook not configured.
func TestHookMetricsAndStatus(t *testing.T) {
	st := events.Stats{Script: &events.HookStats{
		QueueStats: events.QueueStats{Queued: 9, Done: 8, Dropped: 3, Pending: 1}, Failed: 2, TimedOut: 1}}
	c := newHooksCollector(func() events.Stats { return st })
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != "script" {
				t.Errorf("%s: labels %v, want hook=script", mf.GetName(), m.GetLabel())
			}
			if m.GetCounter() != nil {
				values[mf.GetName()] = m.GetCounter().GetValue()
			} else {
				values[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	for name, v := range map[string]float64{
		"leased_hook_events_queued_total": 9, "leased_hook_events_done_total": 8, "leased_hook_events_failed_total": 2,
		"leased_hook_timeouts_total": 1, "leased_hook_events_dropped_total": 3, "leased_hook_events_pending": 1,
	} {
		if values[name] != v {
			t.Errorf("%s = %v, want %v", name, values[name], v)
		}
	}
	got := hookStatus(st)
	if len(got) != 1 || got["script"] != (HookStatus{Queued: 9, Done: 8, Failed: 2, TimedOut: 1, Dropped: 3, Pending: 1}) {
		t.Errorf("status %+v", got)
	}
	if hookStatus(events.Stats{}) != nil {
		t.Error("status of no hooks is not absent")
	}
}
