// Package server is the health authority's backend: verification (codes →
// tokens → certificates), key publishing, signed exports, and their HTTP API.
// It is stateless apart from its Store and Blobs, so any number of replicas
// can run against one PostgreSQL database.
package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// Store is what the server needs of its database (store.DB implements it),
// made of one small interface per role.
type Store interface {
	CodeStore
	CodeLookup
	KeyPublisher
	ExportStore
	PortalStore
	AccountStore
	Limiter
	AuditPruner
	AppAPIStore
	APIKeyStore
	CallbackStore
	SettingOrInit(ctx context.Context, name string, init func() (string, error)) (string, error)
	AddStat(ctx context.Context, day int64, name string, delta int64) error
	Stats(ctx context.Context, since int64) (map[int64]map[string]int64, error)
	Ping(ctx context.Context) error
}

// CodeStore keeps verification codes, as HMACs only (store.DB implements it).
type CodeStore interface {
	CreateCode(ctx context.Context, c store.Code) (int64, error)
	// ClaimCode uses a code once; a used code keeps no link to the moment
	// of its claim or its issuer (see store.DB.ClaimCode).
	ClaimCode(ctx context.Context, hmac []byte, now time.Time) (store.Code, error)
	GetCode(ctx context.Context, id int64) (store.Code, error)
	RevokeCode(ctx context.Context, id int64, now, exportAt time.Time) (int64, error)
	RecentCodes(ctx context.Context, limit int) ([]store.Code, error)
}

// ExportStore is what the export worker needs: the keys of a batch, the
// lease that lets one replica work, the record of written batches, and
// retention (store.DB implements it).
type ExportStore interface {
	BatchKeys(ctx context.Context, start, end time.Time) (keys, revoked []store.Key, err error)
	AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
	RecordExport(ctx context.Context, e store.Export) (bool, error)
	Exports(ctx context.Context, since time.Time) ([]store.Export, error)
	LastExportEnd(ctx context.Context) (time.Time, error)
	DeleteBefore(ctx context.Context, t time.Time) ([]string, error)
}

// PortalStore keeps the portal's accounts, sessions, settings and audit log
// (store.DB implements it).
type PortalStore interface {
	Setting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error
	CreateOfficial(ctx context.Context, o store.Official) (int64, error)
	CreateFirstAdmin(ctx context.Context, o store.Official) (int64, error)
	CountOfficials(ctx context.Context) (int, error)
	OfficialByEmail(ctx context.Context, email string) (store.Official, error)
	OfficialByID(ctx context.Context, id int64) (store.Official, error)
	Officials(ctx context.Context) ([]store.Official, error)
	SetOfficialDisabled(ctx context.Context, id int64, disabled bool) error
	CreateSession(ctx context.Context, s store.Session) error
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (store.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	AddAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, limit int) ([]store.AuditEntry, error)
}

// KeyPublisher stores published keys within the per-code cap (store.DB
// implements it). Checking the cap and storing must be one atomic step.
type KeyPublisher interface {
	// PublishKeys stores keys of code codeID unless the code would pass max
	// keys in all (store.ErrTooManyKeys); see store.DB.PublishKeys.
	PublishKeys(ctx context.Context, codeID int64, keys []store.Key, max int) (existing []int, published int, err error)
}

// AuditPruner forgets audit rows past their retention (store.DB implements it).
type AuditPruner interface {
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// Blobs is where export files go (blob.Dir implements it).
type Blobs interface {
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, error)
	Delete(ctx context.Context, name string) error
}

