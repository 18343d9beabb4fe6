package control

import (
	"bytes"
	"cmp"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"leased/lease"
	"leased/prefix"
	"leased/server"
)

// This file is the dashboard's leases page: every lease of the engine
// filtered, sorted and cut into pages on the server, so that the page
// stays fast with a hundred thousand leases.

// LeasesPerPage is the number of rows of a page of the leases page.
const LeasesPerPage = 100

// leaseSorts are the orders of the leases page.
var leaseSorts = []string{"addr", "hw", "hostname", "state", "expiry"}

// leaseView is a parsed query of the leases page.
type leaseView struct {
	Q, State, Subnet string
	Sort, Order      string
	PageNo           int

	q      []byte // lower case
	state  lease.State
	states bool // state is set
	prefix netip.Prefix
}

// parseLeaseView reads the query string of the leases page. What it does
// not understand it ignores, as a page should.
func parseLeaseView(v url.Values) leaseView {
	lv := leaseView{Q: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort"), Order: v.Get("order"), PageNo: 1}
	lv.q = []byte(strings.ToLower(lv.Q))
	if !slices.Contains(leaseSorts, lv.Sort) {
		lv.Sort = "addr"
	}
	if lv.Order != "desc" {
		lv.Order = "asc"
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		lv.PageNo = n
	}
	for _, st := range lease.LiveStates() {
		if st.String() == v.Get("state") {
			lv.State, lv.state, lv.states = st.String(), st, true
		}
	}
	if p, err := netip.ParsePrefix(v.Get("subnet")); err == nil && p.Addr().Is4() {
		lv.prefix, lv.Subnet = p.Masked(), p.Masked().String()
	}
	return lv
}

// match reports whether v passes the filters.
func (lv *leaseView) match(v *server.LeaseView) bool {
	if lv.states && v.State != lv.state {
		return false
	}
	if lv.prefix.IsValid() && !lv.prefix.Contains(v.Addr) {
		return false
	}
	if len(lv.q) == 0 {
		return true
	}
	var buf [2 * 256]byte
	if bytes.Contains(v.Addr.AppendTo(buf[:0]), lv.q) ||
		bytes.Contains(appendHW(buf[:0], v.HW.Bytes()), lv.q) {
		return true
	}
	if len(v.ClientID) <= 255 && bytes.Contains(appendHexString(buf[:0], v.ClientID), lv.q) {
		return true
	}
	return containsFold(v.Hostname, lv.q)
}

// appendHW appends hw as colon-separated lower-case hex.
func appendHW(b, hw []byte) []byte {
	const digits = "0123456789abcdef"
	for i, c := range hw {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&15])
	}
	return b
}

// appendHexString appends s in lower-case hex.
func appendHexString(b []byte, s string) []byte {
	const digits = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		b = append(b, digits[s[i]>>4], digits[s[i]&15])
	}
	return b
}

