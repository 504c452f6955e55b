package protocol_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bluezone-vn/bluezone/protocol"
)

func samplePayload(t testing.TB, svc uint16) protocol.Payload {
	tek, _ := protocol.ParseTEK(vectorTEK)
	ids := protocol.NewIdentifiers(tek)
	rpi := ids.RPI(vectorStart)
	return protocol.Payload{Service: svc, RPI: rpi, AEM: ids.EncryptMetadata(rpi, protocol.Metadata{Version: protocol.MetadataVersion, TxPower: vectorTxPower})}
}

func TestAdvertisementLayout(t *testing.T) {
	p := samplePayload(t, protocol.ServiceBluezone)
	adv := p.Advertisement()
	if len(adv) != protocol.LegacyAdvertisementLength {
		t.Fatalf("advertisement is %d bytes, want %d", len(adv), protocol.LegacyAdvertisementLength)
	}
	want := append([]byte{0x02, 0x01, 0x1A, 0x03, 0x03, 0x56, 0x4E, 0x17, 0x16, 0x56, 0x4E},
		mustHex(t, vectorRPI0+vectorAEM0)...)
	if !bytes.Equal(adv, want) {
		t.Fatalf("advertisement\n got %x\nwant %x", adv, want)
	}
}

func TestParseAdvertisement(t *testing.T) {
	bz := samplePayload(t, protocol.ServiceBluezone)
	en := samplePayload(t, protocol.ServiceExposureNotification)
	other := []byte{0x05, 0x16, 0x0A, 0x18, 1, 2} // service data of another service
	tests := []struct {
		name    string
		in      []byte
		want    protocol.Payload
		wantErr error
	}{
		{"bluezone", bz.Advertisement(), bz, nil},
		{"exposure notification", en.Advertisement(), en, nil},
		{"zero padded scan record", append(bz.Advertisement(), make([]byte, 31)...), bz, nil},
		{"other service first", append(other, en.Advertisement()...), en, nil},
		{"prefers bluezone", append(en.Advertisement()[7:], bz.Advertisement()[7:]...), bz, nil},
		{"empty", nil, protocol.Payload{}, protocol.ErrNoExposureService},
		{"other service only", other, protocol.Payload{}, protocol.ErrNoExposureService},
		{"truncated", bz.Advertisement()[:30], protocol.Payload{}, protocol.ErrMalformedAdvertisement},
		{"short service data", []byte{0x05, 0x16, 0x56, 0x4E, 1, 2}, protocol.Payload{}, protocol.ErrMalformedAdvertisement},
		{"too long", make([]byte, 63), protocol.Payload{}, protocol.ErrMalformedAdvertisement},
		{"length past end", []byte{0xFF, 0x16}, protocol.Payload{}, protocol.ErrMalformedAdvertisement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.ParseAdvertisement(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("payload = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestServiceDataRoundTrip(t *testing.T) {
	p := samplePayload(t, protocol.ServiceExposureNotification)
	got, err := protocol.ParseServiceData(p.Service, p.ServiceData())
	if err != nil || got != p {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	if _, err := protocol.ParseServiceData(0x180A, p.ServiceData()); !errors.Is(err, protocol.ErrNoExposureService) {
		t.Fatalf("other service: err = %v", err)
	}
}

func FuzzParseAdvertisement(f *testing.F) {
	f.Add(samplePayload(f, protocol.ServiceBluezone).Advertisement())
	f.Add(samplePayload(f, protocol.ServiceExposureNotification).Advertisement())
	f.Add([]byte{0x05, 0x16, 0x56, 0x4E, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := protocol.ParseAdvertisement(b)
		if err != nil {
			if !errors.Is(err, protocol.ErrMalformedAdvertisement) && !errors.Is(err, protocol.ErrNoExposureService) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		// What parses must survive a round trip through our own encoder.
		again, err := protocol.ParseAdvertisement(p.Advertisement())
		if err != nil || again != p {
			t.Fatalf("round trip of %+v: %+v, %v", p, again, err)
		}
	})
}

// TestServiceDataLengths: 16 bytes or more are accepted, as EN scanners do.
func TestServiceDataLengths(t *testing.T) {
	p := samplePayload(t, protocol.ServiceExposureNotification)
	full := p.ServiceData()
	tests := []struct {
		name       string
		data       []byte
		ok         bool
		noMetadata bool
	}{
		{"15 bytes", full[:15], false, false},
		{"16 bytes: identifier only", full[:16], true, true},
		{"19 bytes", full[:19], true, true},
		{"20 bytes", full, true, false},
		{"24 bytes: later versions append", append(append([]byte{}, full...), 1, 2, 3, 4), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.ParseServiceData(p.Service, tt.data)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok = %v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, protocol.ErrMalformedAdvertisement) {
					t.Errorf("err = %v, want ErrMalformedAdvertisement", err)
				}
				return
			}
			if got.RPI != p.RPI || got.NoMetadata != tt.noMetadata || !tt.noMetadata && got.AEM != p.AEM {
				t.Errorf("payload %+v", got)
			}
		})
	}
}
