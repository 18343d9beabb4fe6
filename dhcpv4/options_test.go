package dhcpv4

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTypedOptionRoundTrip sets each option the package has a typed
// encoding for, builds the message, parses it back and reads the option
// with its typed getter.
func TestTypedOptionRoundTrip(t *testing.T) {
	dns := []netip.Addr{addr("198.18.0.53"), addr("198.18.0.54")}
	routes := []Route{
		{netip.MustParsePrefix("0.0.0.0/0"), addr("198.18.0.1")},
		{netip.MustParsePrefix("198.19.0.0/16"), addr("198.18.0.254")},
		{netip.MustParsePrefix("198.18.7.128/25"), addr("0.0.0.0")},
	}
	search := []string{"eng.golden.test", "golden.test", "Example.ORG"}
	classes := [][]byte{[]byte("office"), []byte("printers")}
	relay := slices.Concat(
		AppendSubOption(nil, RelayCircuitID, []byte("eth0:vlan7")),
		AppendSubOption(nil, RelayRemoteID, []byte{0, 6, 2, 0, 0, 0, 0, 9}),
		AppendSubOption(nil, RelayLinkSelection, []byte{198, 18, 4, 0}),
		AppendSubOption(nil, RelayServerIDOverride, []byte{198, 18, 0, 1}),
	)
	vendor := slices.Concat(AppendSubOption(nil, 1, []byte("acme")), AppendSubOption(nil, 2, seq(0, 300)))
	longValue := seq(7, 700)

	tests := []struct {
		name  string
		set   func(o *Options) bool
		check func(t *testing.T, o *Options)
	}{
		{
			"RFC2132 3.3 subnet mask",
			func(o *Options) bool { return o.SetAddr(OptSubnetMask, addr("255.255.254.0")) },
			func(t *testing.T, o *Options) { wantAddr(t, o, OptSubnetMask, "255.255.254.0") },
		},
		{
			"RFC2132 3.5 router",
			func(o *Options) bool { return o.SetAddrs(OptRouter, dns[:1]) },
			func(t *testing.T, o *Options) { wantAddrs(t, o, OptRouter, dns[:1]) },
		},
		{
			"RFC2132 3.8 DNS servers",
			func(o *Options) bool { return o.SetAddrs(OptDNSServers, dns) },
			func(t *testing.T, o *Options) { wantAddrs(t, o, OptDNSServers, dns) },
		},
		{
			"RFC2132 3.14 host name",
			func(o *Options) bool { return o.SetString(OptHostName, "golden-client") },
			func(t *testing.T, o *Options) { wantRaw(t, o, OptHostName, "golden-client") },
		},
		{
			"RFC2132 3.17 domain name",
			func(o *Options) bool { return o.SetString(OptDomainName, "golden.test") },
			func(t *testing.T, o *Options) { wantRaw(t, o, OptDomainName, "golden.test") },
		},
		{
			"RFC2132 5.3 broadcast address",
			func(o *Options) bool { return o.SetAddr(OptBroadcastAddress, addr("198.18.1.255")) },
			func(t *testing.T, o *Options) { wantAddr(t, o, OptBroadcastAddress, "198.18.1.255") },
		},
		{
			"RFC2132 8.3 NTP servers",
			func(o *Options) bool { return o.SetAddrs(OptNTPServers, dns) },
			func(t *testing.T, o *Options) { wantAddrs(t, o, OptNTPServers, dns) },
		},
		{
			"RFC2132 8.4 vendor-specific encapsulated, longer than 255",
			func(o *Options) bool { return o.Set(OptVendorSpecific, vendor) },
			func(t *testing.T, o *Options) {
				v, _ := o.Get(OptVendorSpecific)
				if s, ok := SubOption(v, 2); !ok || !bytes.Equal(s, seq(0, 255)) {
					t.Errorf("vendor sub-option 2 = %x, %v", s, ok)
				}
				if s, ok := SubOption(v, 1); !ok || string(s) != "acme" {
					t.Errorf("vendor sub-option 1 = %q, %v", s, ok)
				}
			},
		},
		{
			"RFC2132 9.1 requested IP address",
			func(o *Options) bool { return o.SetAddr(OptRequestedIP, addr("198.18.0.77")) },
			func(t *testing.T, o *Options) { wantAddr(t, o, OptRequestedIP, "198.18.0.77") },
		},
		{
			"RFC2132 9.2 lease time",
			func(o *Options) bool { return o.SetDuration(OptLeaseTime, 2*time.Hour) },
			func(t *testing.T, o *Options) { wantDuration(t, o, OptLeaseTime, 2*time.Hour) },
		},
		{
			"RFC2131 3.3 infinite lease time",
			func(o *Options) bool { return o.SetDuration(OptLeaseTime, Infinite) },
			func(t *testing.T, o *Options) {
				wantDuration(t, o, OptLeaseTime, Infinite)
				if v, _ := o.Uint32(OptLeaseTime); v != 0xffffffff {
					t.Errorf("infinite lease encoded as %#x", v)
				}
			},
		},
		{
			"RFC2132 9.6 message type",
			func(o *Options) bool { return o.SetMessageType(Nak) },
			func(t *testing.T, o *Options) {
				if got := o.MessageType(); got != Nak {
					t.Errorf("MessageType() = %v, want DHCPNAK", got)
				}
			},
		},
		{
			"RFC2132 9.7 server identifier",
			func(o *Options) bool { return o.SetAddr(OptServerID, addr("198.18.0.1")) },
			func(t *testing.T, o *Options) { wantAddr(t, o, OptServerID, "198.18.0.1") },
		},
		{
			"RFC2132 9.8 parameter request list",
			func(o *Options) bool {
				return o.SetParameterRequestList([]OptionCode{OptSubnetMask, OptRouter, OptDomainSearch, OptClasslessRoutes})
			},
			func(t *testing.T, o *Options) {
				wantRaw(t, o, OptParameterRequestList, "\x01\x03\x77\x79")
				for _, c := range []OptionCode{OptSubnetMask, OptRouter, OptDomainSearch, OptClasslessRoutes} {
					if !o.ParameterRequested(c) {
						t.Errorf("ParameterRequested(%v) = false", c)
					}
				}
				if o.ParameterRequested(OptNTPServers) {
					t.Error("ParameterRequested(ntp-servers) = true")
				}
			},
		},
		{
			"RFC2132 9.9 message",
			func(o *Options) bool { return o.SetString(OptMessage, "requested address not on this link") },
			func(t *testing.T, o *Options) { wantRaw(t, o, OptMessage, "requested address not on this link") },
		},
		{
			"RFC2132 9.10 maximum message size",
			func(o *Options) bool { return o.SetUint16(OptMaxMessageSize, 1500) },
			func(t *testing.T, o *Options) {
				if v, ok := o.Uint16(OptMaxMessageSize); !ok || v != 1500 {
					t.Errorf("Uint16(57) = %d, %v", v, ok)
				}
			},
		},
		{
			"RFC2132 9.11 renewal time",
			func(o *Options) bool { return o.SetDuration(OptRenewalTime, time.Hour+1500*time.Millisecond) },
			func(t *testing.T, o *Options) { wantDuration(t, o, OptRenewalTime, time.Hour+time.Second) },
		},
		{
			"RFC2132 9.12 rebinding time",
			func(o *Options) bool { return o.SetDuration(OptRebindingTime, 105*time.Minute) },
			func(t *testing.T, o *Options) { wantDuration(t, o, OptRebindingTime, 105*time.Minute) },
		},
		{
			"RFC2132 9.13 vendor class identifier",
			func(o *Options) bool { return o.SetString(OptVendorClass, "udhcp 1.36.1") },
			func(t *testing.T, o *Options) { wantRaw(t, o, OptVendorClass, "udhcp 1.36.1") },
		},
		{
			"RFC2132 9.14 client identifier",
			func(o *Options) bool { return o.Set(OptClientID, []byte{1, 2, 0xc6, 0x12, 0, 0, 1}) },
			func(t *testing.T, o *Options) { wantRaw(t, o, OptClientID, "\x01\x02\xc6\x12\x00\x00\x01") },
		},
		{
			"RFC3004 4 user class",
			func(o *Options) bool {
				v, err := AppendUserClass(nil, classes)
				return err == nil && o.Set(OptUserClass, v)
			},
			func(t *testing.T, o *Options) {
				v, _ := o.Get(OptUserClass)
				got, err := ParseUserClass(v, nil)
				if err != nil || len(got) != 2 || string(got[0]) != "office" || string(got[1]) != "printers" {
					t.Errorf("ParseUserClass = %q, %v", got, err)
				}
			},
		},
		{
			"RFC4039 rapid commit, no value",
			func(o *Options) bool { return o.Set(OptRapidCommit, nil) },
			func(t *testing.T, o *Options) {
				if v, ok := o.Get(OptRapidCommit); !ok || len(v) != 0 {
					t.Errorf("rapid commit = %x, %v; want present and empty", v, ok)
				}
			},
		},
		{
			"RFC4702 client FQDN, raw",
			func(o *Options) bool {
				return o.Set(OptClientFQDN, []byte("\x05\x00\x00\x06client\x06golden\x04test\x00"))
			},
			func(t *testing.T, o *Options) {
				wantRaw(t, o, OptClientFQDN, "\x05\x00\x00\x06client\x06golden\x04test\x00")
			},
		},
		{
			"RFC3046 relay agent information with sub-options 1, 2, 5, 11",
			func(o *Options) bool { return o.Set(OptRelayAgentInfo, relay) },
			func(t *testing.T, o *Options) {
				v, _ := o.Get(OptRelayAgentInfo)
				if err := ValidateSubOptions(v); err != nil {
					t.Error(err)
				}
				if s, ok := SubOption(v, RelayCircuitID); !ok || string(s) != "eth0:vlan7" {
					t.Errorf("circuit-id = %q, %v", s, ok)
				}
				if s, ok := SubOption(v, RelayRemoteID); !ok || !bytes.Equal(s, []byte{0, 6, 2, 0, 0, 0, 0, 9}) {
					t.Errorf("remote-id = %x, %v", s, ok)
				}
				if a, ok := LinkSelection(v); !ok || a != addr("198.18.4.0") {
					t.Errorf("LinkSelection = %v, %v", a, ok)
				}
				if a, ok := ServerIDOverride(v); !ok || a != addr("198.18.0.1") {
					t.Errorf("ServerIDOverride = %v, %v", a, ok)
				}
			},
		},
		{
			"RFC3397 domain search",
			func(o *Options) bool {
				v, err := AppendDomainList(nil, search)
				return err == nil && o.Set(OptDomainSearch, v)
			},
			func(t *testing.T, o *Options) {
				v, _ := o.Get(OptDomainSearch)
				got, err := ParseDomainList(v, nil)
				if err != nil || !slices.Equal(got, search) {
					t.Errorf("ParseDomainList = %q, %v; want %q", got, err, search)
				}
			},
		},
		{
			"RFC3442 classless static routes",
			func(o *Options) bool {
				v, err := AppendClasslessRoutes(nil, routes)
				return err == nil && o.Set(OptClasslessRoutes, v)
			},
			func(t *testing.T, o *Options) {
				v, _ := o.Get(OptClasslessRoutes)
				got, err := ParseClasslessRoutes(v, nil)
				if err != nil || !slices.Equal(got, routes) {
					t.Errorf("ParseClasslessRoutes = %v, %v; want %v", got, err, routes)
				}
			},
		},
		{
			"RFC3396 raw option of 700 bytes",
			func(o *Options) bool { return o.Set(224, longValue) },
			func(t *testing.T, o *Options) { wantRaw(t, o, 224, string(longValue)) },
		},
		{
			"raw access to an unnamed code",
			func(o *Options) bool { return o.Set(OptionCode(254), []byte{0, 255, 0}) },
			func(t *testing.T, o *Options) { wantRaw(t, o, 254, "\x00\xff\x00") },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Packet{Op: BootReply, XID: 1}
			p.Options.SetMessageType(Ack)
			if !tc.set(&p.Options) {
				t.Fatal("setter returned false")
			}
			tc.check(t, &p.Options) // before encoding
			b, err := p.Append(nil, MaxUDPPayload)
			if err != nil {
				t.Fatal(err)
			}
			var q Packet
			if err := Parse(b, &q); err != nil {
				t.Fatal(err)
			}
			if q.Options.Len() != p.Options.Len() {
				t.Errorf("%d options after the round trip, want %d", q.Options.Len(), p.Options.Len())
			}
			tc.check(t, &q.Options)
		})
	}
}