// Config holds the server's settings. Zero values take the defaults.
type Config struct {
	Region string // written into exports, e.g. "VN"
	// ExportKeyID and ExportKeyVersion label the original export signing
	// key in every file (verification_key_id/version), as registered with
	// Apple and Google (Vietnam's ID would be "452"). Defaults: the region
	// in lower case and "v1", what every file said before they were
	// settable. Keys added by rotation carry their own (see AddSigningKey).
	ExportKeyID, ExportKeyVersion string
	ExportPeriod                  time.Duration // batch length (default 1 h)
	MinBatchKeys                  int           // exports are padded with random keys up to this (default 1000)
	// MaxKeysPerFile bounds the keys of one export file (default 30 000, as
	// Google's server): a period with more is split into batches 1..N.
	MaxKeysPerFile int
	ShortCodeTTL   time.Duration // 8-digit codes (default 15 min)
	LongCodeTTL    time.Duration // long codes (default 24 h)
	TokenTTL       time.Duration // verification tokens (default 24 h)
	CertificateTTL time.Duration // publish certificates (default 15 min)
	Retention      time.Duration // keys and exports (default 14 days)
	MaxKeysPerCode int           // keys one code may publish in all (default 30)
	// ChaffResponseMs is how long chaff answers of an endpoint take, in ms,
	// until real answers of it have been timed (default 10); afterwards
	// they take about as long as the recent real ones.
	ChaffResponseMs int
	// VerifyPerAddressPerMinute and VerifyPerAddressPerHour bound the
	// verifications one client address (an IPv6 /64) may try in a minute
	// (default 10) and in an hour (default 60); successful ones are given
	// back. The minute's limit keeps one address from using up the global
	// limit of failures alone.
	VerifyPerAddressPerMinute int
	VerifyPerAddressPerHour   int
	// VerifyFailuresPerMinute bounds the failed verifications of the whole
	// service, all replicas and addresses together, in a minute; beyond it
	// every verification is refused until the minute has passed (default 60).
	VerifyFailuresPerMinute int
	// BehindTLSProxy says that a proxy in front terminates TLS although the
	// server itself speaks plain HTTP: portal cookies are then marked
	// Secure and responses carry Strict-Transport-Security, as when the
	// server speaks TLS itself.
	BehindTLSProxy bool
	// TrustedProxyHeader names the header (say, X-Forwarded-For) in which a
	// reverse proxy in front of the server gives the client's address, for
	// the sign-in and verification limits. Empty (the default): the peer's address is used,
	// and the header, which any client can send, is ignored.
	TrustedProxyHeader string
	// InstanceID names this replica as the holder of the export lease. It
	// must differ between replicas and stay the same across restarts of
	// one, so that a replica restarted after a crash takes its own lease
	// back at once instead of waiting for it to expire. Empty: a random
	// name at each start (a restart then waits up to 5 minutes).
	InstanceID string
	// DemoReleaseNow is for demonstrations and tests only: keys are
	// exported at the next run of the export worker instead of 2 h after
	// they stop being used (EN's embargo) and the end of their batch. A key
	// still in use when published would let anyone link the phone's current
	// broadcasts; the phone starts a new key right after uploading
	// (phone.Engine.Upload), so the published one is no longer broadcast, but
	// a real case's phone may not be so quick, which is why this is never
	// for production.
	DemoReleaseNow bool
	// SMS sends codes to confirmed people by text message; its zero value
	// sends none (see SMSConfig).
	SMS SMSConfig
	// TimeZone is the officials' zone: the portal shows instants in it, and
	// "today" (the latest date a code form takes) and statistics days are
	// its calendar dates. Nil: Asia/Ho_Chi_Minh (DefaultTimeZone).
	TimeZone *time.Location
	// Callback configures callback requests (server/callback.go).
	Callback CallbackConfig
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Region == "" {
		c.Region = "VN"
	}
	if c.ExportKeyID == "" {
		c.ExportKeyID = strings.ToLower(c.Region)
	}
	if c.ExportKeyVersion == "" {
		c.ExportKeyVersion = "v1"
	}
	set(&c.ExportPeriod, time.Hour)
	set(&c.ShortCodeTTL, 15*time.Minute)
	set(&c.LongCodeTTL, 24*time.Hour)
	set(&c.TokenTTL, 24*time.Hour)
	set(&c.CertificateTTL, 15*time.Minute)
	set(&c.Retention, 14*24*time.Hour)
	if c.MinBatchKeys == 0 {
		c.MinBatchKeys = 1000
	}
	if c.MaxKeysPerFile == 0 {
		c.MaxKeysPerFile = DefaultMaxKeysPerFile
	}
	if c.MaxKeysPerCode == 0 {
		c.MaxKeysPerCode = 30
	}
	if c.VerifyPerAddressPerMinute == 0 {
		c.VerifyPerAddressPerMinute = 10
	}
	if c.VerifyPerAddressPerHour == 0 {
		c.VerifyPerAddressPerHour = 60
	}
	if c.VerifyFailuresPerMinute == 0 {
		c.VerifyFailuresPerMinute = 60
	}
	if c.ChaffResponseMs == 0 {
		c.ChaffResponseMs = 10
	}
	if c.TimeZone == nil {
		// Cannot fail: the zone database is in the binary (time/tzdata).
		c.TimeZone, _ = time.LoadLocation(DefaultTimeZone)
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Region) != 2 {
		errs = append(errs, fmt.Errorf("region %q: want a two-letter country code", c.Region))
	}
	if c.ExportPeriod < time.Minute || (24*time.Hour)%c.ExportPeriod != 0 {
		errs = append(errs, fmt.Errorf("export period %v: want at least 1m and a divisor of 24h", c.ExportPeriod))
	}
	if c.MinBatchKeys < 0 || c.MinBatchKeys > export.MaxKeys/2 {
		errs = append(errs, fmt.Errorf("min batch keys %d out of range", c.MinBatchKeys))
	}
	if c.MaxKeysPerFile < 1 || c.MaxKeysPerFile > export.MaxKeys || c.MaxKeysPerFile < c.MinBatchKeys {
		errs = append(errs, fmt.Errorf("max keys per file %d: want %d..%d and at least the min batch keys", c.MaxKeysPerFile, max(1, c.MinBatchKeys), export.MaxKeys))
	}
	if c.VerifyPerAddressPerMinute < 1 || c.VerifyPerAddressPerHour < c.VerifyPerAddressPerMinute || c.VerifyFailuresPerMinute < 1 {
		errs = append(errs, fmt.Errorf("verification limits %d a minute and %d an hour per address, %d failures a minute: want at least 1, and the hour's at least the minute's",
			c.VerifyPerAddressPerMinute, c.VerifyPerAddressPerHour, c.VerifyFailuresPerMinute))
	}
	if err := validKeyLabel(c.ExportKeyID, c.ExportKeyVersion); err != nil {
		errs = append(errs, fmt.Errorf("export key: %w", err))
	}
	if c.ChaffResponseMs < 0 {
		// newChaffDelay draws around it: a negative one made every chaff
		// answer panic (0 is the default, set before).
		errs = append(errs, fmt.Errorf("chaff response time %d ms: want at least 1 (0: the default)", c.ChaffResponseMs))
	}
	if len(c.InstanceID) > 200 {
		errs = append(errs, fmt.Errorf("instance id of %d bytes: want at most 200", len(c.InstanceID)))
	}
	errs = append(errs, c.SMS.validate()...)
	if c.Retention < 14*24*time.Hour {
		errs = append(errs, fmt.Errorf("retention %v: keys must stay available for 14 days", c.Retention))
	}
	return errors.Join(errs...)
}

