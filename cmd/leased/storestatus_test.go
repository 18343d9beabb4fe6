package main

import (
	"strings"
	"testing"

	"leased/control"
)

func TestPrintStoreStatus(t *testing.T) {
	for _, tc := range []struct {
		name      string
		st        control.Status
		want, not []string
	}{
		{"healthy with room",
			control.Status{Store: &control.StoreStatus{Dir: "/var/lib/leased", Healthy: true, FreeBytes: 64 << 20, SnapshotBytes: 1536}},
			[]string{"/var/lib/leased (healthy)", "store space:", "64.0 MiB free, 1.5 KiB needed for the next snapshot"},
			[]string{"LOW", "store outages:", "store sharing:"}},
		{"shared store with conflicts, refusals, timeouts and reconnects",
			control.Status{Store: &control.StoreStatus{Dir: "postgres://leased@db:5432/leased", Healthy: true, FreeBytes: -1,
				Conflicts: 3, Refused: 4, TimedOut: 5, Reconnects: 6}},
			[]string{"store sharing:", "3 commits lost to another server (conflicts), 4 refused as too many waited, 5 timed out, 6 reconnects"},
			nil},
		{"low on space, still writable",
			control.Status{Store: &control.StoreStatus{Dir: "/d", Healthy: true, FreeBytes: 300 << 10, SnapshotBytes: 200 << 10, LowSpace: true}},
			[]string{"(healthy)", "LOW: 300.0 KiB free, 200.0 KiB needed for the next snapshot; free space before the disk fills"},
			[]string{"NOT WRITABLE"}},
		{"not writable, with refusals",
			control.Status{Store: &control.StoreStatus{Dir: "/d", FreeBytes: 0, SnapshotBytes: 100, LowSpace: true},
				Outcomes: map[string]uint64{"store-not-writable": 12, "ack-kept": 3}},
			[]string{"NOT WRITABLE", "LOW: 0 B free", "12 requests refused (store-not-writable), 3 leases acknowledged for their time left (ack-kept)"},
			nil},
		{"free space unknown",
			control.Status{Store: &control.StoreStatus{Dir: "/d", Healthy: true, FreeBytes: -1}},
			nil, []string{"store space:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printStoreStatus(&b, tc.st)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("has %q:\n%s", w, b.String())
				}
			}
		})
	}
}
