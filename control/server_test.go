package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/lease"
	"leased/reservations"
	"leased/server"
)

// call makes a request of the fixture's API and returns the status, the
// body and the headers.
func (f *fixture) call(method, path, body string) (int, []byte, http.Header) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.http.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// errorOf returns the "error" of a JSON error body, failing the test if
// the body is not one.
func errorOf(t *testing.T, body []byte) string {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	msg, ok := e["error"].(string)
	if !ok || len(e) != 1 || msg == "" {
		t.Fatalf(`error body %s, want {"error": "..."}`, body)
	}
	return msg
}

func addrsOf(ls []Lease) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Address.String())
	}
	return out
}

func TestStatus(t *testing.T) {
	f := newFixture(t)
	st, err := f.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != "1.2.3" || st.UptimeSeconds != 90 || !st.Started.Equal(t0.Add(-90*time.Second)) {
		t.Errorf("version %q uptime %v started %v", st.Version, st.UptimeSeconds, st.Started)
	}
	if st.Config.File != "leased.yaml" || st.Config.SHA256 != "abc123" || st.Config.Subnets != 2 {
		t.Errorf("config %+v", st.Config)
	}
	if st.Store != nil {
		t.Errorf("store %+v without a StoreInfo", st.Store)
	}
	want := map[string]int{"bound": 3, "offered": 1, "released": 1, "expired": 0, "declined": 0}
	for k, v := range want {
		if st.Leases[k] != v {
			t.Errorf("leases[%s] = %d, want %d (all: %v)", k, st.Leases[k], v, st.Leases)
		}
	}
	if st.Reservations[SourceConfig] != 1 || st.Reservations[SourceRuntime] != 0 {
		t.Errorf("reservations %v", st.Reservations)
	}
}

type fakeStore struct{ st lease.StoreStats }

func (s fakeStore) StoreStats() lease.StoreStats { return s.st }
func (s fakeStore) Dir() string                  { return "/var/lib/leased" }

func TestStatusStoreHealth(t *testing.T) {
	for _, writable := range []bool{true, false} {
		t.Run(fmt.Sprintf("writable=%v", writable), func(t *testing.T) {
			e, err := server.New(testConfig(), &testStore{}, func() time.Time { return t0 })
			if err != nil {
				t.Fatal(err)
			}
			api, err := NewServer(Options{Engine: e, Store: fakeStore{lease.StoreStats{Writable: writable, LogBytes: 4096, LiveRecords: 7, Compactions: 2, WriteErrors: 1,
				Conflicts: 3, Refused: 4, TimedOut: 5, Reconnects: 6}}})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/status", nil))
			var st Status
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != 200 {
				t.Fatalf("status %d %v: %s", rec.Code, err, rec.Body)
			}
			want := StoreStatus{Dir: "/var/lib/leased", Healthy: writable, LogBytes: 4096, LiveRecords: 7, Compactions: 2, WriteErrors: 1,
				Conflicts: 3, Refused: 4, TimedOut: 5, Reconnects: 6}
			if st.Store == nil || *st.Store != want {
				t.Errorf("store %+v, want %+v", st.Store, want)
			}
		})
	}
}

func TestStatusStoreSpaceAndOutcomes(t *testing.T) {
	e, err := server.New(testConfig(), &testStore{}, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		free, snapshot int64
		low            bool
	}{
		{"room", 64 << 20, 2 << 20, false},
		{"below twice the snapshot", 3 << 20, 2 << 20, true},
		{"unknown", -1, 2 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api, err := NewServer(Options{
				Engine:   e,
				Store:    fakeStore{lease.StoreStats{Writable: true, FreeBytes: tc.free, SnapshotBytes: tc.snapshot}},
				Outcomes: func() map[string]uint64 { return map[string]uint64{"store-not-writable": 4, "ack-kept": 2} },
			})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/status", nil))
			var st Status
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != 200 {
				t.Fatalf("status %d %v: %s", rec.Code, err, rec.Body)
			}
			if st.Store == nil || st.Store.FreeBytes != tc.free || st.Store.SnapshotBytes != tc.snapshot || st.Store.LowSpace != tc.low {
				t.Errorf("store %+v, want %d free, %d snapshot, low space %v", st.Store, tc.free, tc.snapshot, tc.low)
			}
			if st.Outcomes["store-not-writable"] != 4 || st.Outcomes["ack-kept"] != 2 {
				t.Errorf("outcomes %v", st.Outcomes)
			}
		})
	}
}

