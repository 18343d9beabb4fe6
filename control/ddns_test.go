package control

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"leased/ddns"
)

// TestDDNSMetricsAndStatus: the updater's counters are exported, updates
// by result, and shown in status as the ddns member.
func TestDDNSMetricsAndStatus(t *testing.T) {
	st := ddns.Stats{Queued: 12, Done: 7, Failed: 3, Refused: 2, Conflicts: 1, Retrying: 4, Rescans: 5, Ignored: 6, Dropped: 8}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newDDNSCollector(func() ddns.Stats { return st }))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			if m.GetCounter() != nil {
				values[name] = m.GetCounter().GetValue()
			} else {
				values[name] = m.GetGauge().GetValue()
			}
		}
	}
	want := map[string]float64{
		"leased_ddns_updates_total{result=done}": 7, "leased_ddns_updates_total{result=failed}": 3,
		"leased_ddns_updates_total{result=refused}": 2, "leased_ddns_updates_total{result=conflict}": 1,
		"leased_ddns_retrying": 4, "leased_ddns_queue_dropped_total": 8, "leased_ddns_rescans_total": 5,
	}
	if len(values) != len(want) {
		t.Errorf("metrics %v, want %v", values, want)
	}
	for name, v := range want {
		if values[name] != v {
			t.Errorf("%s = %v, want %v", name, values[name], v)
		}
	}
	b, err := json.Marshal(Status{DDNS: ddnsStatus(st)})
	if err != nil {
		t.Fatal(err)
	}
	const member = `"ddns":{"queued":12,"done":7,"failed":3,"refused":2,"conflicts":1,"retrying":4,"rescans":5,"ignored":6,"dropped":8}`
	if !strings.Contains(string(b), member) {
		t.Errorf("status %s\nwant the member %s", b, member)
	}
	if b, _ := json.Marshal(Status{}); strings.Contains(string(b), `"ddns"`) {
		t.Errorf("status without DNS updates has a ddns member: %s", b)
	}
}
