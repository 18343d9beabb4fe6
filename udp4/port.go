package udp4

// The ports of DHCP (RFC 2131 §4.1), taken over from BOOTP (RFC 951 §4).
const (
	// ServerPort is the port DHCP servers and relay agents listen on;
	// relay agents receive the servers' replies on it too.
	ServerPort = 67
	// ClientPort is the port DHCP clients listen on.
	ClientPort = 68
)
