package history

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/server"
)

var t0 = time.Date(2026, 1, 2, 14, 0, 0, 0, time.UTC)

// discover returns a DISCOVER of the client with hardware address
// 02:00:00:00:hi:lo, with client identifier id when id is not nil.
func discover(n int, id []byte) *dhcpv4.Packet {
	p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: uint32(n)}
	p.SetHardwareAddr(1, []byte{2, 0, 0, 0, byte(n >> 8), byte(n)})
	p.Options.SetMessageType(dhcpv4.Discover)
	if id != nil {
		p.Options.Set(dhcpv4.OptClientID, id)
	}
	return p
}

func hwKey(n int) []byte { return []byte{1, 2, 0, 0, 0, byte(n >> 8), byte(n)} }

var eth0 = server.Arrival{IfName: "eth0"}

func TestBookKeepsLastDecisionsPerClient(t *testing.T) {
	tests := []struct {
		name      string
		perClient int
		notes     int
		wantXIDs  []uint32
	}{
		{"fewer than the ring holds", 4, 3, []uint32{0, 1, 2}},
		{"exactly the ring", 4, 4, []uint32{0, 1, 2, 3}},
		{"the oldest forgotten first", 4, 7, []uint32{3, 4, 5, 6}},
		{"one per client", 1, 5, []uint32{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(Options{Clients: 16, PerClient: tt.perClient})
			out := server.Outcome{Reason: server.ReasonExhausted}
			for i := range tt.notes {
				req := discover(7, nil)
				req.XID = uint32(i)
				b.Note(t0.Add(time.Duration(i)*time.Second), req, &eth0, &out)
			}
			c, ok := b.Lookup(hwKey(7))
			if !ok {
				t.Fatal("client not found by hardware type and address")
			}
			var got []uint32
			for _, r := range c.Records {
				got = append(got, r.XID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantXIDs) {
				t.Errorf("xids %v, want %v", got, tt.wantXIDs)
			}
		})
	}
}

func TestBookIdentityIsClientIDElseHardwareAddr(t *testing.T) {
	b := New(Options{Clients: 16})
	out := server.Outcome{}
	b.Note(t0, discover(1, []byte{0xff, 1, 2, 3}), &eth0, &out)
	b.Note(t0, discover(2, nil), &eth0, &out)
	if _, ok := b.Lookup([]byte{0xff, 1, 2, 3}); !ok {
		t.Error("RFC 2132 9.14: a client with a client identifier is not kept under it")
	}
	if _, ok := b.Lookup(hwKey(1)); ok {
		t.Error("a client with a client identifier is also kept under its hardware address")
	}
	if _, ok := b.Lookup(hwKey(2)); !ok {
		t.Error("a client without a client identifier is not kept under its hardware type and address")
	}
	if got := b.ByHardwareAddr([]byte{2, 0, 0, 0, 0, 1}); len(got) != 1 {
		t.Errorf("ByHardwareAddr found %d clients, want the one with a client identifier", len(got))
	}
}

func TestBookEvictsLeastRecentlySeen(t *testing.T) {
	b := New(Options{Clients: 16, PerClient: 2})
	clients, _ := b.Capacity()
	out := server.Outcome{}
	// Fill the book, see client 0 again, then bring in many more: the
	// book never holds more than its capacity, and the clients seen last
	// are those kept.
	for i := range clients {
		b.Note(t0, discover(i, nil), &eth0, &out)
	}
	if b.Len() != clients {
		t.Fatalf("Len %d after %d clients, want %d", b.Len(), clients, clients)
	}
	for i := clients; i < 40*clients; i++ {
		b.Note(t0, discover(0, nil), &eth0, &out)
		b.Note(t0, discover(i, nil), &eth0, &out)
		if b.Len() > clients {
			t.Fatalf("Len %d, over the capacity %d", b.Len(), clients)
		}
	}
	if _, ok := b.Lookup(hwKey(0)); !ok {
		t.Error("the client seen last of all was evicted")
	}
	if _, ok := b.Lookup(hwKey(40*clients - 1)); !ok {
		t.Error("the newest client is missing")
	}
	if _, ok := b.Lookup(hwKey(1)); ok {
		t.Error("a client not seen for long was kept")
	}
	// Every client kept is still found through the table after many
	// evictions (the deletion keeps the probe chains whole).
	found := 0
	for i := range 40 * clients {
		if _, ok := b.Lookup(hwKey(i)); ok {
			found++
		}
	}
	if found != b.Len() {
		t.Errorf("found %d clients by key, the book holds %d", found, b.Len())
	}
}

func TestBookConcurrentNotesAndQueries(t *testing.T) {
	b := New(Options{Clients: 64, PerClient: 4})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			out := server.Outcome{Action: server.Reply, Reply: dhcpv4.Offer, Reason: server.ReasonOffer}
			for i := range 2000 {
				b.Note(t0, discover(g*1000+i%300, nil), &eth0, &out)
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 200 {
				b.Lookup(hwKey(g*1000 + i))
				b.ByHardwareAddr([]byte{2, 0, 0, 0, 0, byte(i)})
			}
		}()
	}
	wg.Wait()
	clients, _ := b.Capacity()
	if n := b.Len(); n != clients {
		t.Errorf("Len %d after many clients, want the capacity %d", n, clients)
	}
}

