package main

import (
	"strings"
	"testing"

	"leased/control"
)

// TestStatusShowsDNSUpdates: a line for the DNS updates when they are on,
// none when they are off.
func TestStatusShowsDNSUpdates(t *testing.T) {
	for _, tc := range []struct {
		name string
		ddns *control.DDNSStatus
		want string
	}{
		{"off", nil, ""},
		{"on", &control.DDNSStatus{Queued: 9, Done: 6, Failed: 2, Retrying: 1, Refused: 1, Conflicts: 1, Dropped: 3},
			"dns updates:\t9 queued, 6 done, 2 failed, 1 retrying (1 refused, 1 conflicts, 3 dropped events)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printDDNSStatus(&b, control.Status{DDNS: tc.ddns})
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}
