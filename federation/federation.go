// Package federation lets a Bluezone server follow other Exposure
// Notification servers: it fetches the files their index.txt lists,
// verifies each against the follow's pinned public key and region, imports
// their keys with every field as it came, and offers them to our phones in
// files signed with our key under the other region's folder of our exports.
//
// Loops cannot form: a server takes from another only the files of that
// server's own region (its index entries under REGION/, whose header says
// REGION), and offers what it imported under the origin's region, never
// under its own. So keys reach the followers of their origin, and no one
// else through them. docs/federation.md gives the whole design.
package federation

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// Store is what federation keeps in the database (store.DB implements it).
type Store interface {
	FederationFiles(ctx context.Context, peer string) ([]store.FederationFile, error)
	ImportFederationFile(ctx context.Context, f store.FederationFile, keys []store.FederationKey) (bool, error)
	RefuseFederationFile(ctx context.Context, peer, name, reason string, at time.Time) (int, error)
	PendingFederationExports(ctx context.Context, limit int) ([]store.FederationFile, error)
	FederationFileKeys(ctx context.Context, fileID int64) ([]store.FederationKey, error)
	MarkFederationExported(ctx context.Context, fileID int64, name string) error
	FederationExports(ctx context.Context) ([]store.FederationFile, error)
	DeleteFederationBefore(ctx context.Context, t, forget time.Time) ([]string, error)
	AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Blobs is where our export files go (blob.Dir implements it).
type Blobs interface {
	Put(ctx context.Context, name string, data []byte) error
	Delete(ctx context.Context, name string) error
}

// Peer is a followed server.
type Peer struct {
	Region   string           // its region, two letters: the folder and file header its own files carry
	IndexURL string           // its index.txt
	Key      *ecdsa.PublicKey // pinned: every file must carry a signature by it
}

// ParsePeer reads a follow as the command line gives it:
// "REGION,INDEX_URL,PUBLIC_KEY.pem", reading the PEM file.
func ParsePeer(s string) (Peer, error) {
	first, last := strings.Index(s, ","), strings.LastIndex(s, ",")
	if first < 0 || first == last {
		return Peer{}, fmt.Errorf("follow %q: want REGION,INDEX_URL,PUBLIC_KEY.pem", s)
	}
	p := Peer{Region: strings.ToUpper(strings.TrimSpace(s[:first])), IndexURL: strings.TrimSpace(s[first+1 : last])}
	pemPath := strings.TrimSpace(s[last+1:])
	b, err := os.ReadFile(pemPath)
	if err != nil {
		return Peer{}, fmt.Errorf("follow %s: %w", p.Region, err)
	}
	if p.Key, err = export.ParsePublicKeyPEM(b); err != nil {
		return Peer{}, fmt.Errorf("follow %s: %s: %w", p.Region, pemPath, err)
	}
	return p, p.validate()
}

func (p Peer) validate() error {
	if len(p.Region) != 2 || strings.Trim(p.Region, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return fmt.Errorf("follow %q: region: want two letters A-Z", p.Region)
	}
	u, err := url.Parse(p.IndexURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("follow %s: index URL %q: want http(s)://host/…/index.txt", p.Region, p.IndexURL)
	}
	if p.Key == nil {
		return fmt.Errorf("follow %s: no public key", p.Region)
	}
	return nil
}

// Config holds federation's settings. Zero values take the defaults.
type Config struct {
	Region    string // ours: no follow may have it
	Peers     []Peer
	Retention time.Duration // of imported keys and our files offering them (default 14 days)
	// Instance names this replica as holder of the import lease (see
	// server.Config.InstanceID).
	Instance string
	// HTTP fetches from the peers; nil: a client whose requests end after
	// RequestTimeout.
	HTTP           *http.Client
	RequestTimeout time.Duration // default 2 min, for one file of at most MaxFileBytes
	MaxIndexBytes  int64         // default 1 MiB
	MaxFileBytes   int64         // default 32 MiB, what phones accept
	MaxFilesPerRun int           // new files fetched from one peer in one run (default 200)
	MaxAttempts    int           // refusals after which a file is no longer tried (default 3)
}

func (c *Config) defaults() {
	if c.Retention == 0 {
		c.Retention = 14 * 24 * time.Hour
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 2 * time.Minute
	}
	if c.MaxIndexBytes == 0 {
		c.MaxIndexBytes = 1 << 20
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = 32 << 20
	}
	if c.MaxFilesPerRun == 0 {
		c.MaxFilesPerRun = 200
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: c.RequestTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("more than 3 redirects")
			}
			return nil
		}}
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range c.Peers {
		if err := p.validate(); err != nil {
			errs = append(errs, err)
		}
		if strings.EqualFold(p.Region, c.Region) {
			// Our own folder would take their files: keys could come back.
			errs = append(errs, fmt.Errorf("follow %s: that is our own region", p.Region))
		}
		if seen[p.Region] {
			errs = append(errs, fmt.Errorf("follow %s: given twice (its keys go into one folder)", p.Region))
		}
		seen[p.Region] = true
	}
	return errors.Join(errs...)
}

// Federation imports from followed servers and writes what it imported for
// our phones.
type Federation struct {
	cfg   Config
	db    Store
	blobs Blobs
	sign  func(ctx context.Context, w io.Writer, f *export.File) error
	log   *slog.Logger
	now   func() time.Time
}

// New prepares federation. sign writes a file signed as our own exports
// are (server.Server.SignExport).
func New(cfg Config, db Store, blobs Blobs, sign func(ctx context.Context, w io.Writer, f *export.File) error, log *slog.Logger) (*Federation, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}
	return &Federation{cfg: cfg, db: db, blobs: blobs, sign: sign, log: log, now: time.Now}, nil
}

// SetClock replaces the clock, for tests.
func (f *Federation) SetClock(now func() time.Time) { f.now = now }

// Run imports every interval until ctx ends.
func (f *Federation) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := f.ImportOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			f.log.ErrorContext(ctx, "federation import", "err", err)
		case res.Files > 0 || res.Refused > 0:
			f.log.InfoContext(ctx, "federation import", "files", res.Files, "keys", res.Keys, "refused", res.Refused, "recursive_dropped", res.RecursiveDropped,
				"untimely_dropped", res.UntimelyDropped)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
