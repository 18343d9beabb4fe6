package dhcpv4

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The golden packets in testdata/golden were captured from ISC dhclient,
// busybox udhcpc and dnsmasq; testdata/golden/README.md says how, and
// states the properties checked here.

// golden is one captured message.
type golden struct {
	name string // file name without .hex
	msg  []byte
}

// loadGolden reads every testdata/golden/*.hex file: lowercase hex, 32
// bytes (64 digits) per line.
func loadGolden(tb testing.TB) []golden {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.hex"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []golden
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
		for i, l := range lines {
			if len(l) > 64 || (i < len(lines)-1 && len(l) != 64) || l != strings.ToLower(l) {
				tb.Fatalf("%s:%d: not lowercase hex of 32 bytes a line: %q", f, i+1, l)
			}
		}
		msg, err := hex.DecodeString(strings.Join(lines, ""))
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out = append(out, golden{strings.TrimSuffix(filepath.Base(f), ".hex"), msg})
	}
	return out
}

// goldenWant is what testdata/golden/README.md states about one file.
type goldenWant struct {
	typ       MessageType
	length    int
	mac       byte   // last byte of chaddr 02:c6:12:00:00:0N
	ciaddr    string // "" for 0.0.0.0
	yiaddr    string
	broadcast bool
	secs      uint16
	order     []OptionCode // the options, in order
	requested string       // option 50
	hostName  bool         // option 12 is golden-client
	message   string       // option 56
	inReplyTo string       // for replies: the request's file
	sameXID   string       // for requests: a file with the same xid
	newXID    string       // for requests: a file whose xid differs
}

var (
	dhclientPRL  = []byte{1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42}
	udhcpcPRL    = []byte{1, 3, 6, 12, 15, 28, 42}
	dnsmasqOffer = []OptionCode{53, 54, 51, 58, 59, 1, 28, 15, 6, 3}
	dnsmasqAck   = []OptionCode{53, 54, 51, 58, 59, 1, 28, 12, 15, 6, 3}
	udhcpcOpts   = []OptionCode{53, 57, 55, 60, 61}
)

var goldenWants = map[string]goldenWant{
	"dhclient-discover": {typ: Discover, length: 300, mac: 1,
		order: []OptionCode{53, 12, 55}, hostName: true},
	"dhclient-request-selecting": {typ: Request, length: 300, mac: 1,
		order: []OptionCode{53, 54, 50, 12, 55}, requested: "198.18.0.187", hostName: true,
		sameXID: "dhclient-discover"},
	"dhclient-request-renew": {typ: Request, length: 300, mac: 1, ciaddr: "198.18.0.187",
		order: []OptionCode{53, 12, 55}, hostName: true, sameXID: "dhclient-discover"},
	"dhclient-request-initreboot": {typ: Request, length: 300, mac: 1,
		order: []OptionCode{53, 50, 12, 55}, requested: "198.18.0.187", hostName: true,
		newXID: "dhclient-discover"},
	"dhclient-request-initreboot-wrongnet": {typ: Request, length: 300, mac: 3,
		order: []OptionCode{53, 50, 12, 55}, requested: "198.19.0.77", hostName: true},
	"dhclient-release": {typ: Release, length: 300, mac: 1, ciaddr: "198.18.0.187",
		order: []OptionCode{53, 54, 12}, hostName: true, newXID: "dhclient-discover"},
	"udhcpc-discover": {typ: Discover, length: 300, mac: 2, order: udhcpcOpts},
	"udhcpc-discover-broadcast": {typ: Discover, length: 300, mac: 4, broadcast: true,
		order: udhcpcOpts},
	"udhcpc-request": {typ: Request, length: 300, mac: 2, secs: 3,
		order: []OptionCode{53, 50, 54, 57, 55, 60, 61}, requested: "198.18.0.188",
		sameXID: "udhcpc-discover"},
	"udhcpc-request-renew": {typ: Request, length: 300, mac: 2, ciaddr: "198.18.0.188",
		order: udhcpcOpts, sameXID: "udhcpc-discover"},
	"udhcpc-release": {typ: Release, length: 300, mac: 2, ciaddr: "198.18.0.188",
		order: []OptionCode{53, 54, 61}, newXID: "udhcpc-discover"},

	"dnsmasq-offer": {typ: Offer, length: 309, mac: 1, yiaddr: "198.18.0.187",
		order: dnsmasqOffer, inReplyTo: "dhclient-discover"},
	"dnsmasq-ack": {typ: Ack, length: 324, mac: 1, yiaddr: "198.18.0.187",
		order: dnsmasqAck, hostName: true, inReplyTo: "dhclient-request-selecting"},
	"dnsmasq-ack-renew": {typ: Ack, length: 324, mac: 1, yiaddr: "198.18.0.187",
		order: dnsmasqAck, hostName: true, inReplyTo: "dhclient-request-renew"},
	"dnsmasq-ack-initreboot": {typ: Ack, length: 324, mac: 1, yiaddr: "198.18.0.187",
		order: dnsmasqAck, hostName: true, inReplyTo: "dhclient-request-initreboot"},
	"dnsmasq-nak": {typ: Nak, length: 300, mac: 3, broadcast: true,
		order: []OptionCode{53, 54, 56}, message: "wrong network",
		inReplyTo: "dhclient-request-initreboot-wrongnet"},
	"dnsmasq-offer-udhcpc": {typ: Offer, length: 309, mac: 2, yiaddr: "198.18.0.188",
		order: dnsmasqOffer, inReplyTo: "udhcpc-discover"},
	"dnsmasq-ack-udhcpc": {typ: Ack, length: 309, mac: 2, yiaddr: "198.18.0.188", secs: 3,
		order: dnsmasqOffer, inReplyTo: "udhcpc-request"},
	"dnsmasq-offer-broadcast": {typ: Offer, length: 309, mac: 4, yiaddr: "198.18.0.190",
		broadcast: true, order: dnsmasqOffer, inReplyTo: "udhcpc-discover-broadcast"},
}

