// Command leased is a DHCPv4 server, client and relay agent.
//
// Usage:
//
//	leased server  ...   serve DHCP leases
//	leased client  ...   obtain and keep a lease for an interface
//	leased relay   ...   relay DHCP between networks
//	leased leases  ...   inspect and manage the lease database
//	leased db      ...   create and upgrade a PostgreSQL lease store's schema
//	leased version       print the version
//
// This file holds flags and wiring only; the protocol lives in the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is the release version, set at build time with
// -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: leased <command> [flags]

commands:
  server    serve DHCP leases on the configured interfaces
  client    obtain and keep a lease for an interface
  relay     relay DHCP between networks
  leases    inspect and manage the leases (list, show, release)
  reservations
            list, add and remove reservations of the running server
  pools     pool utilisation of the running server
  status    the running server's version, uptime, configuration and store
  why       why a client has (or has no) address: its history and a diagnosis
  reload    make the running server reload its configuration file
  bench     load-test a DHCP server (DORA from many simulated clients)
  db        create and upgrade the schema of a PostgreSQL lease store
  version   print the version

Run "leased <command> -h" for the flags of a command.
`

// run dispatches a subcommand and returns the process exit code:
// 0 success (and help that was asked for), 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "version", "-version", "--version":
			fmt.Fprintf(stdout, "leased %s\n", version)
			return 0
		}
	}
	return dispatch(ctx, "leased", "command", usage, map[string]subcommand{
		"leases":       leasesCommand,
		"reservations": reservationsCommand,
		"pools":        poolsCommand,
		"status":       statusCommand,
		"reload":       reloadCommand,
		"why":          whyCommand,
		"server":       serverCommand,
		"relay":        relayCommand,
		"bench":        benchCommand,
		"client":       clientCommand,
		"db":           dbCommand,
	}, args, stdout, stderr)
}

// subcommand is one "leased NOUN" or "leased NOUN VERB" command.
type subcommand func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// dispatch runs the subcommand args[0] of the command prog ("leased",
// "leased leases"), or prints usage: exit code 2 for a missing or unknown
// subcommand, 0 for help. kind names what args[0] is in the message
// about an unknown one.
func dispatch(ctx context.Context, prog, kind, usage string, subs map[string]subcommand, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	sub, rest := args[0], args[1:]
	if run, ok := subs[sub]; ok {
		return run(ctx, rest, stdout, stderr)
	}
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "%s: unknown %s %q\n\n%s", prog, kind, sub, usage)
	return 2
}

// newFlagSet returns the flag set of command name, which reports to
// stderr and whose usage is the text usage followed by the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	return fs
}

// parseFlags parses args with fs. When that ends the command, it returns
// the exit code and true: 0 when help was asked for (-h, --help; fs has
// printed the usage), 2 for a usage error (fs has said what is wrong).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	}
	return 2, true
}

// usageFailf writes the message, as a line, then a blank line and the
// usage of fs to fs's output, and returns 2, the exit code of a usage
// error: the message says what is wrong (a missing flag), the usage what
// to write.
func usageFailf(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(fs.Output(), format+"\n\n", args...)
	fs.Usage()
	return 2
}

// failf writes the message to w, as a line, and returns code.
func failf(w io.Writer, code int, format string, args ...any) int {
	fmt.Fprintf(w, format+"\n", args...)
	return code
}
