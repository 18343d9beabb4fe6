package control

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"leased/dhcpv4"
	"leased/history"
	"leased/reservations"
)

// This file is GET /v1/clients/{id}/why: a client's recent decisions
// (history.Book) and the diagnosis of the latest, with the server's state
// of the moment.

// Why is the answer of GET /v1/clients/{id}/why.
type Why struct {
	// Query is the id asked about: a client identifier or hardware
	// address in hex, or an IPv4 address.
	Query string `json:"query"`
	// Clients are the clients that match, the one heard from last first.
	Clients []WhyClient `json:"clients"`
	// Kept is what the history keeps: the most clients, and the decisions
	// per client.
	Kept HistoryBounds `json:"kept"`
}

// HistoryBounds are the bounds of the client history.
type HistoryBounds struct {
	Clients   int `json:"clients"`
	PerClient int `json:"per_client"`
}

// WhyClient is one client's history and diagnosis.
type WhyClient struct {
	// ClientID is the client's identity in hex, as Lease.ClientID.
	ClientID string `json:"client_id"`
	// HWAddr is the hardware address of its last request.
	HWAddr string `json:"hw_addr,omitempty"`
	// Lease is its lease now, if it has one.
	Lease *Lease `json:"lease,omitempty"`
	// History are its last decisions, oldest first.
	History []Decision `json:"history"`
	// Diagnosis explains the latest decision.
	Diagnosis Diagnosis `json:"diagnosis"`
}

// Decision is one decision about a client, as the API shows it.
type Decision struct {
	Time time.Time `json:"time"`
	// Type is the request's message type ("DHCPDISCOVER"), XID its
	// transaction ID in hex.
	Type string `json:"type"`
	XID  string `json:"xid"`
	// Interface is the arrival interface; Relay, CircuitID and RemoteID
	// the relay agent's address and its option 82 identifiers.
	Interface string     `json:"interface,omitempty"`
	Relay     netip.Addr `json:"relay,omitzero"`
	CircuitID string     `json:"circuit_id,omitempty"`
	RemoteID  string     `json:"remote_id,omitempty"`
	// CIAddr, Requested and ServerID are what the client sent.
	CIAddr    netip.Addr `json:"ciaddr,omitzero"`
	Requested netip.Addr `json:"requested_address,omitzero"`
	ServerID  netip.Addr `json:"server_id,omitzero"`
	// Subnet is the subnet chosen; absent when none.
	Subnet netip.Prefix `json:"subnet,omitzero"`
	// Classes are the client classes matched, comma-separated.
	Classes string `json:"classes,omitempty"`
	// Verdict is OFFER, ACK, NAK or silence; Reason the reason's token
	// (as in leased_outcomes_total), Address the address concerned.
	Verdict string     `json:"verdict"`
	Reason  string     `json:"reason"`
	Address netip.Addr `json:"address,omitzero"`
	// Detail is the reason with its details, as the server's state is
	// now.
	Detail string `json:"detail"`
}

// Diagnosis is history.Diagnosis as the API shows it.
type Diagnosis struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	Summary string `json:"summary"`
	Advice  string `json:"advice,omitempty"`
}

func (s *Server) why(w http.ResponseWriter, r *http.Request) {
	book := s.opts.History
	if book == nil {
		writeError(w, http.StatusNotFound, "this server keeps no client history")
		return
	}
	id := r.PathValue("id")
	found, ok := s.findClients(book, id)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a client identifier or hardware address in hex, such as 02:00:00:00:00:01, nor an IPv4 address", id))
		return
	}
	clients, per := book.Capacity()
	out := Why{Query: id, Clients: []WhyClient{}, Kept: HistoryBounds{Clients: clients, PerClient: per}}
	now := s.opts.Clock()
	st := history.Cached(s.opts.Engine)
	for i := range found {
		out.Clients = append(out.Clients, s.whyClient(&found[i], st, now))
	}
	if len(out.Clients) == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no history and no lease of %s: the server has not heard from it since it started, "+
			"or forgot it (the history keeps the last %d clients)", id, clients))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// findClients returns the histories that match id: an IPv4 address the
