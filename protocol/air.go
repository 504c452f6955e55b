package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Service UUIDs (16-bit) under which the identifier is broadcast.
const (
	// ServiceBluezone is Bluezone's own service ("VN").
	ServiceBluezone uint16 = 0x4E56
	// ServiceExposureNotification is the Apple/Google EN service.
	ServiceExposureNotification uint16 = 0xFD6F
)

const (
	// LegacyAdvertisementLength is the most a legacy BLE advertisement carries.
	LegacyAdvertisementLength = 31
	// maxScanRecord is an advertisement plus its scan response, as Android delivers it.
	maxScanRecord = 2 * LegacyAdvertisementLength

	adTypeFlags          = 0x01
	adTypeCompleteUUID16 = 0x03
	adTypeServiceData16  = 0x16
	flagsGeneralNoBREDR  = 0x1A // LE General Discoverable, BR/EDR not supported, as EN phones send
	serviceDataLength    = 2 + KeyLength + MetadataLength
	advertisementLength  = 3 + 4 + 2 + serviceDataLength
)

// Errors returned by ParseAdvertisement, to be checked with errors.Is.
var (
	ErrMalformedAdvertisement = errors.New("malformed advertisement")
	ErrNoExposureService      = errors.New("no exposure notification service data")
)

// Payload is what a phone broadcasts: an identifier and its encrypted metadata.
type Payload struct {
	Service uint16 // ServiceBluezone or ServiceExposureNotification
	RPI     RPI
	AEM     [MetadataLength]byte
	// NoMetadata is set when the service data carried only the identifier
	// (16 to 19 bytes): scanners accept that, as Google's and microG's do,
	// and the TX power is then unknown.
	NoMetadata bool
}

// minServiceData is the least service data accepted: the identifier alone.
const minServiceData = KeyLength

// Advertisement lays the payload out as a legacy BLE advertisement (31 bytes):
// flags, the complete list of 16-bit service UUIDs, and service data.
func (p Payload) Advertisement() []byte {
	svc := p.Service
	if svc == 0 {
		svc = ServiceBluezone
	}
	b := make([]byte, 0, advertisementLength)
	b = append(b, 2, adTypeFlags, flagsGeneralNoBREDR)
	b = append(b, 3, adTypeCompleteUUID16)
	b = binary.LittleEndian.AppendUint16(b, svc)
	b = append(b, byte(1+2+len(p.ServiceData())), adTypeServiceData16)
	b = binary.LittleEndian.AppendUint16(b, svc)
	return append(b, p.ServiceData()...)
}

// ServiceData returns the service-data value (UUID excluded), which is what
// the platform APIs take when an app starts advertising.
func (p Payload) ServiceData() []byte {
	b := make([]byte, 0, KeyLength+MetadataLength)
	b = append(b, p.RPI[:]...)
	if p.NoMetadata {
		return b
	}
	return append(b, p.AEM[:]...)
}

// ParseServiceData reads the service-data value found under a 16-bit service
// UUID, as iOS and Android scan APIs report it: the identifier, then the
// metadata. Like Google's and microG's scanners it accepts 16 bytes or more:
// bytes past the metadata are ignored (room for later versions), and with
// fewer than 20 the metadata is missing (Payload.NoMetadata).
func ParseServiceData(service uint16, data []byte) (Payload, error) {
	if service != ServiceBluezone && service != ServiceExposureNotification {
		return Payload{}, fmt.Errorf("service 0x%04X: %w", service, ErrNoExposureService)
	}
	if len(data) < minServiceData {
		return Payload{}, fmt.Errorf("service 0x%04X data is %d bytes, want at least %d: %w",
			service, len(data), minServiceData, ErrMalformedAdvertisement)
	}
	p := Payload{Service: service}
	copy(p.RPI[:], data[:KeyLength])
	if len(data) < KeyLength+MetadataLength {
		p.NoMetadata = true
		return p, nil
	}
	copy(p.AEM[:], data[KeyLength:])
	return p, nil
}

// ParseAdvertisement finds the exposure payload in raw advertising data: a
// legacy advertisement, optionally followed by its scan response and zero
// padding (up to 62 bytes). Bluezone's service is preferred when both are present.
func ParseAdvertisement(b []byte) (Payload, error) {
	if len(b) > maxScanRecord {
		return Payload{}, fmt.Errorf("advertisement of %d bytes, at most %d: %w", len(b), maxScanRecord, ErrMalformedAdvertisement)
	}
	// The first Bluezone payload wins, then the first EN one; every
	// structure is still checked.
	var found Payload
	have := false
	for i := 0; i < len(b); {
		n := int(b[i])
		if n == 0 { // zero length ends the significant part
			break
		}
		if i+1+n > len(b) {
			return Payload{}, fmt.Errorf("advertisement structure at byte %d claims %d bytes, only %d left: %w",
				i, n, len(b)-i-1, ErrMalformedAdvertisement)
		}
		typ, val := b[i+1], b[i+2:i+1+n]
		i += 1 + n
		if typ != adTypeServiceData16 || len(val) < 2 {
			continue
		}
		svc := binary.LittleEndian.Uint16(val)
		if svc != ServiceBluezone && svc != ServiceExposureNotification {
			continue
		}
		p, err := ParseServiceData(svc, val[2:])
		if err != nil {
			return Payload{}, fmt.Errorf("advertisement: %w", err)
		}
		if !have || p.Service == ServiceBluezone && found.Service != ServiceBluezone {
			found, have = p, true
		}
	}
	if have {
		return found, nil
	}
	return Payload{}, fmt.Errorf("advertisement: %w", ErrNoExposureService)
}
