package postgres

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"leased/lease"
)

// row is a record as read from the database.
type row struct {
	addr           netip.Addr
	client, hwAddr []byte
	host           []byte
	hwType, state  int16
	start, expiry  time.Time
	fqdn           string
	dns, dnsState  int16
}

// lease returns r as a Lease, its times in UTC.
func (r *row) lease() lease.Lease {
	l := lease.Lease{
		Addr:     r.addr.Unmap(),
		ClientID: string(r.client),
		Hostname: string(r.host),
		State:    lease.State(r.state),
		Start:    r.start.UTC(),
		Expiry:   r.expiry.UTC(),
		FQDN:     r.fqdn,
		DNS:      lease.DNSFlags(r.dns),
		DNSState: lease.DNSState(r.dnsState),
	}
	l.HW.Type = uint8(r.hwType)
	l.HW.Len = uint8(copy(l.HW.Addr[:], r.hwAddr))
	return l
}

const selectLeases = `SELECT addr, client_id, hw_type, hw_addr, hostname, state, start_time, expiry,
    fqdn, dns, dns_state
FROM leased_leases ORDER BY addr`

// scanLeases calls fn for each record of rows until fn returns false.
func scanLeases(rows pgx.Rows, fn func(lease.Lease) bool) error {
	defer rows.Close()
	var r row
	for rows.Next() {
		if err := rows.Scan(&r.addr, &r.client, &r.hwType, &r.hwAddr, &r.host, &r.state, &r.start, &r.expiry,
			&r.fqdn, &r.dns, &r.dnsState); err != nil {
			return fmt.Errorf("postgres: read the leases: %w", err)
		}
		if !fn(r.lease()) {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read the leases: %w", err)
	}
	return nil
}

// appendNote appends the text that notifies the other servers of l:
// comma-separated address, state, start and expiry (microseconds since
// 1970, as the database keeps them), hardware type, and hardware
// address, client identifier and host name in hex; then, only for a
// record with DNS fields, its FQDN in hex, its DNS records and its DNS
// state. A record without them has the 8 fields of schema version 3's
// notes, which the servers of that version read.
func appendNote(b []byte, l *lease.Lease) []byte {
	b = l.Addr.AppendTo(b)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(l.State), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, l.Start.UnixMicro(), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, l.Expiry.UnixMicro(), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(l.HW.Type), 10)
	b = append(b, ',')
	b = hex.AppendEncode(b, l.HW.Bytes())
	b = append(b, ',')
	b = hex.AppendEncode(b, []byte(l.ClientID))
	b = append(b, ',')
	b = hex.AppendEncode(b, []byte(l.Hostname))
	if l.FQDN == "" && l.DNS == 0 && l.DNSState == 0 {
		return b
	}
	b = append(b, ',')
	b = hex.AppendEncode(b, []byte(l.FQDN))
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(l.DNS), 10)
	b = append(b, ',')
	return strconv.AppendUint(b, uint64(l.DNSState), 10)
}

// errNote is the error of a notification that does not parse.
var errNote = errors.New("postgres: malformed lease notification")

// parseNotification splits a notification payload into the server that
// sent it and its records.
func parseNotification(payload string) (server string, notes []string, err error) {
	server, rest, ok := strings.Cut(payload, " ")
	if !ok || server == "" {
		return "", nil, errNote
	}
	return server, strings.Split(rest, ";"), nil
}

// parseNote is the inverse of appendNote.
func parseNote(s string) (lease.Lease, error) {
	var l lease.Lease
	f := strings.Split(s, ",")
	if len(f) != 8 && len(f) != 11 {
		return l, errNote
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil || !a.Is4() {
		return l, errNote
	}
	st, err1 := strconv.ParseUint(f[1], 10, 8)
	start, err2 := strconv.ParseInt(f[2], 10, 64)
	exp, err3 := strconv.ParseInt(f[3], 10, 64)
	ht, err4 := strconv.ParseUint(f[4], 10, 8)
	hw, err5 := hex.DecodeString(f[5])
	cid, err6 := hex.DecodeString(f[6])
	host, err7 := hex.DecodeString(f[7])
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil || len(hw) > 16 {
		return l, errNote
	}
	l = lease.Lease{Addr: a, ClientID: string(cid), Hostname: string(host), State: lease.State(st),
		Start: time.UnixMicro(start).UTC(), Expiry: time.UnixMicro(exp).UTC()}
	l.HW.Type = uint8(ht)
	l.HW.Len = uint8(copy(l.HW.Addr[:], hw))
	if len(f) == 11 {
		fqdn, err1 := hex.DecodeString(f[8])
		dns, err2 := strconv.ParseUint(f[9], 10, 8)
		st, err3 := strconv.ParseUint(f[10], 10, 8)
		if err := errors.Join(err1, err2, err3); err != nil {
			return l, errNote
		}
		l.FQDN, l.DNS, l.DNSState = string(fqdn), lease.DNSFlags(dns), lease.DNSState(st)
	}
	if err := l.Validate(); err != nil {
		return l, errNote
	}
	return l, nil
}
