package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk/calibration"
)

// A virtual phone on disk: the engine's directory plus, standing in for the
// platform keystore, its storage key and settings.
const (
	phoneKeyFile    = "storage.key"
	phoneConfigFile = "phone.json"
)

func phoneCommand() *command {
	return &command{
		name:    "phone",
		summary: "a virtual phone kept in a directory: play both sides of a contact from the shell",
		subs: []*command{phoneCreateCommand(), phoneAdvertiseCommand(), phoneHearCommand(),
			phoneScanCommand(), phonePinCommand(), phoneMatchCommand(), phoneSyncCommand(), phoneUploadCommand(), phoneStatusCommand(), phoneKeysCommand(),
			phoneCallbackCommand()},
	}
}

// phoneFlags declares the flags every phone command shares.
func phoneFlags(fs *flag.FlagSet) (dir, at *string) {
	dir = fs.String("dir", "", "the phone's directory (required)")
	at = fs.String("at", "", "the phone's clock: RFC 3339 time or Unix seconds (default: now)")
	return dir, at
}

func parseTime(s string) (int64, error) {
	if s == "" {
		return time.Now().Unix(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("time %q: want RFC 3339 (2026-11-20T09:00:00Z) or Unix seconds", s)
	}
	return t.Unix(), nil
}

func openPhone(dir string) (*phone.Engine, error) {
	if dir == "" {
		return nil, usageErrorf("--dir is required")
	}
	key, err := os.ReadFile(filepath.Join(dir, phoneKeyFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a phone (make one with 'bluezone phone create --dir %s')", dir, dir)
	}
	if err != nil {
		return nil, err
	}
	var cfg phone.Config
	b, err := os.ReadFile(filepath.Join(dir, phoneConfigFile))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", phoneConfigFile, err)
	}
	return phone.Open(dir, key, cfg)
}

// withPhone parses the shared flags, opens the phone, runs fn and closes it.
func withPhone(fs *flag.FlagSet, nArgs int, synopsis string, fn func(st *stdio, e *phone.Engine, now int64, args []string) error) func(context.Context, *stdio, []string) error {
	return withPhoneCtx(fs, nArgs, synopsis, func(_ context.Context, st *stdio, e *phone.Engine, now int64, args []string) error {
		return fn(st, e, now, args)
	})
}

func withPhoneCtx(fs *flag.FlagSet, nArgs int, synopsis string, fn func(ctx context.Context, st *stdio, e *phone.Engine, now int64, args []string) error) func(context.Context, *stdio, []string) error {
	dir, at := phoneFlags(fs)
	return func(ctx context.Context, st *stdio, args []string) error {
		if nArgs >= 0 && len(args) != nArgs {
			return usageErrorf("want %s", synopsis)
		}
		now, err := parseTime(*at)
		if err != nil {
			return usageErrorf("--at: %v", err)
		}
		e, err := openPhone(*dir)
		if err != nil {
			return err
		}
		return errors.Join(fn(ctx, st, e, now, args), e.Close())
	}
}

func phoneCreateCommand() *command {
	return &command{
		name:    "create",
		args:    "--dir DIR",
		summary: "Makes a new virtual phone in DIR (its storage key is kept in DIR/storage.key, standing in for the platform keystore).",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			dir := fs.String("dir", "", "the directory to create (required)")
			tx := fs.Int("tx-power", defaultTxPower, "the TX power in dBm the phone advertises in its encrypted metadata; when not given, the --model's tx in Google's EN calibration table, or this default for a model not in it")
			model := fs.String("model", "", "the phone's device model: Android Build.MODEL (SM-G973F) or Build.DEVICE (beyond1), or an iPhone; picks the TX power from Google's EN calibration table and keys the risk configuration's per-model calibration")
			language := fs.String("language", "en", "language of the phone's texts (warning advice): vi (Vietnamese) or en (English)")
			service := fs.String("service", "4e56", "the 16-bit service UUID the phone advertises under, in hex: 4e56 (Bluezone) or fd6f (Exposure Notification, which EN phones scan for; for devices allowed to use it)")
			return func(_ context.Context, st *stdio, args []string) error {
				if *dir == "" || len(args) != 0 {
					return usageErrorf("phone create: want --dir DIR")
				}
				svc, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(*service), "0x"), 16, 16)
				if err != nil || (svc != 0x4e56 && svc != 0xfd6f) {
					return usageErrorf("phone create: --service %q: want 4e56 or fd6f", *service)
				}
				txGiven := false
				fs.Visit(func(f *flag.Flag) { txGiven = txGiven || f.Name == "tx-power" })
				cal, known := calibration.Lookup(*model)
				if known && !txGiven {
					*tx = cal.TxPower
				}
				if err := os.MkdirAll(*dir, 0o700); err != nil {
					return err
				}
				key := make([]byte, phone.StorageKeyLength)
				rand.Read(key)
				if err := writeNewFile(filepath.Join(*dir, phoneKeyFile), key, 0o600); err != nil {
					return fmt.Errorf("phone create: %w", err)
				}
				pc := phone.Config{TxPower: *tx, Model: *model, Service: int(svc), Language: *language}
				cfg, _ := json.Marshal(pc)
				if err := os.WriteFile(filepath.Join(*dir, phoneConfigFile), cfg, 0o600); err != nil {
					return err
				}
				e, err := phone.Open(*dir, key, pc)
				if err != nil {
					return err
				}
				fmt.Fprintf(st.out, "created phone in %s\n", *dir)
				fmt.Fprintln(st.out, calibrationLine(*model, cal, known, *tx, txGiven))
				return e.Close()
			}
		},
	}
}

