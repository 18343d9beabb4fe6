package control

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"leased/dhcpv4"
	"leased/lease"
	"leased/prefix"
	"leased/reservations"
	"leased/server"
)

// DefaultSocket is where the server listens, and the client connects, when
// told nothing else.
const DefaultSocket = "/run/leased/control.sock"

// Paging of GET /v1/leases.
const (
	// DefaultLimit is the page size when the query sets none.
	DefaultLimit = 1000
	// MaxLimit is the largest page.
	MaxLimit = 10000
)

// Lease is a lease as the API shows it.
type Lease struct {
	Address netip.Addr   `json:"address"`
	Subnet  netip.Prefix `json:"subnet"`
	// ClientID is the client's identity in hex: its client identifier,
	// else its hardware type followed by its hardware address.
	ClientID string `json:"client_id"`
	// HWAddr is the hardware address, colon-separated hex.
	HWAddr string `json:"hw_addr"`
	// Hostname is the host name the client sent (or its reservation
	// gave). Its control characters are JSON escapes (\u001b, \u007f,
	// \u009b), as every string of the API's JSON; bytes that are not
	// UTF-8, which JSON text cannot hold, are U+FFFD here and given
	// whole by HostnameHex.
	Hostname string `json:"hostname"`
	// HostnameHex is the host name's bytes in hex when they are not
	// UTF-8, and absent otherwise. RawHostname gives the bytes back.
	HostnameHex string `json:"hostname_hex,omitempty"`
	// State is offered, bound, released, expired or declined.
	State string `json:"state"`
	// Start is when the lease was offered, granted or last changed state;
	// Expiry when it ends (or ended). UTC.
	Start  time.Time `json:"start,omitzero"`
	Expiry time.Time `json:"expiry,omitzero"`
	// Classes are the client classes of the client's latest request, and
	// of its reservation, since the server started or last reloaded;
	// absent when none.
	Classes []string `json:"classes,omitempty"`
	// FQDN is the name the server registers in the DNS for the lease
	// (dynamic DNS updates); absent when none.
	FQDN string `json:"fqdn,omitempty"`
}

// leaseOf converts an engine view.
func leaseOf(v server.LeaseView) Lease {
	l := Lease{
		Address: v.Addr, Subnet: v.Subnet, ClientID: hex.EncodeToString([]byte(v.ClientID)),
		HWAddr: v.HW.String(), Hostname: v.Hostname, State: v.State.String(),
		Start: utc(v.Start), Expiry: utc(v.Expiry), Classes: v.Classes, FQDN: v.FQDN,
	}
	if !utf8.ValidString(v.Hostname) {
		l.HostnameHex = hex.EncodeToString([]byte(v.Hostname))
	}
	return l
}

