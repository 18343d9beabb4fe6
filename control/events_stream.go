package control

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"leased/dhcpv4"
	"leased/history"
)

// This file is GET /v1/events: the server's decisions as they happen, as
// server-sent events, read from the history's global feed.

// Live events.
const (
	// MaxEventSubscribers is the most GET /v1/events streams at once;
	// one more is answered 503.
	MaxEventSubscribers = 16
	// EventPoll is how often a stream looks for new decisions.
	EventPoll = 250 * time.Millisecond
	// eventWriteTimeout bounds a write to a stream: a subscriber that
	// reads nothing for that long is dropped.
	eventWriteTimeout = 10 * time.Second
	// eventKeepAlive is how often a quiet stream sends a comment, so
	// that proxies and browsers keep it open.
	eventKeepAlive = 15 * time.Second
)

// Event is one decision of GET /v1/events: the data of an event named
// "decision".
type Event struct {
	Time time.Time `json:"time"`
	// Type is the request's message type ("DHCPDISCOVER").
	Type string `json:"type"`
	// Reply is offer, ack, nak or none.
	Reply string `json:"reply"`
	// Reason is the reason's token, as in leased_outcomes_total.
	Reason string `json:"reason"`
	// Addr is the address concerned, Subnet the subnet chosen, GIAddr
	// the relay's address; "" when none.
	Addr   string `json:"addr"`
	Client string `json:"client"` // the client's identity in hex
	HW     string `json:"hw"`
	Subnet string `json:"subnet"`
	GIAddr string `json:"giaddr"`
}

// EventStatus counts the live event streams.
type EventStatus struct {
	// Subscribers is the number of streams open now.
	Subscribers int64 `json:"subscribers"`
	// Sent counts the events sent, Dropped those that streams lost by
	// falling behind the feed (history.FeedLen decisions).
	Sent    uint64 `json:"sent"`
	Dropped uint64 `json:"dropped"`
}

// eventCounters are a Server's counters of the streams.
type eventCounters struct {
	subscribers   atomic.Int64
	sent, dropped atomic.Uint64
}

// EventStats returns the counters of the live event streams.
func (s *Server) EventStats() EventStatus {
	return EventStatus{Subscribers: s.events.subscribers.Load(), Sent: s.events.sent.Load(), Dropped: s.events.dropped.Load()}
}

// eventOf shows the decision e.
func eventOf(e *history.Event) Event {
	r := &e.Record
	ev := Event{
		Time: r.When().UTC(), Type: r.Type.String(), Reason: r.ReasonToken(), Reply: "none",
		Client: hex.EncodeToString(e.Client.Bytes()), HW: r.HW.String(),
	}
	switch r.Reply {
	case dhcpv4.Offer:
		ev.Reply = "offer"
	case dhcpv4.Ack:
		ev.Reply = "ack"
	case dhcpv4.Nak:
		ev.Reply = "nak"
	}
	if !r.Addr.IsZero() {
		ev.Addr = r.Addr.Addr().String()
	}
	if p := r.SubnetPrefix(); p.IsValid() {
		ev.Subnet = p.String()
	}
	if !r.GIAddr.IsZero() {
		ev.GIAddr = r.GIAddr.Addr().String()
	}
	return ev
}

// eventStream serves GET /v1/events.
func (s *Server) eventStream(w http.ResponseWriter, r *http.Request) {
	book := s.opts.History
	if book == nil {
		writeError(w, http.StatusNotFound, "this server keeps no history of its decisions")
		return
	}
	if s.events.subscribers.Add(1) > MaxEventSubscribers {
		s.events.subscribers.Add(-1)
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "too many event streams open; try again later")
		return
	}
	defer s.events.subscribers.Add(-1)
	seq := book.Seq()
	if id, err := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && id < seq {
		seq = id // a browser reconnecting: carry on where it was
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteString(": leased decisions\nretry: 2000\n\n")
	ticks, stop := s.eventTicks()
	defer stop()
	quiet := 0
	for {
		var lost uint64
		seq, lost = book.Since(seq, func(e *history.Event) bool {
			buf.WriteString("id: ")
			buf.WriteString(strconv.FormatUint(e.Seq, 10))
			buf.WriteString("\nevent: decision\ndata: ")
			b, _ := json.Marshal(eventOf(e)) // plain strings and a time: it cannot fail
			buf.Write(b)
			buf.WriteString("\n\n")
			s.events.sent.Add(1)
			return true
		})
		s.events.dropped.Add(lost)
		if buf.Len() == 0 && quiet >= int(eventKeepAlive/EventPoll) {
			buf.WriteString(": keep-alive\n\n")
		}
		if buf.Len() > 0 {
			quiet = 0
			_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout)) // a socket deadline: wall time
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			buf.Reset()
		}
		quiet++
		select {
		case <-r.Context().Done():
			return
		case <-ticks:
		}
	}
}

// eventTicks returns the ticks at which a stream looks for new decisions.
func (s *Server) eventTicks() (<-chan time.Time, func()) {
	if s.testTicks != nil {
		return s.testTicks, func() {}
	}
	t := time.NewTicker(EventPoll)
	return t.C, t.Stop
}
