package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"leased/control"
	"leased/escape"
	"leased/reservations"
)

// This file holds the subcommands that talk to a running server through
// its control API: leases list (without --store), leases show, leases
// release, reservations, pools, status and reload.

// connFlags say how to reach the server's control API.
type connFlags struct {
	socket, tcp, tokenFile string
}

// addConnFlags defines --control, --control-tcp and --token-file on fs.
func addConnFlags(fs *flag.FlagSet) *connFlags {
	c := &connFlags{}
	fs.StringVar(&c.socket, "control", control.DefaultSocket, "the server's control `socket`")
	fs.StringVar(&c.tcp, "control-tcp", "", "reach the control API at TCP `address:port` instead of the socket")
	fs.StringVar(&c.tokenFile, "token-file", "", "with --control-tcp: `file` holding the bearer token")
	return c
}

// client returns the API client the flags describe.
func (c *connFlags) client() (*control.Client, error) {
	if c.tcp == "" {
		if c.tokenFile != "" {
			return nil, errors.New("--token-file goes with --control-tcp; the socket needs no token")
		}
		return control.NewUnixClient(c.socket), nil
	}
	token := ""
	if c.tokenFile != "" {
		t, err := control.ReadToken(c.tokenFile)
		if err != nil {
			return nil, err
		}
		token = t
	}
	return control.NewTCPClient(c.tcp, token), nil
}

// ctlCommand is the frame of every subcommand here: its flag set, its
// usage, and how it reports.
type ctlCommand struct {
	name   string // "leases show"
	usage  string
	fs     *flag.FlagSet
	conn   *connFlags
	asJSON *bool
	stdout io.Writer
	stderr io.Writer
}

func newCtlCommand(name, usage string, stdout, stderr io.Writer) *ctlCommand {
	c := &ctlCommand{name: name, usage: usage, stdout: stdout, stderr: stderr}
	c.fs = newFlagSet(name, usage, stderr)
	c.conn = addConnFlags(c.fs)
	c.asJSON = c.fs.Bool("json", false, "print JSON for scripts")
	return c
}

// parse parses args, flags and arguments in any order, and checks the
// number of arguments. It returns the arguments, or the exit code: 0
// after -h, 2 on a usage error.
func (c *ctlCommand) parse(args []string, minArgs, maxArgs int) ([]string, int, bool) {
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0, false
		}
		return nil, 2, false
	}
	switch {
	case len(pos) < minArgs:
		fmt.Fprintf(c.stderr, "leased %s: missing argument\n\n", c.name)
		c.fs.Usage()
		return nil, 2, false
	case len(pos) > maxArgs:
		fmt.Fprintf(c.stderr, "leased %s: unexpected argument %q\n\n", c.name, pos[maxArgs])
		c.fs.Usage()
		return nil, 2, false
	}
	return pos, 0, true
}

// usageError reports a bad argument: exit 2.
func (c *ctlCommand) usageError(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "leased %s: %s\n", c.name, fmt.Sprintf(format, args...))
	return 2
}

// fail reports err: exit 1.
func (c *ctlCommand) fail(err error) int {
	fmt.Fprintf(c.stderr, "leased %s: %v\n", c.name, err)
	return 1
}

// client returns the API client, or reports why not.
func (c *ctlCommand) client() (*control.Client, int, bool) {
	cl, err := c.conn.client()
	if err != nil {
		return nil, c.usageError("%v", err), false
	}
	return cl, 0, true
}

// printJSON writes v as one line of JSON.
func (c *ctlCommand) printJSON(v any) int {
	enc := json.NewEncoder(escape.JSONWriter(c.stdout))
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return c.fail(err)
	}
	return 0
}

// ask is the start of a command that takes no argument: it parses args,
// makes the client and asks the server with call. When the command ends
// there it reports false and the exit code.
func ask[T any](ctx context.Context, c *ctlCommand, args []string, call func(*control.Client, context.Context) (T, error)) (T, int, bool) {
	var zero T
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return zero, code, false
	}
	return callServer(c, func(cl *control.Client) (T, error) { return call(cl, ctx) })
}

// askAddr is the start of a command whose one argument is an address: it
// parses args and the address, makes the client and asks the server with
// call. When the command ends there it reports false and the exit code.
func askAddr[T any](ctx context.Context, c *ctlCommand, args []string, call func(*control.Client, context.Context, netip.Addr) (T, error)) (T, int, bool) {
	var zero T
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return zero, code, false
	}
	a, err := netip.ParseAddr(pos[0])
	if err != nil {
		return zero, c.usageError("%q is not an address", pos[0]), false
	}
	return callServer(c, func(cl *control.Client) (T, error) { return call(cl, ctx, a) })
}

