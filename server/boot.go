package server

import (
	"net/netip"

	"leased/config"
	"leased/dhcpv4"
)

// What client classes change in a reply, and network boot: the boot
// fields of the header (siaddr, sname, file; RFC 2131 §2), options 66 and
// 67 (RFC 2132 §9.4, §9.5) with the overload rule of RFC 2132 §9.3, and
// the PXE answers of RFC 4578 §2.

// Options of RFC 4578 that the engine reads or sends itself.
const (
	optClientArch      dhcpv4.OptionCode = 93 // client system architecture (§2.1)
	optClientMachineID dhcpv4.OptionCode = 97 // client machine identifier (§2.3)
)

// pxeClient is the vendor class a PXE client sends (as a prefix) and that
// a boot server answers with (RFC 4578 §2.1, PXE 2.1 §2.2).
const pxeClient = "PXEClient"

// classify returns the classes of req, served from s, and reports, having
// recorded the reason in out, whether one of them is an ignore class: the
// request gets no answer.
func (e *Engine) classify(req *dhcpv4.Packet, in *Arrival, s *subnet, out *Outcome) (classSet, bool) {
	cls := e.classes.classify(req, in, s)
	e.setClasses(out, cls)
	if cls.intersects(e.classes.ignore) {
		out.Reason = ReasonIgnoredClass
		return cls, true
	}
	return cls, false
}

// noteClasses records cls, with the classes of the client's reservation,
// as the classes of the client's binding of a, for the lease views; it
// returns the union. s.mu must be held.
func (s *subnet) noteClasses(a netip.Addr, key []byte, cls classSet, res *reservation) classSet {
	cls = cls.with(res)
	if b := s.bindings[a]; b != nil && b.client == string(key) {
		b.classes = cls
	}
	return cls
}

// timesFor returns the lease times of a client in the classes cls: the
// subnet's, replaced by those of its classes that set them (the later
// class wins). A class that sets a lease time brings its own renewal and
// rebinding times, or else 1/2 and 7/8 of its lease time (RFC 2131
// §4.4.5).
func (s *subnet) timesFor(cls classSet) leaseTimes {
	t := s.classes
	if t == nil || !cls.intersects(t.timed) {
		return s.times()
	}
	lt := leaseTimes{lease: s.leaseTime, t1: s.t1, t2: s.t2}
	cls.each(func(i int) {
		c := &t.list[i]
		switch {
		case c.lease > 0:
			lt = leaseTimes{lease: c.lease, t1: c.t1, t2: c.t2}
		default:
			if c.t1 > 0 {
				lt.t1 = c.t1
			}
			if c.t2 > 0 {
				lt.t2 = c.t2
			}
		}
	})
	if lt.t1 <= 0 || lt.t1 >= lt.lease {
		lt.t1 = lt.lease / 2
	}
	if lt.t2 <= 0 || lt.t2 >= lt.lease || lt.t2 <= lt.t1 {
		lt.t2 = lt.lease * 7 / 8
	}
	return lt
}

// option returns the value of c from the last class in cls that sets it.
func (t *classTable) option(cls classSet, c dhcpv4.OptionCode) ([]byte, bool) {
	if t == nil || cls.isEmpty() {
		return nil, false
	}
	for i := len(t.list) - 1; i >= 0; i-- {
		if cls.has(i) {
			if j := t.list[i].optIndex[c]; j > 0 {
				return t.list[i].opts[j-1].Value, true
			}
		}
	}
	return nil, false
}

// eachOption calls fn with the code of every option the classes in cls
// set.
func (t *classTable) eachOption(cls classSet, fn func(c dhcpv4.OptionCode)) {
	if t == nil || cls.isEmpty() {
		return
	}
	cls.each(func(i int) {
		for _, o := range t.list[i].opts {
			fn(o.Code)
		}
	})
}

