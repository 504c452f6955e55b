package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bluezone-vn/bluezone/internal/atomicfile"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

func exportCommand() *command {
	return &command{
		name:    "export",
		summary: "inspect, verify and make signed key-export files (EN format)",
		subs:    []*command{exportInspectCommand(), exportSignCommand(), exportKeygenCommand()},
	}
}

func exportInspectCommand() *command {
	return &command{
		name: "inspect",
		args: "FILE.zip",
		summary: describe(
			"Prints the header of an export file as 'name: value' lines, then one line per key:",
			"  KEY_HEX ROLLING_START ROLLING_PERIOD REPORT_TYPE TRANSMISSION_RISK DAYS_SINCE_ONSET",
			"(revised keys, such as revocations, follow after a 'revised_keys: N' line). A key that",
			"lacks optional fields in the file gets a seventh column naming them, such as",
			"'absent=report_type+days_since_onset'; the six then show the defaults EN clients read.",
			"FILE may also be a bare export.bin. With --public-key the signature is verified",
			"and the exit status is 1 when it does not verify."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			pubPath := fs.String("public-key", "", "PEM file of the ECDSA P-256 public key to verify the signature with")
			return func(_ context.Context, st *stdio, args []string) error {
				if len(args) != 1 {
					return usageErrorf("export inspect: want exactly one FILE, got %d", len(args))
				}
				return inspectExport(st.out, args[0], *pubPath)
			}
		},
	}
}

