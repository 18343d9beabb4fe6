// Package postgres is the lease store that several leased servers share:
// the lease records live in a PostgreSQL database (version 13 or later;
// tested with 15), reached with pgx. It implements lease.Store and
// lease.Watcher, and reports what operators watch as lease.StoreStats.
//
// It is for servers that must keep serving when one of them dies, on the
// same links or behind relays that forward to all of them. It is not a
// cache: the database is the truth, and every Commit goes to it. It
// implements no RFC; the contracts it keeps are those of the design
// guide: no DHCPACK without a committed lease, and no address bound to
// two clients, across servers.
//
// # Schema
//
// The schema is versioned. Its migrations are SQL files embedded in the
// binary (migrations/NNNN_name.sql brings the schema to version NNNN);
// the table leased_schema_version records those applied. Init creates
// the schema in an empty database, Upgrade applies the missing
// migrations in one transaction, Version reads it ("leased db init",
// "leased db upgrade", "leased db version"). Open refuses a database
// without the schema (ErrNoSchema), with an older one (ErrSchemaTooOld:
// run leased db upgrade) or a newer one (ErrSchemaTooNew: this leased is
// older than the schema), so that servers never run on a schema they do
// not know.
//
// The records are the rows of leased_leases, keyed by address (inet);
// the client identifier, hardware address and host name are bytea (a
// client may send any bytes), the times timestamptz, kept to the
// microsecond: times come back in UTC, truncated to microseconds. A
// Free record deletes the row.
//
// Schema version 4 adds the DNS fields of a record (the lease store is
// the durable queue of DNS updates): fqdn (text), dns (the records kept:
// 1 forward, 2 reverse) and dns_state (0 pending, 1 added, 2 removed),
// empty and 0 for the rows from before. A commit writes them as given
// (normally DNSPending), through leased_commit_dns, which takes three
// arrays more than version 3's leased_commit. Version 4 keeps
// leased_commit, with version 3's arguments, for the servers of version
// 3 still running while the others are upgraded: it writes records
// without DNS fields. So the servers need not be restarted together for
// this upgrade; once restarted, a server of version 3 refuses the newer
// schema, as always.
//
// ConfirmDNS (lease.DNSConfirmer) sets dns_state where the record still
// has the Start confirmed (to the microsecond, as the table keeps it):
// UPDATE ... WHERE addr = c.addr AND start_time = c.start_time. The
// confirmations never go in a commit's batch: a goroutine of their own
// sends all those waiting in one statement (group commit again, on its
// own connection of the pool), with synchronous_commit off for its
// transaction (a confirmation lost with the database only makes an
// update be done again). It sends no notification: the other servers'
// view of the addresses does not depend on it.
//
// # Group commit, in one round trip
//
// Commit hands its leases to one writer goroutine and waits. The writer
// takes everything pending (up to Options.MaxBatch calls) and sends it
// as one statement, SELECT ... FROM leased_commit_dns(arrays...): the
// records as parallel arrays, each tagged with the call it belongs to.
// One statement outside an explicit transaction is one transaction, and
// pgx sends a prepared statement's bind and execute in one go (it
// prepares the statement once per connection, on first use), so a batch
// costs one round trip and one WAL flush; the statement returns
// only after COMMIT, and only then are the callers woken. Calls that come
// while a batch is in the database wait for the next one, so batches
// grow with the load; an idle store sends nothing and no timer delays a
// lone commit.
//
// A plpgsql function was chosen over one large SQL statement because the
// calls of a batch must be applied in order, each all or none, and may
// touch the same address (the second must see the first): a loop does
// that plainly, and with no subtransactions (an EXCEPTION block per call
// would cost one subtransaction each, and more than 64 in a transaction
// slow down every session of the database).
//
// # Uniqueness, judged by the database
//
// The function first takes a transaction-scoped advisory lock on every
// address of the batch, in address order. Every writer does the same,
// so two servers' batches that share addresses wait for each other and
// never deadlock, and an address without a row is locked as well as one
// with (row locks cannot lock a row that does not exist yet). Then, for
// each call, it reads the rows of its addresses; a call is applied only
// if, for each record, the address has no row, or its row is the same
// client's (same client identifier), or the row's lease has ended:
// released, expired, or bound or declined with its expiry passed. A
// record of state Expired may also not end a bound lease whose expiry
// has not passed: another server renewed it since this one looked. A call
// that fails these rules is refused whole, and the function returns the
// row that holds the address: Commit returns a *lease.ConflictError
// naming the address and the holder, while the other calls of the batch
// commit as usual.
//
// "Ended" is judged by the database's clock (clock_timestamp(), read
// once per batch after the locks), compared with the expiry the engine
// wrote. One clock judges for every server, so the servers' clocks need
// not agree with each other for two of them to agree on which leases
// have ended. A server whose clock runs ahead of the database's sees
// leases end early in its own view; the database then refuses the
// address (a ConflictError) rather than binding it twice. Keep the
// servers' and the database's clocks synchronised (NTP) anyway: a lease's
// expiry is written by the server's clock.
//
// # Timeouts and back-pressure
//
// A Commit waits at most Options.CommitTimeout, in line and in the
// database together, and then fails with ErrTimeout; the batch's
// statement is cancelled at the same timeout. At most Options.MaxWaiting
// calls wait for the next batch; beyond that Commit fails at once with
// ErrBusy. Both are counted (StoreStats.TimedOut, StoreStats.Refused).
// A commit that timed out may still have been committed: then its
// client holds the address in the database without a DHCPACK, which is
// harmless (it is that client's) and ends with the lease.
//
// # When the database is unreachable
//
// A batch that fails for want of the database (a broken connection, a
// server shutting down, a timeout), or a health check that fails (the
// store asks the database once a second when no commit reached it for
// that long), marks the store down: Writable reports false, the pool's
// connections are dropped, and Commit fails at once with an error
// wrapping ErrUnavailable. A goroutine tries to reach the database again,
// pausing 50 ms at first and doubling up to 1 s between attempts; when it
// answers, the store is up again (counted in StoreStats.Reconnects). The
// server engine asks Writable before it grants a lease, so no DHCPACK
// leaves without a committed lease meanwhile. Open itself fails when the
// database cannot be reached: a server does not start without its
// leases.
//
// StoreStats: Batches counts the round trips (one transaction each),
// Records the records committed, Conflicts, Refused and TimedOut the
// calls refused for each reason, Reconnects the returns to service;
// LiveRecords is counted by the database every 10 seconds.
//
// # Changes from other servers
//
// Each server tells the others what it wrote by NOTIFY on the channel
// leased_leases: payloads of "<server-id> <record>;<record>..." below the
// 8000-byte limit of a notification, each record its address, state,
// start and expiry (microseconds), hardware type, and hardware address,
// client identifier and host name in hex; and, for a record with DNS
// fields only (schema version 4), its FQDN in hex, DNS records and DNS
// state. A record without them has the 8 fields that servers of version
// 3 read; those ignore (and log) the notes of records with DNS fields,
// which reach them at their next resync. Watch listens on a connection
// of its own, skips the notifications of its own server id
// (Options.ServerID, unique per server), and delivers the others' records
// as lease.Change values. After connecting and after every reconnection
// it first delivers a resync: every row, between ResyncStart and
// ResyncEnd. It listens before it reads, so a change committed during the
// resync is delivered after it (perhaps again).
//
// The notifications are not sent by the commit transaction (schema
// version 3; versions 1 and 2 notified from leased_commit). PostgreSQL
// takes a lock of the whole database at a transaction's first NOTIFY and
// holds it until the commit's WAL record is flushed, to queue the
// notifications in commit order: commits that notify never share a
// flush, so two servers' batches took turns. Instead the writer wakes a
// batch's callers as soon as its COMMIT returned (their leases are
// durable), and then hands the notes of the records written to a
// notifier goroutine, which sends them, in the order of the batches and
// with whatever else queued meanwhile, as one statement, SELECT
// pg_notify(...) FROM unnest(...), outside any explicit transaction, on
// another of the pool's connections while the writer sends the next
// batch. NOTIFY gives that transaction an id and so a commit record, but
// it runs with synchronous_commit off (for that transaction only: a
// notification is not durable anyway), so it commits without waiting
// for a WAL flush and holds the lock briefly.
//
// The price is a window: a server that dies between a COMMIT and its
// notification, or whose notification fails (it logs it), leaves the
// others unaware of those records. So Watch also resyncs every
// Options.ResyncInterval (DefaultResyncInterval, a minute), on the same
// connection: a lost change reaches the others within that period. A
// full read was chosen over a "changed since" query on a per-row
// sequence because it also brings back deletions, which leave no row,
// and needs no schema change; it costs a read of every row per period
// per server. Meanwhile the database still refuses a binding of an
// address that another client holds, so a server that missed a change
// gets at worst a ConflictError, never a double binding. For the same
// reason the notifications of two servers are in commit order per
// server, but not across servers: a change to an address by one server
// may arrive after a later change to it by another (rare: both commits
// and the first server's notification must fall within the second's
// round trip); the next resync corrects the view.
//
// # Credentials and TLS
//
// Options.URL is a libpq connection string (URL or keyword=value); the
// password comes from Options.Password (a password file, in the server's
// configuration), or from the environment: pgx reads PGPASSWORD and
// ~/.pgpass as libpq does. TLS settings (sslmode, sslrootcert, sslcert,
// sslkey) go in the connection string.
package postgres
