package main

import (
	"fmt"
	"io"

	"leased/control"
)

// printDDNSStatus prints the line of "leased status" of the dynamic DNS
// updates, none when they are off.
func printDDNSStatus(w io.Writer, st control.Status) {
	d := st.DDNS
	if d == nil {
		return
	}
	fmt.Fprintf(w, "dns updates:\t%d queued, %d done, %d failed, %d retrying (%d refused, %d conflicts, %d dropped events)\n",
		d.Queued, d.Done, d.Failed, d.Retrying, d.Refused, d.Conflicts, d.Dropped)
}
