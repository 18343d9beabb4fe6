package main

import (
	"fmt"
	"io"
	"sort"

	"leased/control"
)

// printHookStatus prints a line of "leased status" per lease event hook,
// then the line of the DNS updates (a hook of the lease events too).
func printHookStatus(w io.Writer, st control.Status) {
	names := make([]string, 0, len(st.Hooks))
	for name := range st.Hooks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		h := st.Hooks[name]
		fmt.Fprintf(w, "hook %s:\t%d events queued, %d done, %d failed (%d timed out), %d dropped, %d pending\n",
			name, h.Queued, h.Done, h.Failed, h.TimedOut, h.Dropped, h.Pending)
	}
	printDDNSStatus(w, st)
}