func TestGolden(t *testing.T) {
	all := loadGolden(t)
	if len(all) == 0 {
		t.Fatal("no golden packets in testdata/golden")
	}
	parsed := make(map[string]*Packet)
	for _, g := range all {
		p := new(Packet)
		if err := Parse(g.msg, p); err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		parsed[g.name] = p
	}
	for name := range goldenWants {
		if parsed[name] == nil {
			t.Errorf("%s.hex: described in README.md but missing or unparsable", name)
		}
	}
	for _, g := range all {
		p := parsed[g.name]
		if p == nil {
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			w, ok := goldenWants[g.name]
			if !ok {
				t.Fatalf("no expectations for %s.hex: describe it in README.md and in goldenWants", g.name)
			}
			checkGoldenCommon(t, g.msg, p, w)
			checkGoldenOptions(t, p, w)
			checkGoldenRelations(t, p, w, parsed)
			checkGoldenRebuild(t, g.msg, p)
		})
	}
}

// checkGoldenCommon checks the README's common properties and the fixed
// fields of the file's row.
func checkGoldenCommon(t *testing.T, msg []byte, p *Packet, w goldenWant) {
	t.Helper()
	client := w.inReplyTo == ""
	wantOp := BootRequest
	if !client {
		wantOp = BootReply
	}
	if p.Op != wantOp || p.HType != 1 || p.HLen != 6 || p.Hops != 0 {
		t.Errorf("op %v htype %d hlen %d hops %d, want %v 1 6 0", p.Op, p.HType, p.HLen, p.Hops, wantOp)
	}
	if hw := p.HardwareAddr(); !bytes.Equal(hw, []byte{0x02, 0xc6, 0x12, 0, 0, w.mac}) {
		t.Errorf("chaddr %x, want 02c6120000%02x", hw, w.mac)
	}
	if p.GIAddr != addr("0.0.0.0") {
		t.Errorf("giaddr %v", p.GIAddr)
	}
	if !isZero(p.SName[:]) || !isZero(p.File[:]) {
		t.Error("sname or file not all zero")
	}
	if len(msg) != w.length {
		t.Errorf("length %d, want %d", len(msg), w.length)
	}
	wantAddr := func(field string, got netip.Addr, want string) {
		if want == "" {
			want = "0.0.0.0"
		}
		if got != addr(want) {
			t.Errorf("%s %v, want %s", field, got, want)
		}
	}
	wantAddr("ciaddr", p.CIAddr, w.ciaddr)
	wantAddr("yiaddr", p.YIAddr, w.yiaddr)
	switch {
	case client, w.typ == Nak:
		wantAddr("siaddr", p.SIAddr, "")
	default:
		wantAddr("siaddr", p.SIAddr, "198.18.0.1")
	}
	if p.Broadcast() != w.broadcast || p.Flags&^FlagBroadcast != 0 {
		t.Errorf("flags %#04x, want broadcast %v", p.Flags, w.broadcast)
	}
	if p.Secs != w.secs {
		t.Errorf("secs %d, want %d", p.Secs, w.secs)
	}

	// The options field: no Pad before End; after End, zeros up to 300
	// bytes for the clients and the NAK, nothing for dnsmasq's OFFER/ACK.
	i := MinLen
	for i < len(msg) && msg[i] != byte(OptEnd) {
		if msg[i] == byte(OptPad) {
			t.Errorf("Pad at offset %d before End", i)
		}
		i += 2 + int(msg[i+1])
	}
	if i >= len(msg) {
		t.Fatal("no End option")
	}
	if rest := msg[i+1:]; !isZero(rest) || (len(msg) > BOOTPMinLen && len(rest) != 0) {
		t.Errorf("%d bytes after End: %x", len(rest), rest)
	}
}

