package daemon

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"leased/config"
)

// HostInterface is a network interface of the host the server runs on,
// with its IPv4 addresses.
type HostInterface struct {
	Name  string
	Addrs []netip.Addr
}

// SystemInterfaces returns the network interfaces of this host and their
// IPv4 addresses.
func SystemInterfaces() ([]HostInterface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list the network interfaces: %w", err)
	}
	out := make([]HostInterface, 0, len(ifs))
	for _, ifc := range ifs {
		h := HostInterface{Name: ifc.Name}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap().Is4() {
					h.Addrs = append(h.Addrs, ip.Unmap())
				}
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// CheckHost returns the check of a configuration against the interfaces
// of the host that list returns (SystemInterfaces on a real server):
//
//   - every interface of "interfaces" exists: one that does not would
//     serve nobody, while the server says it serves;
//   - no pool includes, and no reservation is, an address of the host: the
//     server would lease its own address, and its clients would clash with
//     it. (Routers, network and broadcast addresses inside pools are
//     refused by config.Validate itself.)
func CheckHost(list func() ([]HostInterface, error)) config.Check {
	return func(c *config.Config) []*config.Error {
		ifs, err := list()
		if err != nil {
			return []*config.Error{{Path: "interfaces", Msg: "cannot check the interfaces against this host: " + err.Error()}}
		}
		var errs []*config.Error
		names := make([]string, 0, len(ifs))
		for _, h := range ifs {
			names = append(names, h.Name)
		}
		for i, name := range c.Interfaces {
			if !slices.Contains(names, name) {
				errs = append(errs, &config.Error{Path: "interfaces[" + strconv.Itoa(i) + "]",
					Msg: fmt.Sprintf("%s is not an interface of this host (it has %s): create it first, or correct the name", name, listNames(names))})
			}
		}
		for i, s := range c.Subnets {
			sp := "subnets[" + strconv.Itoa(i) + "]"
			for j, p := range s.Pools {
				for _, h := range ifs {
					for _, a := range h.Addrs {
						if p.Contains(a) {
							errs = append(errs, &config.Error{Path: sp + ".pools[" + strconv.Itoa(j) + "]",
								Msg: fmt.Sprintf("%v includes %v, an address of this host (on %s): the server would lease its own address; leave it out of the pool", p, a, h.Name)})
						}
					}
				}
			}
			for k, r := range s.Reservations {
				for _, h := range ifs {
					if slices.Contains(h.Addrs, r.Addr) {
						errs = append(errs, &config.Error{Path: sp + ".reservations[" + strconv.Itoa(k) + "].address",
							Msg: fmt.Sprintf("%v is an address of this host (on %s): the server would lease its own address", r.Addr, h.Name)})
					}
				}
			}
		}
		return errs
	}
}

// listNames lists names for a message, at most 8 of them.
func listNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + ", ..."
	}
	return strings.Join(names, ", ")
}
