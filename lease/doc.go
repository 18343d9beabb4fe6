// Package lease defines the lease record that the server engine hands out
// and the Store interface through which it makes leases durable.
//
// A Lease binds one IPv4 address to one client for a time. The engine keeps
// its own indexes (by address and by client) and calls Store.Commit before it
// acknowledges anything: an acknowledged lease must survive a crash, power
// loss or restart (see the durability contract in the design guide).
//
// State is the one list of the states a lease goes through (RFC 2131
// §4.3: offered, bound, released, expired, declined), shared by the
// stores, the server engine's operator views and the control API; Free is
// the tombstone a store writes for a deleted record. An offer lives only in
// a server's memory and is never stored.
//
// StoreStats is what operators see of any store, whatever its backend
// (the control API's status and the metrics show it), with LowOnSpace, the
// rule for warning before a store's disk fills. A store that can tell
// whether it can commit now offers a Writable method; the server engine
// asks it, and while it says no, grants nothing that needs a new commit.
//
// A store that several servers share (package lease/postgres) adds two
// things to the contract. Its Commit may refuse a lease whose address
// another server bound first, with a *ConflictError naming the holder:
// the engine then does not acknowledge, and learns who holds the
// address. And it offers Watcher, through which a server learns of the
// records the other servers commit (with a full resync whenever it may
// have missed some), to keep its view of the pools current.
//
// A record also carries the DNS name the server registers for the lease
// (FQDN), which DNS records it keeps (DNS) and how far their updates have
// gone (DNSState): the lease store is the durable queue of DNS updates.
// A store that keeps the DNS state offers DNSConfirmer, through which
// the DNS updater records, without waiting for stable storage, that a
// record's updates are done; a confirmation applies only to the record
// with the Start it names, never to a later record of the address.
//
// This package holds no I/O of its own. Memory is a Store that keeps leases
// in memory only, for tests and for deployments that accept losing leases on
// restart; the durable store lives in a sub-package.
//
// Not here: address choice (package alloc) and the protocol rules (package
// server).
package lease
