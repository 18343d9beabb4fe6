package server

import (
	"net/netip"

	"leased/alloc"
	"leased/config"
	"leased/dhcpv4"
)

// pools is a subnet's dynamic pools, grouped by what keeps them for some
// clients: the relay match (config.Range.Match) and the client classes
// (config.Range.Classes, DenyClasses). Restricted pools come first, in
// the order of the configuration; the pools open to every client share a
// single alloc.Pool at the end.
type pools struct {
	sets []poolSet
}

type poolSet struct {
	match   config.RelayMatch
	classes classSet // when not empty, only clients in one of these
	deny    classSet // never clients in one of these
	pool    *alloc.Pool
}

// poolKey groups the ranges of one restriction.
type poolKey struct {
	match         config.RelayMatch
	classes, deny classSet
}

func newPools(ranges []config.Range, ct *classTable) (pools, error) {
	var order []poolKey
	byKey := map[poolKey][]alloc.Range{}
	for _, r := range ranges {
		k := poolKey{match: r.Match, classes: ct.set(r.Classes), deny: ct.set(r.DenyClasses)}
		if _, seen := byKey[k]; !seen && k != (poolKey{}) {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], alloc.Range{First: r.First, Last: r.Last})
	}
	order = append(order, poolKey{}) // the open pools last
	var ps pools
	for _, k := range order {
		p, err := alloc.NewPool(byKey[k]...)
		if err != nil {
			return pools{}, err
		}
		ps.sets = append(ps.sets, poolSet{match: k.match, classes: k.classes, deny: k.deny, pool: p})
	}
	return ps, nil
}

// serves reports whether the set may serve a client whose relay sent
// rel's sub-options and whose request is in rel's classes.
func (s *poolSet) serves(rel relayIDs) bool {
	return s.match.Matches(rel.circuit, rel.remote) &&
		(s.classes.isEmpty() || s.classes.intersects(rel.classes)) && !s.deny.intersects(rel.classes)
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

// eligible reports whether a is in a pool that may serve the client rel
// describes.
func (ps *pools) eligible(a netip.Addr, rel relayIDs) bool {
	s := ps.find(a)
	return s != nil && s.serves(rel)
}

// Next takes a free address for the client: from the pools kept for its
// relay match or classes first, then from the pools for everyone.
func (ps *pools) Next(rel relayIDs) (netip.Addr, bool) {
	for i := range ps.sets {
		s := &ps.sets[i]
		if !s.serves(rel) {
			continue
		}
		if a, ok := s.pool.Next(); ok {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// poolOptions are the options of one pool range (config.Range.Options),
// sent in replies that give an address of the range.
type poolOptions struct {
	first, last netip.Addr
	opts        []config.Option
	index       [256]uint8 // index+1 into opts, 0 = absent
}

// newPoolOptions returns the options of the ranges that have any.
func newPoolOptions(ranges []config.Range) []poolOptions {
	var out []poolOptions
	for _, r := range ranges {
		if len(r.Options) == 0 {
			continue
		}
		po := poolOptions{first: r.First, last: r.Last, opts: r.Options}
		for j, o := range r.Options {
			if j < 255 {
				po.index[o.Code] = uint8(j + 1)
			}
		}
		out = append(out, po)
	}
	return out
}

// poolOptionsFor returns the options of the pool range that holds a, or
// nil when a is not valid or its range has none.
func (s *subnet) poolOptionsFor(a netip.Addr) *poolOptions {
	if !a.IsValid() {
		return nil
	}
	for i := range s.poolOpts {
		po := &s.poolOpts[i]
		if po.first.Compare(a) <= 0 && a.Compare(po.last) <= 0 {
			return po
		}
	}
	return nil
}

// option returns the pool's value of c.
func (po *poolOptions) option(c dhcpv4.OptionCode) ([]byte, bool) {
	if po == nil {
		return nil, false
	}
	if j := po.index[c]; j > 0 {
		return po.opts[j-1].Value, true
	}
	return nil, false
}

// relayIDs are what decides which pools may serve a client: the
// circuit-id and remote-id a relay added to its request (RFC 3046 §2.0),
// empty for a direct request, and the client classes it is in.
type relayIDs struct {
	circuit, remote []byte
	classes         classSet
}

// relayOf returns the pool criteria of req, in the classes cls.
func relayOf(req *dhcpv4.Packet, cls classSet) relayIDs {
	rel := relayIDs{classes: cls}
	info, ok := req.Options.Get(dhcpv4.OptRelayAgentInfo)
	if !ok {
		return rel
	}
	rel.circuit, _ = dhcpv4.SubOption(info, dhcpv4.RelayCircuitID)
	rel.remote, _ = dhcpv4.SubOption(info, dhcpv4.RelayRemoteID)
	return rel
}
