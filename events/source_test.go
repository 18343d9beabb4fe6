package events

import (
	"net/netip"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/lease"
	"leased/server"
)

// TestFromOutcomeCarriesTheDNSNames: the event of a DHCPACK, DHCPRELEASE
// or DHCPDECLINE carries the lease's DNS name and records, and for a
// DHCPACK the name and records it had before; a reused Record keeps
// nothing of the event before.
func TestFromOutcomeCarriesTheDNSNames(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var req, reply dhcpv4.Packet
	req.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
	reply.Options.SetDuration(dhcpv4.OptLeaseTime, time.Hour)
	both := lease.DNSForward | lease.DNSReverse
	tests := []struct {
		name string
		out  server.Outcome
		want Type
	}{
		{"renamed lease acknowledged", server.Outcome{Reason: server.ReasonAck, FQDN: "desk.example.net", DNS: lease.DNSReverse,
			OldFQDN: "laptop.example.net", OldDNS: both}, Commit},
		{"named lease released", server.Outcome{Reason: server.ReasonReleased, FQDN: "desk.example.net", DNS: both}, Release},
		{"named lease declined", server.Outcome{Reason: server.ReasonDeclined, FQDN: "desk.example.net", DNS: both}, Decline},
		{"lease without a name", server.Outcome{Reason: server.ReasonAck}, Commit},
	}
	var r Record
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.out.Addr = netip.MustParseAddr("198.18.0.10")
			if !FromOutcome(&r, now, &req, &reply, &tc.out) || r.Type != tc.want {
				t.Fatalf("FromOutcome: type %v, want %v", r.Type, tc.want)
			}
			if string(r.FQDN()) != tc.out.FQDN || r.DNS != tc.out.DNS || string(r.OldFQDN()) != tc.out.OldFQDN || r.OldDNS != tc.out.OldDNS {
				t.Errorf("record FQDN %q %v old %q %v, want %q %v old %q %v", r.FQDN(), r.DNS, r.OldFQDN(), r.OldDNS,
					tc.out.FQDN, tc.out.DNS, tc.out.OldFQDN, tc.out.OldDNS)
			}
		})
	}
	out := server.Outcome{Reason: server.ReasonAck, FQDN: "desk.example.net", DNS: both, OldFQDN: "laptop.example.net", OldDNS: both}
	if allocs := testing.AllocsPerRun(100, func() { FromOutcome(&r, now, &req, &reply, &out) }); allocs != 0 {
		t.Errorf("FromOutcome: %v allocations, want 0", allocs)
	}
}
