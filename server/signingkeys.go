package server

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// Export signing keys. A deployment starts with one key (made at the first
// start, kept in the setting export_signing_key) labelled by
// Config.ExportKeyID/ExportKeyVersion. Rotation adds a key (AddSigningKey):
// from then on every file carries a signature of each live key, and the
// keys live before get a retirement time, after which they sign no more.
// The key ring is one setting, read at every export run, so that every
// replica follows a rotation made from the command line without a restart.

const (
	legacyKeySetting = "export_signing_key"
	ringSetting      = "export_signing_keys"
)

// ErrSigningKey is returned for a refused change of the key ring.
var ErrSigningKey = errors.New("signing key")

// keyLabel is what EN allows in a verification key ID or version.
var keyLabel = regexp.MustCompile(`^[A-Za-z0-9_.]{1,64}$`)

func validKeyLabel(id, version string) error {
	if !keyLabel.MatchString(id) || !keyLabel.MatchString(version) {
		return fmt.Errorf("%w: ID %q, version %q: want 1 to 64 letters, digits, '_' or '.'", ErrSigningKey, id, version)
	}
	return nil
}

// ringKey is one key as stored. The original key has no ID, version or
// private key of its own: they come from the configuration and the legacy
// setting, so that deployments older than rotation keep their key and labels.
type ringKey struct {
	ID           string            `json:"id,omitempty"`
	Version      string            `json:"version,omitempty"`
	PrivateKey   string            `json:"private_key,omitempty"` // PKCS#8 PEM
	Added        int64             `json:"added"`
	RetireAt     int64             `json:"retire_at,omitempty"` // 0: none planned
	Endorsements []api.Endorsement `json:"endorsements,omitempty"`
}

// SigningKey is a key of the ring.
type SigningKey struct {
	Info         export.SignatureInfo
	PublicPEM    []byte
	Added        time.Time
	RetireAt     time.Time // zero: none planned
	Endorsements []api.Endorsement
	key          *ecdsa.PrivateKey
}

// Live reports whether k still signs at now.
func (k SigningKey) Live(now time.Time) bool { return k.RetireAt.IsZero() || now.Before(k.RetireAt) }

func (s *Server) loadRing(ctx context.Context) ([]ringKey, error) {
	v, err := s.db.Setting(ctx, ringSetting)
	if errors.Is(err, store.ErrNotFound) {
		return []ringKey{{}}, nil // the original key alone
	}
	if err != nil {
		return nil, err
	}
	var ring []ringKey
	if err := json.Unmarshal([]byte(v), &ring); err != nil {
		return nil, fmt.Errorf("server: %s: %w", ringSetting, err)
	}
	return ring, nil
}

func (s *Server) saveRing(ctx context.Context, ring []ringKey) error {
	b, err := json.Marshal(ring)
	if err != nil {
		return err
	}
	return s.db.SetSetting(ctx, ringSetting, string(b))
}

func (s *Server) keyOf(r ringKey) (SigningKey, error) {
	k := SigningKey{Info: export.SignatureInfo{KeyID: r.ID, KeyVersion: r.Version, Algorithm: export.AlgorithmECDSAP256SHA256},
		Added: time.Unix(r.Added, 0).UTC(), Endorsements: r.Endorsements}
	if r.RetireAt != 0 {
		k.RetireAt = time.Unix(r.RetireAt, 0).UTC()
	}
	if r.PrivateKey == "" {
		k.Info.KeyID, k.Info.KeyVersion, k.key = s.cfg.ExportKeyID, s.cfg.ExportKeyVersion, s.exportKey
	} else {
		var err error
		if k.key, err = export.ParsePrivateKeyPEM([]byte(r.PrivateKey)); err != nil {
			return k, fmt.Errorf("server: signing key %s/%s: %w", r.ID, r.Version, err)
		}
	}
	var err error
	k.PublicPEM, err = export.MarshalPublicKeyPEM(&k.key.PublicKey)
	return k, err
}