func TestLeasesList(t *testing.T) {
	f := newFixture(t)
	all := []string{"198.18.0.100", "198.18.0.101", "198.18.0.102", "198.18.0.103", "198.19.0.100"}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"everything in address order", "", all},
		{"state bound", "state=bound", []string{"198.18.0.100", "198.18.0.101", "198.19.0.100"}},
		{"two states", "state=offered,released", []string{"198.18.0.102", "198.18.0.103"}},
		{"subnet", "subnet=198.19.0.0/24", []string{"198.19.0.100"}},
		{"subnet not in canonical form", "subnet=198.19.0.7/24", []string{"198.19.0.100"}},
		{"hardware address", "mac=02:00:00:00:00:02", []string{"198.18.0.101"}},
		{"hardware address without colons", "mac=020000000004", []string{"198.18.0.103"}},
		{"client identifier", "client-id=01:02:00:00:00:00:02", []string{"198.18.0.101"}},
		{"identity of a client without identifier", "client-id=01020000000001", []string{"198.18.0.100"}},
		{"host name, any case", "hostname=beta-laptop", []string{"198.18.0.101"}},
		{"host name pattern", "hostname=*a*", []string{"198.18.0.100", "198.18.0.101"}},
		{"address range", "from=198.18.0.101&to=198.18.0.102", []string{"198.18.0.101", "198.18.0.102"}},
		{"range and subnet intersect", "from=198.18.0.102&subnet=198.18.0.0/24", []string{"198.18.0.102", "198.18.0.103"}},
		{"filters combine", "state=bound&subnet=198.18.0.0/24&hostname=alpha", []string{"198.18.0.100"}},
		{"after", "after=198.18.0.102", []string{"198.18.0.103", "198.19.0.100"}},
		{"after the last address", "after=255.255.255.255", nil},
		{"after beyond to", "after=198.18.0.200&to=198.18.0.150", nil},
		{"no match", "mac=02:00:00:00:00:77", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, hdr := f.call("GET", "/v1/leases?"+tt.query, "")
			if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
				t.Fatalf("status %d %s: %s", code, hdr.Get("Content-Type"), body)
			}
			var p LeasePage
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Leases == nil {
				t.Error(`"leases" is null, want a list`)
			}
			if got := addrsOf(p.Leases); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if p.Next.IsValid() {
				t.Errorf("next %v on the only page", p.Next)
			}
		})
	}

	t.Run("lease fields", func(t *testing.T) {
		l, err := f.client.Lease(context.Background(), f.leases["beta"])
		if err != nil {
			t.Fatal(err)
		}
		want := Lease{Address: mustAddr("198.18.0.101"), Subnet: netip.MustParsePrefix("198.18.0.0/24"),
			ClientID: "01020000000002", HWAddr: "02:00:00:00:00:02", Hostname: "Beta-Laptop", State: "bound",
			Start: t0, Expiry: t0.Add(time.Hour)}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("got %+v\nwant %+v", l, want)
		}
	})

	t.Run("paging follows next to the end", func(t *testing.T) {
		var got []string
		q := LeaseQuery{Limit: 2}
		pages := 0
		for {
			p, err := f.client.Leases(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, addrsOf(p.Leases)...)
			if !p.Next.IsValid() {
				break
			}
			if len(p.Leases) != 2 || p.Next != p.Leases[1].Address {
				t.Fatalf("page %d: %v next %v", pages, addrsOf(p.Leases), p.Next)
			}
			q.After = p.Next
		}
		if pages != 3 || !slices.Equal(got, all) {
			t.Errorf("%d pages %v, want 3 pages %v", pages, got, all)
		}
		ls, err := f.client.AllLeases(context.Background(), LeaseQuery{Limit: 1, States: []string{"bound"}})
		if err != nil || !slices.Equal(addrsOf(ls), []string{"198.18.0.100", "198.18.0.101", "198.19.0.100"}) {
			t.Errorf("AllLeases: %v %v", addrsOf(ls), err)
		}
	})
}

