// Package dhcpv4 is the DHCPv4 wire format: it parses and builds BOOTP/DHCP
// messages and their options.
//
// It implements the message layout of RFC 951 and RFC 2131 §2 (the fixed
// BOOTP fields, the broadcast flag, the magic cookie of §3 and the options
// field), the BOOTP minimum message size of RFC 1542 §3.1.1, the options of
// RFC 2132 with option overload into the sname and file fields (§9.3,
// RFC 2131 §4.1), the maximum DHCP message size (RFC 2132 §9.10), long
// options split and concatenated (RFC 3396), and the typed encodings of
// the options a server, client and relay need: addresses, address lists,
// times and the message type (RFC 2132), the parameter request list
// (§9.8), relay agent information sub-options (RFC 3046, link selection
// RFC 3527, server identifier override RFC 5107), user classes (RFC 3004),
// domain search (RFC 3397 with RFC 1035 §4.1.4 name compression),
// classless static routes (RFC 3442) and the client FQDN (RFC 4702 §2: its
// flags, response codes and name, in canonical wire format or the
// deprecated ASCII form, partial or fully qualified). Every other option,
// rapid commit (RFC 4039) included, is reachable raw through Options.Get
// and Options.Set.
//
// It is also the one home of two rules about the text around the wire
// format. ValidHostname is the rule for the host and domain names that
// options 12, 15 and 119 carry (RFC 1123 §2.1 labels, RFC 2132 §3.14 and
// §3.17): the server checks configured names with it, the client the names
// it is sent. ParseHex and FormatHex read and write bytes in hex ("01:02:0a",
// "01-02-0a" or "01020a"), as operators write hardware addresses, client
// identifiers (RFC 2132 §9.14) and raw option values.
//
// And it states where a reply goes (RFC 2131 §4.1): ReplyDelivery reads
// the header fields that decide it (giaddr, ciaddr, yiaddr, the broadcast
// flag, the message type), so that the server and the relay agent, which
// both deliver replies, follow one rule.
//
// The package is built for a server's hot path: Parse fills a Packet that
// the caller reuses, and Packet.Append writes to a buffer the caller owns,
// so that in steady state neither allocates. Option values returned by the
// getters alias the Packet's internal buffer and are valid until the next
// Parse or change to the Packet.
//
// Parse is strict about framing (length, op, hlen, cookie, option lengths)
// and lenient where real implementations are (a missing End option,
// padding after it). Append always produces a message Parse accepts.
//
// Not here: sockets, clocks, logging and protocol decisions. Apart from
// where a reply goes, this package says what a message contains, never what
// to do about it; which options a reply carries, and whether a message
// makes sense, is for its caller.
package dhcpv4
