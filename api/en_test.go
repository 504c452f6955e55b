package api_test

import (
	"encoding/base64"
	"testing"

	"github.com/bluezone-vn/bluezone/api"
)

// TestExposureKeysHMACKnownAnswers checks both HMAC forms against the
// values Google's key server publishes in its tests for these keys and
// secret (bytes 1..16), and that key order does not matter.
func TestExposureKeysHMACKnownAnswers(t *testing.T) {
	secret := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	keys := []api.ExposureKey{
		{Key: "z2Cx9hdz2SlxZ8GEgqTYpA==", IntervalNumber: 1, IntervalCount: 144},
		{Key: "dPCphLzfG4uzXneNimkPRQ==", IntervalNumber: 144, IntervalCount: 144},
	}
	for _, tt := range []struct {
		withoutRisk bool
		want        string
	}{
		{false, "mFNI9zhTA17n4ndd1Vu5tsn4XQX0gPrIKyjeh/9noUE="},
		{true, "J9S7xVebH/66dm14wGsIcAnSUR3PHD4NtDQEOGZbDUo="},
	} {
		for _, order := range [][]api.ExposureKey{keys, {keys[1], keys[0]}} {
			if got := base64.StdEncoding.EncodeToString(api.ExposureKeysHMAC(secret, order, tt.withoutRisk)); got != tt.want {
				t.Errorf("withoutRisk=%v: got %s, want %s", tt.withoutRisk, got, tt.want)
			}
		}
	}
	// A transmission risk is covered by the 4-field form only.
	risky := append([]api.ExposureKey(nil), keys...)
	risky[0].TransmissionRisk = 5
	if string(api.ExposureKeysHMAC(secret, risky, false)) == string(api.ExposureKeysHMAC(secret, keys, false)) {
		t.Error("the 4-field HMAC does not cover transmissionRisk")
	}
	if string(api.ExposureKeysHMAC(secret, risky, true)) != string(api.ExposureKeysHMAC(secret, keys, true)) {
		t.Error("the 3-field HMAC covers transmissionRisk")
	}
}