func TestLeasesBadFilter(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, query, want string
	}{
		{"unknown state", "state=free", "state"},
		{"unknown parameter", "colour=red", `unknown parameter "colour"`},
		{"parameter twice", "state=bound&state=offered", "state given 2 times"},
		{"bad subnet", "subnet=198.18.0.0", "subnet"},
		{"IPv6 subnet", "subnet=2001:db8::/32", "subnet"},
		{"bad mac", "mac=zz:00", "mac"},
		{"mac too long", "mac=" + strings.Repeat("00", 17), "mac"},
		{"bad client id", "client-id=0x01", "client-id"},
		{"bad hostname pattern", "hostname=[a", "hostname"},
		{"bad from", "from=198.18.0", "from"},
		{"IPv6 to", "to=2001:db8::1", "to"},
		{"to before from", "from=198.18.0.9&to=198.18.0.1", "before"},
		{"bad after", "after=x", "after"},
		{"limit zero", "limit=0", "limit"},
		{"limit too large", fmt.Sprintf("limit=%d", MaxLimit+1), "limit"},
		{"limit not a number", "limit=ten", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := f.call("GET", "/v1/leases?"+tt.query, "")
			if code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", code, body)
			}
			if msg := errorOf(t, body); !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "bad filter") {
				t.Errorf("error %q does not name %q", msg, tt.want)
			}
		})
	}
}

func TestLeaseLookups(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, path string
		code       int
		addr       string // of the lease returned
		msg        string // in the error
	}{
		{"by address", "/v1/leases/198.18.0.100", 200, "198.18.0.100", ""},
		{"by address, offered", "/v1/leases/198.18.0.102", 200, "198.18.0.102", ""},
		{"by address, free: 404", "/v1/leases/198.18.0.109", 404, "", "no lease of 198.18.0.109"},
		{"by address, no subnet: 404", "/v1/leases/203.0.113.1", 404, "", "no lease"},
		{"by address, malformed: 400", "/v1/leases/198.18.0", 400, "", "not an IPv4 address"},
		{"by address, IPv6: 400", "/v1/leases/2001:db8::1", 400, "", "not an IPv4 address"},
		{"by client identifier", "/v1/clients/01:02:00:00:00:00:02/lease", 200, "198.18.0.101", ""},
		{"by hardware address of a client with an identifier", "/v1/clients/02:00:00:00:00:02/lease", 200, "198.18.0.101", ""},
		{"by hardware address", "/v1/clients/02-00-00-00-00-09/lease", 200, "198.19.0.100", ""},
		{"by identity of a client without identifier", "/v1/clients/01020000000004/lease", 200, "198.18.0.103", ""},
		{"unknown client: 404", "/v1/clients/02:00:00:00:00:77/lease", 404, "", "no lease of client 02:00:00:00:00:77"},
		{"client not hex: 400", "/v1/clients/alpha/lease", 400, "", "not a client identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := f.call("GET", tt.path, "")
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if tt.code != 200 {
				if msg := errorOf(t, body); !strings.Contains(msg, tt.msg) {
					t.Errorf("error %q, want %q in it", msg, tt.msg)
				}
				return
			}
			var l Lease
			if err := json.Unmarshal(body, &l); err != nil || l.Address.String() != tt.addr {
				t.Errorf("lease %v (%v), want %s", l.Address, err, tt.addr)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, addr string
		code       int
		msg        string
	}{
		{"bound lease", "198.18.0.100", 200, ""},
		{"the same again: no lease", "198.18.0.100", 404, "no such lease"},
		{"offer", "198.18.0.102", 200, ""},
		{"released lease: no lease", "198.18.0.103", 404, "no such lease"},
		{"free address: 404", "198.18.0.109", 404, "no such lease"},
		{"no subnet: 404", "203.0.113.1", 404, "no configured subnet"},
		{"malformed: 400", "x", 400, "not an IPv4 address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := f.call("POST", "/v1/leases/"+tt.addr+"/release", "")
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if code != 200 {
				if msg := errorOf(t, body); !strings.Contains(msg, tt.msg) {
					t.Errorf("error %q, want %q", msg, tt.msg)
				}
				return
			}
			var l Lease
			if err := json.Unmarshal(body, &l); err != nil || l.State != "released" || l.Address.String() != tt.addr {
				t.Errorf("answer %s, want the lease released", body)
			}
			if sl, ok := f.store.Get(mustAddr(tt.addr)); !ok || sl.State.String() != "released" {
				t.Errorf("store holds %v %v, want released", sl.State, ok)
			}
		})
	}
	t.Run("store failure: 500", func(t *testing.T) {
		f.store.failWith(errors.New("disk on fire"))
		code, body, _ := f.call("POST", "/v1/leases/198.18.0.101/release", "")
		if code != http.StatusInternalServerError || !strings.Contains(errorOf(t, body), "disk on fire") {
			t.Errorf("status %d %s, want 500 naming the store's error", code, body)
		}
	})
}