func wantAddr(t *testing.T, o *Options, c OptionCode, want string) {
	t.Helper()
	if a, ok := o.Addr(c); !ok || a != addr(want) {
		t.Errorf("Addr(%v) = %v, %v; want %s", c, a, ok, want)
	}
}

func wantAddrs(t *testing.T, o *Options, c OptionCode, want []netip.Addr) {
	t.Helper()
	got, ok := o.Addrs(c, nil)
	if !ok || !slices.Equal(got, want) {
		t.Errorf("Addrs(%v) = %v, %v; want %v", c, got, ok, want)
	}
}

func wantDuration(t *testing.T, o *Options, c OptionCode, want time.Duration) {
	t.Helper()
	if d, ok := o.Duration(c); !ok || d != want {
		t.Errorf("Duration(%v) = %v, %v; want %v", c, d, ok, want)
	}
}

func wantRaw(t *testing.T, o *Options, c OptionCode, want string) {
	t.Helper()
	if v, ok := o.Get(c); !ok || string(v) != want {
		t.Errorf("Get(%v) = %q, %v; want %q", c, v, ok, want)
	}
}

func TestTypedGettersRejectWrongLength(t *testing.T) {
	var o Options
	o.Set(1, []byte{1, 2, 3})       // 3 bytes
	o.Set(2, []byte{1, 2, 3, 4, 5}) // 5 bytes
	o.Set(3, nil)                   // empty
	for _, c := range []OptionCode{1, 2, 3, 99} {
		if _, ok := o.Uint8(c); ok {
			t.Errorf("Uint8(%d) accepted", c)
		}
		if _, ok := o.Uint16(c); ok {
			t.Errorf("Uint16(%d) accepted", c)
		}
		if _, ok := o.Uint32(c); ok {
			t.Errorf("Uint32(%d) accepted", c)
		}
		if _, ok := o.Addr(c); ok {
			t.Errorf("Addr(%d) accepted", c)
		}
		if _, ok := o.Duration(c); ok {
			t.Errorf("Duration(%d) accepted", c)
		}
		if got, ok := o.Addrs(c, []netip.Addr{addr("198.18.0.1")}); ok || len(got) != 1 {
			t.Errorf("Addrs(%d) = %v, %v; want dst unchanged and false", c, got, ok)
		}
	}
	o.Set(OptMessageType, []byte{1, 1})
	if got := o.MessageType(); got != 0 {
		t.Errorf("MessageType() of a 2-byte option = %v, want 0", got)
	}
}

