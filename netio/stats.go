package netio

import (
	"leased/dhcpv4"
	"leased/server"
)

// Stats are a Server's counters since it started.
type Stats struct {
	Received   uint64 // datagrams read
	Malformed  uint64 // dropped: not a parseable DHCP message
	Foreign    uint64 // dropped: direct request on an interface not served (unicastFromClient aside)
	Replies    uint64 // replies sent
	SendErrors uint64 // replies that failed to send
	Pauses     uint64 // reads put off for Options.ReceiveDelay
	// ByType counts received requests and sent replies by message type.
	ReceivedByType [dhcpv4.ForceRenew + 1]uint64
	SentByType     [dhcpv4.ForceRenew + 1]uint64
	// Outcomes counts the engine's outcomes by reason, and the requests
	// the rate limits dropped before the engine ("rate-limited").
	Outcomes map[string]uint64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Received:   s.received.Load(),
		Malformed:  s.malformed.Load(),
		Foreign:    s.foreign.Load(),
		Replies:    s.replies.Load(),
		SendErrors: s.sendErrors.Load(),
		Pauses:     s.pauses.Load(),
		Outcomes:   make(map[string]uint64),
	}
	for i := range st.ReceivedByType {
		st.ReceivedByType[i] = s.receivedByType[i].Load()
		st.SentByType[i] = s.sentByType[i].Load()
	}
	for _, r := range server.Reasons() {
		if n := s.outcomes[r].Load(); n > 0 {
			st.Outcomes[r.String()] = n
		}
	}
	return st
}
