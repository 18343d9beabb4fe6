package relay

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"leased/dhcpv4"
)

// The downstream interfaces of the tests.
var (
	down0 = Interface{Name: "down0", Index: 3, Addr: netip.MustParseAddr("198.18.1.1")}
	down1 = Interface{Name: "down1", Index: 4, Addr: netip.MustParseAddr("198.18.2.1"), CircuitID: []byte("port-2")}
)

var (
	upstream  = netip.MustParseAddr("198.18.0.254")
	clientMAC = []byte{0x02, 0xc6, 0x12, 0x00, 0x00, 0x01}
)

func mustRelay(t testing.TB, cfg Config) *Relay {
	t.Helper()
	if len(cfg.Downstream) == 0 {
		cfg.Downstream = []Interface{down0, down1}
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// message encodes a DHCP message of type typ from the client, edited by
// edit.
func message(t testing.TB, op dhcpv4.OpCode, typ dhcpv4.MessageType, edit func(*dhcpv4.Packet)) []byte {
	t.Helper()
	var p dhcpv4.Packet
	p.Op = op
	p.SetHardwareAddr(1, clientMAC)
	p.XID = 0xc6120001
	p.Options.SetMessageType(typ)
	if op == dhcpv4.BootRequest {
		p.Options.SetParameterRequestList([]dhcpv4.OptionCode{dhcpv4.OptSubnetMask, dhcpv4.OptRouter, dhcpv4.OptDNSServers})
		p.Options.SetString(dhcpv4.OptHostName, "client")
	} else {
		p.YIAddr = netip.MustParseAddr("198.18.1.100")
		p.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr("198.18.0.1"))
		p.Options.SetUint32(dhcpv4.OptLeaseTime, 3600)
	}
	if edit != nil {
		edit(&p)
	}
	b, err := p.Append(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func request(t testing.TB, edit func(*dhcpv4.Packet)) []byte {
	t.Helper()
	return message(t, dhcpv4.BootRequest, dhcpv4.Discover, edit)
}

// agentInfo encodes relay agent information sub-options given as code,
// value pairs.
func agentInfo(subs ...any) []byte {
	var b []byte
	for i := 0; i+1 < len(subs); i += 2 {
		var v []byte
		switch x := subs[i+1].(type) {
		case string:
			v = []byte(x)
		case []byte:
			v = x
		case netip.Addr:
			v = x.AsSlice()
		}
		b = dhcpv4.AppendSubOption(b, subs[i].(uint8), v)
	}
	return b
}

// optionCodes lists the options of the options field of b in order, Pad
// left out, up to and including End.
func optionCodes(t testing.TB, b []byte) []byte {
	t.Helper()
	var codes []byte
	for i := dhcpv4.MinLen; i < len(b); {
		switch c := b[i]; c {
		case 0:
			i++
			continue
		case 255:
			return append(codes, c)
		default:
			if i+1 >= len(b) || i+2+int(b[i+1]) > len(b) {
				t.Fatalf("option %d at %d runs past the end", c, i)
			}
			codes = append(codes, c)
			i += 2 + int(b[i+1])
		}
	}
	return codes
}

func parse(t testing.TB, b []byte) *dhcpv4.Packet {
	t.Helper()
	var p dhcpv4.Packet
	if err := dhcpv4.Parse(b, &p); err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	return &p
}

// withOverloadedFile returns msg with option 52 (file) added and the file
// field holding the options fileOpts, End-terminated.
func withOverloadedFile(t testing.TB, msg []byte, fileOpts []byte) []byte {
	t.Helper()
	b := bytes.Clone(msg)
	end := bytes.IndexByte(b[dhcpv4.MinLen:], 255) + dhcpv4.MinLen
	b = slices.Insert(b, end, byte(dhcpv4.OptOverload), 1, dhcpv4.OverloadFile)
	f := b[offFile:offCookie]
	clear(f)
	copy(f, append(bytes.Clone(fileOpts), 255))
	return b
}

func TestRequest(t *testing.T) {
	foreign := agentInfo(dhcpv4.RelayCircuitID, "switch-port-7")
	type want struct {
		reason Reason
		hops   uint8
		giaddr netip.Addr
		// agent is the option 82 the server receives, nil for none.
		agent []byte
	}
	for _, tc := range []struct {
		name    string
		cfg     Config
		msg     []byte
		ifIndex int
		want    want
	}{
		{
			name:    "RFC1542 4.1.1 giaddr zero -> the arrival interface's address, hops incremented",
			msg:     request(t, nil),
			ifIndex: down0.Index,
			want:    want{reason: Forwarded, hops: 1, giaddr: down0.Addr},
		},
		{
			name:    "RFC1542 4.1.1 giaddr of the interface the request arrived on",
			msg:     request(t, nil),
			ifIndex: down1.Index,
			want:    want{reason: Forwarded, hops: 1, giaddr: down1.Addr},
		},
		{
			name:    "RFC1542 4.1.1 hops at the default maximum 4 -> relayed",
			msg:     request(t, func(p *dhcpv4.Packet) { p.Hops = 4 }),
			ifIndex: down0.Index,
			want:    want{reason: Forwarded, hops: 5, giaddr: down0.Addr},
		},
		{
			name:    "RFC1542 4.1.1 hops above the default maximum 4 -> dropped",
			msg:     request(t, func(p *dhcpv4.Packet) { p.Hops = 5 }),
			ifIndex: down0.Index,
			want:    want{reason: DropHopLimit},
		},
		{
			name:    "RFC1542 4.1.1 hops at a configured maximum of 16 -> relayed",
			cfg:     Config{MaxHops: 16},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Hops = 16 }),
			ifIndex: down0.Index,
			want:    want{reason: Forwarded, hops: 17, giaddr: down0.Addr},
		},
		{
			name:    "RFC1542 4.1.1 hops exceeding 16 -> dropped",
			cfg:     Config{MaxHops: 16},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Hops = 17 }),
			ifIndex: down0.Index,
			want:    want{reason: DropHopLimit},
		},
		{
			name:    "RFC1542 4.1.1 configured maximum 1: second relay hop dropped",
			cfg:     Config{MaxHops: 1},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Hops = 2 }),
			ifIndex: down0.Index,
			want:    want{reason: DropHopLimit},
		},
		{
			name:    "RFC1542 4.1.1 secs below the threshold -> held back",
			cfg:     Config{MinSecs: 3},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Secs = 2 }),
			ifIndex: down0.Index,
			want:    want{reason: DropSecs},
		},
		{
			name:    "RFC1542 4.1.1 secs at the threshold -> relayed",
			cfg:     Config{MinSecs: 3},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Secs = 3 }),
			ifIndex: down0.Index,
			want:    want{reason: Forwarded, hops: 1, giaddr: down0.Addr},
		},
		{
			name:    "request on an interface that is not downstream -> dropped",
			msg:     request(t, nil),
			ifIndex: 99,
			want:    want{reason: DropNotDownstream},
		},
		{
			name:    "request without arrival interface -> dropped",
			msg:     request(t, nil),
			ifIndex: 0,
			want:    want{reason: DropNotDownstream},
		},
		{
			name:    "RFC3046 2.1 agent information added: circuit ID is the interface name",
			cfg:     Config{AgentInfo: true},
			msg:     request(t, nil),
			ifIndex: down0.Index,
			want:    want{reason: Forwarded, hops: 1, giaddr: down0.Addr, agent: agentInfo(dhcpv4.RelayCircuitID, "down0")},
		},
		{
			name:    "RFC3046 3.1 configured circuit ID",
			cfg:     Config{AgentInfo: true},
			msg:     request(t, nil),
			ifIndex: down1.Index,
			want:    want{reason: Forwarded, hops: 1, giaddr: down1.Addr, agent: agentInfo(dhcpv4.RelayCircuitID, "port-2")},
		},
		{
			name:    "RFC3046 3.2 remote ID after the circuit ID",
			cfg:     Config{AgentInfo: true, RemoteID: []byte("relay-a")},
			msg:     request(t, nil),
			ifIndex: down0.Index,
			want: want{reason: Forwarded, hops: 1, giaddr: down0.Addr,
				agent: agentInfo(dhcpv4.RelayCircuitID, "down0", dhcpv4.RelayRemoteID, "relay-a")},
		},
		{
			name:    "RFC3527 link selection: giaddr is the upstream address, sub-option 5 the client's link",
			cfg:     Config{AgentInfo: true, LinkSelection: true, Upstream: upstream},
			msg:     request(t, nil),
			ifIndex: down1.Index,
			want: want{reason: Forwarded, hops: 1, giaddr: upstream,
				agent: agentInfo(dhcpv4.RelayCircuitID, "port-2", dhcpv4.RelayLinkSelection, down1.Addr)},
		},
		{
			name:    "RFC5107 server identifier override is the downstream address",
			cfg:     Config{AgentInfo: true, ServerIDOverride: true},
			msg:     request(t, nil),
			ifIndex: down0.Index,
			want: want{reason: Forwarded, hops: 1, giaddr: down0.Addr,
				agent: agentInfo(dhcpv4.RelayCircuitID, "down0", dhcpv4.RelayServerIDOverride, down0.Addr)},
		},
		{
			name: "RFC3046 2.1 every sub-option at once",
			cfg: Config{AgentInfo: true, RemoteID: []byte{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee},
				LinkSelection: true, Upstream: upstream, ServerIDOverride: true},
			msg:     request(t, nil),
			ifIndex: down0.Index,
			want: want{reason: Forwarded, hops: 1, giaddr: upstream,
				agent: agentInfo(dhcpv4.RelayCircuitID, "down0", dhcpv4.RelayRemoteID, []byte{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee},
					dhcpv4.RelayLinkSelection, down0.Addr, dhcpv4.RelayServerIDOverride, down0.Addr)},
		},
		{
			name:    "RFC3046 2.1 untrusted circuit: client request with option 82 -> dropped (default policy)",
			cfg:     Config{AgentInfo: true},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, foreign) }),
			ifIndex: down0.Index,
			want:    want{reason: DropAgentInfoPresent},
		},
		{
			name:    "RFC3046 2.1 untrusted circuit: dropped also when not adding option 82",
			msg:     request(t, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, foreign) }),
			ifIndex: down0.Index,
			want:    want{reason: DropAgentInfoPresent},
		},
		{
			name:    "RFC3046 2.1 trusted circuit: existing option 82 forwarded, no second one, giaddr set",
			cfg:     Config{AgentInfo: true, Policy: PolicyForward},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, foreign) }),
			ifIndex: down0.Index,
			want:    want{reason: ForwardedAgentInfoKept, hops: 1, giaddr: down0.Addr, agent: foreign},
		},
		{
			name:    "RFC3046 2.1 trusted circuit with link selection: giaddr stays the interface's",
			cfg:     Config{AgentInfo: true, Policy: PolicyForward, LinkSelection: true, Upstream: upstream},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, foreign) }),
			ifIndex: down0.Index,
			want:    want{reason: ForwardedAgentInfoKept, hops: 1, giaddr: down0.Addr, agent: foreign},
		},
		{
			name:    "policy replace: existing option 82 replaced by ours",
			cfg:     Config{AgentInfo: true, Policy: PolicyReplace},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, foreign) }),
			ifIndex: down0.Index,
			want:    want{reason: Forwarded, hops: 1, giaddr: down0.Addr, agent: agentInfo(dhcpv4.RelayCircuitID, "down0")},
		},
		{
			name:    "policy replace without adding: existing option 82 removed",
			cfg:     Config{Policy: PolicyReplace},
			msg:     request(t, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, foreign) }),
			ifIndex: down0.Index,
			want:    want{reason: Forwarded, hops: 1, giaddr: down0.Addr},
		},
		{
			name:    "RFC3046 2.1 option 82 hidden in an overloaded file field -> dropped",
			cfg:     Config{AgentInfo: true},
			msg:     withOverloadedFile(t, request(t, nil), append([]byte{82, byte(len(foreign))}, foreign...)),
			ifIndex: down0.Index,
			want:    want{reason: DropAgentInfoPresent},
		},
		{
			name:    "policy replace: option 82 in an overloaded file field blanked, ours added",
			cfg:     Config{AgentInfo: true, Policy: PolicyReplace},
			msg:     withOverloadedFile(t, request(t, nil), append([]byte{82, byte(len(foreign))}, foreign...)),
			ifIndex: down0.Index,
			want:    want{reason: Forwarded, hops: 1, giaddr: down0.Addr, agent: agentInfo(dhcpv4.RelayCircuitID, "down0")},
		},
		{
			name: "RFC3046 2.1.1 giaddr set by a relay closer to the client: forwarded as is, hops incremented",
			cfg:  Config{AgentInfo: true},
			msg: request(t, func(p *dhcpv4.Packet) {
				p.GIAddr = netip.MustParseAddr("198.18.9.1")
				p.Hops = 1
			}),
			ifIndex: down0.Index,
			want:    want{reason: ForwardedRelayed, hops: 2, giaddr: netip.MustParseAddr("198.18.9.1")},
		},
		{
			name: "RFC3046 2.1.1 giaddr set by another relay, with its option 82: kept as is",
			cfg:  Config{AgentInfo: true},
			msg: request(t, func(p *dhcpv4.Packet) {
				p.GIAddr = netip.MustParseAddr("198.18.9.1")
				p.Hops = 1
				p.Options.Set(dhcpv4.OptRelayAgentInfo, foreign)
			}),
			ifIndex: down0.Index,
			want:    want{reason: ForwardedRelayed, hops: 2, giaddr: netip.MustParseAddr("198.18.9.1"), agent: foreign},
		},
		{
			name:    "RFC3046 2.1.1 giaddr spoofing one of our addresses -> dropped",
			cfg:     Config{AgentInfo: true},
			msg:     request(t, func(p *dhcpv4.Packet) { p.GIAddr = down1.Addr }),
			ifIndex: down0.Index,
			want:    want{reason: DropOwnGIAddr},
		},
		{
			name:    "RFC3046 2.1.1 giaddr spoofing our upstream address -> dropped",
			cfg:     Config{Upstream: upstream},
			msg:     request(t, func(p *dhcpv4.Packet) { p.GIAddr = upstream }),
			ifIndex: down0.Index,
			want:    want{reason: DropOwnGIAddr},
		},
		{
			name: "RFC3046 2.1 no room under the maximum size -> forwarded without option 82",
			cfg:  Config{AgentInfo: true, MaxSize: 300},
			msg: request(t, func(p *dhcpv4.Packet) {
				p.Options.Set(dhcpv4.OptionCode(224), make([]byte, 40)) // options fill 300 bytes
			}),
			ifIndex: down0.Index,
			want:    want{reason: ForwardedNoRoom, hops: 1, giaddr: down0.Addr},
		},
		{
			name:    "BOOTREPLY given as a request -> dropped",
			msg:     message(t, dhcpv4.BootReply, dhcpv4.Offer, nil),
			ifIndex: down0.Index,
			want:    want{reason: DropWrongOp},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRelay(t, tc.cfg)
			orig := bytes.Clone(tc.msg)
			out, reason := r.Request(nil, tc.msg, tc.ifIndex)
			if !bytes.Equal(tc.msg, orig) {
				t.Error("Request modified its input")
			}
			if reason != tc.want.reason {
				t.Fatalf("reason %v, want %v", reason, tc.want.reason)
			}
			if reason.Dropped() {
				if len(out) != 0 {
					t.Errorf("dropped, but %d bytes out", len(out))
				}
				return
			}
			p := parse(t, out)
			in := parse(t, tc.msg)
			if p.Hops != tc.want.hops {
				t.Errorf("hops %d, want %d", p.Hops, tc.want.hops)
			}
			if p.GIAddr != tc.want.giaddr {
				t.Errorf("giaddr %v, want %v", p.GIAddr, tc.want.giaddr)
			}
			// RFC 1542 §4.1.1: nothing else in the fixed fields changes.
			if p.Secs != in.Secs || p.XID != in.XID || p.Flags != in.Flags || p.CHAddr != in.CHAddr ||
				p.CIAddr != in.CIAddr || p.HType != in.HType || p.HLen != in.HLen || p.Op != in.Op {
				t.Errorf("fixed fields changed:\n in %v\nout %v", in, p)
			}
			got, ok := p.Options.Get(dhcpv4.OptRelayAgentInfo)
			switch {
			case tc.want.agent == nil && ok:
				t.Errorf("relay agent information %x, want none", got)
			case tc.want.agent != nil && !bytes.Equal(got, tc.want.agent):
				t.Errorf("relay agent information %x, want %x", got, tc.want.agent)
			}
			// Every other option reaches the server unchanged, in order.
			var inCodes, outCodes []dhcpv4.OptionCode
			for c, v := range in.Options.All() {
				if c != dhcpv4.OptRelayAgentInfo && c != dhcpv4.OptOverload {
					inCodes = append(inCodes, c)
					if w, _ := p.Options.Get(c); !bytes.Equal(v, w) {
						t.Errorf("option %v changed: %x -> %x", c, v, w)
					}
				}
			}
			for c := range p.Options.All() {
				if c != dhcpv4.OptRelayAgentInfo && c != dhcpv4.OptOverload {
					outCodes = append(outCodes, c)
				}
			}
			if !slices.Equal(inCodes, outCodes) {
				t.Errorf("options %v, want %v", outCodes, inCodes)
			}
			if len(out) < dhcpv4.BOOTPMinLen {
				t.Errorf("%d bytes, shorter than the BOOTP minimum (RFC 1542 3.1.1)", len(out))
			}
			// RFC 3046 2.1: ours is the last option before End, in the
			// options field, the only instance.
			codes := optionCodes(t, out)
			if tc.want.agent != nil && reason == Forwarded {
				if n := len(codes); n < 2 || codes[n-2] != 82 || codes[n-1] != 255 {
					t.Errorf("options field %v: option 82 is not last before End", codes)
				}
				if bytes.Count(codes, []byte{82}) != 1 {
					t.Errorf("options field %v: option 82 more than once", codes)
				}
				for _, b := range out[offFile:offCookie] {
					if b == 82 {
						t.Errorf("option 82 left in the file field: % x", out[offFile:offCookie])
						break
					}
				}
			}
		})
	}
}

