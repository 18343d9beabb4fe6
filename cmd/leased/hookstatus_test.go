package main

import (
	"bytes"
	"testing"

	"leased/control"
)

// TestStatusShowsHooks: a line per configured hook, none without hooks.
func TestStatusShowsHooks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hooks map[string]control.HookStatus
		want  string
	}{
		{"none", nil, ""},
		{"script and webhook", map[string]control.HookStatus{
			"webhook": {Queued: 5, Done: 4, Failed: 1, TimedOut: 1, Pending: 1},
			"script":  {Queued: 7, Done: 7, Dropped: 2},
		}, "hook script:\t7 events queued, 7 done, 0 failed (0 timed out), 2 dropped, 0 pending\n" +
			"hook webhook:\t5 events queued, 4 done, 1 failed (1 timed out), 0 dropped, 1 pending\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			printHookStatus(&b, control.Status{Hooks: tc.hooks})
			if b.String() != tc.want {
				t.Fatalf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}
