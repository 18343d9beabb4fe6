package ddns

import (
	"net/netip"
	"testing"

	"leased/events"
	"leased/lease"
)

func hwAddr(typ byte, b ...byte) lease.HardwareAddr {
	h := lease.HardwareAddr{Type: typ, Len: uint8(len(b))}
	copy(h.Addr[:], b)
	return h
}

// TestDHCIDRFC4701Examples checks the examples of RFC 4701 §3.6.
func TestDHCIDRFC4701Examples(t *testing.T) {
	duid := "\x00\x01\x00\x06\x41\x2d\xf1\x66\x01\x02\x03\x04\x05\x06"
	for _, tc := range []struct {
		name   string
		client Client
		fqdn   string
		want   string
	}{
		{"RFC4701 3.6.1 DUID (RFC 4361 client identifier: type 255, IAID, DUID)",
			Client{ID: "\xff\x00\x00\x00\x01" + duid, HW: hwAddr(1, 1, 2, 3, 4, 5, 6)},
			"chi6.example.com", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="},
		{"RFC4701 3.6.2 client identifier option",
			Client{ID: "\x01\x07\x08\x09\x0a\x0b\x0c", HW: hwAddr(1, 1, 2, 3, 4, 5, 6)},
			"chi.example.com.", "AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No="},
		{"RFC4701 3.6.3 htype and chaddr (no client identifier)",
			Client{HW: hwAddr(1, 1, 2, 3, 4, 5, 6)},
			"client.example.com", "AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY="},
		{"RFC4701 3.6.3 identity that is htype and chaddr",
			Client{ID: "\x01\x01\x02\x03\x04\x05\x06", HW: hwAddr(1, 1, 2, 3, 4, 5, 6)},
			"client.example.com", "AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY="},
		{"RFC4701 3.5 canonical (lower-case) name",
			Client{HW: hwAddr(1, 1, 2, 3, 4, 5, 6)},
			"Client.EXAMPLE.com", "AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DHCID(&tc.client, tc.fqdn)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("DHCID = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestCutClientIDLeavesTheEventToTheRescan: an event whose client
// identifier was longer than a Record holds makes no job (its DHCID would
// not be the client's); the store's record, read whole by a rescan, does.
func TestCutClientIDLeavesTheEventToTheRescan(t *testing.T) {
	var r events.Record
	r.Type = events.Commit
	r.Addr = netip.MustParseAddr("198.18.0.10")
	r.SetFQDN("pc.example.net")
	r.DNS = lease.DNSForward
	r.SetClientID(make([]byte, events.MaxClientID))
	if _, ok := jobFromRecord(&r); !ok {
		t.Fatal("an event with a whole client identifier makes no job")
	}
	r.SetClientID(make([]byte, events.MaxClientID+1))
	if _, ok := jobFromRecord(&r); ok {
		t.Fatal("an event with a cut client identifier makes a job")
	}
}