// callServer makes the client of c and calls fn with it. When the
// command ends there it reports false and the exit code.
func callServer[T any](c *ctlCommand, fn func(*control.Client) (T, error)) (T, int, bool) {
	var zero T
	cl, code, ok := c.client()
	if !ok {
		return zero, code, false
	}
	v, err := fn(cl)
	if err != nil {
		return zero, c.fail(err), false
	}
	return v, 0, true
}

// printJSONLines writes each of vs as one line of JSON.
func printJSONLines[T any](c *ctlCommand, vs []T) int {
	for _, v := range vs {
		if code := c.printJSON(v); code != 0 {
			return code
		}
	}
	return 0
}

// parseInterleaved parses args with fs, allowing flags after arguments
// ("show 198.18.0.5 --json"), and returns the arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// leaseQueryFlags are the filters of "leases list" against the server.
type leaseQueryFlags struct {
	subnet, state, mac, clientID, hostname, from, to string
	limit                                            int
}

func addLeaseQueryFlags(fs *flag.FlagSet) *leaseQueryFlags {
	q := &leaseQueryFlags{}
	fs.StringVar(&q.subnet, "subnet", "", "only leases in this `prefix`")
	fs.StringVar(&q.state, "state", "", "only leases in these `states` (offered, bound, released, expired, declined; comma-separated)")
	fs.StringVar(&q.mac, "mac", "", "only leases of this hardware `address`")
	fs.StringVar(&q.clientID, "client-id", "", "only leases of this client `identity` (hex)")
	fs.StringVar(&q.hostname, "hostname", "", "only leases whose host name matches this `pattern` (* and ?)")
	fs.StringVar(&q.from, "from", "", "only addresses from this `address` on")
	fs.StringVar(&q.to, "to", "", "only addresses up to this `address`")
	fs.IntVar(&q.limit, "limit", 0, "print at most `n` leases")
	return q
}

// query builds the API query; the server checks the values.
func (q *leaseQueryFlags) query() (control.LeaseQuery, error) {
	lq := control.LeaseQuery{HWAddr: q.mac, ClientID: q.clientID, Hostname: q.hostname}
	if q.state != "" {
		lq.States = strings.Split(q.state, ",")
	}
	var err error
	if q.subnet != "" {
		if lq.Subnet, err = netip.ParsePrefix(q.subnet); err != nil {
			return lq, fmt.Errorf("--subnet %s: %v", q.subnet, err)
		}
	}
	for _, a := range []struct {
		flag, s string
		to      *netip.Addr
	}{{"--from", q.from, &lq.From}, {"--to", q.to, &lq.To}} {
		if a.s == "" {
			continue
		}
		if *a.to, err = netip.ParseAddr(a.s); err != nil {
			return lq, fmt.Errorf("%s %s: %v", a.flag, a.s, err)
		}
	}
	if q.limit < 0 {
		return lq, fmt.Errorf("--limit %d: want a positive number", q.limit)
	}
	return lq, nil
}

// leasesListOnline runs "leased leases list" against the running server.
func leasesListOnline(ctx context.Context, conn *connFlags, qf *leaseQueryFlags, asJSON bool, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "leased leases list: %v\n", err)
		return code
	}
	q, err := qf.query()
	if err != nil {
		return fail(2, err)
	}
	c, err := conn.client()
	if err != nil {
		return fail(2, err)
	}
	var leases []control.Lease
	if qf.limit > 0 {
		q.Limit = min(qf.limit, control.MaxLimit)
		for len(leases) < qf.limit {
			p, err := c.Leases(ctx, q)
			if err != nil {
				return fail(1, err)
			}
			leases = append(leases, p.Leases...)
			if !p.Next.IsValid() {
				break
			}
			q.After = p.Next
		}
		leases = leases[:min(len(leases), qf.limit)]
	} else if leases, err = c.AllLeases(ctx, q); err != nil {
		return fail(1, err)
	}
	if asJSON {
		enc := json.NewEncoder(escape.JSONWriter(stdout))
		enc.SetEscapeHTML(false)
		for _, l := range leases {
			if err := enc.Encode(l); err != nil {
				return fail(1, err)
			}
		}
		return 0
	}
	if err := writeAPILeasesTable(stdout, leases); err != nil {
		return fail(1, err)
	}
	return 0
}

