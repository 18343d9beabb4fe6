package lease

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestConflictErrorNamesAddressAndHolder(t *testing.T) {
	holder := Lease{Addr: netip.MustParseAddr("198.18.0.7"), ClientID: "\x01\x02", State: Bound, Expiry: time.Unix(3600, 0)}
	err := fmt.Errorf("commit: %w", &ConflictError{Addr: holder.Addr, Holder: holder})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Holder.ClientID != "\x01\x02" {
		t.Fatalf("errors.As: %v", err)
	}
	for _, want := range []string{"198.18.0.7", "0102", "bound", "1970-01-01T01:00:00Z"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestChangeKindNames(t *testing.T) {
	for k, want := range map[ChangeKind]string{Changed: "changed", ResyncStart: "resync-start", ResyncEnd: "resync-end", 9: "change(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q, want %q", k, k.String(), want)
		}
	}
}