func TestReservationsEndpoints(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	// The file's reservation is listed as such.
	rs, err := f.client.Reservations(ctx, "")
	if err != nil || len(rs) != 1 || rs[0].Source != SourceConfig || rs[0].HWAddr != "02:00:00:00:00:50" || rs[0].Hostname != "printer" {
		t.Fatalf("reservations %+v %v, want the file's one", rs, err)
	}

	added, err := f.client.AddReservation(ctx, NewReservation{Address: mustAddr("198.18.0.60"), HWAddr: "02:00:00:00:00:60", Hostname: "scanner", Classes: []string{"vip"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Reservation{Address: mustAddr("198.18.0.60"), Subnet: netip.MustParsePrefix("198.18.0.0/24"), HWAddr: "02:00:00:00:00:60", Hostname: "scanner", Classes: []string{"vip"}, Source: SourceRuntime}
	if !reflect.DeepEqual(added, want) {
		t.Errorf("added %+v, want %+v", added, want)
	}
	// Honoured on the next DISCOVER.
	if a := (&dhcpClient{mac: mac(0x60)}).discover(t, f.eng, link("198.18.0.0/24")); a != mustAddr("198.18.0.60") {
		t.Errorf("DISCOVER from the reserved client got %v", a)
	}
	// Persisted.
	saved, err := reservations.File{Path: f.resFile}.Load()
	if err != nil || len(saved) != 1 || saved[0].Addr != mustAddr("198.18.0.60") || saved[0].HWAddr.String() != "02:00:00:00:00:60" || saved[0].Hostname != "scanner" ||
		!slices.Equal(saved[0].Classes, []string{"vip"}) {
		t.Errorf("reservations file holds %+v %v", saved, err)
	}
	// Listed separately.
	for source, n := range map[string]int{"": 2, SourceConfig: 1, SourceRuntime: 1} {
		if rs, err := f.client.Reservations(ctx, source); err != nil || len(rs) != n {
			t.Errorf("source %q: %d reservations (%v), want %d", source, len(rs), err, n)
		}
	}
	if _, err := f.client.AddReservation(ctx, NewReservation{Address: mustAddr("198.19.0.7"), ClientID: "00:73:63:61:6e"}); err != nil {
		t.Fatal(err)
	}

	refusals := []struct {
		name, body string
		code       int
		msg        string
	}{
		{"address reserved in the file", `{"address":"198.18.0.50","hw_addr":"02:00:00:00:00:61"}`, 409, "already reserved"},
		{"address reserved at run time", `{"address":"198.18.0.60","hw_addr":"02:00:00:00:00:61"}`, 409, "already reserved"},
		{"client reserved already", `{"address":"198.18.0.61","hw_addr":"02:00:00:00:00:60"}`, 409, "already reserved"},
		{"address bound to another client", `{"address":"198.18.0.100","hw_addr":"02:00:00:00:00:61"}`, 409, "in use"},
		{"address offered to another client", `{"address":"198.18.0.102","hw_addr":"02:00:00:00:00:61"}`, 409, "in use"},
		{"no subnet", `{"address":"203.0.113.5","hw_addr":"02:00:00:00:00:61"}`, 404, "no configured subnet"},
		{"network address", `{"address":"198.18.0.0","hw_addr":"02:00:00:00:00:61"}`, 400, "network address of the subnet"},
		{"router", `{"address":"198.18.0.1","hw_addr":"02:00:00:00:00:61"}`, 400, "router"},
		{"both identities", `{"address":"198.18.0.61","hw_addr":"02:00:00:00:00:61","client_id":"0102"}`, 400, "not both"},
		{"no identity", `{"address":"198.18.0.61"}`, 400, "required"},
		{"no address", `{"hw_addr":"02:00:00:00:00:61"}`, 400, "address"},
		{"bad address", `{"address":"198.18.0","hw_addr":"02:00:00:00:00:61"}`, 400, "bad reservation"},
		{"bad hardware address", `{"address":"198.18.0.61","hw_addr":"02:00:zz"}`, 400, "hw_addr"},
		{"bad client identifier", `{"address":"198.18.0.61","client_id":"0x01"}`, 400, "client_id"},
		{"bad host name", `{"address":"198.18.0.61","hw_addr":"02:00:00:00:00:61","hostname":"a b"}`, 400, "host name"},
		{"unknown class", `{"address":"198.18.0.61","hw_addr":"02:00:00:00:00:61","classes":["vpi"]}`, 400, `unknown class "vpi"`},
		{"class that ignores its clients", `{"address":"198.18.0.61","hw_addr":"02:00:00:00:00:61","classes":["blocked"]}`, 400, "ignores its clients"},
		{"unknown field", `{"address":"198.18.0.61","hw_addr":"02:00:00:00:00:61","options":{}}`, 400, "unknown field"},
		{"not JSON", `address=198.18.0.61`, 400, "bad reservation"},
		{"two JSON values", `{"address":"198.18.0.61","hw_addr":"02:00:00:00:00:61"}{}`, 400, "more than one"},
	}
	for _, tt := range refusals {
		t.Run("POST refused/"+tt.name, func(t *testing.T) {
			code, body, _ := f.call("POST", "/v1/reservations", tt.body)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if msg := errorOf(t, body); !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q, want %q in it", msg, tt.msg)
			}
		})
	}
	if n := len(f.eng.RuntimeReservations()); n != 2 {
		t.Errorf("refusals changed the reservations: %d run-time ones, want 2", n)
	}

	removals := []struct {
		name, addr string
		code       int
		msg        string
	}{
		{"run-time reservation", "198.18.0.60", 200, ""},
		{"the same again", "198.18.0.60", 404, "no such reservation"},
		{"reservation of the file", "198.18.0.50", 409, "configuration file"},
		{"no reservation", "198.18.0.99", 404, "no such reservation"},
		{"no subnet", "203.0.113.5", 404, "no such reservation"},
		{"malformed", "198.18.0.", 400, "not an IPv4 address"},
	}
	for _, tt := range removals {
		t.Run("DELETE/"+tt.name, func(t *testing.T) {
			code, body, _ := f.call("DELETE", "/v1/reservations/"+tt.addr, "")
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if code != 200 {
				if msg := errorOf(t, body); !strings.Contains(msg, tt.msg) {
					t.Errorf("error %q, want %q", msg, tt.msg)
				}
				return
			}
			var r Reservation
			if err := json.Unmarshal(body, &r); err != nil || r.Address.String() != tt.addr || r.Source != SourceRuntime {
				t.Errorf("answer %s", body)
			}
		})
	}
	saved, err = reservations.File{Path: f.resFile}.Load()
	if err != nil || len(saved) != 1 || saved[0].Addr != mustAddr("198.19.0.7") || string(saved[0].ClientID) != "\x00scan" {
		t.Errorf("after the removal the file holds %+v %v", saved, err)
	}
}

func TestReservationNotPersistedIsNotAdded(t *testing.T) {
	f := newFixture(t)
	// A file in a directory that does not exist cannot be written.
	f.api.opts.Reservations = reservations.File{Path: filepath.Join(t.TempDir(), "missing", reservations.FileName)}
	code, body, _ := f.call("POST", "/v1/reservations", `{"address":"198.18.0.60","hw_addr":"02:00:00:00:00:60"}`)
	if code != http.StatusInternalServerError || !strings.Contains(errorOf(t, body), "not added") {
		t.Fatalf("status %d %s, want 500 \"not added\"", code, body)
	}
	if rs := f.eng.RuntimeReservations(); len(rs) != 0 {
		t.Errorf("engine kept %+v after the failed save", rs)
	}
	if a := (&dhcpClient{mac: mac(0x60)}).discover(t, f.eng, link("198.18.0.0/24")); a == mustAddr("198.18.0.60") {
		t.Error("the reservation that was not saved is honoured")
	}
}

func TestReservationRemovalNotPersistedIsKept(t *testing.T) {
	f := newFixture(t)
	if _, err := f.client.AddReservation(context.Background(), NewReservation{Address: mustAddr("198.18.0.60"), HWAddr: "02:00:00:00:00:60"}); err != nil {
		t.Fatal(err)
	}
	f.api.opts.Reservations = reservations.File{Path: filepath.Join(t.TempDir(), "missing", reservations.FileName)}
	code, body, _ := f.call("DELETE", "/v1/reservations/198.18.0.60", "")
	if code != http.StatusInternalServerError || !strings.Contains(errorOf(t, body), "not removed") {
		t.Fatalf("status %d %s, want 500 \"not removed\"", code, body)
	}
	if rs := f.eng.RuntimeReservations(); len(rs) != 1 {
		t.Errorf("engine has %+v after the failed save, want the reservation back", rs)
	}
}

func TestPools(t *testing.T) {
	f := newFixture(t)
	ps, err := f.client.Pools(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d subnets, want 2", len(ps))
	}
	s := ps[0]
	if s.Subnet.String() != "198.18.0.0/24" || s.Size != 10 || s.Used != 3 || s.Free != 7 || s.Utilisation != 0.3 {
		t.Errorf("subnet %+v, want 10 addresses, 3 used (2 bound, 1 offered)", s)
	}
	if s.Leases["bound"] != 2 || s.Leases["offered"] != 1 || s.Leases["released"] != 1 || s.ReservedConfig != 1 || s.ReservedRuntime != 0 {
		t.Errorf("subnet counts %+v", s)
	}
	wantPool := Pool{Range: "198.18.0.100-198.18.0.109", First: mustAddr("198.18.0.100"), Last: mustAddr("198.18.0.109"),
		Size: 10, Used: 3, Free: 7, Utilisation: 0.3, Bound: 2, Offered: 1}
	if len(s.Pools) != 1 || s.Pools[0] != wantPool {
		t.Errorf("pools %+v, want %+v", s.Pools, wantPool)
	}
	if o := ps[1]; o.Used != 1 || o.Free != 1 || o.Utilisation != 0.5 {
		t.Errorf("second subnet %+v", o)
	}
}

func TestReload(t *testing.T) {
	f := newFixture(t)
	bad := &config.Error{File: "leased.yaml", Line: 7, Path: "subnets[0].pools[0]", Msg: "198.18.0.9-198.18.0.1 is reversed"}
	tests := []struct {
		name   string
		reload func() (ConfigStatus, error)
		code   int
		msg    string
	}{
		{"accepted", func() (ConfigStatus, error) {
			return ConfigStatus{File: "leased.yaml", SHA256: "def456", Subnets: 2, Loaded: t0, Changes: &ConfigChanges{
				Applied:       []string{"interfaces", "subnets"},
				RestartNeeded: []SettingChange{{Key: "lease-store", Running: "/var/lib/leased", Loaded: "/srv/leased"}},
			}}, nil
		}, 200, ""},
		{"refused with the validation error", func() (ConfigStatus, error) { return ConfigStatus{}, bad }, 422,
			"reload refused; the running configuration stays: leased.yaml:7: subnets[0].pools[0]: 198.18.0.9-198.18.0.1 is reversed"},
		{"nothing to reload", func() (ConfigStatus, error) { return ConfigStatus{}, fmt.Errorf("quick mode: %w", ErrNoReload) }, 409, "no configuration file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.reload = tt.reload
			code, body, _ := f.call("POST", "/v1/reload", "")
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if code != 200 {
				if msg := errorOf(t, body); msg != tt.msg && !strings.Contains(msg, tt.msg) {
					t.Errorf("error %q, want %q", msg, tt.msg)
				}
				return
			}
			var r ReloadResult
			if err := json.Unmarshal(body, &r); err != nil || !r.Reloaded || r.Config.SHA256 != "def456" {
				t.Errorf("answer %s", body)
			}
			// What took effect and what waits for a restart, in JSON.
			var raw struct {
				Config struct {
					Changes struct {
						Applied       []string            `json:"applied"`
						RestartNeeded []map[string]string `json:"restart_needed"`
					} `json:"changes"`
				} `json:"config"`
			}
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			ch := raw.Config.Changes
			if strings.Join(ch.Applied, ",") != "interfaces,subnets" || len(ch.RestartNeeded) != 1 ||
				ch.RestartNeeded[0]["key"] != "lease-store" || ch.RestartNeeded[0]["running"] != "/var/lib/leased" ||
				ch.RestartNeeded[0]["loaded"] != "/srv/leased" {
				t.Errorf("changes in the answer %+v", ch)
			}
		})
	}
	t.Run("no reload function", func(t *testing.T) {
		api, err := NewServer(Options{Engine: f.eng})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/reload", nil))
		if rec.Code != http.StatusConflict {
			t.Errorf("status %d, want 409: %s", rec.Code, rec.Body)
		}
	})
}

func TestRoutingErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path string
		code               int
		allow              string
	}{
		{"unknown endpoint", "GET", "/v1/nothing", 404, ""},
		{"unversioned", "GET", "/status", 404, ""},
		{"wrong method on status", "POST", "/v1/status", 405, "GET"},
		{"wrong method on a lease", "DELETE", "/v1/leases/198.18.0.100", 405, "GET"},
		{"release needs POST", "GET", "/v1/leases/198.18.0.100/release", 405, "POST"},
		{"reservations take GET and POST", "PUT", "/v1/reservations", 405, "GET, POST"},
		{"reload needs POST", "GET", "/v1/reload", 405, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, hdr := f.call(tt.method, tt.path, "")
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			errorOf(t, body)
			if got := hdr.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestRequireToken(t *testing.T) {
	f := newFixture(t)
	const token = "0123456789abcdef-token"
	h := RequireToken(token, f.api)
	tests := []struct {
		name, header string
		code         int
	}{
		{"no header", "", 401},
		{"wrong token", "Bearer 0123456789abcdef-tokeN", 401},
		{"token prefix", "Bearer 0123456789abcdef", 401},
		{"basic auth", "Basic " + token, 401},
		{"scheme only", "Bearer ", 401},
		{"right token", "Bearer " + token, 200},
		{"RFC9110 11.1 scheme in any case", "bearer " + token, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/v1/status", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.code == 401 {
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				errorOf(t, rec.Body.Bytes())
			}
		})
	}
	t.Run("client sends its token", func(t *testing.T) {
		ts := httptest.NewServer(h)
		defer ts.Close()
		addr := ts.Listener.Addr().String()
		if _, err := NewTCPClient(addr, token).Status(context.Background()); err != nil {
			t.Errorf("with the token: %v", err)
		}
		_, err := NewTCPClient(addr, "wrong-token-0123456789").Status(context.Background())
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != 401 {
			t.Errorf("with a wrong token: %v, want an APIError 401", err)
		}
	})
}

func TestClientErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.client.Lease(ctx, mustAddr("198.18.0.109"))
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Error() != "no lease of 198.18.0.109" {
		t.Errorf("Lease of a free address: %v, want APIError 404", err)
	}
	_, err = NewUnixClient(filepath.Join(t.TempDir(), "none.sock")).Status(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || errors.As(err, &ae) {
		t.Errorf("no server: %v, want \"cannot reach\"", err)
	}
}

func TestNewServerNeedsEngine(t *testing.T) {
	if _, err := NewServer(Options{}); err == nil {
		t.Error("NewServer without an engine succeeded")
	}
}

func TestServeOnUnixSocket(t *testing.T) {
	f := newFixture(t)
	dir, err := os.MkdirTemp("", "leased-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "run", "control.sock")
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v (%v), want 0600", fi.Mode(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, f.api, nil) }()

	c := NewUnixClient(path)
	if st, err := c.Status(context.Background()); err != nil || st.Version != "1.2.3" {
		t.Fatalf("status over the socket: %+v %v", st, err)
	}
	if _, err := ListenUnix(path); !errors.Is(err, ErrSocketInUse) {
		t.Errorf("second listener on a live socket: %v, want ErrSocketInUse", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left after the stop: %v", err)
	}
}

func TestListenUnixFiles(t *testing.T) {
	dir, err := os.MkdirTemp("", "leased-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	t.Run("stale socket replaced", func(t *testing.T) {
		path := filepath.Join(dir, "stale.sock")
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false) // as a server that died leaves it
		ln.Close()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("fixture: %v", err)
		}
		ln, err = ListenUnix(path)
		if err != nil {
			t.Fatalf("over a stale socket: %v", err)
		}
		ln.Close()
	})
	t.Run("not a socket refused", func(t *testing.T) {
		path := filepath.Join(dir, "file")
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ListenUnix(path); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("over a regular file: %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "x" {
			t.Error("the regular file was touched")
		}
	})
}