// defaultTxPower (dBm) is what a phone advertises when neither --tx-power
// nor Google's calibration table gives its TX power.
const defaultTxPower = -8

// calibrationLine says which calibration 'phone create' used.
func calibrationLine(model string, cal calibration.Device, known bool, tx int, txGiven bool) string {
	source := "default"
	if txGiven {
		source = "--tx-power"
	}
	if !known {
		if model == "" {
			return fmt.Sprintf("calibration: no --model; tx %d dBm (%s)", tx, source)
		}
		return fmt.Sprintf("calibration: model %q not in Google's table; tx %d dBm (%s)", model, tx, source)
	}
	row := cal.Model + " (" + strings.TrimSpace(cal.OEM+" "+cal.Device) + ")"
	if strings.TrimSpace(model) != cal.Model {
		// A code name, a brand in front, a regional variant's family.
		row += fmt.Sprintf(" for %q", model)
	}
	txText := fmt.Sprintf("tx %d dBm", tx)
	if txGiven && tx != cal.TxPower {
		txText = fmt.Sprintf("tx %d dBm (--tx-power; the table says %d)", tx, cal.TxPower)
	}
	return fmt.Sprintf("calibration: %s: %s, rssi correction %+d dB, confidence %d", row, txText, cal.RSSICorrection, cal.Confidence)
}

func phoneAdvertiseCommand() *command {
	return &command{
		name:    "advertise-now",
		args:    "--dir DIR",
		summary: "Prints what the phone broadcasts now: 'PAYLOAD_HEX ROTATE_AT' (31-byte advertisement; Unix seconds of the next identifier change).",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			return withPhone(fs, 0, "no arguments", func(st *stdio, e *phone.Engine, now int64, _ []string) error {
				adv, err := e.Advertisement(now)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(st.out, "%x %d\n", adv.Payload, adv.RotateAt)
				return err
			})
		},
	}
}

func phoneHearCommand() *command {
	return &command{
		name:    "hear",
		args:    "--dir DIR PAYLOAD_HEX RSSI [TIME]",
		summary: "Records that the phone heard an advertisement (as 'advertise-now' prints it) at RSSI dBm, at TIME (RFC 3339 or Unix seconds; default --at or now).",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			model := fs.String("model", "", "the advertiser's device model, if known")
			return withPhone(fs, -1, "PAYLOAD_HEX RSSI [TIME]", func(st *stdio, e *phone.Engine, now int64, args []string) error {
				if len(args) < 2 || len(args) > 3 {
					return usageErrorf("phone hear: want PAYLOAD_HEX RSSI [TIME]")
				}
				payload, err := hex.DecodeString(args[0])
				if err != nil {
					return usageErrorf("phone hear: payload: %v", err)
				}
				rssi, err := strconv.Atoi(args[1])
				if err != nil {
					return usageErrorf("phone hear: rssi %q: want dBm, e.g. -65", args[1])
				}
				if len(args) == 3 {
					if now, err = parseTime(args[2]); err != nil {
						return usageErrorf("phone hear: %v", err)
					}
				}
				return e.HandleScan(payload, rssi, now, *model)
			})
		},
	}
}