func inspectExport(out io.Writer, path, pubPath string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var a *export.Archive
	if bytes.HasPrefix(data, []byte(export.Header)) {
		f, err := export.UnmarshalBin(data)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		a = &export.Archive{File: f, Bin: data}
	} else if a, err = export.Read(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var verifyErr error
	if pubPath != "" {
		pemBytes, err := os.ReadFile(pubPath)
		if err != nil {
			return err
		}
		pub, err := export.ParsePublicKeyPEM(pemBytes)
		if err != nil {
			return fmt.Errorf("%s: %w", pubPath, err)
		}
		verifyErr = a.Verify(pub)
	}

	w := bufio.NewWriter(out)
	f := a.File
	fmt.Fprintf(w, "file: %s\n", path)
	fmt.Fprintf(w, "region: %s\n", f.Region)
	fmt.Fprintf(w, "start_timestamp: %d (%s)\n", f.Start.Unix(), f.Start.Format(time.RFC3339))
	fmt.Fprintf(w, "end_timestamp: %d (%s)\n", f.End.Unix(), f.End.Format(time.RFC3339))
	fmt.Fprintf(w, "batch: %d of %d\n", f.BatchNum, f.BatchSize)
	for _, s := range f.Signatures {
		fmt.Fprintf(w, "signature_info: key_id=%q key_version=%q algorithm=%s\n", s.KeyID, s.KeyVersion, s.Algorithm)
	}
	fmt.Fprintf(w, "signatures: %d\n", len(a.Signatures))
	switch {
	case pubPath == "":
		fmt.Fprintln(w, "signature: not checked (no --public-key)")
	case verifyErr == nil:
		fmt.Fprintln(w, "signature: verified")
	default:
		fmt.Fprintf(w, "signature: INVALID (%v)\n", verifyErr)
	}
	fmt.Fprintf(w, "keys: %d\n", len(f.Keys))
	for _, k := range f.Keys {
		fmt.Fprintln(w, export.FormatKey(k))
	}
	if len(f.Revised) > 0 {
		fmt.Fprintf(w, "revised_keys: %d\n", len(f.Revised))
		for _, k := range f.Revised {
			fmt.Fprintln(w, export.FormatKey(k))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if verifyErr != nil {
		return fmt.Errorf("%s: %w", path, verifyErr)
	}
	return nil
}

func exportSignCommand() *command {
	return &command{
		name: "sign",
		args: "--key PEM_FILE --out FILE.zip < keys.txt",
		summary: describe(
			"Makes a signed export file from keys given one per line on standard input (or --in):",
			"  KEY_HEX ROLLING_START [ROLLING_PERIOD REPORT_TYPE TRANSMISSION_RISK DAYS_SINCE_ONSET]",
			"separated by spaces or commas, exactly what 'export inspect' prints (a seventh column",
			"'absent=FIELD+…' leaves those fields out of the file); '#' starts a",
			"comment line, and a first line starting with 'key' is taken as a CSV header.",
			"Missing fields default to 144 CONFIRMED_TEST 0 0. REPORT_TYPE is a name or number;",
			"REVOKED keys go to the file's revised keys. The file is written atomically.",
			"Make a signing key with 'bluezone export keygen'."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			keyPath := fs.String("key", "", "PEM file of the ECDSA P-256 private key to sign with (required)")
			outPath := fs.String("out", "", "the zip to write (required)")
			inPath := fs.String("in", "", "read keys from this file instead of standard input")
			region := fs.String("region", "VN", "region written into the file")
			keyID := fs.String("key-id", "bluezone", "verification_key_id written into the signature info")
			keyVersion := fs.String("key-version", "v1", "verification_key_version written into the signature info")
			start := fs.String("start", "", "start of the file's time window, RFC 3339 (default: the earliest key's start)")
			end := fs.String("end", "", "end of the file's time window, RFC 3339 (default: the latest key's end)")
			return func(_ context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("export sign: unexpected arguments %q", args)
				}
				if *keyPath == "" || *outPath == "" {
					return usageErrorf("export sign: --key and --out are required")
				}
				var window [2]time.Time
				for i, s := range []string{*start, *end} {
					if s == "" {
						continue
					}
					t, err := time.Parse(time.RFC3339, s)
					if err != nil {
						return usageErrorf("export sign: %v", err)
					}
					window[i] = t
				}
				pemBytes, err := os.ReadFile(*keyPath)
				if err != nil {
					return err
				}
				priv, err := export.ParsePrivateKeyPEM(pemBytes)
				if err != nil {
					return fmt.Errorf("%s: %w", *keyPath, err)
				}
				in := st.in
				if *inPath != "" {
					fh, err := os.Open(*inPath)
					if err != nil {
						return err
					}
					defer fh.Close()
					in = fh
				}
				keys, err := export.ParseKeys(in)
				if err != nil {
					return fmt.Errorf("export sign: keys: %w", err)
				}
				f := &export.File{Region: *region, BatchNum: 1, BatchSize: 1, Start: window[0], End: window[1]}
				for _, k := range keys {
					if k.ReportType == export.ReportRevoked {
						f.Revised = append(f.Revised, k)
					} else {
						f.Keys = append(f.Keys, k)
					}
				}
				defaultWindow(f, keys)
				var buf bytes.Buffer
				signer := export.Signer{Key: priv, Info: export.SignatureInfo{KeyID: *keyID, KeyVersion: *keyVersion, Algorithm: export.AlgorithmECDSAP256SHA256}}
				if err := export.Write(&buf, f, signer); err != nil {
					return err
				}
				if err := atomicfile.WriteFile(*outPath, buf.Bytes(), 0o644); err != nil {
					return err
				}
				fmt.Fprintf(st.err, "wrote %s: %d keys, %d revised, %d bytes\n", *outPath, len(f.Keys), len(f.Revised), buf.Len())
				return nil
			}
		},
	}
}

// defaultWindow fills an unset time window from the keys' own validity.
func defaultWindow(f *export.File, keys []export.Key) {
	if len(keys) == 0 {
		now := time.Now().UTC().Truncate(time.Second)
		f.Start, f.End = cmp.Or(f.Start, now), cmp.Or(f.End, now)
		return
	}
	lo, hi := keys[0].RollingStart, keys[0].RollingStart+keys[0].RollingPeriod
	for _, k := range keys[1:] {
		lo, hi = min(lo, k.RollingStart), max(hi, k.RollingStart+k.RollingPeriod)
	}
	if f.Start.IsZero() {
		f.Start = protocol.IntervalTime(lo)
	}
	if f.End.IsZero() {
		f.End = protocol.IntervalTime(hi)
	}
}

func exportKeygenCommand() *command {
	return &command{
		name:    "keygen",
		args:    "--private PEM_FILE --public PEM_FILE",
		summary: "Makes a new ECDSA P-256 signing key pair for export files. Never overwrites an existing file.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			privPath := fs.String("private", "", "where to write the private key, PKCS#8 PEM, mode 0600 (required)")
			pubPath := fs.String("public", "", "where to write the public key, PKIX PEM (required)")
			return func(_ context.Context, st *stdio, args []string) error {
				if len(args) != 0 || *privPath == "" || *pubPath == "" {
					return usageErrorf("export keygen: --private and --public are required, and nothing else")
				}
				key, err := export.GenerateKey()
				if err != nil {
					return err
				}
				priv, err := export.MarshalPrivateKeyPEM(key)
				if err != nil {
					return err
				}
				pub, err := export.MarshalPublicKeyPEM(&key.PublicKey)
				if err != nil {
					return err
				}
				if err := writeNewFile(*privPath, priv, 0o600); err != nil {
					return err
				}
				if err := writeNewFile(*pubPath, pub, 0o644); err != nil {
					return errors.Join(err, os.Remove(*privPath))
				}
				fmt.Fprintf(st.err, "wrote %s and %s\n", *privPath, *pubPath)
				return nil
			}
		},
	}
}

// writeNewFile writes a file that must not exist yet.
func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