func TestSetters(t *testing.T) {
	tests := []struct {
		name string
		set  func(o *Options) bool
		want string
	}{
		{"SetDuration rounds down", func(o *Options) bool { return o.SetDuration(51, 1999*time.Millisecond) }, "\x00\x00\x00\x01"},
		{"SetDuration negative is zero", func(o *Options) bool { return o.SetDuration(51, -time.Hour) }, "\x00\x00\x00\x00"},
		{"SetDuration beyond Infinite is infinite", func(o *Options) bool { return o.SetDuration(51, 1<<62) }, "\xff\xff\xff\xff"},
		{"SetDuration just below Infinite", func(o *Options) bool { return o.SetDuration(51, Infinite-time.Second) }, "\xff\xff\xff\xfe"},
		{"SetAddr IPv4-mapped IPv6 is unmapped", func(o *Options) bool { return o.SetAddr(54, addr("::ffff:198.18.0.1")) }, "\xc6\x12\x00\x01"},
		{"SetAddr IPv6 is 0.0.0.0", func(o *Options) bool { return o.SetAddr(54, addr("2001:db8::1")) }, "\x00\x00\x00\x00"},
		{"SetAddr zero Addr is 0.0.0.0", func(o *Options) bool { return o.SetAddr(54, netip.Addr{}) }, "\x00\x00\x00\x00"},
		{"SetAddrs empty list", func(o *Options) bool { return o.SetAddrs(6, nil) }, ""},
		{"SetUint8", func(o *Options) bool { return o.SetUint8(46, 8) }, "\x08"},
		{"SetUint16 big-endian", func(o *Options) bool { return o.SetUint16(57, 0x0240) }, "\x02\x40"},
		{"SetUint32 big-endian", func(o *Options) bool { return o.SetUint32(2, 0x01020304) }, "\x01\x02\x03\x04"},
		{"SetParameterRequestList empty", func(o *Options) bool { return o.SetParameterRequestList(nil) }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o Options
			if !tc.set(&o) {
				t.Fatal("setter returned false")
			}
			if o.Len() != 1 {
				t.Fatalf("Len() = %d, want 1", o.Len())
			}
			v, _ := o.Get(o.Codes()[0])
			if string(v) != tc.want {
				t.Errorf("value %x, want %x", v, tc.want)
			}
		})
	}
}