// TestRequestLength: the relay reuses the client's padding for option 82
// instead of growing the message, and grows it when it must.
func TestRequestLength(t *testing.T) {
	r := mustRelay(t, Config{AgentInfo: true})
	for _, tc := range []struct {
		name    string
		msg     []byte
		wantLen int
	}{
		{"RFC3046 2.1 option 82 fits in the client's padding: length kept",
			padded(request(t, nil), 548), 548},
		{"RFC1542 3.1.1 short option field: padded to 300 bytes",
			request(t, nil), dhcpv4.BOOTPMinLen},
		{"full message grows by the option's length",
			request(t, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptionCode(224), make([]byte, 41)) }), // End is byte 300
			dhcpv4.BOOTPMinLen + 2 + 2 + len("down0")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, reason := r.Request(nil, tc.msg, down0.Index)
			if reason != Forwarded {
				t.Fatalf("reason %v", reason)
			}
			if len(out) != tc.wantLen {
				t.Errorf("%d bytes, want %d (input %d)", len(out), tc.wantLen, len(tc.msg))
			}
			parse(t, out)
		})
	}
}

func padded(b []byte, n int) []byte { return append(b, make([]byte, n-len(b))...) }

// TestRequestMissingEnd: a request without End (tolerated, as real
// clients omit it) is relayed with End after our option.
func TestRequestMissingEnd(t *testing.T) {
	msg := request(t, nil)
	end := bytes.IndexByte(msg[dhcpv4.MinLen:], 255) + dhcpv4.MinLen
	msg = msg[:end] // no End, no padding
	r := mustRelay(t, Config{AgentInfo: true})
	out, reason := r.Request(nil, msg, down0.Index)
	if reason != Forwarded {
		t.Fatalf("reason %v", reason)
	}
	codes := optionCodes(t, out)
	if n := len(codes); n < 2 || codes[n-2] != 82 || codes[n-1] != 255 {
		t.Errorf("options %v: want option 82 then End", codes)
	}
}

