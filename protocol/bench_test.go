package protocol_test

import (
	"crypto/aes"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
)

// The benchmarks report ratios to a raw single-block AES measured in the
// same run, because bare timings on a shared machine mean little.
//
//	go test -run '^$' -bench . ./protocol

// rawAES measures one AES-128 block encryption, the unit cost of everything else.
func rawAES(n int) time.Duration {
	blk, _ := aes.NewCipher(make([]byte, 16))
	var buf [16]byte
	start := time.Now()
	for i := 0; i < n; i++ {
		blk.Encrypt(buf[:], buf[:])
	}
	return time.Since(start)
}

func benchRatio(b *testing.B, op func(i int)) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		op(i)
	}
	ours := time.Since(start)
	b.StopTimer()
	base := rawAES(b.N)
	b.ReportMetric(float64(ours)/float64(base), "x-aes-block")
}

// BenchmarkKeyHKDF: both HKDFs of one key (RPIK and AEMK) and their AES key schedules.
func BenchmarkKeyHKDF(b *testing.B) {
	tek, _ := protocol.ParseTEK(vectorTEK)
	benchRatio(b, func(i int) {
		tek[0] = byte(i)
		_ = protocol.NewIdentifiers(tek)
	})
}

// BenchmarkKeyHKDFRPIOnly: what the matcher pays per published key.
func BenchmarkKeyHKDFRPIOnly(b *testing.B) {
	tek, _ := protocol.ParseTEK(vectorTEK)
	benchRatio(b, func(i int) {
		tek[0] = byte(i)
		_ = protocol.NewRPIOnly(tek)
	})
}

// BenchmarkIntervalRPI: one identifier from a prepared key.
func BenchmarkIntervalRPI(b *testing.B) {
	tek, _ := protocol.ParseTEK(vectorTEK)
	ids := protocol.NewIdentifiers(tek)
	benchRatio(b, func(i int) { _ = ids.RPI(uint32(i)) })
}

// BenchmarkIntervalRPIAndAEM: identifier plus encrypted metadata, what the advertiser does.
func BenchmarkIntervalRPIAndAEM(b *testing.B) {
	tek, _ := protocol.ParseTEK(vectorTEK)
	ids := protocol.NewIdentifiers(tek)
	md := protocol.Metadata{Version: protocol.MetadataVersion, TxPower: -8}
	benchRatio(b, func(i int) { _ = ids.EncryptMetadata(ids.RPI(uint32(i)), md) })
}

// BenchmarkRawAESBlock is the baseline itself (its ratio is ~1 by construction).
func BenchmarkRawAESBlock(b *testing.B) {
	blk, _ := aes.NewCipher(make([]byte, 16))
	var buf [16]byte
	benchRatio(b, func(int) { blk.Encrypt(buf[:], buf[:]) })
}