// containsFold reports whether s contains sub, which is lower case,
// without regard to ASCII case, without allocating.
func containsFold(s string, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lower(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// compareFold compares a and b without regard to ASCII case, without
// allocating.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmp.Compare(lower(a[i]), lower(b[i])); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// leaseRow is a lease as the leases page keeps it while sorting: no
// more than it shows.
type leaseRow struct {
	addr     [4]byte
	HW       lease.HardwareAddr
	State    lease.State
	Hostname string
	expiry   int64 // Unix nanoseconds; 0 for none
}

// Addr returns the lease's address.
func (r leaseRow) Addr() netip.Addr { return netip.AddrFrom4(r.addr) }

// Expiry returns when the lease ends or ended.
func (r leaseRow) Expiry() time.Time {
	if r.expiry == 0 {
		return time.Time{}
	}
	return time.Unix(0, r.expiry)
}

// HWAddr shows the hardware address.
func (r leaseRow) HWAddr() string { return r.HW.String() }

// StateName shows the state.
func (r leaseRow) StateName() string { return r.State.String() }

// Bound reports whether the lease may be released.
func (r leaseRow) Bound() bool { return r.State == lease.Bound }

// compare orders rows by key, then by address.
func compareRows(key string) func(a, b *leaseRow) int {
	return func(a, b *leaseRow) int {
		c := 0
		switch key {
		case "hw":
			c = cmp.Or(cmp.Compare(a.HW.Type, b.HW.Type), bytes.Compare(a.HW.Addr[:a.HW.Len], b.HW.Addr[:b.HW.Len]))
		case "hostname":
			c = compareFold(a.Hostname, b.Hostname)
		case "state":
			c = cmp.Compare(a.State.String(), b.State.String())
		case "expiry":
			c = cmp.Compare(a.expiry, b.expiry)
		}
		if c == 0 {
			c = bytes.Compare(a.addr[:], b.addr[:])
		}
		return c
	}
}

// leasesResult is the data of the leases page.
type leasesResult struct {
	View             leaseView
	Rows             []leaseRow
	Total            int
	First, Last      int // the rows shown, from 1; 0 when none
	Pages            int
	Prev, Next       string // links to the other pages; "" when none
	States, Subnets  []string
	SortLinks        map[string]string
	SortMark         map[string]string
	ReleaseQuestions bool
}

// queryLeases runs lv over the engine's leases.
func (s *Server) queryLeases(lv leaseView) leasesResult {
	res := leasesResult{View: lv}
	first, last := netip.Addr{}, netip.Addr{}
	if lv.prefix.IsValid() {
		first, last = lv.prefix.Addr(), prefix.Last(lv.prefix)
	}
	skip := (lv.PageNo - 1) * LeasesPerPage
	if lv.Sort == "addr" && lv.Order == "asc" {
		// The engine's own order: keep only the page.
		s.opts.Engine.Leases(first, last, func(v server.LeaseView) bool {
			if lv.match(&v) {
				if res.Total >= skip && res.Total < skip+LeasesPerPage {
					res.Rows = append(res.Rows, rowOf(&v))
				}
				res.Total++
			}
			return true
		})
	} else {
		// Sized by the last such query: growing a slice of 100,000 rows
		// would copy it over and over.
		all := make([]leaseRow, 0, max(1024, s.lastMatched.Load()+1024))
		s.opts.Engine.Leases(first, last, func(v server.LeaseView) bool {
			if lv.match(&v) {
				all = append(all, rowOf(&v))
			}
			return true
		})
		// Sort indices: a row is too big to move about cheaply.
		idx := make([]int32, len(all))
		for i := range idx {
			idx[i] = int32(i)
		}
		by := compareRows(lv.Sort)
		slices.SortFunc(idx, func(i, j int32) int { return by(&all[i], &all[j]) })
		if lv.Order == "desc" {
			slices.Reverse(idx)
		}
		res.Total = len(all)
		s.lastMatched.Store(int64(len(all)))
		for i := skip; i < min(skip+LeasesPerPage, len(idx)); i++ {
			res.Rows = append(res.Rows, all[idx[i]])
		}
	}
	res.Pages = max(1, (res.Total+LeasesPerPage-1)/LeasesPerPage)
	if len(res.Rows) > 0 {
		res.First, res.Last = skip+1, skip+len(res.Rows)
	}
	if lv.PageNo > 1 {
		res.Prev = lv.link(lv.Sort, lv.Order, min(lv.PageNo-1, res.Pages))
	}
	if lv.PageNo < res.Pages {
		res.Next = lv.link(lv.Sort, lv.Order, lv.PageNo+1)
	}
	res.SortLinks, res.SortMark = map[string]string{}, map[string]string{}
	for _, k := range leaseSorts {
		order := "asc"
		if k == lv.Sort && lv.Order == "asc" {
			order = "desc"
		}
		res.SortLinks[k] = lv.link(k, order, 1)
		res.SortMark[k] = "none"
		if k == lv.Sort {
			res.SortMark[k] = lv.Order + "ending"
		}
	}
	for _, st := range lease.LiveStates() {
		res.States = append(res.States, st.String())
	}
	res.Subnets = s.subnetNames()
	return res
}

// link returns the leases page of lv sorted by key in order, page n.
func (lv *leaseView) link(key, order string, n int) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": lv.Q, "state": lv.State, "subnet": lv.Subnet} {
		if s != "" {
			v.Set(k, s)
		}
	}
	v.Set("sort", key)
	v.Set("order", order)
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	return "/ui/leases?" + v.Encode()
}

func rowOf(v *server.LeaseView) leaseRow {
	r := leaseRow{addr: v.Addr.As4(), HW: v.HW, Hostname: v.Hostname, State: v.State}
	if !v.Expiry.IsZero() {
		r.expiry = v.Expiry.UnixNano()
	}
	return r
}

func (s *Server) leasesPage(w http.ResponseWriter, r *http.Request) {
	res := s.queryLeases(parseLeaseView(r.URL.Query()))
	s.render(w, r, http.StatusOK, "leases", "Leases", res)
}

// subnetNames returns the subnets, for the filter of the leases page.
// They come from the latest sample of the pools when there is one, so
// that the page does not look at every lease twice: the subnets change
// only when the configuration is reloaded, and the page's filter works
// on any prefix.
func (s *Server) subnetNames() []string {
	var ps []netip.Prefix
	if smp, ok := s.samples.latest(); ok && s.opts.Clock().Sub(smp.at) < 2*SampleInterval {
		for p := range smp.use {
			ps = append(ps, p)
		}
		slices.SortFunc(ps, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	} else {
		for _, st := range s.opts.Engine.PoolStats() {
			ps = append(ps, st.Prefix)
		}
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
