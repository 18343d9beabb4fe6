package dhcpv4

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"
)

func TestPacketString(t *testing.T) {
	relay := slices.Concat(
		AppendSubOption(nil, RelayCircuitID, []byte{0, 7}),
		AppendSubOption(nil, RelayLinkSelection, []byte{198, 18, 9, 0}),
		AppendSubOption(nil, 9, []byte{0xff}),
	)
	tests := []struct {
		name string
		p    func(p *Packet)
		want string
	}{
		{
			"DHCPDISCOVER from a client",
			func(p *Packet) {
				p.Op, p.XID, p.Flags = BootRequest, 0x1234abcd, FlagBroadcast
				p.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
				p.Options.SetMessageType(Discover)
				p.Options.Set(OptClientID, []byte{1, 2, 0, 0, 0, 0, 1})
				p.Options.SetParameterRequestList([]OptionCode{1, 3, 6, 250})
				p.Options.SetUint16(OptMaxMessageSize, 1500)
				p.Options.SetString(OptHostName, "golden-client")
				p.Options.Set(OptRapidCommit, nil)
			},
			`DHCPDISCOVER xid=0x1234abcd chaddr=02:00:00:00:00:01 flags=broadcast [message-type=DHCPDISCOVER client-id=01020000000001 parameter-request-list=subnet-mask,routers,dns-servers,option-250 max-message-size=1500 host-name="golden-client" rapid-commit]`,
		},
		{
			"DHCPACK through a relay",
			func(p *Packet) {
				p.Op, p.XID, p.HType, p.Hops, p.Secs = BootReply, 7, 6, 1, 3
				p.HLen = 0
				p.YIAddr, p.GIAddr, p.CIAddr = addr("198.18.9.10"), addr("198.18.9.1"), addr("0.0.0.0")
				p.SetServerName("srv")
				p.SetBootFile("pxelinux.0")
				p.Options.SetMessageType(Ack)
				p.Options.SetAddr(OptServerID, addr("198.18.0.1"))
				p.Options.SetDuration(OptLeaseTime, 3600e9)
				p.Options.SetAddrs(OptDNSServers, []netip.Addr{addr("198.18.0.53"), addr("198.18.0.54")})
				p.Options.Set(OptRelayAgentInfo, relay)
				p.Options.Set(OptDomainSearch, []byte("\x06golden\x04test\x00\x01a\xc0\x00"))
				p.Options.Set(OptClasslessRoutes, []byte{0, 198, 18, 9, 1})
				p.Options.Set(OptUserClass, []byte("\x01a\x02bc"))
				p.Options.Set(224, []byte{0xde, 0xad})
			},
			`DHCPACK xid=0x00000007 htype=6 hops=1 secs=3 yiaddr=198.18.9.10 giaddr=198.18.9.1 sname="srv" file="pxelinux.0" [message-type=DHCPACK server-id=198.18.0.1 lease-time=3600s dns-servers=198.18.0.53,198.18.0.54 relay-agent-info=circuit-id=0007,link-selection=198.18.9.0,sub-9=ff domain-search=golden.test,a.golden.test classless-routes=0.0.0.0/0 via 198.18.9.1 user-class="a","bc" option-224=dead]`,
		},
		{
			"text sent by a peer with control characters escaped",
			func(p *Packet) {
				p.Op, p.HType = BootRequest, 1
				p.SetServerName("s\x1b[2J")
				p.Options.SetMessageType(Request)
				p.Options.SetString(OptHostName, "pc\x7f \u009b2J\x9b")
				p.Options.Set(OptDomainSearch, []byte("\x03a\x1bb\x00"))
				p.Options.Set(OptUserClass, []byte("\x02\x07\""))
			},
			`DHCPREQUEST xid=0x00000000 sname="s\x1b[2J" [message-type=DHCPREQUEST host-name="pc\x7f\x20\u009b2J\x9b" domain-search=a\x1bb user-class="\x07\""]`,
		},
		{
			"BOOTP reply without options",
			func(p *Packet) {
				p.Op, p.HType, p.Flags = BootReply, 1, 0x8001
			},
			`BOOTREPLY xid=0x00000000 flags=0x8001 []`,
		},
		{
			"malformed typed values shown as hex",
			func(p *Packet) {
				p.Op, p.HType = BootRequest, 1
				p.Options.Set(OptMessageType, []byte{1, 2})
				p.Options.Set(OptRouter, []byte{1, 2, 3})
				p.Options.Set(OptLeaseTime, []byte{1})
				p.Options.Set(OptRelayAgentInfo, []byte{1, 5})
				p.Options.Set(OptDomainSearch, []byte{0xc0})
				p.Options.Set(OptClasslessRoutes, []byte{40})
				p.Options.Set(OptUserClass, []byte("MSFT"))
				p.Options.Set(OptOverload, []byte{3})
			},
			`BOOTREQUEST xid=0x00000000 [message-type=0102 routers=010203 lease-time=01 relay-agent-info=0105 domain-search=c0 classless-routes=28 user-class=4d534654 overload=3]`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			tc.p(&p)
			if got := p.String(); got != tc.want {
				t.Errorf("String() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestCodeStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{BootRequest.String(), "BOOTREQUEST"},
		{BootReply.String(), "BOOTREPLY"},
		{OpCode(0).String(), "op(0)"},
		{Discover.String(), "DHCPDISCOVER"},
		{ForceRenew.String(), "DHCPFORCERENEW"},
		{MessageType(0).String(), "type(0)"},
		{MessageType(10).String(), "type(10)"},
		{OptDNSServers.String(), "dns-servers"},
		{OptionCode(250).String(), "option-250"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
}

func TestOptionCodeByName(t *testing.T) {
	// Every code's name maps back to it, and so does "option-N".
	for i := range 256 {
		c := OptionCode(i)
		if got, ok := OptionCodeByName(c.String()); !ok || got != c {
			t.Errorf("OptionCodeByName(%q) = %d, %v; want %d", c.String(), got, ok, c)
		}
		if got, ok := OptionCodeByName("option-" + strconv.Itoa(i)); !ok || got != c {
			t.Errorf("OptionCodeByName(option-%d) = %d, %v", i, got, ok)
		}
	}
	for _, bad := range []string{"", "option-", "option-256", "option--1", "option-+1", "option-01", "option-0x10", "DNS-SERVERS", "dns_servers", "option"} {
		if c, ok := OptionCodeByName(bad); ok {
			t.Errorf("OptionCodeByName(%q) = %d, true; want false", bad, c)
		}
	}
}
