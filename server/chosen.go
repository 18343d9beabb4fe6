package server

import (
	"hash/maphash"
	"time"

	"leased/dhcpv4"
)

// A client that takes another server's offer broadcasts a DHCPREQUEST
// naming that server, with the xid of its DHCPDISCOVER; the engine then
// withdraws its own offer (RFC 2131 §3.1 step 4). With several readers,
// the DHCPREQUEST can be handled before the DHCPDISCOVER it follows (both
// come within a millisecond): there is no offer to withdraw yet, and the
// DHCPDISCOVER would then set aside an address for an offer nobody takes.
// So each subnet remembers, for chosenMemory, the clients whose
// DHCPREQUEST named another server, with its xid; a DHCPDISCOVER of the
// same client and xid in that time gets no offer (ReasonChoseOther). A
// DHCPDISCOVER with another xid starts a new exchange and is answered,
// and the memory of the old one goes.
//
// Memory is bounded: at most chosenCap clients per subnet, the oldest
// forgotten first, each by a 64-bit hash of its key (a collision costs one
// DHCPDISCOVER of the same xid one offer, within seconds).
const (
	chosenMemory = 10 * time.Second
	chosenCap    = 1024
)

// choices is the memory of one subnet, guarded by its mu.
type choices struct {
	by   map[uint64]choice
	ring []uint64 // hashes in the order noted, up to chosenCap
	next int      // the slot of ring to reuse next, once full
}

type choice struct {
	xid  uint32
	at   int64 // when noted, Unix ns
	slot int   // where in ring
}

// note remembers that client h chose another server in exchange xid.
func (c *choices) note(h uint64, xid uint32, now time.Time) {
	if c.by == nil {
		c.by = make(map[uint64]choice)
	}
	if old, ok := c.by[h]; ok {
		c.by[h] = choice{xid: xid, at: now.UnixNano(), slot: old.slot}
		return
	}
	slot := len(c.ring)
	if slot < chosenCap {
		c.ring = append(c.ring, h)
	} else {
		slot = c.next
		c.next = (c.next + 1) % chosenCap
		if old, ok := c.by[c.ring[slot]]; ok && old.slot == slot {
			delete(c.by, c.ring[slot])
		}
		c.ring[slot] = h
	}
	c.by[h] = choice{xid: xid, at: now.UnixNano(), slot: slot}
}

// chose reports whether client h chose another server in exchange xid
// less than chosenMemory ago. It forgets the client's choice when the
// exchange is another one or the memory has lapsed.
func (c *choices) chose(h uint64, xid uint32, now time.Time) bool {
	ch, ok := c.by[h]
	if !ok {
		return false
	}
	if ch.xid == xid && now.UnixNano()-ch.at < int64(chosenMemory) {
		return true
	}
	delete(c.by, h)
	return false
}

// choseOther reports whether req, a DHCPDISCOVER from the client key in
// s, belongs to an exchange in which the client already chose another
// server. s.mu is held.
func (e *Engine) choseOther(s *subnet, key []byte, req *dhcpv4.Packet, now time.Time) bool {
	if len(s.chosen.by) == 0 {
		return false // nothing to hash for
	}
	return s.chosen.chose(maphash.Bytes(e.seed, key), req.XID, now)
}