// writeAPILeasesTable prints leases with the columns of the offline
// "leases list".
func writeAPILeasesTable(w io.Writer, leases []control.Lease) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tCLIENT-ID\tHW-ADDR\tHOSTNAME\tSTATE\tEXPIRY")
	for _, l := range leases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Address, orDash(l.ClientID), orDash(l.HWAddr),
			orDash(escape.Text(l.RawHostname())), l.State, orDash(formatExpiry(l.Expiry)))
	}
	return tw.Flush()
}

const leasesShowUsage = `usage: leased leases show ADDRESS|CLIENT [--json] [--control SOCKET]

Prints one lease of the running server: the lease of an address
(198.18.0.100), or of a client named by its hardware address
(02:00:00:00:00:01) or client identifier in hex (01:02:00:00:00:00:01).

flags:
`

// leasesShow runs "leased leases show".
func leasesShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("leases show", leasesShowUsage, stdout, stderr)
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	var l control.Lease
	var err error
	if a, perr := netip.ParseAddr(pos[0]); perr == nil {
		l, err = cl.Lease(ctx, a)
	} else if _, herr := reservations.ParseHex(pos[0]); herr == nil {
		l, err = cl.ClientLease(ctx, pos[0])
	} else {
		return c.usageError("%q is neither an address nor a hardware address or client identifier in hex", pos[0])
	}
	if err != nil {
		return c.fail(err)
	}
	if *c.asJSON {
		return c.printJSON(l)
	}
	if err := printLease(stdout, l); err != nil {
		return c.fail(err)
	}
	return 0
}

const leasesReleaseUsage = `usage: leased leases release ADDRESS [--json] [--control SOCKET]

Ends the lease of ADDRESS on the running server now, as if its client had
released it: the address returns to the pool and the release is stored.
The client is not told; it keeps using the address until its next
renewal, which is granted only if the address is still free.

flags:
`

// leasesRelease runs "leased leases release".
func leasesRelease(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("leases release", leasesReleaseUsage, stdout, stderr)
	l, code, ok := askAddr(ctx, c, args, (*control.Client).Release)
	if !ok {
		return code
	}
	if *c.asJSON {
		return c.printJSON(l)
	}
	fmt.Fprintf(stdout, "released %s (client %s)\n", l.Address, orDash(firstOf(l.HWAddr, l.ClientID)))
	return 0
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

const reservationsUsage = `usage: leased reservations list [--source config|runtime] [--json]
       leased reservations add ADDRESS (--mac HW | --client-id HEX) [--hostname NAME] [--classes A,B]
       leased reservations remove ADDRESS

Lists, adds and removes the reservations of the running server. Those
added here take effect at once (the client gets the address at its next
DHCPDISCOVER, or after a DHCPNAK of its next renewal if it holds another
one), are kept in reservations.json in the lease store, and survive
restarts and reloads. Those of the configuration file are listed with
source "config" and changed in the file.

Every subcommand takes --control SOCKET (default ` + control.DefaultSocket + `),
or --control-tcp ADDR and --token-file FILE, and --json.
`

// reservationsCommand runs "leased reservations".
func reservationsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, "leased reservations", "subcommand", reservationsUsage, map[string]subcommand{
		"list":   reservationsList,
		"add":    reservationsAdd,
		"remove": reservationsRemove,
	}, args, stdout, stderr)
}

