package phone

import (
	"fmt"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestReplayToleranceBoundaries pins EN's ±2 hours exactly: an identifier of
// interval [start, end) matches when heard from start−2 h up to, but not
// including, end+2 h. One scan each, so nothing smears the edges.
func TestReplayToleranceBoundaries(t *testing.T) {
	auth := newAuthority(t)
	sent := day0.Add(9*time.Hour + 3*time.Minute)
	start := protocol.IntervalTime(protocol.IntervalNumber(sent))
	end := start.Add(protocol.IntervalLength)
	tests := []struct {
		name  string
		heard time.Time
		match bool
	}{
		{"exactly 2 h early", start.Add(-2 * time.Hour), true},
		{"2 h and 1 s early", start.Add(-2*time.Hour - time.Second), false},
		{"1 s before the interval", start.Add(-time.Second), true},
		{"live", sent, true},
		{"1 s before 2 h late", end.Add(2*time.Hour - time.Second), true},
		{"exactly 2 h late", end.Add(2 * time.Hour), false},
		{"1 h late", end.Add(time.Hour), true},
		{"9 minutes past 2 h late", end.Add(2*time.Hour + 9*time.Minute), false},
		{"a day late", end.Add(24 * time.Hour), false},
	}
	for _, tt := range tests {
		for _, shared := range []*Shared{nil, NewShared()} {
			t.Run(fmt.Sprintf("%s/shared=%v", tt.name, shared != nil), func(t *testing.T) {
				a, b := newPhone(t, -8), newPhone(t, -8)
				b.PinPublicKey(auth.pem)
				adv, err := a.Advertisement(sent.Unix())
				if err != nil {
					t.Fatal(err)
				}
				if err := b.HandleScan(adv.Payload, -50, tt.heard.Unix(), ""); err != nil {
					t.Fatal(err)
				}
				now := sent.Add(30 * time.Hour).Unix()
				rep := matchWith(t, b, [][]byte{auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now, shared)
				if got := rep.Matched == 1; got != tt.match {
					t.Fatalf("matched = %v, want %v (%+v)", got, tt.match, rep)
				}
			})
		}
	}
}

// TestRetentionDeletesOldLogs: sighting logs older than 14 days are deleted
// (a privacy promise), and the 14th day back is kept.
func TestRetentionDeletesOldLogs(t *testing.T) {
	tests := []struct {
		name    string
		ageDays int
		kept    bool
	}{
		{"today", 0, true},
		{"13 days ago", 13, true},
		{"14 days ago", 14, true},
		{"15 days ago", 15, false},
		{"30 days ago", 30, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewMemoryStorage()
			b, err := OpenStorage(st, storageKey(3), Config{})
			if err != nil {
				t.Fatal(err)
			}
			heard := day0.Add(10 * time.Hour)
			adv, _ := newPhone(t, -8).Advertisement(heard.Unix())
			if err := b.HandleScan(adv.Payload, -60, heard.Unix(), ""); err != nil {
				t.Fatal(err)
			}
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
			now := heard.AddDate(0, 0, tt.ageDays).Unix()
			if _, err := b.Status(now); err != nil {
				t.Fatal(err)
			}
			days, _ := st.LogDays()
			if kept := len(days) == 1; kept != tt.kept {
				t.Errorf("log days %v at %d days: kept = %v, want %v", days, tt.ageDays, kept, tt.kept)
			}
		})
	}
}
