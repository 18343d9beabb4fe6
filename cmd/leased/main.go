// Command leased is a DHCPv4 server, client and relay agent.
//
// Usage:
//
//	leased server  ...   serve DHCP leases
//	leased client  ...   obtain and keep a lease for an interface
//	leased relay   ...   relay DHCP between networks
//	leased leases  ...   inspect and manage the lease database
//	leased version       print the version
//
// This file holds flags and wiring only; the protocol lives in the packages.
package main

import (
	"context"
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
  reload    make the running server reload its configuration file
  bench     load-test a DHCP server (DORA from many simulated clients)
  version   print the version

Run "leased <command> -h" for the flags of a command.
`

// run dispatches a subcommand and returns the process exit code:
// 0 success, 1 failure, 2 usage error or not built yet.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "leased %s\n", version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "leases":
		return leasesCommand(ctx, rest, stdout, stderr)
	case "reservations":
		return reservationsCommand(ctx, rest, stdout, stderr)
	case "pools":
		return poolsCommand(ctx, rest, stdout, stderr)
	case "status":
		return statusCommand(ctx, rest, stdout, stderr)
	case "reload":
		return reloadCommand(ctx, rest, stdout, stderr)
	case "server":
		return serverCommand(ctx, rest, stdout, stderr)
	case "relay":
		return relayCommand(ctx, rest, stdout, stderr)
	case "bench":
		return benchCommand(ctx, rest, stdout, stderr)
	case "client":
		return clientCommand(ctx, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "leased: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
