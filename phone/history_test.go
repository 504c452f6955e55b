package phone

import (
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/risk"
)

// TestHistoryCountsCloseDevicesAndMinutes: `phone status` history counts a
// device heard at Near (here 62 dB) or closer as close, and sums weighted
// minutes: 10 scans 2 minutes apart at Near (weight 0.5) are 10 minutes; at
// Medium (68 dB, weight 0.25) 5, and not a close device.
func TestHistoryCountsCloseDevicesAndMinutes(t *testing.T) {
	auth := newAuthority(t)
	cfg := risk.DefaultConfig()
	cfg.Calibration = map[string]risk.Calibration{"": {}} // no corrections: attenuation is −8 dBm − RSSI
	data, sig, err := risk.SignConfig(cfg, auth.key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rssi        int // attenuation −8 − rssi
		wantDevices int
		wantMinutes float64
	}{{-70, 1, 10}, {-76, 0, 5}} {
		a, b := newPhone(t, -8), newPhone(t, -8)
		b.PinPublicKey(auth.pem)
		if err := b.SetRiskConfig(data, sig); err != nil {
			t.Fatal(err)
		}
		start := day0.Add(9 * time.Hour)
		meet(t, a, b, start, 20*time.Minute, tt.rssi)
		h, err := b.History(start.Add(time.Hour).Unix())
		if err != nil || len(h) != 1 {
			t.Fatalf("history %+v, %v; want one day", h, err)
		}
		if h[0].CloseDevices != tt.wantDevices || h[0].CloseMinutes < tt.wantMinutes-1e-9 || h[0].CloseMinutes > tt.wantMinutes+1e-9 {
			t.Errorf("RSSI %d (attenuation %d dB): %d close devices, %v minutes; want %d, %v", tt.rssi, -8-tt.rssi, h[0].CloseDevices, h[0].CloseMinutes, tt.wantDevices, tt.wantMinutes)
		}
	}
}
