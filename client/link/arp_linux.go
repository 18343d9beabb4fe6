package link

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"

	"leased/udp4"
)

// openARP opens a packet socket for ARP on ifi.
func openARP(ifi *net.Interface) (*packet.Conn, [6]byte, error) {
	var own [6]byte
	if len(ifi.HardwareAddr) != 6 {
		return nil, own, fmt.Errorf("link %s: ARP needs an Ethernet address, have %v", ifi.Name, ifi.HardwareAddr)
	}
	copy(own[:], ifi.HardwareAddr)
	c, err := packet.Listen(ifi, packet.Datagram, unix.ETH_P_ARP, nil)
	if err != nil {
		return nil, own, udp4.NeedsPrivilege(fmt.Errorf("link %s: ARP socket: %w", ifi.Name, err), udp4.NeedRaw)
	}
	return c, own, nil
}

// Probe reports whether another host on ifi's link uses addr, by the ARP
// probe of RFC 5227 §2.1.1 with timing cfg. It returns as soon as a
// conflict shows, or after the whole probe, or when ctx ends (with ctx's
// error).
func Probe(ctx context.Context, ifi *net.Interface, addr netip.Addr, cfg ProbeConfig) (bool, error) {
	cfg = cfg.withDefaults()
	c, own, err := openARP(ifi)
	if err != nil {
		return false, err
	}
	defer c.Close()

	conflict := make(chan struct{}, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 128)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if p, ok := parseARP(buf[:n]); ok && conflicts(p, addr, own) {
				select {
				case conflict <- struct{}{}:
				default:
				}
				return
			}
		}
	}()
	defer func() {
		c.SetReadDeadline(time.Unix(1, 0))
		<-readerDone
	}()

	wait := func(d time.Duration) (bool, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-conflict:
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
			return false, nil
		}
	}
	if hit, err := wait(randomIn(0, cfg.Wait)); hit || err != nil {
		return hit, err
	}
	probe := appendARP(nil, arpPacket{op: arpRequest, sha: own, spa: netip.IPv4Unspecified(), tpa: addr})
	for i := range cfg.Count {
		if _, err := c.WriteTo(probe, &packet.Addr{HardwareAddr: ethernetBroadcast}); err != nil {
			return false, fmt.Errorf("link %s: sending ARP probe for %v: %w", ifi.Name, addr, err)
		}
		d := randomIn(cfg.Min, cfg.Max)
		if i == cfg.Count-1 {
			d = cfg.AnnounceWait
		}
		if hit, err := wait(d); hit || err != nil {
			return hit, err
		}
	}
	return false, nil
}

// Announce sends the ARP announcements of RFC 5227 §2.3 for addr, which
// ifi now uses: requests with addr as both sender and target address,
// cfg.Announcements of them cfg.AnnounceInterval apart. It returns early
// when ctx ends.
func Announce(ctx context.Context, ifi *net.Interface, addr netip.Addr, cfg ProbeConfig) error {
	cfg = cfg.withDefaults()
	c, own, err := openARP(ifi)
	if err != nil {
		return err
	}
	defer c.Close()
	a := appendARP(nil, arpPacket{op: arpRequest, sha: own, spa: addr, tpa: addr})
	for i := range cfg.Announcements {
		if i > 0 {
			t := time.NewTimer(cfg.AnnounceInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if _, err := c.WriteTo(a, &packet.Addr{HardwareAddr: ethernetBroadcast}); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("link %s: ARP announcement of %v: %w", ifi.Name, addr, err)
		}
	}
	return nil
}
