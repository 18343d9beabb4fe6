// Package events carries lease events (a new binding, a renewal, a
// release, an expiry, a decline) from the server to the hooks that act on
// them: an executable run per event (Script) and an HTTP webhook
// (Webhook).
//
// The server never waits for a hook. It hands each event to a Queue,
// which copies it into a ring of fixed-size records without allocating or
// blocking; when the ring is full the event is dropped and counted. A
// bounded pool of workers takes the records out and runs the hook. Events
// of one address always go to the same worker, so that a hook sees the
// events of an address in the order they happened.
//
// What a hook receives is one JSON object (Record.AppendJSON) and, for
// the script, the same fields in environment variables (Record.Env); both
// sets are documented in docs/operations.md and kept stable.
//
// What it is not for: work that must not be lost. The queues live in
// memory; the events waiting in them when the server stops or crashes
// are gone, and an event that finds its queue full is dropped. Actions
// that must be redone after a restart (dynamic DNS updates) need a queue
// recorded with the lease in the same commit. It implements no RFC; the
// webhook's signature is HMAC-SHA256 (RFC 2104) of the body.
package events