func reservationsList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("reservations list", reservationsUsage+"\nflags:\n", stdout, stderr)
	source := c.fs.String("source", "", "only the reservations of this `source`: config or runtime")
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return code
	}
	if *source != "" && *source != control.SourceConfig && *source != control.SourceRuntime {
		return c.usageError("--source %q: want config or runtime", *source)
	}
	rs, code, ok := callServer(c, func(cl *control.Client) ([]control.Reservation, error) { return cl.Reservations(ctx, *source) })
	if !ok {
		return code
	}
	if *c.asJSON {
		return printJSONLines(c, rs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tSUBNET\tHW-ADDR\tCLIENT-ID\tRELAY\tHOSTNAME\tCLASSES\tSOURCE")
	for _, r := range rs {
		relay := ""
		if r.RelayCircuitID != "" {
			relay = "circuit-id=" + r.RelayCircuitID
		}
		if r.RelayRemoteID != "" {
			relay = strings.TrimPrefix(relay+",remote-id="+r.RelayRemoteID, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Address, r.Subnet, orDash(r.HWAddr), orDash(r.ClientID),
			orDash(relay), orDash(escape.Text(r.Hostname)), orDash(escape.Text(strings.Join(r.Classes, ","))), r.Source)
	}
	if err := tw.Flush(); err != nil {
		return c.fail(err)
	}
	return 0
}

func reservationsAdd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("reservations add", reservationsUsage+"\nflags:\n", stdout, stderr)
	mac := c.fs.String("mac", "", "the client's hardware `address`")
	cid := c.fs.String("client-id", "", "the client's identifier, `hex` bytes")
	hostname := c.fs.String("hostname", "", "host `name` to give the client")
	classes := c.fs.String("classes", "", "client `classes` to put the client in, comma-separated")
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	a, err := netip.ParseAddr(pos[0])
	if err != nil {
		return c.usageError("%q is not an address", pos[0])
	}
	if (*mac == "") == (*cid == "") {
		return c.usageError("name the client with one of --mac and --client-id")
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	nr := control.NewReservation{Address: a, HWAddr: *mac, ClientID: *cid, Hostname: *hostname}
	if *classes != "" {
		nr.Classes = strings.Split(*classes, ",")
	}
	r, err := cl.AddReservation(ctx, nr)
	if err != nil {
		return c.fail(err)
	}
	if *c.asJSON {
		return c.printJSON(r)
	}
	fmt.Fprintf(stdout, "reserved %s for %s\n", r.Address, firstOf(r.HWAddr, r.ClientID))
	return 0
}

func reservationsRemove(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("reservations remove", reservationsUsage+"\nflags:\n", stdout, stderr)
	r, code, ok := askAddr(ctx, c, args, (*control.Client).RemoveReservation)
	if !ok {
		return code
	}
	if *c.asJSON {
		return c.printJSON(r)
	}
	fmt.Fprintf(stdout, "removed the reservation of %s for %s\n", r.Address, firstOf(r.HWAddr, r.ClientID))
	return 0
}

const poolsUsage = `usage: leased pools [--json] [--control SOCKET]

Prints the utilisation of every pool of the running server: its size, the
addresses in use (offered, bound, declined or reserved), the free ones,
and the leases by state. A subnet with several pools gets a total line.
With --json, one JSON object per subnet and line.

flags:
`

// poolsCommand runs "leased pools".
func poolsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("pools", poolsUsage, stdout, stderr)
	subnets, code, ok := ask(ctx, c, args, (*control.Client).Pools)
	if !ok {
		return code
	}
	if *c.asJSON {
		return printJSONLines(c, subnets)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBNET\tPOOL\tSIZE\tUSED\tFREE\tUSE%\tBOUND\tOFFERED\tDECLINED\tRESERVED")
	for _, s := range subnets {
		for _, p := range s.Pools {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\n", s.Subnet, p.Range, p.Size, p.Used, p.Free,
				percent(p.Utilisation), p.Bound, p.Offered, p.Declined, p.Reserved)
		}
		if len(s.Pools) != 1 {
			pool := "total"
			if len(s.Pools) == 0 {
				pool = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\n", s.Subnet, pool, s.Size, s.Used, s.Free,
				percent(s.Utilisation), s.Leases["bound"], s.Leases["offered"], s.Leases["declined"],
				s.ReservedConfig+s.ReservedRuntime)
		}
	}
	if err := tw.Flush(); err != nil {
		return c.fail(err)
	}
	return 0
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

const statusUsage = `usage: leased status [--json] [--control SOCKET]

Prints the running server's version, uptime, configuration file and the
hash of the content it loaded, the health and free space of the lease
store (LOW before its disk fills), and the leases by state.

flags:
`

// statusCommand runs "leased status".
func statusCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("status", statusUsage, stdout, stderr)
	st, code, ok := ask(ctx, c, args, (*control.Client).Status)
	if !ok {
		return code
	}
	if *c.asJSON {
		return c.printJSON(st)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "version:\t%s\n", st.Version)
	up := time.Duration(st.UptimeSeconds * float64(time.Second)).Round(time.Second)
	fmt.Fprintf(tw, "started:\t%s (up %s)\n", formatExpiry(st.Started), up)
	if st.Config.File != "" {
		fmt.Fprintf(tw, "config:\t%s\n", st.Config.File)
		fmt.Fprintf(tw, "config sha256:\t%s\n", st.Config.SHA256)
		fmt.Fprintf(tw, "config loaded:\t%s\n", formatExpiry(st.Config.Loaded))
		if ch := st.Config.Changes; ch != nil {
			for _, c := range ch.RestartNeeded {
				fmt.Fprintf(tw, "restart needed:\t%s (running %s, in the file %s)\n", c.Key, c.Running, c.Loaded)
			}
		}
	} else {
		fmt.Fprintf(tw, "config:\tnone (quick mode)\n")
	}
	fmt.Fprintf(tw, "subnets:\t%d\n", st.Config.Subnets)
	if st.Store != nil {
		printStoreStatus(tw, st)
	}
	fmt.Fprintf(tw, "leases:\t%d bound, %d offered, %d declined, %d released, %d expired\n",
		st.Leases["bound"], st.Leases["offered"], st.Leases["declined"], st.Leases["released"], st.Leases["expired"])
	fmt.Fprintf(tw, "reservations:\t%d from the file, %d added at run time\n",
		st.Reservations[control.SourceConfig], st.Reservations[control.SourceRuntime])
	printFloodStatus(tw, st)
	printHookStatus(tw, st)
	if err := tw.Flush(); err != nil {
		return c.fail(err)
	}
	return 0
}

// printStoreStatus prints the lines of "leased status" about the lease
// store: its health, its records, its free space (with a warning before
// the disk fills) and the requests its faults refused.
func printStoreStatus(w io.Writer, st control.Status) {
	s := st.Store
	health := "healthy"
	if !s.Healthy {
		health = "NOT WRITABLE: no new lease is acknowledged; leases on disk are renewed for the time they have left"
	}
	fmt.Fprintf(w, "store:\t%s (%s)\n", s.Dir, health)
	fmt.Fprintf(w, "store records:\t%d live, %d bytes of log, %d compactions, %d write errors\n",
		s.LiveRecords, s.LogBytes, s.Compactions, s.WriteErrors)
	if s.FreeBytes >= 0 {
		space := fmt.Sprintf("%s free, %s needed for the next snapshot", formatBytes(s.FreeBytes), formatBytes(s.SnapshotBytes))
		if s.LowSpace {
			space = "LOW: " + space + "; free space before the disk fills"
		}
		fmt.Fprintf(w, "store space:\t%s\n", space)
	}
	if s.Conflicts > 0 || s.Refused > 0 || s.TimedOut > 0 || s.Reconnects > 0 {
		fmt.Fprintf(w, "store sharing:\t%d commits lost to another server (conflicts), %d refused as too many waited, %d timed out, %d reconnects\n",
			s.Conflicts, s.Refused, s.TimedOut, s.Reconnects)
	}
	refused, kept := st.Outcomes["store-not-writable"], st.Outcomes["ack-kept"]
	if refused > 0 || kept > 0 {
		fmt.Fprintf(w, "store outages:\t%d requests refused (store-not-writable), %d leases acknowledged for their time left (ack-kept)\n",
			refused, kept)
	}
}

// formatBytes writes n bytes in binary units ("1.5 MiB").
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/unit, 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTP"[i])
}

