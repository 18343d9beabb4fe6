// Package escape makes text that came from the network safe to show: on a
// terminal, in a log line, in JSON that a person reads with curl.
//
// DHCP clients choose the bytes of their host names and client
// identifiers, and nothing stops them from sending control characters
// (C0, DEL, C1), which a terminal acts on (ESC and C1 CSI start escape
// sequences that can move the cursor, rewrite the screen or change the
// title), or bytes that are not UTF-8. leased keeps those bytes as sent
// where they are data (the lease store; the control API, in a faithful
// encoding) and passes them through this package wherever a person sees
// them: the tables of the command line, the server's log lines, the
// JSON it writes.
//
// Text is the one escaping function: it leaves every printable name as
// it is and writes the rest as Go escapes. JSONWriter escapes, in JSON
// already encoded, the control characters that encoding/json and
// log/slog leave raw (DEL and C1); JSON escapes carry the same characters,
// so the JSON means what it meant. TextWriter does the same for the lines
// of slog's TextHandler, which leaves DEL raw.
//
// Not here: validating host names (package dhcpv4) and encoding bytes as
// hex (encoding/hex).
package escape
