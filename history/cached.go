package history

import (
	"net/netip"

	"leased/server"
)

// Cached returns st with its pool numbers and its leases by range looked
// at once, for explaining several decisions in a row: PoolStats and a
// range of leases cost a look at every lease. The result is for one
// query; it is not safe for concurrent use.
func Cached(st State) State {
	return &cachedState{State: st, ranges: map[[2]netip.Addr][]server.LeaseView{}}
}

type cachedState struct {
	State
	pools  []server.SubnetStats
	seen   bool
	ranges map[[2]netip.Addr][]server.LeaseView
}

func (c *cachedState) PoolStats() []server.SubnetStats {
	if !c.seen {
		c.pools, c.seen = c.State.PoolStats(), true
	}
	return c.pools
}

func (c *cachedState) Leases(first, last netip.Addr, fn func(server.LeaseView) bool) {
	k := [2]netip.Addr{first, last}
	vs, ok := c.ranges[k]
	if !ok {
		c.State.Leases(first, last, func(v server.LeaseView) bool {
			vs = append(vs, v)
			return true
		})
		c.ranges[k] = vs
	}
	for _, v := range vs {
		if !fn(v) {
			return
		}
	}
}
