package evaluate

import (
	"math"
	"strings"
	"testing"
)

const header = "session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm,distance_m\n"

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "in.csv: empty file"},
		{"missing columns", "session,receiver\n", "in.csv:1: header lacks column receiver_model, transmitter, transmitter_model, time_unix_s, rssi_dbm, tx_power_dbm"},
		{"duplicate column", "session,session\n", `in.csv:1: column "session" appears twice`},
		{"bad rssi", header + "s,a,m,b,m,100,-55,0,1\ns,a,m,b,m,101,loud,0,1\n", `in.csv:3: column 7 (rssi_dbm): "loud" is not an RSSI`},
		{"rssi out of range", header + "s,a,m,b,m,100,-200,0,1\n", `in.csv:2: column 7 (rssi_dbm): "-200"`},
		{"bad time", header + "s,a,m,b,m,yesterday,-55,0,1\n", `in.csv:2: column 6 (time_unix_s): "yesterday" is not a time`},
		{"negative time", header + "s,a,m,b,m,-5,-55,0,1\n", `column 6 (time_unix_s)`},
		{"bad tx power", header + "s,a,m,b,m,100,-55,x,1\n", `in.csv:2: column 8 (tx_power_dbm): "x" is not a TX power`},
		{"bad distance", header + "s,a,m,b,m,100,-55,0,-1\n", `in.csv:2: column 9 (distance_m): "-1" is not a distance`},
		{"NaN distance", header + "s,a,m,b,m,100,-55,0,NaN\n", `column 9 (distance_m)`},
		{"empty receiver", header + "s,,m,b,m,100,-55,0,1\n", `in.csv:2: column 2 (receiver): empty`},
		{"self", header + "s,a,m,a,m,100,-55,0,1\n", `in.csv:2: column 4 (transmitter): transmitter "a" is the receiver itself`},
		{"short row", header + "s,a,m,b,m,100\n", `in.csv:2: 6 fields, header has 9`},
		{"model changes", header + "s,a,m,b,m,100,-55,0,1\ns,a,other,b,m,101,-55,0,1\n", `in.csv:3: column 3 (receiver_model): phone "a" of session "s" is model "other" here but "m" earlier`},
		{"bad scanned", "session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm,scanned\ns,a,m,b,m,100,-55,0,yes\n", `in.csv:2: column 9 (scanned): "yes": want 1, 0 or empty`},
		{"bad quote", header + "s,a,m,b,m,100,-55,0,\"1\n", `in.csv:2: column`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewDataset().Read(strings.NewReader(tt.in), "in.csv", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadRows(t *testing.T) {
	in := "note,rssi_dbm,tx_power_dbm,time_unix_s,session,transmitter,receiver,receiver_model,transmitter_model,distance_m,scanned\n" +
		"x,-60,,200.5,s,b,a,Pixel 3,iPhone,,0\n" +
		"y,-50,-5,100,s,a,b,iPhone,Pixel 3,1.5,\n" +
		"z,-70,3,150,t,b,a,Pixel 3,iPhone,2,1\n"
	d := NewDataset()
	if err := d.Read(strings.NewReader(in), "in.csv", nil); err != nil {
		t.Fatal(err)
	}
	if d.Rows != 3 || len(d.Sessions) != 2 || !d.HasDistance {
		t.Fatalf("rows %d, sessions %d, distance %v", d.Rows, len(d.Sessions), d.HasDistance)
	}
	s := d.Sessions[0]
	if s.Name != "s" || len(s.Phones) != 2 || s.Phones[0] != (Phone{"a", "Pixel 3"}) || s.Phones[1] != (Phone{"b", "iPhone"}) {
		t.Fatalf("session %+v", s)
	}
	// Sorted by time: line 3 first.
	r0, r1 := s.Rows[0], s.Rows[1]
	if r0.Line != 3 || r0.Time != 100 || r0.RSSI != -50 || r0.TxPower != -5 || r0.Distance != 1.5 || !r0.Scanned || r0.Receiver != 1 || r0.Transmitter != 0 {
		t.Errorf("first row %+v", r0)
	}
	if r1.Line != 2 || r1.Time != 200.5 || r1.TxPower != NoTxPower || !math.IsNaN(float64(r1.Distance)) || r1.Scanned {
		t.Errorf("second row %+v", r1)
	}
}
