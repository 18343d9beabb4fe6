package daemon

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"leased/control"
)

// A control socket another server answers on stops the start, even the
// default one; one left by a server that died is taken over.
func TestOpenOperatorSocketInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	live, err := control.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, def := range []bool{false, true} {
		l, err := openOperator(OperatorOptions{ControlSocket: path, DefaultSocket: def}, slog.New(slog.DiscardHandler))
		if !errors.Is(err, control.ErrSocketInUse) || !strings.Contains(err.Error(), "control socket "+path+" is in use by a running server") {
			t.Errorf("default %v: openOperator over a live socket: %v", def, err)
		}
		l.close()
	}
	live.SetUnlinkOnClose(false) // as a server that died leaves it
	live.Close()
	l, err := openOperator(OperatorOptions{ControlSocket: path, DefaultSocket: true}, slog.New(slog.DiscardHandler))
	if err != nil || l.unix == nil {
		t.Fatalf("over a dead server's socket: %v", err)
	}
	l.close()
}
