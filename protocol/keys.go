package protocol

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// KeyLength is the length in bytes of a TEK, RPIK, AEMK and RPI.
const KeyLength = 16

// TEK is a Temporary Exposure Key: 16 random bytes from which one day of
// identifiers is derived. It never leaves the phone unless its owner publishes it.
type TEK [KeyLength]byte

// RPI is a Rolling Proximity Identifier, what a phone broadcasts for one interval.
type RPI [KeyLength]byte

// ErrKeyLength reports key material of the wrong length.
var ErrKeyLength = errors.New("key must be 16 bytes")

// NewTEK returns a fresh key read from rand (crypto/rand.Reader in production).
func NewTEK(rand io.Reader) (TEK, error) {
	var k TEK
	if _, err := io.ReadFull(rand, k[:]); err != nil {
		return TEK{}, fmt.Errorf("new temporary exposure key: %w", err)
	}
	return k, nil
}

// ParseTEK reads a key written as 32 hexadecimal digits.
func ParseTEK(s string) (TEK, error) {
	var k TEK
	b, err := hex.DecodeString(s)
	if err != nil {
		return k, fmt.Errorf("temporary exposure key %q: not hexadecimal: %w", s, err)
	}
	if len(b) != KeyLength {
		return k, fmt.Errorf("temporary exposure key %q: %d bytes: %w", s, len(b), ErrKeyLength)
	}
	copy(k[:], b)
	return k, nil
}

// String returns the key in lowercase hexadecimal.
func (k TEK) String() string { return hex.EncodeToString(k[:]) }

// String returns the identifier in lowercase hexadecimal.
func (r RPI) String() string { return hex.EncodeToString(r[:]) }

var (
	infoRPIK = []byte("EN-RPIK")
	infoAEMK = []byte("EN-AEMK")
)

func deriveKey(tek TEK, info []byte) [KeyLength]byte {
	b, err := hkdf.Key(sha256.New, tek[:], nil, string(info), KeyLength)
	if err != nil {
		// Only possible for lengths above 255*32 bytes.
		panic(fmt.Sprintf("hkdf: %v", err))
	}
	var k [KeyLength]byte
	copy(k[:], b)
	return k
}

// RPIK derives the Rolling Proximity Identifier Key: HKDF-SHA256(tek, salt=nil, "EN-RPIK").
func (k TEK) RPIK() [KeyLength]byte { return deriveKey(k, infoRPIK) }

// AEMK derives the Associated Encrypted Metadata Key: HKDF-SHA256(tek, salt=nil, "EN-AEMK").
func (k TEK) AEMK() [KeyLength]byte { return deriveKey(k, infoAEMK) }

// Identifiers derives the identifiers of one key. Build it once per key (two
// HKDF calls); each RPI then costs one AES block.
type Identifiers struct {
	rpik cipher.Block
	aemk cipher.Block
	// buf is scratch space for RPI: arrays passed to the cipher.Block
	// interface would otherwise escape to the heap on every call.
	buf [2 * KeyLength]byte
}

// NewIdentifiers prepares identifier derivation for tek.
func NewIdentifiers(tek TEK) *Identifiers {
	return &Identifiers{rpik: newBlock(tek.RPIK()), aemk: newBlock(tek.AEMK())}
}

// NewRPIOnly prepares RPI derivation without the metadata key: the matching
// path needs only identifiers, and skipping AEMK halves the HKDF work.
func NewRPIOnly(tek TEK) *Identifiers {
	return &Identifiers{rpik: newBlock(tek.RPIK())}
}

func newBlock(key [KeyLength]byte) cipher.Block {
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic(fmt.Sprintf("aes: %v", err)) // 16-byte keys are always valid
	}
	return b
}

// RPI returns the identifier broadcast during interval n:
// AES-128(RPIK, "EN-RPI" ‖ 0x000000000000 ‖ n as 32-bit little endian).
// An Identifiers value is not safe for concurrent use.
func (d *Identifiers) RPI(n uint32) RPI {
	in, out := d.buf[:KeyLength], d.buf[KeyLength:]
	copy(in, "EN-RPI\x00\x00\x00\x00\x00\x00")
	binary.LittleEndian.PutUint32(in[12:], n)
	d.rpik.Encrypt(out, in)
	return RPI(out)
}

// EncryptMetadata returns the Associated Encrypted Metadata broadcast with rpi:
// AES-128-CTR(AEMK, iv=rpi, metadata). It panics when built with NewRPIOnly.
func (d *Identifiers) EncryptMetadata(rpi RPI, m Metadata) [MetadataLength]byte {
	return d.aemCTR(rpi, m.Bytes())
}

// DecryptMetadata recovers the metadata broadcast with rpi. It fails for
// versions this package does not understand, which the matcher then ignores.
func (d *Identifiers) DecryptMetadata(rpi RPI, aem [MetadataLength]byte) (Metadata, error) {
	return ParseMetadata(d.aemCTR(rpi, aem))
}

// aemCTR is AES-128-CTR with iv=rpi over the 4 metadata bytes. They fit in
// the first counter block, whose key stream is AES(AEMK, iv): one block
// encryption, without a cipher.Stream allocated per identifier.
func (d *Identifiers) aemCTR(rpi RPI, in [MetadataLength]byte) [MetadataLength]byte {
	ks := d.buf[KeyLength:]
	d.aemk.Encrypt(ks, rpi[:])
	var out [MetadataLength]byte
	subtle.XORBytes(out[:], in[:], ks[:MetadataLength])
	return out
}
