package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bluezone-vn/bluezone/internal/atomicfile"
	"github.com/bluezone-vn/bluezone/server"
)

// callbackKeyFile is where serve keeps the callback sealing key when
// --callback-key-file is not given: beside the database, not in it.
const callbackKeyFile = "callback.key"

// callbackFlags are serve's flags for callback requests.
type callbackFlags struct {
	keyFile           *string
	perAddressPerHour *int
	perMinute         *int
}

func addCallbackFlags(fs *flag.FlagSet) *callbackFlags {
	return &callbackFlags{
		keyFile: fs.String("callback-key-file", "",
			"file of the keys that seal callback requests at rest: one key a line, 64 hex digits (openssl rand -hex 32), the first seals,\n"+
				"all open (rotation: docs/operations.md); every replica needs the same file. Empty: DATA_DIR/callback.key,\n"+
				"made on first start [$BLUEZONE_CALLBACK_KEY_FILE]"),
		perAddressPerHour: fs.Int("callback-per-address-per-hour", 60,
			"callback requests, chaff included, one client address (IPv6: /64) may send in an hour [$BLUEZONE_CALLBACK_PER_ADDRESS_PER_HOUR]"),
		perMinute: fs.Int("callback-per-minute", 300,
			"real callback requests the whole service takes in a minute, all replicas together [$BLUEZONE_CALLBACK_PER_MINUTE]"),
	}
}

// apply reads the keys into cfg, making DATA_DIR/callback.key on first
// start when no file is named.
func (f *callbackFlags) apply(cfg *server.Config, dataDir string) error {
	if *f.perAddressPerHour < 1 || *f.perMinute < 1 {
		return usageErrorf("serve: --callback-per-address-per-hour and --callback-per-minute must be at least 1")
	}
	cfg.Callback.PerAddressPerHour, cfg.Callback.PerMinute = *f.perAddressPerHour, *f.perMinute
	path := *f.keyFile
	if path == "" {
		path = filepath.Join(dataDir, callbackKeyFile)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			k := make([]byte, server.CallbackKeySize)
			rand.Read(k)
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return err
			}
			if err := atomicfile.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
				return fmt.Errorf("callback key: %w", err)
			}
		}
	}
	keys, err := readCallbackKeys(path)
	if err != nil {
		return err
	}
	cfg.Callback.Keys = keys
	return nil
}

// readCallbackKeys reads a key file: one hex key a line; blank lines and
// lines starting with # are skipped.
func readCallbackKeys(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("callback key file: %w", err)
	}
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := hex.DecodeString(line)
		if err != nil || len(k) != server.CallbackKeySize {
			return nil, fmt.Errorf("callback key file %s, line %d: want %d hex digits (openssl rand -hex %d)", path, n, 2*server.CallbackKeySize, server.CallbackKeySize)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("callback key file %s holds no key", path)
	}
	return keys, nil
}