func phoneScanCommand() *command {
	return &command{
		name:    "scan",
		args:    "--dir DIR [TIME...]",
		summary: "Records scans that heard nothing, at each TIME (RFC 3339 or Unix seconds; default --at or now). Each scan counts for the time since the previous one (at most 5 minutes), so a replay of real measurements should record the empty scans too; every 'hear' is a scan already.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			return withPhone(fs, -1, "[TIME...]", func(st *stdio, e *phone.Engine, now int64, args []string) error {
				times := []int64{now}
				if len(args) > 0 {
					times = times[:0]
				}
				for _, a := range args {
					t, err := parseTime(a)
					if err != nil {
						return usageErrorf("phone scan: %v", err)
					}
					times = append(times, t)
				}
				for _, t := range times {
					if err := e.RecordScan(t); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

func phonePinCommand() *command {
	return &command{
		name:    "pin",
		args:    "--dir DIR PUBLIC_KEY.pem",
		summary: "Pins a health authority's export signing key: only files it signed are matched.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			return withPhone(fs, 1, "PUBLIC_KEY.pem", func(st *stdio, e *phone.Engine, _ int64, args []string) error {
				b, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				return e.PinPublicKey(b)
			})
		},
	}
}

func phoneMatchCommand() *command {
	return &command{
		name:    "match",
		args:    "--dir DIR FILE.zip...",
		summary: "Matches export files (signed by a pinned key) against what the phone heard, then prints its status.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			return withPhone(fs, -1, "FILE.zip...", func(st *stdio, e *phone.Engine, now int64, args []string) error {
				if len(args) == 0 {
					return usageErrorf("phone match: want at least one FILE.zip")
				}
				var files [][]byte
				for _, p := range args {
					b, err := os.ReadFile(p)
					if err != nil {
						return err
					}
					files = append(files, b)
				}
				rep, err := e.MatchExports(files, now)
				if err != nil {
					return err
				}
				fmt.Fprintf(st.out, "files: %d\nkeys: %d\nkeys derived: %d\nkeys matched: %d\nrevoked: %d\n", rep.Files, rep.Keys, rep.KeysDerived, rep.Matched, rep.Revoked)
				return printPhoneStatus(st, e, now)
			})
		},
	}
}

func phoneStatusCommand() *command {
	return &command{
		name:    "status",
		args:    "--dir DIR",
		summary: "Prints the phone's keys, stored sightings, warning and per-day contact history.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			return withPhone(fs, 0, "no arguments", func(st *stdio, e *phone.Engine, now int64, _ []string) error {
				return printPhoneStatus(st, e, now)
			})
		},
	}
}

func printPhoneStatus(st *stdio, e *phone.Engine, now int64) error {
	s, err := e.Status(now)
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "keys: %d\nidentifiers heard: %d\nsightings: %d\nscans: %d\nstored bytes: %d\nexposed keys: %d\n", s.Keys, s.Identifiers, s.Sightings, s.Scans, s.StoredBytes, s.ExposedKeys)
	if s.DamagedBytes > 0 {
		fmt.Fprintf(st.out, "damaged log bytes skipped: %d\n", s.DamagedBytes)
	}
	switch s.Warning.Level {
	case phone.LevelF1:
		fmt.Fprintf(st.out, "warning: F1 on %s (%.0f weighted minutes)\n  %s\n", s.Warning.Day, s.Warning.Minutes, s.Warning.Advice)
	case phone.LevelF2:
		fmt.Fprintf(st.out, "warning: F2 on %s (%.0f weighted minutes)\n  %s\n", s.Warning.Day, s.Warning.Minutes, s.Warning.Advice)
	default:
		fmt.Fprintln(st.out, "warning: none")
		if s.Warning.LowRiskDay != "" {
			fmt.Fprintf(st.out, "low risk: %s (%.0f weighted minutes)\n", s.Warning.LowRiskDay, s.Warning.LowRiskMinutes)
		}
	}
	h, err := e.History(now)
	if err != nil {
		return err
	}
	for _, d := range h {
		fmt.Fprintf(st.out, "history: %s close devices %d, close minutes %.0f\n", d.Day, d.CloseDevices, d.CloseMinutes)
	}
	return nil
}

func phoneKeysCommand() *command {
	return &command{
		name: "keys",
		args: "--dir DIR",
		summary: describe(
			"Prints the phone's keys in the text form 'export sign' reads.",
			"Keys of the last 14 days (or since --since), to play a health authority by hand:",
			"  bluezone phone keys --dir a | bluezone export sign --key k.pem --out f.zip"),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			since := fs.String("since", "", "first time to cover, RFC 3339 or Unix seconds (default: 14 days before --at)")
			reportType := fs.String("report-type", "CONFIRMED_TEST", "report type written with each key")
			return withPhone(fs, 0, "no arguments", func(st *stdio, e *phone.Engine, now int64, _ []string) error {
				rt, err := export.ParseReportType(*reportType)
				if err != nil {
					return usageErrorf("phone keys: %v", err)
				}
				from := now - phone.RetentionDays*86400
				if *since != "" {
					if from, err = parseTime(*since); err != nil {
						return usageErrorf("phone keys: --since: %v", err)
					}
				}
				for _, k := range e.DiagnosisKeys(from, now) {
					fmt.Fprintln(st.out, export.FormatKey(export.Key{Data: k.TEK, RollingStart: k.RollingStart, RollingPeriod: k.RollingPeriod, ReportType: rt}))
				}
				return nil
			})
		},
	}
}

