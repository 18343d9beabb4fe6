package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"leased/control"
	"leased/escape"
	"leased/lease"
	"leased/lease/journal"
	"leased/lease/postgres"
)

const leasesUsage = `usage: leased leases list [FILTERS] [--json] [--control SOCKET]
       leased leases list --store DIR [--json] [--salvage]
       leased leases list --db URL [--password-file FILE] [--json]
       leased leases show ADDRESS|CLIENT [--json]
       leased leases release ADDRESS [--json]

list prints leases sorted by address: address, client identifier (hex),
hardware address, host name, state and expiry (RFC 3339, UTC).

Without --store it asks the running server through its control socket
(--control, default ` + control.DefaultSocket + `; or --control-tcp ADDR
with --token-file FILE), and shows offers too. The filters --subnet,
--state, --mac, --client-id, --hostname, --from, --to and --limit select
leases.

With --store it reads the lease store DIR itself, without locking it, so
it works beside a running server, and with no server at all; it shows the
leases committed when it started, and takes no filter.

With --db it reads a PostgreSQL lease store (store type postgres) the same
way, from the database that the connection string names; the password
comes from --password-file or PGPASSWORD. It shows the leases of every
server that shares the database.

With --json, it prints one JSON object per line, with the keys address,
client_id, hw_addr, hostname, state and expiry (and subnet and start when
asking the server; hostname_hex, the host name's bytes in hex, when they
are not UTF-8). Control characters are escaped, in the table as in the
JSON: the output never acts on a terminal.

show prints the lease of an address, or of a client named by its
hardware address or client identifier in hex; release ends a lease now
(see "leased leases release -h").

flags of list:
`

// leasesCommand runs "leased leases": 0 on success, 1 on failure, 2 on a
// usage error.
func leasesCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, "leased leases", "subcommand", leasesUsage, map[string]subcommand{
		"list":    leasesList,
		"show":    leasesShow,
		"release": leasesRelease,
	}, args, stdout, stderr)
}

// leasesList runs "leased leases list".
func leasesList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("leases list", leasesUsage, stderr)
	var (
		store   = fs.String("store", "", "read the lease store in `directory` instead of asking the server")
		db      = fs.String("db", "", "read the PostgreSQL lease store at this connection `string` instead of asking the server")
		pwFile  = fs.String("password-file", "", "with --db: `file` whose first line is the database password")
		asJSON  = fs.Bool("json", false, "print one JSON object per line")
		salvage = fs.Bool("salvage", false, "with --store: show the readable leases of a corrupt store")
		conn    = addConnFlags(fs)
		filters = addLeaseQueryFlags(fs)
	)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	online := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "store", "json", "salvage", "db", "password-file":
		default:
			online = true
		}
	})
	switch {
	case (*store != "" || *db != "") && online:
		fmt.Fprintf(stderr, "leased leases list: --store and --db read the store itself, and take no filter and no control flag\n\n")
		fs.Usage()
		return 2
	case *store != "" && *db != "":
		fmt.Fprintf(stderr, "leased leases list: --store and --db name two stores: give one\n\n")
		fs.Usage()
		return 2
	case *pwFile != "" && *db == "":
		fmt.Fprintf(stderr, "leased leases list: --password-file goes with --db\n\n")
		fs.Usage()
		return 2
	case *store == "" && *salvage:
		fmt.Fprintf(stderr, "leased leases list: --salvage goes with --store\n\n")
		fs.Usage()
		return 2
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "leased leases list: unexpected argument %q\n\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *store == "" && *db == "" {
		return leasesListOnline(ctx, conn, filters, *asJSON, stdout, stderr)
	}
	leases, err := readStoreLeases(ctx, *store, *salvage, *db, *pwFile)
	if err == nil && *asJSON {
		err = writeLeasesJSON(stdout, leases)
	} else if err == nil {
		err = writeLeasesTable(stdout, leases)
	}
	if err != nil {
		fmt.Fprintf(stderr, "leased leases list: %v\n", err)
		return 1
	}
	return 0
}

// readStoreLeases reads the leases of the journal in directory dir, or,
// when db is set, of the PostgreSQL store it names, sorted by address.
func readStoreLeases(ctx context.Context, dir string, salvage bool, db, pwFile string) ([]lease.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var leases []lease.Lease
	collect := func(l lease.Lease) bool {
		leases = append(leases, l)
		return true
	}
	if db != "" {
		opts := postgres.Options{URL: db}
		if pwFile != "" {
			pw, err := postgres.ReadPasswordFile(pwFile)
			if err != nil {
				return nil, err
			}
			opts.Password = pw
		}
		st, err := postgres.Open(ctx, opts)
		if err != nil {
			return nil, err
		}
		err = st.Scan(ctx, collect)
		st.Close()
		if err != nil {
			return nil, err
		}
	} else {
		st, err := journal.Open(dir, journal.Options{ReadOnly: true, Salvage: salvage})
		if err != nil {
			return nil, err
		}
		st.All(collect)
		st.Close()
	}
	slices.SortFunc(leases, func(a, b lease.Lease) int { return a.Addr.Compare(b.Addr) })
	return leases, nil
}

// leaseJSON is one line of "leases list --json". Hostname and
// HostnameHex are as in control.Lease.
type leaseJSON struct {
	Address     string `json:"address"`
	ClientID    string `json:"client_id"`
	HWAddr      string `json:"hw_addr"`
	Hostname    string `json:"hostname"`
	HostnameHex string `json:"hostname_hex,omitempty"`
	State       string `json:"state"`
	Expiry      string `json:"expiry"`
}

// writeLeasesJSON prints one JSON object per lease and line. Empty
// fields are empty strings; control characters are JSON escapes.
func writeLeasesJSON(w io.Writer, leases []lease.Lease) error {
	enc := json.NewEncoder(escape.JSONWriter(w))
	enc.SetEscapeHTML(false)
	for _, l := range leases {
		j := leaseJSON{
			Address:  l.Addr.String(),
			ClientID: hex.EncodeToString([]byte(l.ClientID)),
			HWAddr:   l.HW.String(),
			Hostname: l.Hostname,
			State:    l.State.String(),
			Expiry:   formatExpiry(l.Expiry),
		}
		if !utf8.ValidString(l.Hostname) {
			j.HostnameHex = hex.EncodeToString([]byte(l.Hostname))
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

// writeLeasesTable prints the leases as aligned columns for people.
// Empty fields show as "-"; a host name's spaces and unprintable
// characters are escapes (escape.Text).
func writeLeasesTable(w io.Writer, leases []lease.Lease) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tCLIENT-ID\tHW-ADDR\tHOSTNAME\tSTATE\tEXPIRY")
	for _, l := range leases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n",
			l.Addr,
			orDash(hex.EncodeToString([]byte(l.ClientID))),
			orDash(l.HW.String()),
			orDash(escape.Text(l.Hostname)),
			l.State,
			orDash(formatExpiry(l.Expiry)))
	}
	return tw.Flush()
}

// formatExpiry formats t in RFC 3339, UTC, or "" for the zero time.
func formatExpiry(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
