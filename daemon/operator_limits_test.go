package daemon

import (
	"log/slog"
	"path/filepath"
	"testing"

	"leased/control"
)

// Every listener of the operator is capped: by the limits given, or by
// those of the descriptor limit.
func TestOpenOperatorCapsListeners(t *testing.T) {
	given := &control.ListenerLimits{
		Unix:    control.ConnLimits{Total: 2},
		TCP:     control.ConnLimits{Total: 3, PerSource: 1, Unauthenticated: 2},
		Metrics: control.ConnLimits{Total: 4},
	}
	nofile, err := control.DescriptorLimit()
	if err != nil {
		nofile = 1024
	}
	derived := control.DefaultLimits(nofile)
	for _, tc := range []struct {
		name   string
		limits *control.ListenerLimits
		want   control.ListenerLimits
	}{
		{"given", given, *given},
		{"derived", nil, derived},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := openOperator(OperatorOptions{
				ControlSocket: filepath.Join(t.TempDir(), "control.sock"),
				ControlTCP:    "127.0.0.1:0",
				Metrics:       "127.0.0.1:0",
				Limits:        tc.limits,
			}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer l.close()
			for name, want := range map[string]control.ConnLimits{"unix": tc.want.Unix, "tcp": tc.want.TCP, "metrics": tc.want.Metrics} {
				got := l.limited[name].Limits()
				got.UnauthenticatedTimeout = 0
				if got != want {
					t.Errorf("%s: caps %+v, want %+v", name, got, want)
				}
			}
			if len(l.connections()) != 3 {
				t.Errorf("connections %v, want the three listeners", l.connections())
			}
		})
	}
}
