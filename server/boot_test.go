package server

import (
	"strings"
	"testing"

	"leased/dhcpv4"
)

// pxeEnv has the classes of a BIOS, UEFI and ARM64 network boot chained
// into iPXE, as in examples/pxe.yaml.
func pxeEnv(t *testing.T) *env {
	return yamlEnv(t,
		"client-classes:",
		"  - name: ipxe",
		"    match: {user-class: iPXE}",
		"    boot: {file: \"http://198.18.0.5/boot.ipxe\"}",
		"  - name: bios",
		"    match: {arch: 0}",
		"    boot: {file: undionly.kpxe}",
		"  - name: uefi-x64",
		"    match: {arch: [7, 9]}",
		"    boot: {file: ipxe.efi}",
		"  - name: arm64",
		"    match: {arch: 11}",
		"    boot: {file: ipxe-arm64.efi, next-server: 198.18.0.6, server-name: arm-boot}",
		"  - name: bulky",
		"    match: {vendor-class: bulky}",
		"    options: {option-224: {hex: \""+strings.Repeat("ab", 300)+"\"}}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.10-198.18.0.19]",
		"    boot: {next-server: 198.18.0.5}",
		"    reservations:",
		"      - {hw-address: 02:00:00:00:00:09, address: 198.18.0.50, boot: {file: special.kpxe}}",
	)
}

func TestNetworkBoot(t *testing.T) {
	e := pxeEnv(t)
	pxe := func(a uint16) []option {
		return []option{arch(a), {dhcpv4.OptVendorClass, []byte("PXEClient:Arch:0000" + string(rune('0'+a%10)) + ":UNDI:003016")}}
	}
	uuid := option{optClientMachineID, append([]byte{0}, []byte("0123456789abcdef")...)}
	tests := []struct {
		name                string
		mac                 byte
		extra               []option
		prl                 []byte
		siaddr, sname, file string
		opt66, opt67, opt60 string
		opt97               bool
	}{
		{"RFC2131 2 siaddr from the subnet's next-server; no file: no PXE answer", 1, nil, nil,
			"198.18.0.5", "", "", "", "", "", false},
		{"RFC4578 2.1 BIOS firmware gets its boot file and PXEClient back", 2, append(pxe(0), uuid), nil,
			"198.18.0.5", "", "undionly.kpxe", "", "", "PXEClient", true},
		{"RFC4578 2.3 a malformed client machine identifier is not echoed", 8, append(pxe(0), option{optClientMachineID, []byte{1, 2, 3}}), nil,
			"198.18.0.5", "", "undionly.kpxe", "", "", "PXEClient", false},
		{"RFC4578 2.1 UEFI x64", 3, pxe(7), nil, "198.18.0.5", "", "ipxe.efi", "", "", "PXEClient", false},
		{"RFC4578 2.1 ARM64 class sets next-server and sname over the subnet's", 4, pxe(11), nil,
			"198.18.0.6", "arm-boot", "ipxe-arm64.efi", "", "", "PXEClient", false},
		{"RFC2132 9.4 9.5 options 66 and 67 when asked for", 5, pxe(11), []byte{1, 3, 66, 67},
			"198.18.0.6", "arm-boot", "ipxe-arm64.efi", "arm-boot", "ipxe-arm64.efi", "PXEClient", false},
		{"iPXE chain: iPXE's own request gets the script, not the firmware's file again", 6,
			append(pxe(7), option{dhcpv4.OptUserClass, []byte("iPXE")}), []byte{1, 3, 67},
			"198.18.0.5", "", "http://198.18.0.5/boot.ipxe", "", "http://198.18.0.5/boot.ipxe", "PXEClient", false},
		{"a client that is not PXE gets no option 60", 7, []option{arch(7)}, nil, "198.18.0.5", "", "ipxe.efi", "", "", "", false},
		{"reservation boot file over the class's", 9, pxe(7), nil, "198.18.0.5", "", "special.kpxe", "", "", "PXEClient", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(tt.mac)
			c.prl = tt.prl
			c.opts = tt.extra
			for _, typ := range []dhcpv4.MessageType{dhcpv4.Discover, dhcpv4.Request} {
				var req *dhcpv4.Packet
				if typ == dhcpv4.Discover {
					req = c.packet(typ)
				} else {
					a := e.dora(c, direct())
					req = c.packet(typ, optAddr(dhcpv4.OptRequestedIP, a.String()))
				}
				_, reply := e.handle(req, direct())
				if reply == nil {
					t.Fatalf("%v: no reply", typ)
				}
				if reply.SIAddr != mustAddr(tt.siaddr) || reply.ServerName() != tt.sname || reply.BootFile() != tt.file {
					t.Errorf("%v: siaddr %v sname %q file %q, want %v %q %q", typ, reply.SIAddr, reply.ServerName(), reply.BootFile(), tt.siaddr, tt.sname, tt.file)
				}
				for _, o := range []struct {
					code dhcpv4.OptionCode
					want string
				}{{dhcpv4.OptTFTPServerName, tt.opt66}, {dhcpv4.OptBootfileName, tt.opt67}, {dhcpv4.OptVendorClass, tt.opt60}} {
					if v, _ := reply.Options.Get(o.code); string(v) != o.want {
						t.Errorf("%v: %v = %q, want %q", typ, o.code, v, o.want)
					}
				}
				if v, ok := reply.Options.Get(optClientMachineID); ok != tt.opt97 || ok && string(v) != string(uuid.val) {
					t.Errorf("%v: option 97 %x, want echoed %v", typ, v, tt.opt97)
				}
			}
		})
	}
}

func TestBootOverload(t *testing.T) {
	e := pxeEnv(t)
	c := newClient(1)
	c.prl = nil // every configured option: more than fits in 576 bytes
	c.opts = []option{arch(0), {dhcpv4.OptVendorClass, []byte("bulky")}}
	t.Run("RFC2132 9.3 fields needed for options: the boot file moves to option 67", func(t *testing.T) {
		_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
		if offer == nil {
			t.Fatal("no offer")
		}
		if ov, _ := offer.Options.Uint8(dhcpv4.OptOverload); ov == 0 {
			t.Errorf("no option 52: the reply fits; the test needs a bigger option")
		}
		if v, _ := offer.Options.Get(dhcpv4.OptBootfileName); string(v) != "undionly.kpxe" {
			t.Errorf("option 67 %q, want undionly.kpxe", v)
		}
		if offer.BootFile() != "" || offer.SIAddr != mustAddr("198.18.0.5") {
			t.Errorf("file %q siaddr %v", offer.BootFile(), offer.SIAddr)
		}
	})
	t.Run("RFC2132 9.10 a larger maximum message size keeps the header field", func(t *testing.T) {
		big := option{dhcpv4.OptMaxMessageSize, []byte{0x05, 0xdc}}
		_, offer := e.handle(c.packet(dhcpv4.Discover, big), direct())
		if offer == nil || offer.BootFile() != "undionly.kpxe" || offer.Options.Has(dhcpv4.OptBootfileName) {
			t.Errorf("offer file %q, option 67 present %v", offer.BootFile(), offer.Options.Has(dhcpv4.OptBootfileName))
		}
	})
}