// SigningKeys returns the keys of the ring, oldest first, retired ones
// included until the ring is next changed.
func (s *Server) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	ring, err := s.loadRing(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SigningKey, 0, len(ring))
	for _, r := range ring {
		k, err := s.keyOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// liveKeys returns the keys that sign at now, oldest (the current one) first.
func (s *Server) liveKeys(ctx context.Context) ([]SigningKey, error) {
	all, err := s.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	live := slices.DeleteFunc(all, func(k SigningKey) bool { return !k.Live(now) })
	if len(live) == 0 {
		// RetireSigningKey never retires the last key; a ring edited by hand might.
		return nil, fmt.Errorf("%w: no live export signing key", ErrSigningKey)
	}
	return live, nil
}

// exportSigners signs export files: every live key, so that during a
// rotation's overlap both old and new apps verify them.
func (s *Server) exportSigners(ctx context.Context) ([]export.Signer, error) {
	live, err := s.liveKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]export.Signer, len(live))
	for i, k := range live {
		out[i] = export.Signer{Key: k.key, Info: k.Info}
	}
	return out, nil
}

// currentKey is the oldest live key: the one of public.pem and of the risk
// configuration's signature, which every app of the deployment knows.
func (s *Server) currentKey(ctx context.Context) (SigningKey, error) {
	live, err := s.liveKeys(ctx)
	if err != nil {
		return SigningKey{}, err
	}
	return live[0], nil
}

// AddSigningKeyRequest adds a key to the ring.
type AddSigningKeyRequest struct {
	KeyID, KeyVersion string
	// Key is the new private key; nil makes one.
	Key *ecdsa.PrivateKey
	// Overlap is how long the keys live now keep signing (0: the least,
	// MinKeyOverlap).
	Overlap time.Duration
	By      string // who adds it, for the audit log
}

// MinKeyOverlap is the shortest overlap of a rotation: the retention of
// files and one period, so that when the old key retires every file still
// listed was written during the overlap and carries the new key's
// signature, and phones that pin only the new key verify them all. (Phones
// get the time to learn the new key too: all that synced during it did.)
func (s *Server) MinKeyOverlap() time.Duration { return s.cfg.Retention + s.cfg.ExportPeriod }

// AddSigningKey adds a new export signing key: it signs every file from the
// next export run on, together with the keys live now, which it is endorsed
// by and which retire after the overlap. It is audited.
func (s *Server) AddSigningKey(ctx context.Context, req AddSigningKeyRequest) (SigningKey, error) {
	if err := validKeyLabel(req.KeyID, req.KeyVersion); err != nil {
		return SigningKey{}, err
	}
	if req.Overlap == 0 {
		req.Overlap = s.MinKeyOverlap()
	}
	if req.Overlap < s.MinKeyOverlap() {
		return SigningKey{}, fmt.Errorf("%w: overlap %v: want at least %v, so that every listed file carries the new key's signature when the old one retires (retire it early with RetireSigningKey if it must go sooner)",
			ErrSigningKey, req.Overlap, s.MinKeyOverlap())
	}
	if req.Key == nil {
		var err error
		if req.Key, err = export.GenerateKey(); err != nil {
			return SigningKey{}, err
		}
	}
	ring, err := s.loadRing(ctx)
	if err != nil {
		return SigningKey{}, err
	}
	now := s.now()
	retire := now.Add(req.Overlap).Unix()
	pub, err := export.MarshalPublicKeyPEM(&req.Key.PublicKey)
	if err != nil {
		return SigningKey{}, err
	}
	digest := sha256.Sum256(api.EndorsementMessage(req.KeyID, req.KeyVersion, pub))
	nr := ringKey{ID: req.KeyID, Version: req.KeyVersion, Added: now.Unix()}
	if nr.PrivateKey, err = privatePEM(req.Key); err != nil {
		return SigningKey{}, err
	}
	var kept []ringKey
	for _, r := range ring {
		k, err := s.keyOf(r)
		if err != nil {
			return SigningKey{}, err
		}
		if !k.Live(now) {
			continue // retired: its private key is forgotten now
		}
		if k.Info.KeyID == req.KeyID && k.Info.KeyVersion == req.KeyVersion {
			return SigningKey{}, fmt.Errorf("%w: %s/%s is in use: give the new key another version", ErrSigningKey, req.KeyID, req.KeyVersion)
		}
		if string(k.PublicPEM) == string(pub) {
			return SigningKey{}, fmt.Errorf("%w: this key is already in the ring as %s/%s", ErrSigningKey, k.Info.KeyID, k.Info.KeyVersion)
		}
		sig, err := k.key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return SigningKey{}, fmt.Errorf("server: endorse with %s/%s: %w", k.Info.KeyID, k.Info.KeyVersion, err)
		}
		nr.Endorsements = append(nr.Endorsements, api.Endorsement{KeyID: k.Info.KeyID, KeyVersion: k.Info.KeyVersion, Signature: base64.StdEncoding.EncodeToString(sig)})
		if r.RetireAt == 0 || r.RetireAt > retire {
			r.RetireAt = retire
		}
		kept = append(kept, r)
	}
	kept = append(kept, nr)
	if err := s.saveRing(ctx, kept); err != nil {
		return SigningKey{}, err
	}
	s.audit(ctx, operator(req.By), "signing key added", fmt.Sprintf("%s/%s; keys live before retire at %s", req.KeyID, req.KeyVersion, time.Unix(retire, 0).UTC().Format(time.RFC3339)))
	return s.keyOf(nr)
}

