// Package server is the DHCPv4 server engine: given a request and where it
// arrived, it decides the reply, or silence with the reason.
//
// The engine knows no sockets. Engine.Handle takes a parsed request and an
// Arrival (interface, its addresses, source and destination), fills in a
// reply Packet the caller owns, and returns an Outcome that says what
// happened and why, for logs and counters. Destination says where the reply
// must go (RFC 2131 §4.1); package netio sends it.
//
// It implements the server side of RFC 2131 §4.3: DHCPDISCOVER (§4.3.1),
// DHCPREQUEST in the SELECTING, INIT-REBOOT, RENEWING and REBINDING states
// (§4.3.2), DHCPDECLINE (§4.3.3), DHCPRELEASE (§4.3.4) and DHCPINFORM
// (§4.3.5), with the reply fields of Table 3, the client identifier echo of
// RFC 6842 and the relay agent information echo of RFC 3046 §2.2.
//
// Address choice on DISCOVER follows §4.3.1: the client's reservation, then
// its current binding, then its previous address if still free, then the
// requested address if valid and free, then a free address from the pool
// (package alloc chooses, preferring addresses not recently used).
//
// The offers a subnet holds for clients it knows nothing of are capped
// (config.Config.OfferLimit, offers.go): beyond the cap, such a client is
// offered a free address that is not set aside (ReasonOfferUnheld), which
// §4.3.1 allows, so that a flood of DHCPDISCOVERs from random hardware
// addresses cannot hold the pool while new clients still get addresses.
// Rate limits are applied before the engine (package netio); the reason
// they drop with, ReasonRateLimited, is the engine's so that every drop is
// counted by one list.
//
// Client classes (config.ClientClass, classes.go) are evaluated once per
// request, after its subnet is chosen, into a fixed-size bit set with
// matchers compiled in New, so that classifying allocates nothing. A
// request in a class with Ignore gets no answer (ReasonIgnoredClass). The
// classes, with those of the client's reservation, decide the pools it
// may draw from (config.Range.Classes, DenyClasses, beside the relay
// match), its options (global < subnet < pool of the reply's address <
// class, the later class winning < reservation; package config merges the
// levels below the subnet into the subnet's options), its lease times,
// its IPv6-only preferred wait (v6only.go), and its boot fields (boot.go):
// siaddr, sname and file in the header (RFC 2131 §2), options 66 and 67
// when asked for or when the fields are needed for options (RFC 2132
// §9.3-§9.5), and the PXE answers of RFC 4578 §2.1 and §2.3 (option 60
// "PXEClient", option 97 echoed). The classes of a client's latest
// request are kept with its binding for LeaseView.
//
// Every acknowledged lease is committed to the lease.Store before Handle
// returns: when the commit fails, the engine does not acknowledge. No lock
// is held across the commit, and each subnet has its own lock, so different
// subnets never contend.
//
// While the store cannot commit (a store with a Writable method says so;
// a store without one always can), the engine keeps serving what needs no
// new promise: a client's DHCPREQUEST for the bound lease it holds on
// stable storage (RENEWING, REBINDING, INIT-REBOOT or SELECTING it again)
// is acknowledged for the time that lease has left, in whole seconds, with
// T1 and T2 at 0.5 and 0.875 of it (§4.4.5), and nothing is written
// (ReasonAckKept); so is such a renewal whose commit fails before the
// store says it cannot commit; a DHCPDISCOVER of such a client is offered
// the same. A
// client that would need a new commitment gets no DHCPOFFER, so that it
// picks a server that can commit, and its DHCPREQUEST gets what a failed
// commit gets, silence; both are counted as ReasonNotWritable. NAKs,
// which promise nothing, are sent as ever.
//
// What the engine sees of the sender is checked where a reply or a change
// of state could be abused. A relayed request whose giaddr is no unicast
// relay address (a network or broadcast address of a subnet served, this
// network, loopback, multicast, the reserved 240/4 or an address of this
// host) is dropped as ReasonBadGIAddr: its reply would go there, port 67,
// and make the server a reflector. With Config.CheckReleaseSource, a
// DHCPRELEASE or DHCPDECLINE that the lease's holder could not have sent
// is dropped as ReasonWrongSource (guard.go has the rules: a direct
// DHCPRELEASE from the lease's address, a direct DHCPDECLINE from 0.0.0.0
// on the lease's link, a relayed one from a relay of the lease's subnet,
// each with the lease's hardware address).
//
// A DHCPREQUEST that names another server may be handled before the
// DHCPDISCOVER of the same exchange, when two readers take them at once:
// there is no offer to withdraw yet. Each subnet remembers such clients
// for ten seconds (at most 1,024, oldest forgotten first, by a hash of
// the client key) with the xid, and a DHCPDISCOVER of the same client and
// xid then gets no offer (ReasonChoseOther) rather than an offer that
// would hold an address for nobody; a new xid is a new exchange and is
// answered (chosen.go).
//
// In a subnet with dynamic DNS updates on (config.DDNS), the engine names
// each lease it binds and says which DNS records the server keeps for it
// (RFC 4702 §3.1, §4: the client FQDN option's S, O, E and N flags, the
// host name option, the reservation's hostname, names cleaned to RFC 1123
// §2.1 labels and qualified with the subnet's suffix), stores both with
// the lease, and answers the client's option 81 in the DHCPOFFER and
// DHCPACK. The updates themselves are not here: the lease store is their
// queue, and package ddns makes them (ddns.go says the rules).
//
// Time comes from the clock passed to New; the engine sleeps on nothing and
// starts no goroutines. Expired leases, lapsed offers and declined
// addresses whose probation ended return to the pool lazily when met and in
// Sweep, which the caller runs periodically.
//
// Operators see the engine through copies: LeaseView (whose State is a
// lease.State: offered, bound, released, expired or declined), SubnetStats
// and ReservationView. They act on it with ForceRelease and with
// AddReservation and RemoveReservation, whose reservations are checked by
// config.CheckRuntimeReservation, the rule of the configuration file.
// Reloadable offers all of these on whichever engine is current.
//
// Not here: sockets and reply delivery (package netio), configuration files
// (package config), durable storage (package lease and its sub-packages).
package server
