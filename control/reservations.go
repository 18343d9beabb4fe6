package control

import (
	"errors"
	"fmt"
	"net"

	"leased/config"
)

// ReservationSaver keeps the run-time reservations across restarts: the
// API calls Save with all of them after every change, and undoes the
// change when Save fails. reservations.File is one.
type ReservationSaver interface {
	Save(rs []config.Reservation) error
}

// Config returns r as a configuration reservation, checking the syntax of
// its fields; the engine checks the rest when it applies it.
func (r *NewReservation) Config() (config.Reservation, error) {
	c := config.Reservation{Addr: r.Address, Hostname: r.Hostname}
	if !r.Address.Is4() {
		return c, errors.New("address: an IPv4 address is required")
	}
	if r.HWAddr != "" {
		b, err := ParseHex(r.HWAddr)
		if err != nil || len(b) > 16 {
			return c, fmt.Errorf("hw_addr: %q is not a hardware address such as 02:00:00:00:00:01", r.HWAddr)
		}
		c.HWAddr = net.HardwareAddr(b)
	}
	if r.ClientID != "" {
		b, err := ParseHex(r.ClientID)
		if err != nil {
			return c, fmt.Errorf("client_id: %v", err)
		}
		c.ClientID = b
	}
	return c, nil
}
