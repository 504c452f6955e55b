package main

import (
	"os/exec"
	"strings"
	"testing"
)

func TestTimeZoneFlag(t *testing.T) {
	tests := []struct {
		value, want string
		ok          bool
	}{
		{"Asia/Ho_Chi_Minh", "Asia/Ho_Chi_Minh", true},
		{"Asia/Saigon", "Asia/Saigon", true}, // the old name of the same zone
		{"UTC", "UTC", true},
		{"Europe/Paris", "Europe/Paris", true},
		{"", "", false},
		{"Local", "", false}, // the machine's zone would change with the machine
		{"Mars/Olympus_Mons", "", false},
		{"../../etc/passwd", "", false},
	}
	for _, tt := range tests {
		var z zoneFlag
		err := z.Set(tt.value)
		if (err == nil) != tt.ok || (tt.ok && z.String() != tt.want) {
			t.Errorf("--time-zone %q: %q, %v", tt.value, z.String(), err)
		}
	}
	fs, err := serveFlags(t)
	if err != nil || fs.Lookup("time-zone").Value.String() != "Asia/Ho_Chi_Minh" {
		t.Errorf("default --time-zone: %v, %v", fs.Lookup("time-zone").Value, err)
	}
	if _, err := serveFlags(t, "--time-zone", "Nowhere/Town"); err == nil || !strings.Contains(err.Error(), "IANA time zone") {
		t.Errorf("--time-zone Nowhere/Town: %v", err)
	}
}

// TestZoneDatabaseInTheBinary: the binary carries the zone database
// (time/tzdata), so that --time-zone works in a container without
// /usr/share/zoneinfo.
func TestZoneDatabaseInTheBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	if !strings.Contains("\n"+string(out), "\ntime/tzdata\n") {
		t.Error("cmd/bluezone does not import time/tzdata")
	}
}
