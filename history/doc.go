// Package history keeps, for each DHCP client, the server's last
// decisions about it, and explains them: why a client has no address.
//
// A Book holds at most Options.Clients clients, each with its last
// Options.PerClient decisions (Record, a fixed-size value). A client is
// its client identifier (option 61) when it sends one, else its hardware
// type and address (RFC 2132 §9.14, RFC 4361), as lease.Lease.ClientID.
// When the book is full, the client seen least recently makes room. The
// memory is set aside when the book is made, so that noting a decision on
// the hot path allocates nothing; it costs one short lock of one of
// several shards.
//
// netio notes every decision of the engine (server.Outcome) and the
// requests it drops before the engine (rate limits, interfaces not
// served); the control API reads the book and Diagnose turns a client's
// history and the server's state of the moment (pool numbers, leases)
// into a plain-language diagnosis with what to do. The details are worked
// out when asked, never on the hot path.
//
// A Book also keeps every client's last FeedLen decisions in one ring,
// in the order noted and numbered (Event.Seq), for those who follow the
// server live: Since copies out what came after a number, and says how
// many the ring no longer held. Writing it is a copy under a lock of its
// own, allocation-free; a reader never holds the writer up.
//
// The history sits beside the engine rather than inside it: it also
// keeps the requests the engine never sees, and the engine's Outcome
// already says all it needs. Like the engine it is pure: the time of each
// decision is passed in, and it does no I/O.
//
// Client classes: Record.Classes holds the names of the classes a request
// matched, with those of its reservation (server.Outcome.Classes), copied
// in when the decision is noted, without allocating. Names, not indexes,
// are kept, so that a record still says the right classes after a reload
// renames or reorders them.
//
// The package is not a log: it forgets, by design, and it does not
// survive a restart.
package history
