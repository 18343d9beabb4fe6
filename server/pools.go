package server

import (
	"net/netip"

	"leased/alloc"
	"leased/config"
	"leased/dhcpv4"
)

// pools is a subnet's dynamic pools, grouped by the relay match that keeps
// them for some clients (config.Range.Match). Pools with a match come
// first, in the order of the configuration; the pools without one share a
// single alloc.Pool at the end.
type pools struct {
	sets []poolSet
}

type poolSet struct {
	match config.RelayMatch
	pool  *alloc.Pool
}

func newPools(ranges []config.Range) (pools, error) {
	var order []config.RelayMatch
	byMatch := map[config.RelayMatch][]alloc.Range{}
	for _, r := range ranges {
		if _, seen := byMatch[r.Match]; !seen && !r.Match.IsZero() {
			order = append(order, r.Match)
		}
		byMatch[r.Match] = append(byMatch[r.Match], alloc.Range{First: r.First, Last: r.Last})
	}
	order = append(order, config.RelayMatch{}) // the unmatched pools last
	var ps pools
	for _, m := range order {
		p, err := alloc.NewPool(byMatch[m]...)
		if err != nil {
			return pools{}, err
		}
		ps.sets = append(ps.sets, poolSet{match: m, pool: p})
	}
	return ps, nil
}

// startAt moves each pool's cursor to percent of its size, where the
// next search for a free address begins (config.Config.PoolStartPercent).
func (ps *pools) startAt(percent int) {
	for i := range ps.sets {
		p := ps.sets[i].pool
		if a, ok := p.At(p.Size() * percent / 100); ok {
			p.Seek(a)
		}
	}
}

// find returns the set whose ranges hold a, or nil.
func (ps *pools) find(a netip.Addr) *poolSet {
	for i := range ps.sets {
		if ps.sets[i].pool.Contains(a) {
			return &ps.sets[i]
		}
	}
	return nil
}

// Contains reports whether a is in one of the pools.
func (ps *pools) Contains(a netip.Addr) bool { return ps.find(a) != nil }

// IsFree reports whether a is in a pool and free.
func (ps *pools) IsFree(a netip.Addr) bool {
	s := ps.find(a)
	return s != nil && s.pool.IsFree(a)
}

// Take marks a taken.
func (ps *pools) Take(a netip.Addr) bool {
	s := ps.find(a)
	return s != nil && s.pool.Take(a)
}

// Free returns a to its pool.
func (ps *pools) Free(a netip.Addr) bool {
	s := ps.find(a)
	return s != nil && s.pool.Free(a)
}

// eligible reports whether a is in a pool that may serve a client whose
// relay sent these relay agent information sub-options.
func (ps *pools) eligible(a netip.Addr, rel relayIDs) bool {
	s := ps.find(a)
	return s != nil && s.match.Matches(rel.circuit, rel.remote)
}

// Next takes a free address for the client: from the pools kept for its
// relay match first, then from the pools for everyone.
func (ps *pools) Next(rel relayIDs) (netip.Addr, bool) {
	for i := range ps.sets {
		s := &ps.sets[i]
		if !s.match.Matches(rel.circuit, rel.remote) {
			continue
		}
		if a, ok := s.pool.Next(); ok {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// relayIDs are the circuit-id and remote-id a relay added to a request
// (RFC 3046 §2.0), empty for a direct request.
type relayIDs struct {
	circuit, remote []byte
}

func relayOf(req *dhcpv4.Packet) relayIDs {
	info, ok := req.Options.Get(dhcpv4.OptRelayAgentInfo)
	if !ok {
		return relayIDs{}
	}
	c, _ := dhcpv4.SubOption(info, dhcpv4.RelayCircuitID)
	r, _ := dhcpv4.SubOption(info, dhcpv4.RelayRemoteID)
	return relayIDs{circuit: c, remote: r}
}
