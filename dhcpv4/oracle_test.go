package dhcpv4

// Differential tests against github.com/insomniacslk/dhcp/dhcpv4, used as
// an oracle: wherever both packages accept a message, they must agree on
// every fixed field and every option (after RFC 3396 concatenation).
//
// Deliberate disagreements, which make one side refuse what the other
// accepts (such messages are skipped, not compared):
//
//   - A message without End: the oracle refuses it; Parse tolerates it, as
//     real servers do.
//   - hlen above 16: the oracle cuts it to 16; Parse refuses it.
//   - op other than 1 or 2: the oracle accepts any; Parse refuses it.
//
// And where both accept but read differently, the comparison adjusts:
//
//   - Option overload (52): the oracle never reads options from the file
//     and sname fields. Where Parse does, the comparison has the oracle
//     parse those fields too (its Options.FromBytes concatenates, as RFC
//     3396 asks), ignoring an option 52 inside them as RFC 2132 §9.3 says.
//   - sname and file: the oracle keeps their text up to the first NUL even
//     when they hold options; the comparison reads Packet.SName and File
//     the same way.
//   - Building, the oracle sorts options by code (82 last) and writes at
//     most 63 and 127 bytes of sname and file text; Append keeps the order
//     of the set with the message type first, and copies the fields whole.
//     Only what the messages mean is compared, never their bytes.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	oracle "github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// compareWithOracle parses b with both packages. It reports whether both
// accepted it, and what they disagree on ("" for nothing).
func compareWithOracle(b []byte) (both bool, diff string) {
	var p Packet
	errOurs := Parse(b, &p)
	d, errTheirs := oracle.FromBytes(b)
	if errOurs != nil || errTheirs != nil {
		return false, ""
	}
	return true, oracleDiff(&p, d)
}

// oracleDiff describes how p and the oracle's reading d of the same
// message differ.
func oracleDiff(p *Packet, d *oracle.DHCPv4) string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if uint8(d.OpCode) != uint8(p.Op) || uint16(d.HWType) != uint16(p.HType) || d.HopCount != p.Hops {
		add("op/htype/hops: oracle %d/%d/%d, ours %d/%d/%d", d.OpCode, d.HWType, d.HopCount, p.Op, p.HType, p.Hops)
	}
	if binary.BigEndian.Uint32(d.TransactionID[:]) != p.XID || d.NumSeconds != p.Secs || d.Flags != p.Flags {
		add("xid/secs/flags: oracle %x/%d/%#x, ours %#x/%d/%#x", d.TransactionID, d.NumSeconds, d.Flags, p.XID, p.Secs, p.Flags)
	}
	if d.IsBroadcast() != p.Broadcast() {
		add("broadcast: oracle %v, ours %v", d.IsBroadcast(), p.Broadcast())
	}
	for _, f := range []struct {
		name   string
		theirs net.IP
		ours   netip4
	}{
		{"ciaddr", d.ClientIPAddr, p.CIAddr.As4()},
		{"yiaddr", d.YourIPAddr, p.YIAddr.As4()},
		{"siaddr", d.ServerIPAddr, p.SIAddr.As4()},
		{"giaddr", d.GatewayIPAddr, p.GIAddr.As4()},
	} {
		if !bytes.Equal(f.theirs.To4(), f.ours[:]) {
			add("%s: oracle %v, ours %v", f.name, f.theirs, f.ours)
		}
	}
	if !bytes.Equal(d.ClientHWAddr, p.HardwareAddr()) {
		add("chaddr: oracle %x, ours %x", []byte(d.ClientHWAddr), p.HardwareAddr())
	}
	if d.ServerHostName != cString(p.SName[:]) || d.BootFileName != cString(p.File[:]) {
		add("sname/file: oracle %q/%q, ours %q/%q", d.ServerHostName, d.BootFileName, cString(p.SName[:]), cString(p.File[:]))
	}

	theirs := d.Options
	if ov := p.overload(); ov != 0 {
		main, hadMain := theirs[uint8(OptOverload)]
		if ov&OverloadFile != 0 {
			if err := theirs.FromBytes(p.File[:]); err != nil {
				add("oracle refuses the overloaded file field: %v", err)
			}
		}
		if ov&OverloadSName != 0 {
			if err := theirs.FromBytes(p.SName[:]); err != nil {
				add("oracle refuses the overloaded sname field: %v", err)
			}
		}
		delete(theirs, uint8(OptOverload))
		if hadMain {
			theirs[uint8(OptOverload)] = main
		}
	}
	if len(theirs) != p.Options.Len() {
		add("%d options in the oracle, %d ours", len(theirs), p.Options.Len())
	}
	for c, v := range theirs {
		ours, ok := p.Options.Get(OptionCode(c))
		if !ok || !bytes.Equal(ours, v) {
			add("option %d: oracle %x, ours %x (present %v)", c, v, ours, ok)
		}
	}
	return strings.Join(out, "; ")
}

