package netio

import (
	"testing"

	"leased/server"
)

// TestEveryReasonHasACounter fails when the engine gains more reasons than
// the server's outcome counters hold.
func TestEveryReasonHasACounter(t *testing.T) {
	var s Server
	for _, r := range server.Reasons() {
		if int(r) >= len(s.outcomes) {
			t.Fatalf("reason %v (%d) has no counter: outcomes holds %d", r, r, len(s.outcomes))
		}
	}
}