func TestListenTCP(t *testing.T) {
	tests := []struct {
		name, addr, token string
		refused           bool
	}{
		{"loopback without token", "127.0.0.1:0", "", false},
		{"localhost without token", "localhost:0", "", false},
		{"all addresses without token", "0.0.0.0:0", "", true},
		{"empty host without token", ":0", "", true},
		{"network address without token", "198.18.0.1:0", "", true},
		{"host name without token", "leased.example:0", "", true},
		{"loopback with token", "127.0.0.1:0", "0123456789abcdef", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := ListenTCP(tt.addr, tt.token)
			if ln != nil {
				ln.Close()
			}
			refused := errors.Is(err, ErrNeedToken) && strings.Contains(err.Error(), "refusing")
			if refused != tt.refused || (!tt.refused && err != nil) {
				t.Errorf("ListenTCP(%q, token %v): %v, want refused=%v", tt.addr, tt.token != "", err, tt.refused)
			}
		})
	}
	if _, err := ListenTCP("nonsense", ""); err == nil {
		t.Error("ListenTCP without a port succeeded")
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
		ok                  bool
	}{
		{"token and newline", "0123456789abcdef0123\n", "0123456789abcdef0123", true},
		{"surrounding space trimmed", "  0123456789abcdefXY  \n", "0123456789abcdefXY", true},
		{"too short", "secret\n", "", false},
		{"empty", "", "", false},
		{"two words", "0123456789abcdef 0123456789abcdef", "", false},
		{"too large", strings.Repeat("a", 5000), "", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprint(i))
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadToken(p)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ReadToken = %q, %v; want %q ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
	if _, err := ReadToken(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadToken of a missing file succeeded")
	}
}