// Server is one replica.
type Server struct {
	cfg      Config
	db       Store
	blobs    Blobs
	log      *slog.Logger
	now      func() time.Time
	instance string // lease owner name of this replica

	exportKey  *ecdsa.PrivateKey
	exportPEM  []byte
	tokenKey   *ecdsa.PrivateKey
	tokenKeyID string // the JWT kid of tokenKey
	codeSecret []byte
	revision   *revisionSealer // revision tokens of the EN publish API
	metrics    *metrics
	exportHook ExportHook // server/exporthook.go
	callbacks  *callbacks // server/callback.go
	// comparePassword is bcrypt.CompareHashAndPassword (tests count its calls).
	comparePassword func(hash, password []byte) error
	templates       *template.Template // the portal's, showing times in cfg.TimeZone

	// Daily statistics are counted in memory and added to the database by
	// FlushStats: a shared counter row updated by every upload would make
	// all uploads of a country wait for each other.
	statsMu sync.Mutex
	stats   map[statKey]int64
}

type statKey struct {
	day  int64
	name string
}

// New prepares a replica. On first start it generates the export signing
// key, the token signing key and the code HMAC secret, stored in the database
// so that every replica shares them.
func New(ctx context.Context, cfg Config, db Store, blobs Blobs, log *slog.Logger) (*Server, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server: config: %w", err)
	}
	instance := cfg.InstanceID
	if instance == "" {
		id := make([]byte, 8)
		rand.Read(id)
		instance = hex.EncodeToString(id)
	}
	s := &Server{cfg: cfg, db: db, blobs: blobs, log: log, now: time.Now, instance: instance, metrics: newMetrics(),
		comparePassword: bcrypt.CompareHashAndPassword, templates: parseTemplates(cfg.TimeZone)}
	var err error
	if s.exportKey, err = s.ecKey(ctx, "export_signing_key"); err != nil {
		return nil, err
	}
	if s.exportPEM, err = export.MarshalPublicKeyPEM(&s.exportKey.PublicKey); err != nil {
		return nil, err
	}
	if s.tokenKey, err = s.ecKey(ctx, "token_signing_key"); err != nil {
		return nil, err
	}
	secret, err := db.SettingOrInit(ctx, "code_hmac_secret", func() (string, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return hex.EncodeToString(b), err
	})
	if err != nil {
		return nil, fmt.Errorf("server: code secret: %w", err)
	}
	if s.codeSecret, err = hex.DecodeString(secret); err != nil {
		return nil, fmt.Errorf("server: code secret: %w", err)
	}
	if err := s.initAppAPI(ctx); err != nil {
		return nil, err
	}
	if err := s.initCallbacks(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) ecKey(ctx context.Context, name string) (*ecdsa.PrivateKey, error) {
	pemText, err := s.db.SettingOrInit(ctx, name, func() (string, error) {
		k, err := export.GenerateKey()
		if err != nil {
			return "", err
		}
		b, err := export.MarshalPrivateKeyPEM(k)
		return string(b), err
	})
	if err != nil {
		return nil, fmt.Errorf("server: %s: %w", name, err)
	}
	k, err := export.ParsePrivateKeyPEM([]byte(pemText))
	if err != nil {
		return nil, fmt.Errorf("server: %s: %w", name, err)
	}
	return k, nil
}

