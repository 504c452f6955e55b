package server

import (
	"context"
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

func (s *Server) publishRiskConfig(ctx context.Context, c risk.Config) error {
	data, sig, err := risk.SignConfig(c, s.exportKey)
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

// ensureRiskConfigPublished publishes the configuration if storage lacks it.
func (s *Server) ensureRiskConfigPublished(ctx context.Context) error {
	if _, err := s.blobs.Get(ctx, api.RiskConfigName); !errors.Is(err, blob.ErrNotFound) {
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
