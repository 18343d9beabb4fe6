package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"leased/control"
	"leased/escape"
)

const whyUsage = `usage: leased why [--json] [--control SOCKET] MAC|CLIENT-ID|ADDRESS

Explains what the running server decided about a client lately, and why:
its last decisions (each request, where it came from, the answer or the
silence and its reason) and a diagnosis of the latest with what to do,
worked out from the server's state now ("the pool 198.18.1.100-198.18.1.199
is full: 96 bound, 4 in decline probation; the first lease ends at
14:02:00 UTC; enlarge the pool or shorten lease-time").

The client is named by its hardware address or client identifier in hex
(02:00:00:00:00:01), or by an IPv4 address it was given, asked for or had.
The server keeps the history of its most recent clients only, and forgets
it when it restarts (see docs/operations.md).

flags:
`

// whyCommand runs "leased why".
func whyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("why", whyUsage, stdout, stderr)
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	w, code, ok := callServer(c, func(cl *control.Client) (control.Why, error) { return cl.Why(ctx, pos[0]) })
	if !ok {
		return code
	}
	if *c.asJSON {
		return c.printJSON(w)
	}
	for i := range w.Clients {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := printWhyClient(stdout, &w.Clients[i]); err != nil {
			return c.fail(err)
		}
	}
	return 0
}

// printWhyClient prints one client's history and diagnosis for people.
func printWhyClient(out io.Writer, wc *control.WhyClient) error {
	fmt.Fprintf(out, "client %s", orDash(wc.ClientID))
	if wc.HWAddr != "" {
		fmt.Fprintf(out, " (hardware address %s)", wc.HWAddr)
	}
	fmt.Fprintln(out)
	if l := wc.Lease; l != nil {
		fmt.Fprintf(out, "lease: %s %s in %s, until %s\n", l.Address, l.State, l.Subnet, orDash(formatExpiry(l.Expiry)))
	} else {
		fmt.Fprintln(out, "lease: none")
	}
	if len(wc.History) > 0 {
		fmt.Fprintln(out)
		if err := printDecisions(out, wc.History); err != nil {
			return err
		}
	}
	dg := wc.Diagnosis
	_, err := fmt.Fprintf(out, "\ndiagnosis: %s (%s): %s\n", dg.Verdict, dg.Reason, dg.Summary)
	if err == nil && dg.Advice != "" {
		_, err = fmt.Fprintf(out, "what to do: %s\n", dg.Advice)
	}
	return err
}

// printDecisions prints a client's decisions as a table, with a CLASSES
// column when one of them matched client classes.
func printDecisions(out io.Writer, ds []control.Decision) error {
	classed := slices.ContainsFunc(ds, func(d control.Decision) bool { return d.Classes != "" })
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "TIME\tTYPE\tXID\tFROM\t")
	if classed {
		fmt.Fprint(tw, "CLASSES\t")
	}
	fmt.Fprintln(tw, "VERDICT\tREASON\tADDRESS\tDETAIL")
	for _, d := range ds {
		addr := "-"
		if d.Address.IsValid() {
			addr = d.Address.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t", d.Time.Format("15:04:05.000"), strings.TrimPrefix(d.Type, "DHCP"), d.XID, escape.Text(whyFrom(&d)))
		if classed {
			fmt.Fprintf(tw, "%s\t", orDash(escape.Text(d.Classes)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Verdict, d.Reason, addr, d.Detail)
	}
	return tw.Flush()
}

// whyFrom says where a request came from: its interface, and its relay
// agent with the agent's identifiers.
func whyFrom(d *control.Decision) string {
	s := orDash(d.Interface)
	if d.Relay.IsValid() {
		s += " relay " + d.Relay.String()
	}
	if d.CircuitID != "" {
		s += " circuit " + d.CircuitID
	}
	if d.RemoteID != "" {
		s += " remote " + d.RemoteID
	}
	return s
}