// ExportPublicKeyPEM returns the public key apps pin to verify exports:
// the current signing key (see SigningKeys for all of them).
func (s *Server) ExportPublicKeyPEM() []byte {
	if k, err := s.currentKey(context.Background()); err == nil {
		return k.PublicPEM
	}
	return s.exportPEM
}

// SetClock replaces the clock, for tests and the simulator's virtual time.
func (s *Server) SetClock(now func() time.Time) { s.now = now }

func unixDay(t time.Time) int64 { return t.Unix() / 86400 }

func (s *Server) stat(_ context.Context, name string, delta int64) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.stats == nil {
		s.stats = map[statKey]int64{}
	}
	s.stats[statKey{s.localDay(s.now()), name}] += delta // local calendar days, as the portal shows them
}

// FlushStats adds the counts gathered in memory to the database. Counts that
// fail to be written are kept for the next flush.
func (s *Server) FlushStats(ctx context.Context) error {
	s.statsMu.Lock()
	pending := s.stats
	s.stats = nil
	s.statsMu.Unlock()
	var errs []error
	for k, v := range pending {
		if err := s.db.AddStat(ctx, k.day, k.name, v); err != nil {
			errs = append(errs, err)
			s.statsMu.Lock()
			if s.stats == nil {
				s.stats = map[statKey]int64{}
			}
			s.stats[k] += v
			s.statsMu.Unlock()
		}
	}
	return errors.Join(errs...)
}
