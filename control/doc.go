// Package control is the operator's way into a running leased server: an
// HTTP API that speaks JSON, its client (which the leased command uses),
// its listeners, and the Prometheus metrics.
//
// # The API
//
// Server serves the API, versioned under /v1:
//
//	GET    /v1/status                    version, uptime, configuration file and hash, store health and space, outcomes
//	GET    /v1/leases?FILTERS            leases in address order, paged (see LeaseQuery)
//	GET    /v1/leases/{addr}             one lease by address
//	POST   /v1/leases/{addr}/release     end a lease now (server.Engine.ForceRelease)
//	GET    /v1/clients/{id}/lease        one lease by client identifier or hardware address (hex)
//	GET    /v1/clients/{id}/why          a client's last decisions and the diagnosis of the latest
//	                                     (history.Book, history.Diagnose); {id} may be an address
//	GET    /v1/reservations              reservations of the file and of run time (source)
//	POST   /v1/reservations              add a run-time reservation (NewReservation)
//	DELETE /v1/reservations/{addr}       remove a run-time reservation
//	GET    /v1/pools                     utilisation per subnet and pool
//	POST   /v1/reload                    reload the configuration file, as SIGHUP does; the answer's
//	                                     config.changes says what took effect (applied) and what
//	                                     waits for a restart (restart_needed)
//	GET    /v1/events                    the decisions as they happen, as server-sent events
//	                                     (history.Book.Since), bounded: a slow stream loses events
//
// Errors are a JSON object {"error": "..."} with a status that says what
// kind: 400 a malformed request or filter, 401 a missing or wrong token,
// 404 no such lease, reservation, subnet or endpoint, 405 a method the
// endpoint does not take, 409 a conflict (the address is in use or
// reserved, a reservation of the file, no file to reload), 422 a
// configuration file that does not validate, 500 a failure of the server
// (the lease store, the reservations file).
//
// By default the API listens on a Unix socket (DefaultSocket) of mode
// 0600, so that the file system decides who may use it. It can also listen
// on TCP, where every request must carry "Authorization: Bearer TOKEN";
// ListenTCP refuses an address that is not loopback when there is no
// token, since anyone who can reach it could release leases.
//
// # The web dashboard
//
// The same Server serves a dashboard under /ui/ (docs/dashboard.md):
// pages drawn on the server with html/template from web/ (embedded with
// the script and style sheet, no framework, no build step), whose
// actions call the JSON API above from web/static/app.js. The charts of
// the last hour come from Sample, which RunSampler calls every
// SampleInterval; the leases page filters, sorts and pages the engine's
// leases on the server. On TCP, (*Server).TCPHandler adds the login: the
// token posted to /ui/login gives a session cookie (a bounded table in
// memory), and a request that changes something under a session must
// carry the session's CSRF token (CSRFHeader); the Unix socket and the
// bearer token need neither.
//
// # Connection limits
//
// The control plane must never take the descriptors the DHCP service
// needs. Limit wraps a listener in a LimitedListener that caps the
// connections open at once (in all, per source address, and not yet
// authenticated: RequireToken marks a connection that presented the
// token), closes a connection over a cap as soon as it is accepted,
// closes one that presents no valid token within
// ConnLimits.UnauthenticatedTimeout, and waits out an accept that finds
// no descriptor (EMFILE) with a growing pause instead of spinning.
// DefaultLimits derives the caps of the socket, the TCP listener and the
// metrics from the descriptor limit (DescriptorLimit), keeping
// DescriptorMargin descriptors for the lease store and the sockets.
//
// # Run-time reservations
//
// Reservations added through the API live in the engine (server.Engine
// AddReservation) and are kept across restarts by the ReservationSaver of
// Options (package reservations keeps them in a file beside the lease
// store), called after every change; a change that cannot be kept is
// undone. A reload carries them over to the new engine.
//
// # Metrics
//
// NewRegistry returns a Prometheus registry of the package's own (the
// process-wide default registry is not used) whose collectors read the
// live counters of the sockets (netio.Server.Stats), the engine
// (server.Engine.PoolStats) and the lease store (lease.StoreStats, which
// any backend fills, such as journal.Store.StoreStats) at scrape time;
// CommitTimer times lease commits by wrapping the store given to the
// engine. docs/operations.md lists every metric.
//
// # Not here
//
// No protocol logic (package server decides everything), no configuration
// parsing (package config), no file of its own (package reservations
// keeps the run-time reservations), no knowledge of a store backend (it
// sees lease.StoreStats). Unlike the protocol packages, this package
// touches the operating system, for its listeners only: they belong with
// the API they serve rather than in the command's wiring.
package control
