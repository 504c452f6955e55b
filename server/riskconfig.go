package server

import (
	"context"
	"crypto/ecdsa"
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

// publishRiskConfig signs c with the current export signing key: the one
// every app knows (a new key's overlap gives apps the time to learn it; see
// docs/keys.md), and publishes it.
func (s *Server) publishRiskConfig(ctx context.Context, c risk.Config) error {
	k, err := s.currentKey(ctx)
	if err != nil {
		return err
	}
	data, sig, err := risk.SignConfig(c, k.key)
	if err != nil {
		return err
	}
	// The signature goes first: a phone that fetches between the two writes
	// sees a mismatch, refuses it, and tries again at its next sync.
	if err := s.blobs.Put(ctx, api.RiskConfigSigName, sig); err != nil {
		return err
	}
	return s.blobs.Put(ctx, api.RiskConfigName, data)
}

// ensureRiskConfigPublished publishes the configuration if storage lacks
// it, or if the current signing key did not sign it (after a rotation).
func (s *Server) ensureRiskConfigPublished(ctx context.Context) error {
	if ok, err := s.riskConfigSignedByCurrent(ctx); ok || err != nil {
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

func (s *Server) riskConfigSignedByCurrent(ctx context.Context) (bool, error) {
	data, err := s.blobs.Get(ctx, api.RiskConfigName)
	if errors.Is(err, blob.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sig, err := s.blobs.Get(ctx, api.RiskConfigSigName)
	if errors.Is(err, blob.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	k, err := s.currentKey(ctx)
	if err != nil {
		return false, err
	}
	digest := sha256.Sum256(data)
	return ecdsa.VerifyASN1(&k.key.PublicKey, digest[:], sig), nil
}