type netip4 = [4]byte

func TestOracleGolden(t *testing.T) {
	for _, g := range loadGolden(t) {
		both, diff := compareWithOracle(g.msg)
		if !both {
			t.Errorf("%s: not accepted by both", g.name)
		}
		if diff != "" {
			t.Errorf("%s: %s", g.name, diff)
		}
	}
}

func TestOracleFuzzCorpus(t *testing.T) {
	seeds := parseSeeds()
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	for _, f := range files {
		b, err := readCorpusFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		seeds = append(seeds, b)
	}
	accepted := 0
	for i, b := range seeds {
		both, diff := compareWithOracle(b)
		if both {
			accepted++
		}
		if diff != "" {
			t.Errorf("seed %d: %s\n%x", i, diff, b)
		}
	}
	if accepted < len(parseSeeds())/2 {
		t.Errorf("only %d of %d seeds accepted by both", accepted, len(seeds))
	}
}

// readCorpusFile reads a one-value []byte corpus file of go test -fuzz.
func readCorpusFile(name string) ([]byte, error) {
	text, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
		return nil, fmt.Errorf("not a one-value []byte corpus file")
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	return []byte(s), err
}

// randomMessage returns a message that is mostly well formed: a random
// header, and options that now and then repeat, overload, lack End or run
// past their field.
func randomMessage(rng *rand.Rand) []byte {
	b := make([]byte, MinLen, 1024)
	for i := range HeaderLen {
		b[i] = byte(rng.Uint32())
	}
	b[0] = byte(1 + rng.IntN(2))
	b[2] = byte(rng.IntN(17))
	if rng.IntN(20) == 0 {
		b[0] = byte(rng.Uint32())
		b[2] = byte(rng.Uint32())
	}
	copy(b[HeaderLen:], magic[:])
	if rng.IntN(30) == 0 {
		b[HeaderLen+rng.IntN(4)] ^= 1 << rng.IntN(8)
	}
	if rng.IntN(3) == 0 {
		clear(b[offSName:HeaderLen]) // text or nothing
	}
	codes := []OptionCode{1, 3, 6, 12, 50, 53, 55, 61, 82, 119, 121, 224}
	randomOptions := func(dst []byte, room int) []byte {
		for range rng.IntN(12) {
			switch rng.IntN(10) {
			case 0:
				dst = append(dst, 0) // Pad
				continue
			}
			c := codes[rng.IntN(len(codes))]
			n := rng.IntN(40)
			if rng.IntN(10) == 0 {
				n = 200 + rng.IntN(56)
			}
			if len(dst)+2+n > room {
				break
			}
			dst = append(dst, byte(c), byte(n))
			for range n {
				dst = append(dst, byte(rng.Uint32()))
			}
		}
		return dst
	}
	if rng.IntN(4) == 0 { // overload
		ov := byte(1 + rng.IntN(3))
		b = append(b, byte(OptOverload), 1, ov)
		if ov&OverloadFile != 0 {
			f := randomOptions(nil, lenFile-1)
			if rng.IntN(8) == 0 {
				f = append(f, byte(OptOverload), 1, 2)
			}
			clear(b[offFile : offFile+lenFile])
			copy(b[offFile:], append(f, byte(OptEnd)))
		}
		if ov&OverloadSName != 0 {
			s := randomOptions(nil, lenSName-1)
			clear(b[offSName : offSName+lenSName])
			copy(b[offSName:], append(s, byte(OptEnd)))
		}
	}
	b = randomOptions(b, 1500)
	switch rng.IntN(12) {
	case 0: // no End
	case 1: // an option running past the end
		b = append(b, byte(OptHostName), 9, 'x')
	default:
		b = append(b, byte(OptEnd))
		b = append(b, make([]byte, rng.IntN(60))...)
	}
	return b
}