// checkGoldenOptions checks the options the README lists for the file.
func checkGoldenOptions(t *testing.T, p *Packet, w goldenWant) {
	t.Helper()
	o := &p.Options
	if got := o.Codes(); !slices.Equal(got, w.order) {
		t.Errorf("options %v, want %v", got, w.order)
	}
	if got := p.MessageType(); got != w.typ {
		t.Errorf("message type %v, want %v", got, w.typ)
	}
	if w.requested != "" {
		wantAddr(t, o, OptRequestedIP, w.requested)
	}
	if o.Has(OptServerID) {
		wantAddr(t, o, OptServerID, "198.18.0.1")
	}
	if w.hostName {
		wantRaw(t, o, OptHostName, "golden-client")
	}
	if w.message != "" {
		wantRaw(t, o, OptMessage, w.message)
	}
	if o.Has(OptParameterRequestList) {
		prl := dhclientPRL
		if o.Has(OptVendorClass) {
			prl = udhcpcPRL
		}
		wantRaw(t, o, OptParameterRequestList, string(prl))
		if !o.ParameterRequested(OptSubnetMask) || !o.ParameterRequested(OptNTPServers) {
			t.Error("subnet mask or NTP servers not requested")
		}
	}
	if o.Has(OptVendorClass) { // udhcpc
		wantRaw(t, o, OptVendorClass, "udhcp 1.35.0")
		if p.MaxMessageSize() != 548 {
			t.Errorf("MaxMessageSize() = %d, want 548 (option 57 = 576)", p.MaxMessageSize())
		}
		if v, _ := o.Uint16(OptMaxMessageSize); v != 576 {
			t.Errorf("option 57 = %d, want 576", v)
		}
	}
	// Identity: only udhcpc sends a client identifier, type 1 and the MAC;
	// dnsmasq does not echo it.
	if slices.Contains(w.order, OptClientID) {
		wantRaw(t, o, OptClientID, string([]byte{1, 0x02, 0xc6, 0x12, 0, 0, w.mac}))
	}
	if w.inReplyTo != "" && w.typ != Nak {
		wantAddr(t, o, OptServerID, "198.18.0.1")
		wantDuration(t, o, OptLeaseTime, 120*time.Second)
		wantDuration(t, o, OptRenewalTime, 60*time.Second)
		wantDuration(t, o, OptRebindingTime, 105*time.Second)
		wantAddr(t, o, OptSubnetMask, "255.255.255.0")
		wantAddr(t, o, OptBroadcastAddress, "198.18.0.255")
		wantRaw(t, o, OptDomainName, "golden.test")
		wantAddrs(t, o, OptDNSServers, []netip.Addr{addr("198.18.0.53"), addr("198.18.0.54")})
		wantAddrs(t, o, OptRouter, []netip.Addr{addr("198.18.0.1")})
	}
}

// checkGoldenRelations checks the xid, chaddr and secs a message shares
// with another.
func checkGoldenRelations(t *testing.T, p *Packet, w goldenWant, parsed map[string]*Packet) {
	t.Helper()
	if q := parsed[w.inReplyTo]; q != nil {
		if p.XID != q.XID || p.CHAddr != q.CHAddr {
			t.Errorf("xid %#x chaddr %x, want those of %s: %#x %x", p.XID, p.HardwareAddr(), w.inReplyTo, q.XID, q.HardwareAddr())
		}
		if p.Secs != q.Secs {
			t.Errorf("secs %d not copied from %s (%d)", p.Secs, w.inReplyTo, q.Secs)
		}
	}
	if q := parsed[w.sameXID]; q != nil && p.XID != q.XID {
		t.Errorf("xid %#x, want %s's %#x", p.XID, w.sameXID, q.XID)
	}
	if q := parsed[w.newXID]; q != nil && p.XID == q.XID {
		t.Errorf("xid %#x reused from %s", p.XID, w.newXID)
	}
}

// checkGoldenRebuild checks that Append of the parsed message re-parses to
// the same fields and options; since none of the captured messages uses
// Pad or overload and all have the message type first, the rebuilt bytes
// are the captured ones.
func checkGoldenRebuild(t *testing.T, msg []byte, p *Packet) {
	t.Helper()
	b, err := p.Append(nil, p.MaxMessageSize())
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	var q Packet
	if err := Parse(b, &q); err != nil {
		t.Fatalf("Parse of the rebuilt message: %v", err)
	}
	if d := diffPackets(p, &q); d != "" {
		t.Errorf("rebuilt message differs: %s", d)
	}
	if !slices.Equal(q.Options.Codes(), p.Options.Codes()) {
		t.Errorf("rebuilt option order %v, want %v", q.Options.Codes(), p.Options.Codes())
	}
	if !bytes.Equal(b, msg) {
		t.Errorf("rebuilt bytes differ from the capture:\n got %x\nwant %x", b, msg)
	}
}
