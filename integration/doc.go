//go:build linux

// Package integration tests leased end to end, on virtual Ethernet links in
// network namespaces: "leased server" against real DHCP clients and a
// second real DHCP server; "leased client" (client_test.go) against leased
// server, dnsmasq and ISC Kea (kea-dhcp4-server, run in the foreground
// with its own configuration); "leased relay" (relay_test.go) between real
// clients and leased server or Kea, and leased server behind ISC dhcrelay;
// and the control API and metrics (control_test.go); and a network boot
// (netboot_test.go): a QEMU machine's iPXE firmware (qemu-system-x86,
// ipxe-qemu) gets its boot files from leased, loads a script over TFTP
// (dnsmasq in TFTP-only mode) and chains one over HTTP; and dynamic DNS
// updates (ddns_test.go): real clients naming themselves (dhclient with
// the client FQDN option of RFC 4702, udhcpc with a host name), and a
// real BIND 9 (bind9) and Knot DNS (knot), each started by the test with
// a TSIG key and dynamic zones (dnsserver_test.go), whose zones dig
// (bind9-dnsutils) reads back: names added and removed (RFC 2136), a
// name held by another client left alone (RFC 4703), a wrong key refused,
// and the DNS server down or unreachable, also across a restart of leased.
//
// The package holds tests only. Each test builds its own network: a
// namespace holding a bridge (the "link"), and one namespace per host (a
// server, a client, a packet sender), each joined to the bridge by a veth
// pair. Addresses come from the benchmarking range 198.18.0.0/15 (RFC 2544)
// and nothing is created in, or sent to, the initial namespace. A test
// removes what it created when it ends, and stops only the processes it
// started, by their process IDs. Network namespaces are Linux's, so the
// package builds on Linux only.
//
// The clients are the ones packaged by Debian: ISC dhclient
// (isc-dhcp-client) and busybox udhcpc (udhcpc). The second server is
// dnsmasq (dnsmasq-base). Each client runs with a hook script of the test's
// own that puts the leased address on the interface and records the
// variables the client passed to it, one file per invocation, so a test
// reads what the client understood of the server's replies. The server
// runs with --log-level debug; its log has one line per event
// ("event=offer", "event=ack", "event=offer-withdrawn", ...), which the
// tests read back, and "leased leases list" shows its store.
//
// What is checked, against RFC 2131:
//
//   - §3.1: DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK, and the
//     configuration reaching the client (address and mask, routers, DNS
//     servers, domain name, lease time); many clients at once; a pool
//     running out; two servers on one link, where the server not chosen
//     returns its offered address to the pool at once (step 4).
//   - §3.2 and §4.3.2: a client that restarts with a remembered lease
//     (INIT-REBOOT) gets it back, also from a server that was killed and
//     restarted in between.
//   - §4.4.5: renewal at T1 by unicast keeps the address.
//   - §4.4.6 and §4.3.4: a released address goes back to the pool.
//   - Robustness: malformed datagrams are dropped and logged, and the
//     server keeps serving.
//
// And of the command: SIGTERM and SIGINT stop the server cleanly with its
// leases stored; SIGHUP reloads the configuration file and keeps every
// lease, and refuses a file that does not validate; --user drops root
// after the sockets are open. And of the newcomers' material: every file
// in examples/ loads, and scripts/demo.sh shows a whole exchange and
// cleans up after itself.
//
// The tests need root (to create namespaces) and the commands ip, dhclient,
// udhcpc and dnsmasq. Without root they skip; without a command they skip
// too, except when the environment variable CI is "true", where a missing
// command is a failure, because continuous integration must run them all:
//
//	sudo apt-get install iproute2 isc-dhcp-client udhcpc busybox dnsmasq-base \
//		isc-dhcp-relay kea-dhcp4-server qemu-system-x86 ipxe-qemu \
//		bind9 bind9-dnsutils knot knot-dnsutils
//	sudo go test -count=1 ./integration/
//
// Not here: tests of the protocol engine's decisions one by one (package
// server, without root and without sleeping), of the wire format (package
// dhcpv4) and of the lease store (package lease/journal). These tests wait
// on real clients' timers; they assert what happened, never how fast.
package integration