const reloadUsage = `usage: leased reload [--json] [--control SOCKET]

Makes the running server read its configuration file again, as SIGHUP
does. A file that does not validate, or that names an interface this host
does not have, is refused, with the file, line and key at fault, and the
server goes on with the configuration it has; the command then exits with
status 1.

A file that is accepted is put in effect at once, except for the settings
that only a restart changes (lease-store, commit-delay, receive-delay): the
command lists what took effect and what waits for a restart, and exits
with status 3 when something does.

flags:
`

// exitRestartNeeded is the exit status of "leased reload" when the file
// was put in effect but some of its settings wait for a restart.
const exitRestartNeeded = 3

// reloadCommand runs "leased reload".
func reloadCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCtlCommand("reload", reloadUsage, stdout, stderr)
	r, code, ok := ask(ctx, c, args, (*control.Client).Reload)
	if !ok {
		return code
	}
	ch := r.Config.Changes
	restart := ch != nil && len(ch.RestartNeeded) > 0
	if *c.asJSON {
		if code := c.printJSON(r); code != 0 {
			return code
		}
	} else {
		fmt.Fprintf(stdout, "reloaded %s (sha256 %s, %d subnets)\n", r.Config.File, r.Config.SHA256, r.Config.Subnets)
		printChanges(stdout, ch)
	}
	if restart {
		fmt.Fprintf(stderr, "leased reload: %d changed settings wait for a restart of the server\n", len(ch.RestartNeeded))
		return exitRestartNeeded
	}
	return 0
}

// printChanges writes what a reload put in effect and what waits for a
// restart.
func printChanges(w io.Writer, ch *control.ConfigChanges) {
	if ch == nil {
		return
	}
	switch {
	case len(ch.Applied) > 0:
		fmt.Fprintf(w, "took effect: %s\n", strings.Join(ch.Applied, ", "))
	case len(ch.RestartNeeded) == 0:
		fmt.Fprintln(w, "no setting changed")
	}
	for _, c := range ch.RestartNeeded {
		fmt.Fprintf(w, "waits for a restart: %s (running %s, in the file %s)\n", c.Key, c.Running, c.Loaded)
	}
}
