package main

import (
	"strings"
	"testing"

	"leased/control"
)

func TestPrintFloodStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   control.Status
		want string // "" for no line
	}{
		{"no flood: no line", control.Status{Outcomes: map[string]uint64{"offer": 5, "ack": 5}}, ""},
		{"rate-limited and offer-unheld counted", control.Status{Outcomes: map[string]uint64{"rate-limited": 7, "offer-unheld": 2}},
			"floods:\t7 requests dropped by the rate limits (rate-limited), 2 offers beyond the offer limit not held (offer-unheld)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printFloodStatus(&b, tc.st)
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}
