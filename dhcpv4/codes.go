package dhcpv4

import (
	"strconv"
	"strings"
)

// OpCode is the BOOTP op field (RFC 951).
type OpCode uint8

// The two BOOTP operations.
const (
	BootRequest OpCode = 1 // client or relay to server
	BootReply   OpCode = 2 // server to client or relay
)

// String returns "BOOTREQUEST", "BOOTREPLY" or "op(N)".
func (o OpCode) String() string {
	switch o {
	case BootRequest:
		return "BOOTREQUEST"
	case BootReply:
		return "BOOTREPLY"
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// MessageType is the value of the DHCP message type option (53).
type MessageType uint8

// DHCP message types (RFC 2132 §9.6, RFC 3203).
const (
	Discover   MessageType = 1
	Offer      MessageType = 2
	Request    MessageType = 3
	Decline    MessageType = 4
	Ack        MessageType = 5
	Nak        MessageType = 6
	Release    MessageType = 7
	Inform     MessageType = 8
	ForceRenew MessageType = 9
)

var messageTypeNames = [...]string{
	"", "DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPDECLINE", "DHCPACK",
	"DHCPNAK", "DHCPRELEASE", "DHCPINFORM", "DHCPFORCERENEW",
}

// String returns the RFC name of the type ("DHCPDISCOVER"), or "type(N)".
func (t MessageType) String() string {
	if t >= Discover && int(t) < len(messageTypeNames) {
		return messageTypeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// OptionCode is a DHCP option code (RFC 2132 and later).
type OptionCode uint8

// Option codes this package knows by name. Every other code is reachable
// through the raw accessors.
const (
	OptPad                  OptionCode = 0
	OptSubnetMask           OptionCode = 1
	OptTimeOffset           OptionCode = 2
	OptRouter               OptionCode = 3
	OptTimeServer           OptionCode = 4
	OptNameServer           OptionCode = 5
	OptDNSServers           OptionCode = 6
	OptLogServer            OptionCode = 7
	OptHostName             OptionCode = 12
	OptBootFileSize         OptionCode = 13
	OptDomainName           OptionCode = 15
	OptRootPath             OptionCode = 17
	OptIPForwarding         OptionCode = 19
	OptDefaultTTL           OptionCode = 23
	OptInterfaceMTU         OptionCode = 26
	OptBroadcastAddress     OptionCode = 28
	OptStaticRoutes         OptionCode = 33
	OptNISDomain            OptionCode = 40
	OptNISServers           OptionCode = 41
	OptNTPServers           OptionCode = 42
	OptVendorSpecific       OptionCode = 43
	OptNetBIOSNameServers   OptionCode = 44
	OptNetBIOSNodeType      OptionCode = 46
	OptNetBIOSScope         OptionCode = 47
	OptRequestedIP          OptionCode = 50
	OptLeaseTime            OptionCode = 51
	OptOverload             OptionCode = 52
	OptMessageType          OptionCode = 53
	OptServerID             OptionCode = 54
	OptParameterRequestList OptionCode = 55
	OptMessage              OptionCode = 56
	OptMaxMessageSize       OptionCode = 57
	OptRenewalTime          OptionCode = 58
	OptRebindingTime        OptionCode = 59
	OptVendorClass          OptionCode = 60
	OptClientID             OptionCode = 61
	OptTFTPServerName       OptionCode = 66
	OptBootfileName         OptionCode = 67
	OptUserClass            OptionCode = 77
	OptRapidCommit          OptionCode = 80
	OptClientFQDN           OptionCode = 81
	OptRelayAgentInfo       OptionCode = 82
	OptDomainSearch         OptionCode = 119
	OptClasslessRoutes      OptionCode = 121
	OptEnd                  OptionCode = 255
)

var optionNames = map[OptionCode]string{
	OptPad:                  "pad",
	OptSubnetMask:           "subnet-mask",
	OptTimeOffset:           "time-offset",
	OptRouter:               "routers",
	OptTimeServer:           "time-servers",
	OptNameServer:           "name-servers",
	OptDNSServers:           "dns-servers",
	OptLogServer:            "log-servers",
	OptHostName:             "host-name",
	OptBootFileSize:         "boot-file-size",
	OptDomainName:           "domain-name",
	OptRootPath:             "root-path",
	OptIPForwarding:         "ip-forwarding",
	OptDefaultTTL:           "default-ip-ttl",
	OptInterfaceMTU:         "interface-mtu",
	OptBroadcastAddress:     "broadcast-address",
	OptStaticRoutes:         "static-routes",
	OptNISDomain:            "nis-domain",
	OptNISServers:           "nis-servers",
	OptNTPServers:           "ntp-servers",
	OptVendorSpecific:       "vendor-specific",
	OptNetBIOSNameServers:   "netbios-name-servers",
	OptNetBIOSNodeType:      "netbios-node-type",
	OptNetBIOSScope:         "netbios-scope",
	OptRequestedIP:          "requested-address",
	OptLeaseTime:            "lease-time",
	OptOverload:             "overload",
	OptMessageType:          "message-type",
	OptServerID:             "server-id",
	OptParameterRequestList: "parameter-request-list",
	OptMessage:              "message",
	OptMaxMessageSize:       "max-message-size",
	OptRenewalTime:          "renewal-time",
	OptRebindingTime:        "rebinding-time",
	OptVendorClass:          "vendor-class",
	OptClientID:             "client-id",
	OptTFTPServerName:       "tftp-server-name",
	OptBootfileName:         "bootfile-name",
	OptUserClass:            "user-class",
	OptRapidCommit:          "rapid-commit",
	OptClientFQDN:           "client-fqdn",
	OptRelayAgentInfo:       "relay-agent-info",
	OptDomainSearch:         "domain-search",
	OptClasslessRoutes:      "classless-routes",
	OptEnd:                  "end",
}

// String returns the option's lower-case name ("dns-servers"), or
// "option-N" for codes this package does not name.
func (c OptionCode) String() string {
	if n, ok := optionNames[c]; ok {
		return n
	}
	return "option-" + strconv.Itoa(int(c))
}

// OptionCodeByName is the inverse of OptionCode.String: it returns the code
// of a name this package knows ("dns-servers"), and also accepts
// "option-N" for any code N from 0 to 255, written in decimal without
// leading zeros. Names are case-sensitive.
func OptionCodeByName(name string) (OptionCode, bool) {
	for c, n := range optionNames {
		if n == name {
			return c, true
		}
	}
	if d, ok := strings.CutPrefix(name, "option-"); ok && d != "" && (d[0] != '0' || d == "0") {
		if n, err := strconv.ParseUint(d, 10, 8); err == nil {
			return OptionCode(n), true
		}
	}
	return 0, false
}

// Relay agent information sub-option codes (RFC 3046 §2.0, RFC 3527, RFC 5107).
const (
	RelayCircuitID        uint8 = 1
	RelayRemoteID         uint8 = 2
	RelayLinkSelection    uint8 = 5
	RelayServerIDOverride uint8 = 11
)