func TestRequestMalformed(t *testing.T) {
	good := request(t, nil)
	r := mustRelay(t, Config{AgentInfo: true})
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"shorter than 240 bytes", good[:239]},
		{"op neither request nor reply", edit(func(b []byte) []byte { b[0] = 3; return b })},
		{"hlen over 16", edit(func(b []byte) []byte { b[offHLen] = 17; return b })},
		{"bad magic cookie", edit(func(b []byte) []byte { b[offCookie] = 0; return b })},
		{"option length past the end", edit(func(b []byte) []byte {
			return append(b[:dhcpv4.MinLen], 53, 1, 1, 12, 200, 'x')
		})},
		{"option code without a length byte", edit(func(b []byte) []byte {
			return append(b[:dhcpv4.MinLen], 53, 1, 1, 12)
		})},
		{"overloaded file field with an overrun", withOverloadedFile(t, good, []byte{12, 200})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, reason := r.Request(nil, tc.msg, down0.Index)
			if reason != DropMalformed {
				t.Errorf("reason %v, want %v", reason, DropMalformed)
			}
			if len(out) != 0 {
				t.Errorf("%d bytes out", len(out))
			}
		})
	}
}

// reply encodes a server's reply to the client, edited by edit.
func reply(t testing.TB, typ dhcpv4.MessageType, edit func(*dhcpv4.Packet)) []byte {
	t.Helper()
	return message(t, dhcpv4.BootReply, typ, func(p *dhcpv4.Packet) {
		p.GIAddr = down0.Addr
		if edit != nil {
			edit(p)
		}
	})
}

