package export

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// GenerateKey makes a new ECDSA P-256 signing key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate P-256 key: %w", err)
	}
	return k, nil
}

// MarshalPrivateKeyPEM writes k as a PKCS#8 "PRIVATE KEY" block.
func MarshalPrivateKeyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKeyPEM writes k as a PKIX "PUBLIC KEY" block, the form EN
// authorities give Apple and Google and apps pin.
func MarshalPublicKeyPEM(k *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM reads a P-256 private key from a PKCS#8 "PRIVATE KEY" or
// SEC 1 "EC PRIVATE KEY" block (what `openssl ecparam -genkey` writes).
func ParsePrivateKeyPEM(b []byte) (*ecdsa.PrivateKey, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("private key: no PEM \"PRIVATE KEY\" or \"EC PRIVATE KEY\" block found")
		}
		var key any
		var err error
		switch blk.Type {
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(blk.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		default:
			continue // e.g. "EC PARAMETERS" before the key
		}
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		return p256(key, "private key")
	}
}

// ParsePublicKeyPEM reads a P-256 public key from a PKIX "PUBLIC KEY" block.
func ParsePublicKeyPEM(b []byte) (*ecdsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("public key: no PEM \"PUBLIC KEY\" block found")
	}
	key, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pk, ok := key.(*ecdsa.PublicKey)
	if !ok || pk.Curve != elliptic.P256() {
		return nil, fmt.Errorf("public key: %T is not an ECDSA P-256 key", key)
	}
	return pk, nil
}

func p256(key any, what string) (*ecdsa.PrivateKey, error) {
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: %T is not an ECDSA P-256 key", what, key)
	}
	return k, nil
}
