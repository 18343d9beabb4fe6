package server

import (
	"errors"
	"slices"
	"testing"

	"leased/config"
	"leased/dhcpv4"
)

// classedConfig is testConfig with two classes a reservation may name and
// one it may not: vip sets an option and a lease time, blocked ignores
// its clients.
func classedConfig(c *config.Config) {
	c.ClientClasses = []config.ClientClass{
		{Name: "vip", Options: []config.Option{{Code: dhcpv4.OptDomainName, Value: []byte("vip.example")}}},
		{Name: "lab"},
		{Name: "blocked", Ignore: true},
	}
}

// TestRuntimeReservationClasses checks that a reservation added at run
// time puts its client in the classes it names, as one of the file does:
// the class's options reach the client, the view and
// RuntimeReservations name them, and a reload keeps them; and that it
// may name only configured classes that answer their clients.
func TestRuntimeReservationClasses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		classes []string
		err     error
	}{
		{"unknown class refused", []string{"vip", "vpi"}, ErrInvalidReservation},
		{"class that ignores its clients refused", []string{"blocked"}, ErrInvalidReservation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, classedConfig)
			err := e.eng.AddReservation(config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.60"), Classes: tc.classes})
			if !errors.Is(err, tc.err) {
				t.Fatalf("AddReservation: %v, want %v", err, tc.err)
			}
			if len(e.eng.RuntimeReservations()) != 0 {
				t.Errorf("a refused reservation was added")
			}
		})
	}

	e := newEnv(t, classedConfig)
	live := NewReloadable(e.eng)
	r := config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.60"), Classes: []string{"lab", "vip"}}
	if err := live.AddReservation(r); err != nil {
		t.Fatal(err)
	}
	c := newClient(0x60)
	c.prl = []byte{byte(dhcpv4.OptDomainName)}
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if offer == nil || offer.YIAddr != r.Addr {
		t.Fatalf("DISCOVER: got %v, want an offer of %v", offer, r.Addr)
	}
	if v, _ := offer.Options.Get(dhcpv4.OptDomainName); string(v) != "vip.example" {
		t.Errorf("the reservation's class option: domain-name %q, want vip.example", v)
	}
	want := []string{"vip", "lab"} // in file order
	if rt := live.RuntimeReservations(); len(rt) != 1 || !slices.Equal(rt[0].Classes, want) {
		t.Fatalf("RuntimeReservations: %+v, want classes %v", rt, want)
	}
	next := testConfig()
	classedConfig(next)
	if err := live.Reload(next); err != nil {
		t.Fatalf("reload: %v", err)
	}
	for _, v := range live.Reservations() {
		if v.Runtime && !slices.Equal(v.Classes, want) {
			t.Errorf("after the reload: %+v, want classes %v", v, want)
		}
	}
	// A configuration without the class conflicts with the reservation.
	if err := live.Reload(testConfig()); !errors.Is(err, ErrInvalidReservation) {
		t.Errorf("reload without the class: %v, want ErrInvalidReservation", err)
	}
}
