package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"leased/control"
	"leased/escape"
)

// printLease prints the lease of `leased leases show`, a field a line.
func printLease(stdout io.Writer, l control.Lease) error {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "address:\t%s\n", l.Address)
	fmt.Fprintf(tw, "subnet:\t%s\n", l.Subnet)
	fmt.Fprintf(tw, "state:\t%s\n", l.State)
	fmt.Fprintf(tw, "client-id:\t%s\n", orDash(l.ClientID))
	fmt.Fprintf(tw, "hw-addr:\t%s\n", orDash(l.HWAddr))
	fmt.Fprintf(tw, "hostname:\t%s\n", orDash(escape.Text(l.RawHostname())))
	fmt.Fprintf(tw, "fqdn:\t%s\n", orDash(l.FQDN))
	fmt.Fprintf(tw, "start:\t%s\n", orDash(formatExpiry(l.Start)))
	fmt.Fprintf(tw, "expiry:\t%s\n", orDash(formatExpiry(l.Expiry)))
	fmt.Fprintf(tw, "classes:\t%s\n", orDash(strings.Join(l.Classes, ",")))
	return tw.Flush()
}