func withAgent(info []byte) func(*dhcpv4.Packet) {
	return func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, info) }
}

func TestReply(t *testing.T) {
	ours0 := agentInfo(dhcpv4.RelayCircuitID, "down0")
	ours1 := agentInfo(dhcpv4.RelayCircuitID, "port-2")
	bcast := netip.MustParseAddrPort("255.255.255.255:68")
	yiaddr := netip.MustParseAddrPort("198.18.1.100:68")
	type want struct {
		reason Reason
		how    dhcpv4.Delivery
		iface  Interface
		dst    netip.AddrPort
		// agent is the option 82 the client receives, nil for none.
		agent []byte
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		msg  []byte
		want want
	}{
		{
			name: "RFC2131 4.1 broadcast flag -> broadcast on the interface of giaddr",
			msg:  reply(t, dhcpv4.Offer, func(p *dhcpv4.Packet) { p.Flags = dhcpv4.FlagBroadcast }),
			want: want{reason: Delivered, how: dhcpv4.ToBroadcast, iface: down0, dst: bcast},
		},
		{
			name: "RFC2131 4.1 no broadcast flag -> unicast to yiaddr at chaddr",
			msg:  reply(t, dhcpv4.Offer, nil),
			want: want{reason: Delivered, how: dhcpv4.ToHardware, iface: down0, dst: yiaddr},
		},
		{
			name: "RFC2131 4.1 ciaddr set -> unicast to ciaddr",
			msg: reply(t, dhcpv4.Ack, func(p *dhcpv4.Packet) {
				p.CIAddr = netip.MustParseAddr("198.18.1.100")
			}),
			want: want{reason: Delivered, how: dhcpv4.ToClientAddr, iface: down0, dst: yiaddr},
		},
		{
			name: "RFC2131 4.1 ciaddr beats the broadcast flag",
			msg: reply(t, dhcpv4.Ack, func(p *dhcpv4.Packet) {
				p.CIAddr = netip.MustParseAddr("198.18.1.100")
				p.Flags = dhcpv4.FlagBroadcast
			}),
			want: want{reason: Delivered, how: dhcpv4.ToClientAddr, iface: down0, dst: yiaddr},
		},
		{
			name: "RFC2131 4.3.2 DHCPNAK -> broadcast",
			msg: reply(t, dhcpv4.Nak, func(p *dhcpv4.Packet) {
				p.YIAddr = netip.IPv4Unspecified()
				p.CIAddr = netip.MustParseAddr("198.18.1.100")
			}),
			want: want{reason: Delivered, how: dhcpv4.ToBroadcast, iface: down0, dst: bcast},
		},
		{
			name: "RFC2131 4.1 no yiaddr (DHCPINFORM answer without ciaddr) -> broadcast",
			msg:  reply(t, dhcpv4.Ack, func(p *dhcpv4.Packet) { p.YIAddr = netip.IPv4Unspecified() }),
			want: want{reason: Delivered, how: dhcpv4.ToBroadcast, iface: down0, dst: bcast},
		},
		{
			name: "RFC1542 4.1.2 giaddr names the second interface",
			msg:  reply(t, dhcpv4.Offer, func(p *dhcpv4.Packet) { p.GIAddr = down1.Addr; p.Flags = dhcpv4.FlagBroadcast }),
			want: want{reason: Delivered, how: dhcpv4.ToBroadcast, iface: down1, dst: bcast},
		},
		{
			name: "RFC3046 2.1 our option 82 removed before delivery",
			cfg:  Config{AgentInfo: true},
			msg:  reply(t, dhcpv4.Offer, withAgent(ours0)),
			want: want{reason: Delivered, how: dhcpv4.ToHardware, iface: down0, dst: yiaddr},
		},
		{
			name: "RFC3046 3.1 circuit ID selects the interface over giaddr",
			cfg:  Config{AgentInfo: true},
			msg:  reply(t, dhcpv4.Offer, withAgent(ours1)),
			want: want{reason: Delivered, how: dhcpv4.ToHardware, iface: down1, dst: yiaddr},
		},
		{
			name: "RFC3527 reply to the upstream address, interface by circuit ID",
			cfg:  Config{AgentInfo: true, LinkSelection: true, Upstream: upstream},
			msg: reply(t, dhcpv4.Offer, func(p *dhcpv4.Packet) {
				p.GIAddr = upstream
				withAgent(agentInfo(dhcpv4.RelayCircuitID, "port-2", dhcpv4.RelayLinkSelection, down1.Addr))(p)
			}),
			want: want{reason: Delivered, how: dhcpv4.ToHardware, iface: down1, dst: yiaddr},
		},
		{
			name: "RFC3046 3.2 our remote ID matches -> ours",
			cfg:  Config{AgentInfo: true, RemoteID: []byte("relay-a")},
			msg:  reply(t, dhcpv4.Offer, withAgent(agentInfo(dhcpv4.RelayCircuitID, "down0", dhcpv4.RelayRemoteID, "relay-a"))),
			want: want{reason: Delivered, how: dhcpv4.ToHardware, iface: down0, dst: yiaddr},
		},
		{
			name: "RFC3046 3.2 another relay's remote ID -> not ours, dropped",
			cfg:  Config{AgentInfo: true, RemoteID: []byte("relay-a")},
			msg:  reply(t, dhcpv4.Offer, withAgent(agentInfo(dhcpv4.RelayCircuitID, "down0", dhcpv4.RelayRemoteID, "relay-b"))),
			want: want{reason: DropForeignAgentInfo},
		},
		{
			name: "RFC3046 2.1 option 82 we did not add -> dropped",
			cfg:  Config{AgentInfo: true},
			msg:  reply(t, dhcpv4.Offer, withAgent(agentInfo(dhcpv4.RelayCircuitID, "switch-port-7"))),
			want: want{reason: DropForeignAgentInfo},
		},
		{
			name: "RFC3046 2.1 option 82 when not adding any -> dropped",
			msg:  reply(t, dhcpv4.Offer, withAgent(ours0)),
			want: want{reason: DropForeignAgentInfo},
		},
		{
			name: "RFC3046 2.1 malformed option 82 -> not ours, dropped",
			cfg:  Config{AgentInfo: true},
			msg:  reply(t, dhcpv4.Offer, withAgent([]byte{1, 9, 'd'})),
			want: want{reason: DropForeignAgentInfo},
		},
		{
			name: "RFC3046 2.1 trusted circuit: their option 82 delivered as is, by giaddr",
			cfg:  Config{AgentInfo: true, Policy: PolicyForward},
			msg:  reply(t, dhcpv4.Offer, withAgent(agentInfo(dhcpv4.RelayCircuitID, "switch-port-7"))),
			want: want{reason: DeliveredAgentInfoKept, how: dhcpv4.ToHardware, iface: down0, dst: yiaddr,
				agent: agentInfo(dhcpv4.RelayCircuitID, "switch-port-7")},
		},
		{
			name: "RFC3046 2.2 server that does not echo option 82: delivered by giaddr",
			cfg:  Config{AgentInfo: true},
			msg:  reply(t, dhcpv4.Offer, nil),
			want: want{reason: Delivered, how: dhcpv4.ToHardware, iface: down0, dst: yiaddr},
		},
		{
			name: "RFC1542 4.1.2 giaddr of no downstream interface -> dropped",
			msg:  reply(t, dhcpv4.Offer, func(p *dhcpv4.Packet) { p.GIAddr = netip.MustParseAddr("198.18.7.1") }),
			want: want{reason: DropUnknownInterface},
		},
		{
			name: "RFC1542 4.1.2 giaddr is the upstream address, no option 82 -> dropped",
			cfg:  Config{Upstream: upstream},
			msg:  reply(t, dhcpv4.Offer, func(p *dhcpv4.Packet) { p.GIAddr = upstream }),
			want: want{reason: DropUnknownInterface},
		},
		{
			name: "trusted circuit: their option 82 and an unknown giaddr -> dropped",
			cfg:  Config{Policy: PolicyForward},
			msg: reply(t, dhcpv4.Offer, func(p *dhcpv4.Packet) {
				p.GIAddr = netip.MustParseAddr("198.18.7.1")
				withAgent(agentInfo(dhcpv4.RelayCircuitID, "x"))(p)
			}),
			want: want{reason: DropUnknownInterface},
		},
		{
			name: "reply with giaddr zero -> dropped",
			msg:  reply(t, dhcpv4.Offer, func(p *dhcpv4.Packet) { p.GIAddr = netip.IPv4Unspecified() }),
			want: want{reason: DropNoGIAddr},
		},
		{
			name: "BOOTREQUEST given as a reply -> dropped",
			msg:  request(t, func(p *dhcpv4.Packet) { p.GIAddr = down0.Addr }),
			want: want{reason: DropWrongOp},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRelay(t, tc.cfg)
			orig := bytes.Clone(tc.msg)
			out, d, reason := r.Reply(nil, tc.msg)
			if !bytes.Equal(tc.msg, orig) {
				t.Error("Reply modified its input")
			}
			if reason != tc.want.reason {
				t.Fatalf("reason %v, want %v", reason, tc.want.reason)
			}
			if reason.Dropped() {
				if len(out) != 0 || d != (Destination{}) {
					t.Errorf("dropped, but %d bytes out to %+v", len(out), d)
				}
				return
			}
			if d.Delivery != tc.want.how || d.Dst != tc.want.dst {
				t.Errorf("delivery %v to %v, want %v to %v", d.Delivery, d.Dst, tc.want.how, tc.want.dst)
			}
			if d.IfIndex != tc.want.iface.Index || d.IfName != tc.want.iface.Name || d.Src != tc.want.iface.Addr {
				t.Errorf("interface %d %s from %v, want %d %s from %v", d.IfIndex, d.IfName, d.Src,
					tc.want.iface.Index, tc.want.iface.Name, tc.want.iface.Addr)
			}
			if !bytes.Equal(d.HardwareAddr(), clientMAC) || d.HType != 1 {
				t.Errorf("hardware address %x type %d, want %x type 1", d.HardwareAddr(), d.HType, clientMAC)
			}
			p, in := parse(t, out), parse(t, tc.msg)
			got, ok := p.Options.Get(dhcpv4.OptRelayAgentInfo)
			switch {
			case tc.want.agent == nil && ok:
				t.Errorf("the client receives relay agent information %x", got)
			case tc.want.agent != nil && !bytes.Equal(got, tc.want.agent):
				t.Errorf("relay agent information %x, want %x", got, tc.want.agent)
			}
			// The rest reaches the client as the server sent it.
			in.Options.Del(dhcpv4.OptRelayAgentInfo)
			p.Options.Del(dhcpv4.OptRelayAgentInfo)
			if in.String() != p.String() {
				t.Errorf("reply changed:\n in %v\nout %v", in, p)
			}
		})
	}
}