// bootFor returns the boot fields of a client: the subnet's, replaced
// field by field by those of its classes, then by its reservation's. Of
// two classes that set a field, the earlier in the file wins (unlike
// options), so that a specific class listed first, such as iPXE's own
// requests, is not overridden by a general one, such as the firmware's
// architecture, that the same request matches: the chain of an iPXE
// boot ends instead of looping.
func (s *subnet) bootFor(res *reservation, cls classSet) config.Boot {
	b := s.boot
	if t := s.classes; t != nil && cls.intersects(t.booted) {
		var cb config.Boot
		cls.each(func(i int) { cb = t.list[i].boot.Over(cb) })
		b = b.Over(cb)
	}
	if res != nil {
		b = b.Over(res.boot)
	}
	return b
}

// setBoot writes the boot fields of the client into reply: siaddr, sname
// and file in the header, and options 66 and 67 as well when the client
// asks for them (some firmwares read the options, PXE ROMs the header)
// and no option configured for it is there already. A PXE client
// (option 60 beginning with "PXEClient") whose reply names a boot file
// gets option 60 "PXEClient" back, and its client machine identifier
// (option 97), when well formed, echoed, as PXE 2.1 and RFC 4578 §2.1 and
// §2.3 expect.
func (s *subnet) setBoot(reply, req *dhcpv4.Packet, res *reservation, cls classSet) {
	b := s.bootFor(res, cls)
	if b.IsZero() {
		return
	}
	o := &reply.Options
	if b.NextServer.IsValid() {
		reply.SIAddr = b.NextServer
	}
	if b.ServerName != "" {
		reply.SetServerName(b.ServerName)
		if req.Options.ParameterRequested(dhcpv4.OptTFTPServerName) && !o.Has(dhcpv4.OptTFTPServerName) {
			o.SetString(dhcpv4.OptTFTPServerName, b.ServerName)
		}
	}
	if b.File == "" {
		return
	}
	reply.SetBootFile(b.File)
	if req.Options.ParameterRequested(dhcpv4.OptBootfileName) && !o.Has(dhcpv4.OptBootfileName) {
		o.SetString(dhcpv4.OptBootfileName, b.File)
	}
	if vc, ok := req.Options.Get(dhcpv4.OptVendorClass); ok && len(vc) >= len(pxeClient) && string(vc[:len(pxeClient)]) == pxeClient {
		o.SetString(dhcpv4.OptVendorClass, pxeClient)
		if id, ok := req.Options.Get(optClientMachineID); ok && len(id) == 17 && id[0] == 0 {
			// Type 0, a 16-byte GUID (RFC 4578 §2.3); other forms are
			// not PXE's and are left out.
			o.Set(optClientMachineID, id)
		}
	}
}

// fitBoot applies RFC 2132 §9.3: when the options of reply do not fit in
// the largest message the client accepts, the sname and file fields are
// needed for options, so the text they hold moves into options 66 and 67
// (unless those are there already) and the fields are cleared for
// dhcpv4's encoder to overload.
func fitBoot(reply, req *dhcpv4.Packet) {
	if reply.SName == [len(reply.SName)]byte{} && reply.File == [len(reply.File)]byte{} {
		return
	}
	need := 1 // End
	for c, v := range reply.Options.All() {
		if c != dhcpv4.OptOverload {
			need += encodedLen(len(v))
		}
	}
	if dhcpv4.MinLen+need <= req.MaxMessageSize() {
		return
	}
	o := &reply.Options
	if name := reply.ServerName(); name != "" && !o.Has(dhcpv4.OptTFTPServerName) {
		o.SetString(dhcpv4.OptTFTPServerName, name)
	}
	if file := reply.BootFile(); file != "" && !o.Has(dhcpv4.OptBootfileName) {
		o.SetString(dhcpv4.OptBootfileName, file)
	}
	reply.SName = [len(reply.SName)]byte{}
	reply.File = [len(reply.File)]byte{}
}

// encodedLen is the size of an option of n bytes on the wire, split into
// instances of at most 255 bytes (RFC 3396).
func encodedLen(n int) int {
	if n == 0 {
		return 2
	}
	return n + 2*((n+254)/255)
}
