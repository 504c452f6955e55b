package server

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/risk"
	"github.com/bluezone-vn/bluezone/store"
)

const riskSetting = "risk_config"

// RiskConfig returns the authority's current risk configuration (the
// default until an administrator changes it).
func (s *Server) RiskConfig(ctx context.Context) (risk.Config, error) {
	c := risk.DefaultConfig()
	v, err := s.db.Setting(ctx, riskSetting)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		return c, fmt.Errorf("risk configuration setting: %w", err)
	}
	return c, nil
}

// SetRiskConfig validates, stores, signs and publishes a new configuration;
// phones apply it at their next sync.
func (s *Server) SetRiskConfig(ctx context.Context, c risk.Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := s.db.SetSetting(ctx, riskSetting, string(b)); err != nil {
		return err
	}
	return s.publishRiskConfig(ctx, c)
}

// publishRiskConfig signs c with the current export signing key, the one
// every app knows, into risk-config.sig; and with every live key into a
// file of its own (api.RiskConfigSigNameFor), for apps that pin only a new
// key during a rotation's overlap (docs/keys.md).
func (s *Server) publishRiskConfig(ctx context.Context, c risk.Config) error {
	live, err := s.liveKeys(ctx)
	if err != nil {
		return err
	}
	data, sig, err := risk.SignConfig(c, live[0].key)
	if err != nil {
		return err
	}
	// The signatures go first: a phone that fetches between the writes
	// sees a mismatch, refuses it, and tries again at its next sync.
	digest := sha256.Sum256(data)
	for _, k := range live {
		ks, err := k.key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return fmt.Errorf("sign risk configuration with %s/%s: %w", k.Info.KeyID, k.Info.KeyVersion, err)
		}
		if err := s.blobs.Put(ctx, api.RiskConfigSigNameFor(k.Info.KeyID, k.Info.KeyVersion), ks); err != nil {
			return err
		}
	}
	if err := s.blobs.Put(ctx, api.RiskConfigSigName, sig); err != nil {
		return err
	}
	return s.blobs.Put(ctx, api.RiskConfigName, data)
}

// ensureRiskConfigPublished publishes the configuration if storage lacks
// it, or if the live signing keys did not all sign it (after a rotation).
func (s *Server) ensureRiskConfigPublished(ctx context.Context) error {
	if ok, err := s.riskConfigSignedByLive(ctx); ok || err != nil {
		return err
	}
	c, err := s.RiskConfig(ctx)
	if err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		// Stored under older, looser bounds: exports of keys must go on; the
		// settings page shows the problems to an administrator.
		s.log.ErrorContext(ctx, "stored risk configuration not published", "err", err)
		return nil
	}
	return s.publishRiskConfig(ctx, c)
}

func (s *Server) riskConfigSignedByLive(ctx context.Context) (bool, error) {
	get := func(name string) ([]byte, bool, error) {
		b, err := s.blobs.Get(ctx, name)
		if errors.Is(err, blob.ErrNotFound) {
			return nil, false, nil
		}
		return b, err == nil, err
	}
	data, ok, err := get(api.RiskConfigName)
	if !ok {
		return false, err
	}
	live, err := s.liveKeys(ctx)
	if err != nil {
		return false, err
	}
	digest := sha256.Sum256(data)
	names := []string{api.RiskConfigSigName}
	keys := []SigningKey{live[0]}
	for _, k := range live {
		names, keys = append(names, api.RiskConfigSigNameFor(k.Info.KeyID, k.Info.KeyVersion)), append(keys, k)
	}
	for i, name := range names {
		sig, ok, err := get(name)
		if !ok {
			return false, err
		}
		if !ecdsa.VerifyASN1(&keys[i].key.PublicKey, digest[:], sig) {
			return false, nil
		}
	}
	return true, nil
}
