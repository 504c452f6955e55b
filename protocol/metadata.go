package protocol

import (
	"errors"
	"fmt"
)

// MetadataLength is the length of the (encrypted) metadata.
const MetadataLength = 4

// MetadataVersion is the version byte of EN v1.x metadata: major 01, minor 00
// in the two high bit pairs (0b01_00_0000).
const MetadataVersion byte = 0x40

// ErrMetadataVersion reports metadata of a major version this package does not know.
var ErrMetadataVersion = errors.New("unsupported metadata version")

// Metadata is what the Associated Encrypted Metadata carries: the protocol
// version and the advertiser's calibrated transmit power in dBm.
type Metadata struct {
	Version byte
	TxPower int8
}

// Bytes lays the metadata out as broadcast: version, TX power, two reserved zero bytes.
func (m Metadata) Bytes() [MetadataLength]byte {
	return [MetadataLength]byte{m.Version, byte(m.TxPower), 0, 0}
}

// ParseMetadata reads decrypted metadata. Only the major version is checked
// (minor versions may add meaning to reserved bytes without breaking readers).
func ParseMetadata(b [MetadataLength]byte) (Metadata, error) {
	if b[0]>>6 != MetadataVersion>>6 {
		return Metadata{}, fmt.Errorf("metadata version byte 0x%02x: %w", b[0], ErrMetadataVersion)
	}
	return Metadata{Version: b[0], TxPower: int8(b[1])}, nil
}
