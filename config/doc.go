// Package config reads the server's configuration file and turns it into a
// validated, typed Config: prefixes are netip.Prefix, addresses netip.Addr,
// times time.Duration and DHCP options their wire values, ready for the
// server engine to copy into replies.
//
// The file is YAML, read strictly. Every key is known, every value has one
// type, and anything else is refused with the file, the line and the key path
// at fault:
//
//	leased.yaml:14: subnets[0].pools[1]: 198.18.1.5-198.18.0.9 is reversed
//	leased.yaml:7: subnets[0].pool: unknown key (did you mean pools?)
//
// Parse and Load report every error they find, joined with errors.Join, in
// the order of the file. Each is an *Error. Reading happens in two phases:
// the first decodes each value on its own (YAML syntax, unknown and
// duplicate keys, wrong types, malformed addresses, durations and option
// values); the second, Config.Validate, checks the values against each other
// (pools inside their subnet and apart, reservations outside the pools,
// T1 < T2 < lease time, and so on). The second phase runs only when the
// first found nothing, so that one typo does not cause a cascade of
// confusing follow-on errors.
//
// This package is the one home of every default (defaults.go): the
// parser starts from them, and NewQuick, which builds the configuration of
// a server started with flags only (one interface, one subnet, one pool),
// starts from the same ones and validates with the same rules. LoadWithHash
// also returns the SHA-256 of the file's content, which the control API
// shows. Packages that take a Config (server, netio) set no defaults of
// their own.
//
// A Config can also be built in Go, for instance in tests; Validate then
// checks it with the same rules and names the faulty key by its path in
// the file format, without a line.
//
// Options are given by name for the common ones (routers, dns-servers,
// domain-search, classless-routes, ...) and by code with a typed or hex
// value for any other. They are encoded here, once, with the encoders of
// package dhcpv4: domain lists per RFC 3397 (option 119) and classless
// static routes per RFC 3442 (option 121); the other named options follow
// RFC 2132 §3 to §9. Options that the server sets itself for each reply
// (message type, server identifier, lease and renewal times, overload, and
// the options that only clients or relay agents send) are refused, with a
// pointer to the key that controls them where there is one.
//
// Config also owns the rules that hold outside the file: a reservation
// added while the server runs is checked by CheckRuntimeReservation, with
// the file's limits and host-name rule (dhcpv4.ValidHostname, RFC 1123
// §2.1); hex values are read by dhcpv4.ParseHex, and a prefix's last address
// is prefix.Last's.
//
// The reference of every key is docs/configuration.md in the repository;
// examples/leased.yaml is a complete example.
//
// Not here: reading the lease store, opening sockets, choosing addresses and
// deciding what to put in a particular reply. This package only says what
// the operator asked for, and refuses what cannot work.
package config