// client was given, asked for or had; or a client identifier or hardware
// address in hex. A client with a lease and no history comes with no
// records. ok is false when id is neither.
func (s *Server) findClients(book *history.Book, id string) ([]history.Client, bool) {
	var (
		found  []history.Client
		holder []byte // the client that holds the address asked about
	)
	add := func(cs ...history.Client) {
		for _, c := range cs {
			if !slices.ContainsFunc(found, func(f history.Client) bool { return bytes.Equal(f.ID, c.ID) }) {
				found = append(found, c)
			}
		}
	}
	if a, err := netip.ParseAddr(id); err == nil && a.Is4() {
		add(book.Find(func(_ []byte, r *history.Record) bool {
			return r.Addr.Addr() == a || r.Requested.Addr() == a || r.CIAddr.Addr() == a
		})...)
		if v, ok := s.opts.Engine.LeaseByAddr(a); ok {
			holder = []byte(v.ClientID)
			add(clientOrEmpty(book, holder))
		}
	} else {
		b, err := reservations.ParseHex(id)
		if err != nil || len(b) > 255 {
			return nil, false
		}
		if c, ok := book.Lookup(b); ok {
			add(c)
		}
		if len(b) <= 16 {
			if c, ok := book.Lookup(append([]byte{1}, b...)); ok { // an Ethernet address
				add(c)
			}
			add(book.ByHardwareAddr(b)...)
		}
		if len(found) == 0 {
			if v, ok := s.opts.Engine.LeaseOfClient(b); ok {
				add(clientOrEmpty(book, []byte(v.ClientID)))
			} else if v, ok := s.opts.Engine.LeaseOfHardwareAddr(b); ok {
				add(clientOrEmpty(book, []byte(v.ClientID)))
			}
		}
	}
	slices.SortStableFunc(found, func(a, b history.Client) int {
		if ah, bh := bytes.Equal(a.ID, holder), bytes.Equal(b.ID, holder); ah != bh {
			if ah {
				return -1
			}
			return 1
		}
		return -cmpLatest(&a, &b)
	})
	return found, true
}

// clientOrEmpty returns the history of the client id, or an empty one.
func clientOrEmpty(book *history.Book, id []byte) history.Client {
	if c, ok := book.Lookup(id); ok {
		return c
	}
	return history.Client{ID: id}
}

// cmpLatest orders clients by the time of their latest record.
func cmpLatest(a, b *history.Client) int {
	var ta, tb int64
	if len(a.Records) > 0 {
		ta = a.Latest().Time
	}
	if len(b.Records) > 0 {
		tb = b.Latest().Time
	}
	return int(min(max(ta-tb, -1), 1))
}

// whyClient shows one client's history, lease and diagnosis.
func (s *Server) whyClient(c *history.Client, st history.State, now time.Time) WhyClient {
	wc := WhyClient{ClientID: hex.EncodeToString(c.ID), History: make([]Decision, 0, len(c.Records))}
	if v, ok := s.opts.Engine.LeaseOfClient(c.ID); ok {
		l := leaseOf(v)
		wc.Lease = &l
	}
	for i := range c.Records {
		wc.History = append(wc.History, decisionOf(&c.Records[i], st, now))
	}
	if len(c.Records) > 0 {
		wc.HWAddr = c.Latest().HW.String()
	} else if wc.Lease != nil {
		wc.HWAddr = wc.Lease.HWAddr
	}
	d := history.Diagnose(c, st, now)
	wc.Diagnosis = Diagnosis{Verdict: d.Verdict, Reason: d.Reason, Summary: d.Summary, Advice: d.Advice}
	return wc
}

// decisionOf shows one record.
func decisionOf(r *history.Record, st history.State, now time.Time) Decision {
	return Decision{
		Time: r.When().UTC(), Type: r.Type.String(), XID: fmt.Sprintf("%08x", r.XID),
		Interface: r.IfName.String(), Relay: r.GIAddr.Addr(), CircuitID: idText(r.Circuit.Bytes()), RemoteID: idText(r.Remote.Bytes()),
		CIAddr: r.CIAddr.Addr(), Requested: r.Requested.Addr(), ServerID: r.ServerID.Addr(), Subnet: r.SubnetPrefix(),
		Classes: r.Classes.String(), Verdict: r.Verdict(), Reason: r.ReasonToken(), Address: r.Addr.Addr(),
		Detail: history.Explain(r, st, now).Summary,
	}
}

// idText shows a relay agent's identifier: as text when it is printable
// ASCII, else in hex.
func idText(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return dhcpv4.FormatHex(b)
		}
	}
	return string(b)
}

// Why returns the history and diagnosis of the client whose identifier or
// hardware address, in hex, or whose address is id.
func (c *Client) Why(ctx context.Context, id string) (Why, error) {
	var w Why
	err := c.do(ctx, http.MethodGet, "/v1/clients/"+url.PathEscape(id)+"/why", nil, nil, &w)
	return w, err
}