// TestReplyLeavesSNameAlone: RFC 3046 §2.1 says the relay SHALL NOT parse
// or remove option 82 in the sname or file fields of a reply.
func TestReplyLeavesFileAlone(t *testing.T) {
	r := mustRelay(t, Config{AgentInfo: true})
	info := agentInfo(dhcpv4.RelayCircuitID, "down0")
	msg := withOverloadedFile(t, reply(t, dhcpv4.Offer, withAgent(info)), append([]byte{82, byte(len(info))}, info...))
	out, _, reason := r.Reply(nil, msg)
	if reason != Delivered {
		t.Fatalf("reason %v", reason)
	}
	if !bytes.Equal(out[offFile:offCookie], msg[offFile:offCookie]) {
		t.Error("file field changed")
	}
	if codes := optionCodes(t, out); bytes.IndexByte(codes, 82) >= 0 {
		t.Errorf("options field %v still holds option 82", codes)
	}
}

// TestRoundTrip: a request relayed with option 82, answered by a server
// that echoes the option (RFC 3046 §2.2), comes back to the client without
// it, on the interface it came from.
func TestRoundTrip(t *testing.T) {
	r := mustRelay(t, Config{AgentInfo: true, RemoteID: []byte("relay-a"), LinkSelection: true, Upstream: upstream, ServerIDOverride: true})
	for _, f := range []Interface{down0, down1} {
		fwd, reason := r.Request(nil, request(t, nil), f.Index)
		if reason != Forwarded {
			t.Fatalf("%s: request: %v", f.Name, reason)
		}
		req := parse(t, fwd)
		info, _ := req.Options.Get(dhcpv4.OptRelayAgentInfo)
		ls, ok := dhcpv4.LinkSelection(info)
		if !ok || ls != f.Addr {
			t.Errorf("%s: link selection %v, want %v", f.Name, ls, f.Addr)
		}
		ans := message(t, dhcpv4.BootReply, dhcpv4.Offer, func(p *dhcpv4.Packet) {
			p.GIAddr = req.GIAddr
			p.Flags = dhcpv4.FlagBroadcast
			p.Options.Set(dhcpv4.OptRelayAgentInfo, info) // echoed, last
		})
		out, d, reason := r.Reply(nil, ans)
		if reason != Delivered {
			t.Fatalf("%s: reply: %v", f.Name, reason)
		}
		if d.IfIndex != f.Index || d.Delivery != dhcpv4.ToBroadcast {
			t.Errorf("%s: delivered %v on %d, want broadcast on %d", f.Name, d.Delivery, d.IfIndex, f.Index)
		}
		if parse(t, out).Options.Has(dhcpv4.OptRelayAgentInfo) {
			t.Errorf("%s: option 82 reaches the client", f.Name)
		}
	}
}

