// Package ddns keeps the DNS names of a DHCP server's leases up to date:
// it sends dynamic DNS updates (RFC 2136), signed with TSIG (RFC 8945)
// when a key is configured, that add the forward (A) and reverse (PTR)
// records of a bound lease and remove them when the lease ends. Each name
// is guarded by a DHCID record (RFC 4701) so that two clients claiming
// one name do not overwrite each other's records: the conflict resolution
// of RFC 4703 §5.3 (adding a forward name), §5.4 (the reverse name) and
// §5.5 (removing names).
//
// The Updater is never on the hot path of the server. It takes lease
// events from a bounded queue (Handle, an events.Handler) and, because
// that queue may drop events and a process may stop at any time, it also
// rescans the lease store (Run): the store is the durable queue of DNS
// updates. A record the updater has finished with is confirmed in the
// store (lease.DNSConfirmer), so that a restart redoes only what was not
// confirmed. Updates that fail are retried with exponential backoff.
//
// What the package is not: it does not decide a lease's name (the server
// engine does, from the client FQDN option of RFC 4702 or its host
// name), it is no DNS server, and it does not update the AAAA records of
// DHCPv6 (it leaves them alone: a name keeps its DHCID while an AAAA
// record of the client remains).
package ddns
