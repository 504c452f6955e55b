package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
)

func keysCommand() *command {
	return &command{
		name:    "keys",
		summary: "make temporary exposure keys and derive their identifiers",
		subs:    []*command{keysNewCommand(), keysDeriveCommand()},
	}
}

func keysNewCommand() *command {
	return &command{
		name: "new",
		summary: describe(
			"Prints a fresh random Temporary Exposure Key and its rolling start interval:",
			"  TEK_HEX ROLLING_START",
			"The rolling start is the first 10-minute interval of the UTC day of --at."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			at := fs.String("at", "", "the key's day as RFC 3339 time (default: now)")
			return func(_ context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("keys new: unexpected arguments %q", args)
				}
				t := time.Now()
				if *at != "" {
					var err error
					if t, err = time.Parse(time.RFC3339, *at); err != nil {
						return usageErrorf("keys new: --at: %v", err)
					}
				}
				tek, err := protocol.NewTEK(rand.Reader)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(st.out, "%s %d\n", tek, protocol.RollingStart(protocol.IntervalNumber(t)))
				return err
			}
		},
	}
}

func keysDeriveCommand() *command {
	return &command{
		name: "derive",
		args: "--tek HEX --enin N",
		summary: describe(
			"Derives the Rolling Proximity Identifiers and Associated Encrypted Metadata of a",
			"Temporary Exposure Key (EN v1.2), one line per interval:",
			"  ENIN RPI_HEX AEM_HEX",
			"in lowercase hexadecimal, separated by single spaces."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			tekHex := fs.String("tek", "", "the key, 32 hexadecimal digits (required)")
			enin := fs.String("enin", "", "the first ENIntervalNumber (10-minute intervals since 1970) to derive (required)")
			count := fs.Int("count", protocol.KeyRollingPeriod, "how many consecutive intervals to derive")
			txPower := fs.Int("tx-power", 8, "the TX power in dBm written into the metadata (8 is the published test vector's)")
			return func(_ context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("keys derive: unexpected arguments %q", args)
				}
				if *tekHex == "" || *enin == "" {
					return usageErrorf("keys derive: --tek and --enin are required")
				}
				tek, err := protocol.ParseTEK(*tekHex)
				if err != nil {
					return usageErrorf("keys derive: --tek: %v", err)
				}
				start, err := protocol.ParseInterval(*enin)
				if err != nil {
					return usageErrorf("keys derive: --enin: %v", err)
				}
				if *count < 1 || uint64(start)+uint64(*count)-1 > math.MaxUint32 {
					return usageErrorf("keys derive: --count %d: want at least 1, and intervals that fit in 32 bits", *count)
				}
				if *txPower < math.MinInt8 || *txPower > math.MaxInt8 {
					return usageErrorf("keys derive: --tx-power %d: want -128..127 dBm", *txPower)
				}
				ids := protocol.NewIdentifiers(tek)
				md := protocol.Metadata{Version: protocol.MetadataVersion, TxPower: int8(*txPower)}
				w := bufio.NewWriter(st.out)
				for i := 0; i < *count; i++ {
					n := start + uint32(i)
					rpi := ids.RPI(n)
					aem := ids.EncryptMetadata(rpi, md)
					fmt.Fprintf(w, "%d %s %x\n", n, rpi, aem)
				}
				return w.Flush()
			}
		},
	}
}
