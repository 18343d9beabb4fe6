package netio

import (
	"sync/atomic"

	"leased/dhcpv4"
	"leased/history"
	"leased/server"
)

// notes is where a Server notes its decisions; the zero value notes
// nothing. It holds the concrete *history.Book, not an interface, so that
// the compiler sees that the request and arrival passed do not escape.
type notes struct{ book atomic.Pointer[history.Book] }

// SetHistory makes the server note every decision in b: the engine's,
// and the requests dropped before the engine by the rate limits or for
// arriving on an interface not served; nil notes nothing. It may be
// called at any time. Noting allocates nothing (history.Book.Note).
func (s *Server) SetHistory(b *history.Book) { s.history.book.Store(b) }

// noteOutcome notes the engine's decision about req, with the client
// classes it reports (out.Classes), whose names the book copies in.
func (s *Server) noteOutcome(req *dhcpv4.Packet, in *server.Arrival, out *server.Outcome) {
	if b := s.history.book.Load(); b != nil {
		b.Note(s.opts.Clock(), req, in, out)
	}
}

// noteDrop notes a request dropped before the engine: by the rate limits
// (rateLimited) or for its interface.
func (s *Server) noteDrop(req *dhcpv4.Packet, in *server.Arrival, rateLimited bool) {
	switch b := s.history.book.Load(); {
	case b == nil:
	case rateLimited:
		b.NoteRateLimited(s.opts.Clock(), req, in)
	default:
		b.NoteForeign(s.opts.Clock(), req, in)
	}
}
