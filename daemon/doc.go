// Package daemon supervises a running leased server: it opens the
// operator listeners, the DHCP sockets and the lease store in the order
// the server needs them, builds the engine and restores the run-time
// reservations, then serves until its context ends, sweeping lapsed
// offers and expired leases on a ticker, reloading the configuration on
// request (a signal, or the control API), and stopping in order: the DHCP
// sockets and the operator API first, the lease store only once both have
// finished, so that no commit (a DHCPACK's, or a release through the API)
// meets a closed store. It also watches the free space of the lease
// store's file system and warns in the log before it runs out
// (SpaceWarner).
//
// A reload reads the configuration file again and swaps the engine when
// the new configuration validates; otherwise the running one stays. The
// settings that belong to what was opened at start (the interfaces, the
// lease store, its commit delay, the receive delay) take effect at the
// next start, and a reload that changes them says so.
//
// Everything the package needs comes in through Options: the context,
// the clock, the signal channel, the sweep interval. It keeps no global
// state and reads no flags; command-line parsing stays in cmd/leased.
//
// Not here: the protocol (package server decides every reply, RFC 2131),
// the sockets (package netio, including RFC 2131 §4.1 delivery), the
// control API's handlers (package control), the configuration's syntax
// and defaults (package config). This package implements no RFC section
// itself: it wires those packages together for the lifetime of a process.
package daemon