func TestNoteDoesNotAllocate(t *testing.T) {
	b := New(Options{Clients: 32})
	reqs := make([]*dhcpv4.Packet, 100)
	for i := range reqs {
		reqs[i] = discover(i, nil)
		reqs[i].GIAddr = netip.MustParseAddr("198.18.7.1")
		reqs[i].Options.Set(dhcpv4.OptRelayAgentInfo, []byte{1, 3, 'a', 'b', 'c', 2, 2, 'x', 'y'})
	}
	out := server.Outcome{Action: server.Reply, Reply: dhcpv4.Offer, Reason: server.ReasonOffer,
		Addr: netip.MustParseAddr("198.18.1.100"), Subnet: netip.MustParsePrefix("198.18.1.0/24")}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		b.Note(t0, reqs[i%len(reqs)], &eth0, &out) // new clients evict old ones
		i++
	})
	if allocs != 0 {
		t.Errorf("Note allocates %v times per request, want 0", allocs)
	}
}

func TestRecordKeepsTheRequestAndDecision(t *testing.T) {
	b := New(Options{})
	req := discover(5, nil)
	req.Options.SetMessageType(dhcpv4.Request)
	req.GIAddr = netip.MustParseAddr("198.18.7.1")
	req.Options.SetAddr(dhcpv4.OptRequestedIP, netip.MustParseAddr("198.18.1.150"))
	req.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr("198.18.0.9"))
	req.Options.Set(dhcpv4.OptRelayAgentInfo, []byte{1, 4, 'p', 'o', 'r', 't', 2, 3, 's', 'w', '1'})
	out := server.Outcome{Reason: server.ReasonNotForUs, Type: dhcpv4.Request, Subnet: netip.MustParsePrefix("198.18.1.0/24")}
	b.Note(t0, req, &server.Arrival{IfName: "eth1"}, &out)
	c, _ := b.Lookup(hwKey(5))
	r := c.Latest()
	got := fmt.Sprintf("%v %v %s %s %v %v %v %s %s %v %s", r.When().UTC().Format(time.TimeOnly), r.Type, r.Verdict(), r.ReasonToken(),
		r.GIAddr.Addr(), r.Requested.Addr(), r.ServerID.Addr(), r.Circuit, r.Remote, r.SubnetPrefix(), r.IfName)
	want := "14:00:00 DHCPREQUEST silence not-for-us 198.18.7.1 198.18.1.150 198.18.0.9 port sw1 198.18.1.0/24 eth1"
	if got != want {
		t.Errorf("record\n got %s\nwant %s", got, want)
	}
	r.SetClasses([]string{"voip", "phones"})
	if r.Classes.String() != "voip,phones" {
		t.Errorf("classes %q", r.Classes.String())
	}
}

// BenchmarkNote measures noting one decision: it must not allocate.
// "kept" notes 256 clients that stay in the book; "evicting" 65536 in
// turn, over the default capacity, so that every note forgets a client.
func BenchmarkNote(b *testing.B) {
	for _, bc := range []struct {
		name    string
		clients int
	}{{"kept", 256}, {"evicting", 65536}} {
		b.Run(bc.name, func(b *testing.B) {
			book := New(Options{})
			req := discover(1, nil)
			out := server.Outcome{Action: server.Reply, Reply: dhcpv4.Offer, Reason: server.ReasonOffer, Addr: netip.MustParseAddr("198.18.1.100")}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				n := i % bc.clients
				req.CHAddr[4], req.CHAddr[5] = byte(n>>8), byte(n)
				book.Note(t0, req, &eth0, &out)
			}
		})
	}
}