func phoneSyncCommand() *command {
	return &command{
		name: "sync",
		args: "--dir DIR --server URL",
		summary: describe(
			"Downloads new export files from the server and matches them.",
			"It reads the server's index.txt, verifies each new file against the pinned key,",
			"matches it, then prints the phone's status. A file that cannot be fetched or does",
			"not verify is skipped ('failed files: N' and the first error on stderr), the others",
			"are matched, and the command exits with status 1; the next sync tries it again.",
			"Pin the authority's key first ('phone pin'), or pass --trust-server-key to pin the",
			"key the server serves (for testing: a real app ships with the key built in)."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			server := fs.String("server", "", "the server's base URL, e.g. http://127.0.0.1:8080 (required)")
			trust := fs.Bool("trust-server-key", false, "pin the export key the server serves at /exports/public.pem")
			return withPhoneCtx(fs, 0, "no arguments", func(ctx context.Context, st *stdio, e *phone.Engine, now int64, _ []string) error {
				if *server == "" {
					return usageErrorf("phone sync: --server is required")
				}
				c := &phone.Client{BaseURL: *server}
				if *trust {
					pem, err := c.PublicKey(ctx)
					if err != nil {
						return err
					}
					if err := e.PinPublicKey(pem); err != nil {
						return err
					}
				}
				rep, err := e.Sync(ctx, c, now)
				if rep == nil {
					return err
				}
				fmt.Fprintf(st.out, "files: %d\nkeys: %d\nkeys derived: %d\nkeys matched: %d\nrevoked: %d\n", rep.Files, rep.Keys, rep.KeysDerived, rep.Matched, rep.Revoked)
				if rep.Failed > 0 {
					fmt.Fprintf(st.out, "failed files: %d\n", rep.Failed)
					err = errors.Join(err, fmt.Errorf("phone sync: %d files skipped, first: %s", rep.Failed, rep.FirstError))
				}
				return errors.Join(printPhoneStatus(st, e, now), err)
			})
		},
	}
}

func phoneUploadCommand() *command {
	return &command{
		name: "upload",
		args: "--dir DIR --server URL --api-key KEY --code CODE",
		summary: describe(
			"Publishes the phone's keys with a code from the health authority.",
			"Only on the user's explicit consent: F0 codes publish from two days before the test",
			"date, F1 (RECURSIVE) codes only from the exposure date on. The phone then starts a",
			"new key. The last line says when the server exports the last key stored (EN's 2-hour",
			"embargo after a key stops being used, unless the server runs with --demo-release-now)."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			server := fs.String("server", "", "the server's base URL (required)")
			code := fs.String("code", "", "the code the health authority gave (required)")
			apiKey := fs.String("api-key", "", "the app's API key, from 'bluezone apikey create' (required)")
			app := fs.String("app", "vn.gov.bluezone", "the name the app is registered under (healthAuthorityID)")
			return withPhoneCtx(fs, 0, "no arguments", func(ctx context.Context, st *stdio, e *phone.Engine, now int64, _ []string) error {
				if *server == "" || *code == "" || *apiKey == "" {
					return usageErrorf("phone upload: --server, --code and --api-key are required")
				}
				res, err := e.Upload(ctx, &phone.Client{BaseURL: *server, APIKey: *apiKey, App: *app}, *code, now)
				if err != nil {
					return err
				}
				fmt.Fprintf(st.out, "report type: %s\nkeys sent: %d\nkeys stored: %d\n", res.ReportType, res.Keys, res.Inserted)
				if res.Published > 0 {
					fmt.Fprintf(st.out, "keys not sent, published before as %s or a stronger type: %d\n", res.ReportType, res.Published)
				}
				for _, r := range res.Rejected {
					fmt.Fprintf(st.out, "rejected key %d: %s (%s)\n", r.Index, r.Code, r.Message)
				}
				if res.Inserted > 0 {
					// The last line, after those outside tools parse: a contact
					// that syncs before this time finds nothing and may not know why.
					why := "EN's 2-hour embargo after the key's last interval"
					if res.ExportAfter < res.EmbargoEnd {
						why = "the server releases keys early: demo mode, --demo-release-now"
					}
					fmt.Fprintf(st.out, "export: the last key is released after %s (%s); run 'phone sync' after that\n",
						time.Unix(res.ExportAfter, 0).UTC().Format(time.RFC3339), why)
				}
				return nil
			})
		},
	}
}
