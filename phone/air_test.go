package phone

import (
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestAdvertiseUnderEitherService: a phone configured for 0xFD6F broadcasts
// under it (what EN phones scan for), and Bluezone phones hear and match it;
// service data carrying only the identifier is matched too.
func TestAdvertiseUnderEitherService(t *testing.T) {
	auth := newAuthority(t)
	tests := []struct {
		name    string
		service int
		trim    int // bytes of metadata dropped from the service data heard
	}{
		{"Bluezone", 0, 0},
		{"Exposure Notification", int(protocol.ServiceExposureNotification), 0},
		{"identifier only", int(protocol.ServiceExposureNotification), protocol.MetadataLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Open(t.TempDir(), storageKey(1), Config{TxPower: -8, Service: tt.service})
			if err != nil {
				t.Fatal(err)
			}
			b := newPhone(t, -8)
			b.PinPublicKey(auth.pem)
			want := tt.service
			if want == 0 {
				want = int(protocol.ServiceBluezone)
			}
			start := day0.Add(9 * time.Hour)
			for at := start; at.Before(start.Add(20 * time.Minute)); at = at.Add(5 * time.Minute) {
				adv, err := a.Advertisement(at.Unix())
				if err != nil {
					t.Fatal(err)
				}
				p, err := protocol.ParseAdvertisement(adv.Payload)
				if err != nil || int(p.Service) != want || adv.Service != want {
					t.Fatalf("advertisement under 0x%04X (%d), %v: want 0x%04X", p.Service, adv.Service, err, want)
				}
				data := adv.ServiceData[:len(adv.ServiceData)-tt.trim]
				if err := b.HandleServiceData(adv.Service, data, -60, at.Unix(), ""); err != nil {
					t.Fatal(err)
				}
			}
			now := start.Add(24 * time.Hour).Unix()
			rep := matchWith(t, b, [][]byte{auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now, nil)
			if rep.Matched != 1 || b.Warning(now).Level != LevelF1 {
				t.Errorf("report %+v, warning %+v: want matched and warned", rep, b.Warning(now))
			}
		})
	}
	if _, err := Open(t.TempDir(), storageKey(1), Config{Service: 0x180A}); err == nil {
		t.Error("a phone advertising under 0x180A was accepted")
	}
}