func TestNew(t *testing.T) {
	dup := down1
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{Downstream: []Interface{down0}}, true},
		{"no downstream interface", Config{}, false},
		{"RFC1542 4.1.1 maximum hops 16 allowed", Config{Downstream: []Interface{down0}, MaxHops: 16}, true},
		{"RFC1542 4.1.1 maximum hops above 16 refused", Config{Downstream: []Interface{down0}, MaxHops: 17}, false},
		{"negative maximum hops refused", Config{Downstream: []Interface{down0}, MaxHops: -1}, false},
		{"maximum size below the BOOTP minimum refused", Config{Downstream: []Interface{down0}, MaxSize: 299}, false},
		{"unknown policy refused", Config{Downstream: []Interface{down0}, Policy: 7}, false},
		{"remote ID without agent information refused", Config{Downstream: []Interface{down0}, RemoteID: []byte("x")}, false},
		{"link selection without agent information refused", Config{Downstream: []Interface{down0}, LinkSelection: true, Upstream: upstream}, false},
		{"link selection without upstream address refused", Config{Downstream: []Interface{down0}, AgentInfo: true, LinkSelection: true}, false},
		{"server identifier override without agent information refused", Config{Downstream: []Interface{down0}, ServerIDOverride: true}, false},
		{"interface listed twice refused", Config{Downstream: []Interface{down0, down0}}, false},
		{"same index refused", Config{Downstream: []Interface{down0, {Name: "x", Index: down0.Index, Addr: down1.Addr}}}, false},
		{"same circuit ID refused", Config{Downstream: []Interface{down1, {Name: "x", Index: 9, Addr: down0.Addr, CircuitID: dup.CircuitID}}}, false},
		{"interface without address refused", Config{Downstream: []Interface{{Name: "x", Index: 9}}}, false},
		{"interface with an IPv6 address refused", Config{Downstream: []Interface{{Name: "x", Index: 9, Addr: netip.MustParseAddr("2001:db8::1")}}}, false},
		{"RFC3046 2.0 option over 255 bytes refused", Config{Downstream: []Interface{down0}, AgentInfo: true,
			RemoteID: bytes.Repeat([]byte{'r'}, 250)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestPolicyNames(t *testing.T) {
	for _, p := range []Policy{PolicyDrop, PolicyForward, PolicyReplace} {
		got, err := ParsePolicy(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePolicy(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := ParsePolicy("append"); err == nil {
		t.Error("ParsePolicy(append) succeeded")
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		s := r.String()
		if seen[s] || s == "" || s[0] == 'r' && s != "reply-without-giaddr" {
			t.Errorf("reason %d: name %q missing or repeated", r, s)
		}
		seen[s] = true
		if r.Dropped() != (r >= DropMalformed) {
			t.Errorf("%v.Dropped() = %v", r, r.Dropped())
		}
	}
}

func TestMessageType(t *testing.T) {
	if got := MessageType(request(t, nil)); got != dhcpv4.Discover {
		t.Errorf("MessageType = %v, want DHCPDISCOVER", got)
	}
	if got := MessageType([]byte{1, 2, 3}); got != 0 {
		t.Errorf("MessageType(short) = %v", got)
	}
}

// FuzzRelay: no input makes the relay panic, and whatever it sends on is a
// message that parses, no longer than the input plus our option.
func FuzzRelay(f *testing.F) {
	f.Add(request(f, nil))
	f.Add(request(f, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, []byte{1, 1, 'x'}) }))
	f.Add(reply(f, dhcpv4.Offer, withAgent(agentInfo(dhcpv4.RelayCircuitID, "down0"))))
	f.Add(reply(f, dhcpv4.Nak, nil))
	r := mustRelay(f, Config{AgentInfo: true, Policy: PolicyReplace, RemoteID: []byte("r")})
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, reason := r.Request(nil, msg, down0.Index)
		if !reason.Dropped() {
			if _, err := parseOK(out); err != nil && parseOKInput(msg) {
				t.Errorf("relayed request does not parse: %v", err)
			}
			if len(out) > max(len(msg), dhcpv4.BOOTPMinLen)+257 {
				t.Errorf("relayed request of %d bytes from %d", len(out), len(msg))
			}
		}
		out, _, reason = r.Reply(nil, msg)
		if !reason.Dropped() {
			if _, err := parseOK(out); err != nil && parseOKInput(msg) {
				t.Errorf("delivered reply does not parse: %v", err)
			}
		}
	})
}

func parseOK(b []byte) (*dhcpv4.Packet, error) {
	var p dhcpv4.Packet
	return &p, dhcpv4.Parse(b, &p)
}

// parseOKInput reports whether the input itself parses: the relay keeps
// sname and file as they are, so it cannot fix what is wrong there.
func parseOKInput(b []byte) bool {
	_, err := parseOK(b)
	return err == nil
}

func BenchmarkRequest(b *testing.B) {
	r := mustRelay(b, Config{AgentInfo: true, RemoteID: []byte("relay-a")})
	msg := request(b, nil)
	out := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		var reason Reason
		out, reason = r.Request(out[:0], msg, down1.Index)
		if reason != Forwarded {
			b.Fatal(reason)
		}
	}
}

func BenchmarkReply(b *testing.B) {
	r := mustRelay(b, Config{AgentInfo: true, RemoteID: []byte("relay-a")})
	msg := reply(b, dhcpv4.Ack, withAgent(agentInfo(dhcpv4.RelayCircuitID, "port-2", dhcpv4.RelayRemoteID, "relay-a")))
	out := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		var reason Reason
		out, _, reason = r.Reply(out[:0], msg)
		if reason != Delivered {
			b.Fatal(reason)
		}
	}
}
