package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"leased/loadgen"
	"leased/udp4"
)

// floodCommand runs "leased bench --flood" with cfg and writes its
// summary.
func floodCommand(ctx context.Context, cfg loadgen.Config, stdout, stderr io.Writer, asJSON bool) int {
	res, err := loadgen.Flood(ctx, cfg)
	if err != nil && cfg.Local.Port() < 1024 {
		err = udp4.NeedsPrivilege(err, udp4.NeedBindPort)
	}
	if err != nil {
		return failf(stderr, 1, "leased bench: %v", err)
	}
	if asJSON {
		err = json.NewEncoder(stdout).Encode(struct {
			Server     string  `json:"server"`
			Elapsed    float64 `json:"elapsed_s"`
			Sent       uint64  `json:"sent"`
			Rate       float64 `json:"rate"`
			SendErrors uint64  `json:"send_errors"`
			Offers     uint64  `json:"offers"`
			Other      uint64  `json:"other_replies"`
		}{cfg.Server.String(), res.Elapsed.Seconds(), res.Sent, res.Rate(), res.SendErrors, res.Offers, res.OtherReplies})
	} else {
		_, err = fmt.Fprintf(stdout, "flood of %v: %d DISCOVERs from random hardware addresses in %.1fs, %.0f/s, %d send errors; %d offers, %d other replies\n",
			cfg.Server, res.Sent, res.Elapsed.Seconds(), res.Rate(), res.SendErrors, res.Offers, res.OtherReplies)
	}
	if err != nil {
		return failf(stderr, 1, "leased bench: %v", err)
	}
	return 0
}
