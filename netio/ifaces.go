package netio

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// ifaceInfo is what the server needs of one interface.
type ifaceInfo struct {
	name  string
	addrs []netip.Prefix // IPv4 only
}

// ifaceTable caches interface names and addresses by index. Lookups are
// lock-free; a miss or a stale table triggers one refresh at a time.
type ifaceTable struct {
	snap    atomic.Pointer[ifaceSnapshot]
	mu      sync.Mutex // serialises refreshes
	maxAge  time.Duration
	now     func() time.Time
	listAll func() ([]net.Interface, error)
}

type ifaceSnapshot struct {
	at    time.Time
	by    map[int]*ifaceInfo
	local []netip.Addr // the IPv4 addresses of every interface
}

func newIfaceTable(now func() time.Time) *ifaceTable {
	t := &ifaceTable{maxAge: 10 * time.Second, now: now, listAll: net.Interfaces}
	t.refresh()
	return t
}

// lookup returns the interface with index i, refreshing the table when it
// is unknown or the table is old.
func (t *ifaceTable) lookup(i int) *ifaceInfo {
	s := t.snap.Load()
	if info := s.by[i]; info != nil && t.now().Sub(s.at) < t.maxAge {
		return info
	}
	t.refresh()
	return t.snap.Load().by[i]
}

// local returns the IPv4 addresses of every interface, as of the last
// refresh. The slice is shared: do not change it.
func (t *ifaceTable) local() []netip.Addr { return t.snap.Load().local }

func (t *ifaceTable) refresh() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.snap.Load(); s != nil && t.now().Sub(s.at) < time.Second {
		return // another worker just did
	}
	snap := &ifaceSnapshot{at: t.now(), by: make(map[int]*ifaceInfo)}
	ifs, err := t.listAll()
	if err == nil {
		for _, ifc := range ifs {
			info := &ifaceInfo{name: ifc.Name}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				ipn, ok := a.(*net.IPNet)
				if !ok {
					continue
				}
				ip, ok := netip.AddrFromSlice(ipn.IP)
				if !ok {
					continue
				}
				ip = ip.Unmap()
				if !ip.Is4() {
					continue
				}
				ones, _ := ipn.Mask.Size()
				info.addrs = append(info.addrs, netip.PrefixFrom(ip, ones))
				snap.local = append(snap.local, ip)
			}
			snap.by[ifc.Index] = info
		}
	}
	t.snap.Store(snap)
}
