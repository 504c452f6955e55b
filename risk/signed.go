package risk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrConfigSignature reports a configuration whose signature does not verify.
var ErrConfigSignature = errors.New("risk configuration signature does not verify")

// SignConfig encodes c as JSON and signs it (ECDSA P-256, SHA-256, ASN.1),
// with the same key type the authority signs export files with.
func SignConfig(c Config, key crypto.Signer) (data, sig []byte, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	data, err = json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("encode risk configuration: %w", err)
	}
	digest := sha256.Sum256(data)
	sig, err = key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("sign risk configuration: %w", err)
	}
	return data, sig, nil
}

// ParseSignedConfig verifies sig over data with the pinned key, then decodes
// and validates the configuration. Fields absent from data keep their defaults.
func ParseSignedConfig(data, sig []byte, pub *ecdsa.PublicKey) (Config, error) {
	digest := sha256.Sum256(data)
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return Config{}, ErrConfigSignature
	}
	c := DefaultConfig()
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("decode risk configuration: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
