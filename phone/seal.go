package phone

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// StorageKeyLength is the length of the key the platform keystore supplies.
const StorageKeyLength = 32

// ErrStorageKey reports a storage key of the wrong size.
var ErrStorageKey = errors.New("storage key must be 32 bytes")

// sealer encrypts everything the phone stores (AES-256-GCM). The key comes
// from the platform keystore, so a copied data directory is unreadable.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != StorageKeyLength {
		return nil, fmt.Errorf("%w, got %d", ErrStorageKey, len(key))
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal returns nonce ‖ ciphertext; ad binds the data to its place (file name).
func (s *sealer) seal(plain, ad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(nonce, nonce, plain, ad)
}

func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("sealed data too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], ad)
}
