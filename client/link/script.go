package link

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"leased/client"
)

// DefaultScriptTimeout bounds a run of the hook script.
const DefaultScriptTimeout = 30 * time.Second

// Script is the hook script, like dhclient-script or udhcpc's -s script.
type Script struct {
	// Path is the executable.
	Path string
	// Interface is the interface name given to the script.
	Interface string
	// Timeout bounds each run; zero means DefaultScriptTimeout. A script
	// still running then is killed.
	Timeout time.Duration
	// Env is the environment the lease's variables are added to; nil
	// means the client's own environment.
	Env []string
}

// Run runs the script with the hook's reason as its one argument and, in
// its environment, the variables of client.Hook.Env (which override the
// same names in Env). Its output is returned in the error when it fails.
func (s *Script) Run(ctx context.Context, h client.Hook) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultScriptTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Path, string(h.Reason))
	env := s.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], h.Env(s.Interface)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("killed after %v: %w", timeout, err)
		}
		if msg != "" {
			return fmt.Errorf("script %s %s: %w: %s", s.Path, h.Reason, err, msg)
		}
		return fmt.Errorf("script %s %s: %w", s.Path, h.Reason, err)
	}
	return nil
}

// WriteResolvConf writes client.ResolvConf of the lease to path, replacing
// the file atomically (a temporary file in the same directory, synced and
// renamed). A lease with no DNS servers and no domain leaves the file as it
// is.
func WriteResolvConf(path, iface string, l *client.Lease) error {
	b := client.ResolvConf(iface, l)
	if b == nil {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("resolv.conf %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("resolv.conf %s: %w", path, err)
	}
	return nil
}
