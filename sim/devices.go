package sim

import "github.com/bluezone-vn/bluezone/risk"

// deviceModel is a phone model: the calibrated TX power it advertises and
// the RSSI correction the authority's table gives it as a receiver.
type deviceModel struct {
	name           string // Build.MODEL on Android, as in Google's table
	txPower        int    // dBm, advertised in the encrypted metadata
	rssiCorrection int    // dB, added to what its radio reports
	iOS            bool
	share          float64 // among phones of its OS; an assumption (no market data here)
}

// models are common phones with their calibration from Google's EN table of
// 2020-08-12 (/work/shared/data/en-calibration-2020-08-12.csv; the first
// row of each model) and, for iPhones, EN's convention: Google defines
// Android corrections so that a phone reads like a typical iPhone, so an
// iPhone's RSSI correction is 0; its calibrated TX power, −7 dBm, is the
// one that makes iPhones' attenuations in Herald agree with the Android
// models' (radiofit: −7.1). No calibration is exact: each phone also gets a
// residual TX and RX error (RadioModel.TxErrorSigma, RxErrorSigma).
// TestRadioModelMatchesData checks these values against the table.
var models = []deviceModel{
	{name: "SM-A515F", txPower: -24, rssiCorrection: 5, share: 0.2},  // Galaxy A51
	{name: "SM-A205F", txPower: -24, rssiCorrection: 5, share: 0.15}, // Galaxy A20
	{name: "SM-A105F", txPower: -25, rssiCorrection: 6, share: 0.15}, // Galaxy A10
	{name: "SM-G973F", txPower: -24, rssiCorrection: 5, share: 0.15}, // Galaxy S10
	{name: "SM-G965F", txPower: -27, rssiCorrection: 8, share: 0.1},  // Galaxy S9+
	{name: "SM-N950F", txPower: -24, rssiCorrection: 8, share: 0.05}, // Galaxy Note 8
	{name: "Pixel 3", txPower: -33, rssiCorrection: 5, share: 0.1},
	{name: "Pixel 2", txPower: -28, rssiCorrection: 2, share: 0.1},
	{name: "iPhone 11", txPower: -7, iOS: true, share: 0.4},
	{name: "iPhone XR", txPower: -7, iOS: true, share: 0.3},
	{name: "iPhone 8", txPower: -7, iOS: true, share: 0.3},
}

// CalibrationTable is what the authority ships: each known model's RSSI
// correction (the phones' residual errors stay unknown, as in reality).
func CalibrationTable() map[string]risk.Calibration {
	t := map[string]risk.Calibration{}
	for _, m := range models {
		t[m.name] = risk.Calibration{RSSICorrection: m.rssiCorrection}
	}
	return t
}

// pickModel maps a uniform draw u in [0, 1) to a model of the OS.
func pickModel(iOS bool, u float64) int {
	last := 0
	for i, m := range models {
		if m.iOS != iOS {
			continue
		}
		if u < m.share {
			return i
		}
		u -= m.share
		last = i
	}
	return last
}
