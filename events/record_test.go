package events

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
	"time"

	"leased/lease"
)

// TestRecordEnvAndJSONCarryTheSameFields: the documented environment
// variables and JSON members, with the host name escaped.
func TestRecordEnvAndJSONCarryTheSameFields(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := Record{Type: Renew, Addr: netip.MustParseAddr("198.18.0.10"), Subnet: netip.MustParsePrefix("198.18.0.0/24"),
		ServerID: netip.MustParseAddr("198.18.0.1"), Start: start, Expiry: start.Add(time.Hour),
		HW: lease.HardwareAddr{Type: 1, Len: 6, Addr: [16]byte{2, 0, 0, 0, 0, 0xab}}}
	r.SetClientID([]byte{1, 2, 0, 0, 0, 0, 0xab})
	r.SetHostname([]byte("evil\n$(rm)\x1b"))
	r.SetFQDN("laptop.example.net")
	want := map[string]string{
		"event": "renew", "address": "198.18.0.10", "subnet": "198.18.0.0/24", "client_id": "010200000000ab",
		"hw_type": "1", "hw_address": "02:00:00:00:00:ab", "hostname": `evil\x0a$(rm)\x1b`,
		"start": "2026-01-02T03:04:05Z", "expiry": "2026-01-02T04:04:05Z", "server_id": "198.18.0.1",
		"fqdn": "laptop.example.net",
	}
	var got map[string]string
	if err := json.Unmarshal(r.AppendJSON(nil), &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("JSON %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("JSON has %d members, want %d", len(got), len(want))
	}
	env := r.Env()
	for k, v := range want {
		kv := "LEASED_" + upper(k) + "=" + v
		if !slices.Contains(env, kv) {
			t.Errorf("environment lacks %q: %q", kv, env)
		}
	}
}

// TestRecordCutsLongFields: a client identifier or host name longer than
// a record holds is cut, not refused.
func TestRecordCutsLongFields(t *testing.T) {
	var r Record
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	r.SetClientID(long)
	r.SetHostname(long)
	if len(r.ClientID()) != MaxClientID || len(r.Hostname()) != MaxHostname {
		t.Fatalf("kept %d and %d bytes, want %d and %d", len(r.ClientID()), len(r.Hostname()), MaxClientID, MaxHostname)
	}
	if !r.ClientIDCut() {
		t.Fatal("a cut client identifier is not reported cut")
	}
	r.SetClientID(long[:MaxClientID])
	if r.ClientIDCut() {
		t.Fatal("a client identifier that fits is reported cut")
	}
}
