package netio

import (
	"leased/dhcpv4"
	"leased/events"
	"leased/server"
)

// SetEvents makes the server publish a lease event to h for every lease
// the engine commits, renews, releases or declines; nil publishes
// nothing. It may be called at any time. Publishing neither blocks nor
// allocates (events.Hooks.Publish).
func (s *Server) SetEvents(h *events.Hooks) { s.events.Store(h) }

// publishEvent publishes the lease event of the engine's decision, if any.
func (s *Server) publishEvent(req, reply *dhcpv4.Packet, out *server.Outcome) {
	h := s.events.Load()
	if h == nil {
		return
	}
	var r events.Record
	if events.FromOutcome(&r, s.opts.Clock(), req, reply, out) {
		h.Publish(&r)
	}
}
