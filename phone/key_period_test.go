package phone

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestOnlyTheKeysIntervalsMatch: a published key stands for the identifiers
// of its rolling period only: the identifier its TEK would give the interval
// right after the period (never broadcast: the phone had moved to its next
// key) does not match, the period's last one does.
func TestOnlyTheKeysIntervalsMatch(t *testing.T) {
	auth := newAuthority(t)
	tek, err := protocol.NewTEK(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ids := protocol.NewIdentifiers(tek)
	start := protocol.RollingStart(protocol.IntervalNumber(day0)) // day0 00:00
	const period = 60                                             // a key ended at 10:00 (published, then rotated)
	for _, tt := range []struct {
		name     string
		interval uint32
		want     int
	}{
		{"last interval of the period", start + period - 1, 1},
		{"first interval after it", start + period, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newPhone(t, -8)
			b.PinPublicKey(auth.pem)
			rpi := ids.RPI(tt.interval)
			p := protocol.Payload{Service: protocol.ServiceBluezone, RPI: rpi,
				AEM: ids.EncryptMetadata(rpi, protocol.Metadata{Version: protocol.MetadataVersion, TxPower: -8})}
			at := protocol.IntervalTime(tt.interval)
			for i := range 10 { // 20 minutes at close range, within the identifier's tolerance
				if err := b.HandleScan(p.Advertisement(), -60, at.Add(time.Duration(i)*2*time.Minute).Unix(), ""); err != nil {
					t.Fatal(err)
				}
			}
			now := day0.Add(36 * time.Hour).Unix()
			k := export.Key{Data: tek, RollingStart: start, RollingPeriod: period, ReportType: export.ReportConfirmedTest}
			rep, err := b.MatchExports([][]byte{auth.export(t, []export.Key{k}, nil)}, now)
			if err != nil || rep.Matched != tt.want {
				t.Errorf("identifier of interval %d, key covering %d..%d: %+v, %v; want %d matched", tt.interval-start, 0, period-1, rep, err, tt.want)
			}
		})
	}
}