// RawHostname returns the host name as the client sent it: the bytes of
// HostnameHex when it is set and valid hex, else Hostname. Show it to
// people through escape.Text.
func (l Lease) RawHostname() string {
	if l.HostnameHex != "" {
		if b, err := hex.DecodeString(l.HostnameHex); err == nil {
			return string(b)
		}
	}
	return l.Hostname
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// LeasePage is one page of GET /v1/leases.
type LeasePage struct {
	Leases []Lease `json:"leases"`
	// Next, when set, is the query's After for the next page; it is
	// absent on the last page.
	Next netip.Addr `json:"next,omitzero"`
}

// LeaseQuery selects leases: those that match every filter set. The zero
// LeaseQuery selects every lease, DefaultLimit at a time.
type LeaseQuery struct {
	// Subnet keeps the leases inside the prefix.
	Subnet netip.Prefix
	// States keeps the leases in one of the states (offered, bound,
	// released, expired, declined).
	States []string
	// HWAddr keeps the leases of this hardware address (hex bytes).
	HWAddr string
	// ClientID keeps the leases of this client identity (hex bytes, as
	// Lease.ClientID shows it).
	ClientID string
	// Hostname keeps the leases whose host name matches this pattern,
	// without regard to case: * matches any run of characters, ? one
	// character (path.Match syntax).
	Hostname string
	// From and To keep the addresses from From through To.
	From, To netip.Addr
	// After starts the page after this address (LeasePage.Next).
	After netip.Addr
	// Limit is the most leases in a page: 1 to MaxLimit, 0 for
	// DefaultLimit.
	Limit int
}

// Values encodes q as the query string of GET /v1/leases.
func (q *LeaseQuery) Values() url.Values {
	v := url.Values{}
	if q.Subnet.IsValid() {
		v.Set("subnet", q.Subnet.String())
	}
	if len(q.States) > 0 {
		v.Set("state", strings.Join(q.States, ","))
	}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("mac", q.HWAddr)
	set("client-id", q.ClientID)
	set("hostname", q.Hostname)
	for k, a := range map[string]netip.Addr{"from": q.From, "to": q.To, "after": q.After} {
		if a.IsValid() {
			v.Set(k, a.String())
		}
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// leaseFilter is a parsed LeaseQuery.
type leaseFilter struct {
	first, last netip.Addr // the span of addresses to visit; invalid: open
	states      [lease.NumStates]bool
	anyState    bool
	hw          []byte
	clientID    string
	hostname    string // lower case pattern; "" = any
	limit       int
}

// errEmpty is returned by parseLeaseQuery for a query that can match
// nothing (after the last address).
var errEmpty = errors.New("empty")

// parseLeaseQuery parses and checks the query string of GET /v1/leases.
// Its errors name the parameter at fault.
func parseLeaseQuery(v url.Values) (leaseFilter, error) {
	f := leaseFilter{anyState: true, limit: DefaultLimit}
	for k, vs := range v {
		switch k {
		case "subnet", "state", "mac", "client-id", "hostname", "from", "to", "after", "limit":
			if len(vs) > 1 {
				return f, fmt.Errorf("%s given %d times", k, len(vs))
			}
		default:
			return f, fmt.Errorf("unknown parameter %q (want subnet, state, mac, client-id, hostname, from, to, after or limit)", k)
		}
	}
	addr := func(k string) (netip.Addr, error) {
		s := v.Get(k)
		if s == "" {
			return netip.Addr{}, nil
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, fmt.Errorf("%s=%q is not an IPv4 address", k, s)
		}
		return a, nil
	}
	from, err := addr("from")
	if err != nil {
		return f, err
	}
	to, err := addr("to")
	if err != nil {
		return f, err
	}
	if from.IsValid() && to.IsValid() && to.Less(from) {
		return f, fmt.Errorf("to=%v is before from=%v", to, from)
	}
	after, err := addr("after")
	if err != nil {
		return f, err
	}
	f.first, f.last = from, to
	if s := v.Get("subnet"); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			return f, fmt.Errorf("subnet=%q is not an IPv4 prefix such as 198.18.0.0/24", s)
		}
		p = p.Masked()
		lo, hi := p.Addr(), prefix.Last(p)
		if !f.first.IsValid() || f.first.Less(lo) {
			f.first = lo
		}
		if !f.last.IsValid() || hi.Less(f.last) {
			f.last = hi
		}
	}
	if after.IsValid() {
		next := after.Next()
		if !next.IsValid() || !next.Is4() {
			return f, errEmpty
		}
		if !f.first.IsValid() || f.first.Less(next) {
			f.first = next
		}
	}
	if f.first.IsValid() && f.last.IsValid() && f.last.Less(f.first) {
		return f, errEmpty
	}
	if s := v.Get("state"); s != "" {
		f.anyState = false
		for _, name := range strings.Split(s, ",") {
			st, err := lease.ParseLiveState(strings.TrimSpace(name))
			if err != nil {
				return f, fmt.Errorf("state=%q: %q is not offered, bound, released, expired or declined", s, name)
			}
			f.states[st] = true
		}
	}
	if s := v.Get("mac"); s != "" {
		b, err := reservations.ParseHex(s)
		if err != nil || len(b) > 16 {
			return f, fmt.Errorf("mac=%q is not a hardware address such as 02:00:00:00:00:01", s)
		}
		f.hw = b
	}
	if s := v.Get("client-id"); s != "" {
		b, err := reservations.ParseHex(s)
		if err != nil {
			return f, fmt.Errorf("client-id=%q: %v", s, err)
		}
		f.clientID = string(b)
	}
	if s := v.Get("hostname"); s != "" {
		f.hostname = strings.ToLower(s)
		if _, err := path.Match(f.hostname, ""); err != nil {
			return f, fmt.Errorf("hostname=%q is not a valid pattern: %v", s, err)
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return f, fmt.Errorf("limit=%q: want 1 to %d", s, MaxLimit)
		}
		f.limit = n
	}
	return f, nil
}

// match reports whether v passes the filters other than the span.
func (f *leaseFilter) match(v *server.LeaseView) bool {
	if !f.anyState && (int(v.State) >= len(f.states) || !f.states[v.State]) {
		return false
	}
	if f.hw != nil && string(v.HW.Bytes()) != string(f.hw) {
		return false
	}
	if f.clientID != "" && v.ClientID != f.clientID {
		return false
	}
	if f.hostname != "" {
		if ok, _ := path.Match(f.hostname, strings.ToLower(v.Hostname)); !ok {
			return false
		}
	}
	return true
}

// Reservation is a reservation as the API shows it.
type Reservation struct {
	Address netip.Addr   `json:"address"`
	Subnet  netip.Prefix `json:"subnet"`
	// The client, by one of these: the hardware address (colon-separated
	// hex), the client identifier (hex), or the relay agent information
	// (circuit-id and remote-id, hex).
	HWAddr         string `json:"hw_addr,omitempty"`
	ClientID       string `json:"client_id,omitempty"`
	RelayCircuitID string `json:"relay_circuit_id,omitempty"`
	RelayRemoteID  string `json:"relay_remote_id,omitempty"`
	Hostname       string `json:"hostname,omitempty"`
	// Classes are the client classes the reservation puts its client in.
	Classes []string `json:"classes,omitempty"`
	// Source is "config" for a reservation of the configuration file and
	// "runtime" for one added through the API.
	Source string `json:"source"`
}

// The values of Reservation.Source.
const (
	SourceConfig  = "config"
	SourceRuntime = "runtime"
)

func reservationOf(v server.ReservationView) Reservation {
	r := Reservation{
		Address: v.Addr, Subnet: v.Subnet, Hostname: v.Hostname, Classes: v.Classes, Source: SourceConfig,
		HWAddr: dhcpv4.FormatHex(v.HWAddr), ClientID: hex.EncodeToString(v.ClientID),
		RelayCircuitID: hex.EncodeToString([]byte(v.Relay.CircuitID)),
		RelayRemoteID:  hex.EncodeToString([]byte(v.Relay.RemoteID)),
	}
	if v.Runtime {
		r.Source = SourceRuntime
	}
	return r
}

// NewReservation is the body of POST /v1/reservations, and an entry of
// the reservations file: an address for a client named by exactly one of
// HWAddr and ClientID (hex bytes), with an optional host name and client
// classes. Its
// Reservation method checks the syntax of its fields.
type NewReservation = reservations.Entry

// SubnetPools is the utilisation of one subnet.
type SubnetPools struct {
	Subnet netip.Prefix `json:"subnet"`
	// Size, Used and Free add up the subnet's pools; Utilisation is
	// Used/Size (0 when Size is 0).
	Size        int     `json:"size"`
	Used        int     `json:"used"`
	Free        int     `json:"free"`
	Utilisation float64 `json:"utilisation"`
	// Leases counts the subnet's leases by state.
	Leases map[string]int `json:"leases"`
	// ReservedConfig and ReservedRuntime count the reservations.
	ReservedConfig  int    `json:"reserved_config"`
	ReservedRuntime int    `json:"reserved_runtime"`
	Pools           []Pool `json:"pools"`
}

// Pool is the utilisation of one address range.
type Pool struct {
	// Range is "first-last".
	Range string     `json:"range"`
	First netip.Addr `json:"first"`
	Last  netip.Addr `json:"last"`
	// The relay match that keeps the pool for some clients (hex), if any.
	RelayCircuitID string  `json:"relay_circuit_id,omitempty"`
	RelayRemoteID  string  `json:"relay_remote_id,omitempty"`
	Size           int     `json:"size"`
	Used           int     `json:"used"`
	Free           int     `json:"free"`
	Utilisation    float64 `json:"utilisation"`
	Bound          int     `json:"bound"`
	Offered        int     `json:"offered"`
	Declined       int     `json:"declined"`
	Reserved       int     `json:"reserved"`
}

func ratio(used, size int) float64 {
	if size <= 0 {
		return 0
	}
	return float64(used) / float64(size)
}

func subnetPoolsOf(st server.SubnetStats) SubnetPools {
	sp := SubnetPools{
		Subnet: st.Prefix, Size: st.Size, Used: st.Used, Free: st.Free, Utilisation: ratio(st.Used, st.Size),
		Leases:         map[string]int{},
		ReservedConfig: st.ReservedConfig, ReservedRuntime: st.ReservedRuntime,
		Pools: make([]Pool, 0, len(st.Pools)),
	}
	for _, s := range lease.LiveStates() {
		sp.Leases[s.String()] = st.Leases[s]
	}
	for _, p := range st.Pools {
		sp.Pools = append(sp.Pools, Pool{
			Range: p.First.String() + "-" + p.Last.String(), First: p.First, Last: p.Last,
			RelayCircuitID: hex.EncodeToString([]byte(p.Match.CircuitID)),
			RelayRemoteID:  hex.EncodeToString([]byte(p.Match.RemoteID)),
			Size:           p.Size, Used: p.Used, Free: p.Free, Utilisation: ratio(p.Used, p.Size),
			Bound: p.Bound, Offered: p.Offered, Declined: p.Declined, Reserved: p.Reserved,
		})
	}
	return sp
}

// ConfigStatus describes the configuration in effect.
type ConfigStatus struct {
	// File is the configuration file; empty in quick mode (flags only).
	File string `json:"file"`
	// SHA256 is the hash of the file's content as it was loaded, in hex.
	SHA256 string `json:"sha256,omitempty"`
	// Loaded is when it was loaded (at start or by the last reload).
	Loaded time.Time `json:"loaded,omitzero"`
	// Subnets is the number of subnets it configures.
	Subnets int `json:"subnets"`
	// Changes is what the last reload changed; nil before the first
	// reload.
	Changes *ConfigChanges `json:"changes,omitempty"`
}

// ConfigChanges is what a reload changed: the settings that took effect
// at once, and those that wait for the next start of the server.
type ConfigChanges struct {
	// Applied names the settings, by their key in the file
	// ("interfaces", "subnets", "lease-time"), whose new values the
	// reload put in effect.
	Applied []string `json:"applied"`
	// RestartNeeded are the settings whose value in the file loaded
	// differs from the one the server runs with, and which only a
	// restart puts in effect (such as lease-store and commit-delay).
	RestartNeeded []SettingChange `json:"restart_needed"`
}

// SettingChange is a setting whose value in the file is not yet in
// effect.
type SettingChange struct {
	// Key is the setting's key in the file, such as "lease-store".
	Key string `json:"key"`
	// Running is the value in effect, and Loaded the one of the file.
	Running string `json:"running"`
	Loaded  string `json:"loaded"`
}

// StoreStatus is the health of the lease store.
type StoreStatus struct {
	Dir string `json:"dir"`
	// Healthy is false while writes to the store fail: the server then
	// acknowledges no lease.
	Healthy          bool   `json:"healthy"`
	LogBytes         int64  `json:"log_bytes"`
	LiveRecords      int64  `json:"live_records"`
	Commits          uint64 `json:"commits"`
	FailedCommits    uint64 `json:"failed_commits"`
	WriteErrors      uint64 `json:"write_errors"`
	Compactions      uint64 `json:"compactions"`
	CompactionErrors uint64 `json:"compaction_errors"`
	// FreeBytes is the room left on the store's file system (-1 when
	// unknown); SnapshotBytes the size of the snapshot the store needs
	// room for. LowSpace is true while the free space is below twice
	// that (lease.StoreStats.LowOnSpace): the disk is about to fill.
	FreeBytes     int64 `json:"free_bytes"`
	SnapshotBytes int64 `json:"snapshot_bytes"`
	LowSpace      bool  `json:"low_space"`
	// Conflicts, Refused, TimedOut and Reconnects are a shared store's
	// (lease.StoreStats): commits refused because another server bound
	// the address first, refused because too many waited, that outlasted
	// the commit timeout, and returns to service after an outage.
	Conflicts  uint64 `json:"conflicts,omitempty"`
	Refused    uint64 `json:"refused,omitempty"`
	TimedOut   uint64 `json:"timed_out,omitempty"`
	Reconnects uint64 `json:"reconnects,omitempty"`
}

// Status is the answer of GET /v1/status.
type Status struct {
	Version       string       `json:"version"`
	Started       time.Time    `json:"started"`
	UptimeSeconds float64      `json:"uptime_seconds"`
	Config        ConfigStatus `json:"config"`
	// Store is absent when the server has no durable store.
	Store *StoreStatus `json:"store,omitempty"`
	// Leases counts every subnet's leases by state.
	Leases map[string]int `json:"leases"`
	// Reservations counts the reservations by source.
	Reservations map[string]int `json:"reservations"`
	// Outcomes counts the engine's decisions by reason (server.Reason:
	// "offer", "ack", "store-not-writable", ...) since the server
	// started; absent when the server did not say.
	Outcomes map[string]uint64 `json:"outcomes,omitempty"`
	// Hooks counts the lease events of each configured hook ("script",
	// "webhook"); absent when none is.
	Hooks map[string]HookStatus `json:"hooks,omitempty"`
	// Events counts the live event streams of GET /v1/events; absent
	// when the server keeps no history of its decisions.
	Events *EventStatus `json:"events,omitempty"`
	// DDNS counts the dynamic DNS updates; absent when they are off.
	DDNS *DDNSStatus `json:"ddns,omitempty"`
}

// ReloadResult is the answer of a successful POST /v1/reload.
type ReloadResult struct {
	Reloaded bool         `json:"reloaded"`
	Config   ConfigStatus `json:"config"`
}

// errorBody is the body of every error response.
type errorBody struct {
	Error string `json:"error"`
}
