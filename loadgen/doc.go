// Package loadgen is a DHCPv4 load generator: it plays one relay agent
// with many clients behind it and measures how fast, and how completely, a
// server answers them. It is what "leased bench" runs, and it drives any
// DHCPv4 server that serves relayed clients (leased, Kea, ISC dhcpd,
// dnsmasq).
//
// Each simulated client has its own hardware address and runs the
// four-message exchange of RFC 2131 §3.1: DHCPDISCOVER, DHCPOFFER,
// DHCPREQUEST in the SELECTING state with the server identifier and the
// requested address taken from the offer (§4.3.2), DHCPACK or DHCPNAK.
// The messages are relayed as RFC 1542 §4.1 describes: giaddr is the
// generator's address, hops is 1, and the server replies to the relay
// agent's port (RFC 2131 §4.1). A client has one exchange in progress at a
// time, matched to its replies by hardware address and transaction ID.
// With Config.HostNames, each also sends a host name of its own (option
// 12, RFC 2132 §3.14), for a server that names its clients in the DNS.
//
// Load is open loop (exchanges start at a fixed rate whatever the server
// does, as perfdhcp -r does) or closed loop (a fixed number of exchanges in
// flight, to find the most a server can do). A message left unanswered for
// Config.Timeout loses its exchange. The result counts every outcome and
// gives latency percentiles of DISCOVER to OFFER and REQUEST to ACK, from a
// histogram with about 3% resolution; it also counts addresses ACKed to two
// clients at once.
//
// To outrun the server it measures, the generator sends and receives in
// batches (sendmmsg and recvmmsg, through package udp4), builds messages by
// patching pre-encoded templates, and keeps its state in flat tables, so
// that an exchange costs no encoding and no allocation. The batches are
// Linux's: on other systems New returns udp4's error.
//
// Not here: the client state machine of a real client (package client),
// which renews, rebinds and configures interfaces; and the server's own
// counters. Renewal, release and DHCPINFORM traffic are not generated.
package loadgen