func TestOptionsSet(t *testing.T) {
	var o Options
	if o.Set(OptPad, []byte{1}) || o.Set(OptEnd, nil) || o.SetUint8(OptPad, 1) || o.SetString(OptEnd, "x") {
		t.Error("Pad or End accepted as an option")
	}
	o.SetString(OptHostName, "a")
	o.SetMessageType(Discover)
	o.SetString(OptDomainName, "b")
	o.SetString(OptHostName, "a much longer host name than before")
	if got := o.Codes(); !equalCodes(got, []OptionCode{OptHostName, OptMessageType, OptDomainName}) {
		t.Errorf("Set of an existing code moved it: %v", got)
	}
	wantRaw(t, &o, OptHostName, "a much longer host name than before")
	o.SetString(OptHostName, "short")
	wantRaw(t, &o, OptHostName, "short")
	wantRaw(t, &o, OptDomainName, "b")

	o.Del(OptMessageType)
	o.Del(OptMessageType) // absent: no effect
	if o.Has(OptMessageType) || o.Len() != 2 || !equalCodes(o.Codes(), []OptionCode{OptHostName, OptDomainName}) {
		t.Errorf("after Del: %v", o.Codes())
	}
	if _, ok := o.Get(OptMessageType); ok {
		t.Error("Get of a deleted option succeeded")
	}

	var seen []OptionCode
	for c, v := range o.All() {
		seen = append(seen, c)
		if len(v) == 0 {
			t.Errorf("All yielded %v with no value", c)
		}
		break
	}
	if !equalCodes(seen, []OptionCode{OptHostName}) {
		t.Errorf("All stopped at %v", seen)
	}

	// A value that aliases the set itself.
	v, _ := o.Get(OptHostName)
	o.Set(OptDomainName, v)
	o.Set(OptHostName, v[1:])
	wantRaw(t, &o, OptDomainName, "short")
	wantRaw(t, &o, OptHostName, "hort")

	o.Reset()
	if o.Len() != 0 || o.Has(OptHostName) {
		t.Errorf("after Reset: %v", o.Codes())
	}
}

