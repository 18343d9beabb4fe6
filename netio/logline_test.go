package netio

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"leased/dhcpv4"
	"leased/server"
)

// TestLeaseLineEscapesHostName: the lease line names the host name the
// client sent, with its control characters and bytes that are not UTF-8
// escaped (escape.Text), never raw; the client identifier is hex.
func TestLeaseLineEscapesHostName(t *testing.T) {
	tests := []struct {
		name, hostname, want string
	}{
		{"plain host name as it is", "lab-3", " hostname=lab-3"},
		{"DEL", "pc\x7f", ` hostname=pc\x7f`},
		{"ESC starting a terminal sequence", "pc\x1b]0;owned\x07", ` hostname=pc\x1b]0;owned\x07`},
		{"C1 CSI as a byte", "pc\x9b2J", ` hostname=pc\x9b2J`},
		{"C1 CSI as a character", "pc\u009b2J", ` hostname=pc\u009b2J`},
		{"invalid UTF-8", "a\xff\xfeb", ` hostname=a\xff\xfeb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := &Server{log: slog.New(slog.NewTextHandler(&buf, nil))}
			var req dhcpv4.Packet
			req.Op = dhcpv4.BootRequest
			req.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
			req.Options.SetMessageType(dhcpv4.Request)
			req.Options.Set(dhcpv4.OptClientID, []byte("\x00\x1b[2J"))
			req.Options.SetString(dhcpv4.OptHostName, tt.hostname)
			out := server.Outcome{Action: server.Reply, Reason: server.ReasonAck, Type: dhcpv4.Request,
				Addr: netip.MustParseAddr("198.18.0.10")}
			s.logOutcome(context.Background(), &req, &server.Arrival{IfName: "eth0"}, &out)
			line := buf.String()
			if !strings.HasSuffix(line, tt.want+"\n") {
				t.Errorf("line %q lacks %q", line, tt.want)
			}
			if !strings.Contains(line, " client=\"02:00:00:00:00:01 id=001b5b324a\" ") {
				t.Errorf("line %q does not name the client identifier in hex", line)
			}
			for i, r := range strings.TrimSuffix(line, "\n") {
				if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError {
					t.Errorf("line holds %U at %d: %q", r, i, line)
				}
			}
		})
	}
}