// RetireSigningKey makes the key id/version stop signing at once (ending
// its overlap early, say after a compromise). The last live key cannot be
// retired. It is audited.
func (s *Server) RetireSigningKey(ctx context.Context, id, version, by string) error {
	ring, err := s.loadRing(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	found, live := -1, 0
	for i, r := range ring {
		k, err := s.keyOf(r)
		if err != nil {
			return err
		}
		if !k.Live(now) {
			continue
		}
		live++
		if k.Info.KeyID == id && k.Info.KeyVersion == version {
			found = i
		}
	}
	if found < 0 {
		return fmt.Errorf("%w: no live key %s/%s", ErrSigningKey, id, version)
	}
	if live == 1 {
		return fmt.Errorf("%w: %s/%s is the only live key: add its successor first", ErrSigningKey, id, version)
	}
	ring[found].RetireAt = now.Unix()
	if err := s.saveRing(ctx, ring); err != nil {
		return err
	}
	s.audit(ctx, operator(by), "signing key retired", id+"/"+version)
	return nil
}

// publishSigningKeys writes public.pem (the current key) and keys.json (the
// live keys) for apps.
func (s *Server) publishSigningKeys(ctx context.Context) error {
	live, err := s.liveKeys(ctx)
	if err != nil {
		return err
	}
	var list api.SigningKeys
	for i, k := range live {
		e := api.SigningKey{KeyID: k.Info.KeyID, KeyVersion: k.Info.KeyVersion, Algorithm: k.Info.Algorithm,
			PublicKey: string(k.PublicPEM), Current: i == 0, Endorsements: k.Endorsements}
		if !k.RetireAt.IsZero() {
			e.RetireAt = k.RetireAt.Format(time.RFC3339)
		}
		list.Keys = append(list.Keys, e)
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := s.blobs.Put(ctx, api.PublicKeyName, live[0].PublicPEM); err != nil {
		return err
	}
	return s.blobs.Put(ctx, api.SigningKeysName, append(b, '\n'))
}

func privatePEM(k *ecdsa.PrivateKey) (string, error) {
	b, err := export.MarshalPrivateKeyPEM(k)
	return string(b), err
}

func operator(by string) string {
	if strings.TrimSpace(by) == "" {
		return "operator"
	}
	return by
}
