package main

import (
	"testing"

	"leased/config"
	"leased/netio"
)

// The configuration accepts no receive-delay the sockets would cut short.
func TestReceiveDelayBoundsAgree(t *testing.T) {
	if config.MaxReceiveDelay != netio.MaxReceiveDelay {
		t.Errorf("config.MaxReceiveDelay %v, netio.MaxReceiveDelay %v", config.MaxReceiveDelay, netio.MaxReceiveDelay)
	}
	if config.DefaultReceiveDelay <= 0 || config.DefaultReceiveDelay > config.MaxReceiveDelay {
		t.Errorf("DefaultReceiveDelay %v out of (0, %v]", config.DefaultReceiveDelay, config.MaxReceiveDelay)
	}
}