func TestOptionsCapacity(t *testing.T) {
	var o Options
	if !o.Set(224, make([]byte, maxOptionsBytes)) {
		t.Fatal("a value of 65,535 bytes refused")
	}
	if o.Set(225, nil) != true {
		t.Error("an empty value refused at capacity")
	}
	if o.SetUint8(226, 1) {
		t.Error("byte 65,536 accepted")
	}
	if o.Has(226) || o.Len() != 2 {
		t.Errorf("failed Set changed the set: %v", o.Codes())
	}
	o.Reset()
	if o.Set(224, make([]byte, maxOptionsBytes+1)) {
		t.Error("a value of 65,536 bytes accepted")
	}

	// Replacing values over and over must not run out of room: space left
	// by replaced and deleted values is reclaimed.
	o.Reset()
	keep := seq(0, 100)
	o.Set(1, keep)
	for i := range 500 {
		if !o.Set(224, repeatByte(byte(i), 1000+i%2)) {
			t.Fatalf("replacement %d refused", i)
		}
		if !o.Set(225, repeatByte(byte(i), 200)) {
			t.Fatalf("set %d of 225 refused", i)
		}
		o.Del(225)
	}
	wantRaw(t, &o, 1, string(keep))
	wantRaw(t, &o, 224, string(repeatByte(byte(499%256), 1001)))
	if !equalCodes(o.Codes(), []OptionCode{1, 224}) {
		t.Errorf("order %v", o.Codes())
	}

	// A value aliasing the set survives the compaction it triggers.
	o.Reset()
	o.Set(1, repeatByte('a', 50000))
	o.Set(2, repeatByte('b', 10000))
	o.Set(1, repeatByte('c', 10)) // in place, leaving 49,990 bytes unused
	v, _ := o.Get(2)
	if !o.Set(3, v) { // 70,000 bytes: needs compaction
		t.Fatal("Set needing compaction refused")
	}
	wantRaw(t, &o, 3, strings.Repeat("b", 10000))
	wantRaw(t, &o, 2, strings.Repeat("b", 10000))
	wantRaw(t, &o, 1, strings.Repeat("c", 10))
	if o.Set(4, make([]byte, maxOptionsBytes-20010+1)) {
		t.Error("Set past 65,535 live bytes accepted")
	}
	if !o.Set(4, make([]byte, maxOptionsBytes-20010)) {
		t.Error("Set up to 65,535 live bytes refused")
	}
}

func TestOptionsCopyFrom(t *testing.T) {
	var a, b Options
	a.SetString(OptHostName, "a")
	a.Set(OptRapidCommit, nil)
	b.SetString(OptDomainName, "stale")
	b.CopyFrom(&a)
	if b.Has(OptDomainName) || !equalCodes(b.Codes(), a.Codes()) {
		t.Errorf("CopyFrom: %v, want %v", b.Codes(), a.Codes())
	}
	b.SetString(OptHostName, "b")
	wantRaw(t, &a, OptHostName, "a")
	a.CopyFrom(&a)
	wantRaw(t, &a, OptHostName, "a")
}