func TestOracleRandomMessages(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 5000
	both := 0
	for range n {
		b := randomMessage(rng)
		ok, diff := compareWithOracle(b)
		if ok {
			both++
		}
		if diff != "" {
			t.Fatalf("%s\n%x", diff, b)
		}
	}
	if both < n/2 {
		t.Errorf("only %d of %d random messages accepted by both", both, n)
	}
}

// TestOracleReadsOurMessages builds random messages with Append, some of
// them overloaded, and has the oracle read them.
func TestOracleReadsOurMessages(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	built := 0
	for range 2000 {
		p := Packet{Op: OpCode(1 + rng.IntN(2)), HType: 1, XID: rng.Uint32(), Secs: uint16(rng.Uint32()), Flags: uint16(rng.Uint32()) & FlagBroadcast}
		p.SetHardwareAddr(1, []byte{2, 0xc6, 0x12, 0, 0, byte(rng.Uint32())})
		p.YIAddr = addr("198.18.0.100")
		if rng.IntN(3) == 0 {
			p.SetServerName("srv.golden.test")
		}
		for range rng.IntN(10) {
			c := OptionCode(1 + rng.IntN(254))
			if c == OptOverload {
				continue
			}
			v := make([]byte, rng.IntN(300))
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			p.Options.Set(c, v)
		}
		b, err := p.Append(nil, []int{300, 548, 1500}[rng.IntN(3)])
		if err != nil {
			continue
		}
		built++
		both, diff := compareWithOracle(b)
		if !both {
			t.Fatalf("a message built by Append is refused:\n%x", b)
		}
		if diff != "" {
			t.Fatalf("%s\n%x", diff, b)
		}
	}
	if built < 1000 {
		t.Errorf("only %d random packets built", built)
	}
}

// TestOracleMessagesWeRead builds messages with the oracle and parses them.
func TestOracleMessagesWeRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		d := &oracle.DHCPv4{
			OpCode:         oracle.OpcodeType(1 + rng.IntN(2)),
			HWType:         iana.HWTypeEthernet,
			HopCount:       uint8(rng.IntN(4)),
			NumSeconds:     uint16(rng.Uint32()),
			Flags:          uint16(rng.Uint32()) & FlagBroadcast,
			ClientIPAddr:   net.IPv4(198, 18, 0, byte(rng.Uint32())),
			YourIPAddr:     net.IPv4zero,
			ServerIPAddr:   net.IPv4(198, 18, 0, 1),
			GatewayIPAddr:  net.IPv4zero,
			ClientHWAddr:   net.HardwareAddr{2, 0xc6, 0x12, 0, 0, byte(rng.Uint32())},
			ServerHostName: strings.Repeat("s", rng.IntN(64)),
			BootFileName:   strings.Repeat("f", rng.IntN(128)),
			Options:        oracle.Options{},
		}
		binary.BigEndian.PutUint32(d.TransactionID[:], rng.Uint32())
		for range rng.IntN(10) {
			c := uint8(1 + rng.IntN(254))
			if c == uint8(OptOverload) { // the oracle would write it as given
				continue
			}
			v := make([]byte, rng.IntN(600))
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			d.Options[c] = v
		}
		b := d.ToBytes()
		var p Packet
		if err := Parse(b, &p); err != nil {
			t.Fatalf("Parse of an oracle message: %v\n%x", err, b)
		}
		if diff := oracleDiff(&p, d); diff != "" {
			t.Fatalf("%s\n%x", diff, b)
		}
	}
}

func FuzzOracle(f *testing.F) {
	for _, b := range slices.Concat(parseSeeds(), goldenSeeds(f)) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, diff := compareWithOracle(b); diff != "" {
			t.Fatalf("%s\n%x", diff, b)
		}
	})
}
