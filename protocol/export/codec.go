package export

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/bluezone-vn/bluezone/protocol/export/internal/exportpb"
)

// MarshalBin encodes f as an export.bin. Keys are written sorted by their
// bytes, so that the file does not reveal the order in which they arrived.
// f itself is not modified.
func MarshalBin(f *File) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	m := &exportpb.TemporaryExposureKeyExport{
		StartTimestamp: proto.Uint64(uint64(f.Start.Unix())),
		EndTimestamp:   proto.Uint64(uint64(f.End.Unix())),
		Region:         proto.String(f.Region),
		BatchNum:       proto.Int32(f.BatchNum),
		BatchSize:      proto.Int32(f.BatchSize),
		Keys:           keysToPB(f.Keys),
		RevisedKeys:    keysToPB(f.Revised),
	}
	for _, s := range f.Signatures {
		m.SignatureInfos = append(m.SignatureInfos, s.toPB())
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("export: encode: %w", err)
	}
	return append([]byte(Header), body...), nil
}

// UnmarshalBin decodes an export.bin, checking its header and every key.
func UnmarshalBin(b []byte) (*File, error) {
	if !bytes.HasPrefix(b, []byte(Header)) {
		n := min(len(b), len(Header))
		return nil, fmt.Errorf("export: header is %q, want %q: %w", b[:n], Header, ErrFormat)
	}
	var m exportpb.TemporaryExposureKeyExport
	if err := proto.Unmarshal(b[len(Header):], &m); err != nil {
		return nil, fmt.Errorf("export: decode protobuf: %v: %w", err, ErrFormat)
	}
	if n := len(m.GetKeys()) + len(m.GetRevisedKeys()); n > MaxKeys {
		return nil, fmt.Errorf("export: %d keys, at most %d: %w", n, MaxKeys, ErrFormat)
	}
	f := &File{
		Start:     time.Unix(int64(m.GetStartTimestamp()), 0).UTC(),
		End:       time.Unix(int64(m.GetEndTimestamp()), 0).UTC(),
		Region:    m.GetRegion(),
		BatchNum:  m.GetBatchNum(),
		BatchSize: m.GetBatchSize(),
	}
	for _, s := range m.GetSignatureInfos() {
		f.Signatures = append(f.Signatures, sigInfoFromPB(s))
	}
	var err error
	if f.Keys, err = keysFromPB(m.GetKeys(), "key"); err != nil {
		return nil, err
	}
	if f.Revised, err = keysFromPB(m.GetRevisedKeys(), "revised key"); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) validate() error {
	if f.End.Before(f.Start) {
		return fmt.Errorf("export: end %v before start %v", f.End, f.Start)
	}
	if f.BatchNum < 1 || f.BatchSize < f.BatchNum {
		return fmt.Errorf("export: batch %d of %d: want 1 <= num <= size", f.BatchNum, f.BatchSize)
	}
	if n := len(f.Keys) + len(f.Revised); n > MaxKeys {
		return fmt.Errorf("export: %d keys, at most %d", n, MaxKeys)
	}
	for _, ks := range [][]Key{f.Keys, f.Revised} {
		for _, k := range ks {
			if err := k.Validate(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
	}
	return nil
}

// Validate checks what every EN client requires of a key.
func (k Key) Validate() error {
	if k.RollingPeriod < 1 || k.RollingPeriod > MaxRollingPeriod {
		return fmt.Errorf("key %s: rolling period %d, want 1..%d", k.Hex(), k.RollingPeriod, MaxRollingPeriod)
	}
	if k.RollingStart > 1<<31-1 {
		return fmt.Errorf("key %s: rolling start %d out of range", k.Hex(), k.RollingStart)
	}
	if k.ReportType < ReportUnknown || k.ReportType > ReportRevoked {
		return fmt.Errorf("key %s: report type %d unknown", k.Hex(), k.ReportType)
	}
	// A missing field is read back as its default: any other value would
	// not survive writing.
	for _, d := range []struct {
		f  Fields
		ok bool
	}{
		{FieldRollingPeriod, k.RollingPeriod == MaxRollingPeriod},
		{FieldReportType, k.ReportType == ReportUnknown},
		{FieldTransmissionRisk, k.TransmissionRisk == 0},
		{FieldDaysSinceOnset, k.DaysSinceOnset == 0},
	} {
		if k.Missing&d.f != 0 && !d.ok {
			return fmt.Errorf("key %s: %s is missing but not its default", k.Hex(), d.f)
		}
	}
	if k.Missing >= FieldRollingPeriod<<1 {
		return fmt.Errorf("key %s: unknown missing fields %#x", k.Hex(), uint8(k.Missing))
	}
	return nil
}

func keysToPB(keys []Key) []*exportpb.TemporaryExposureKey {
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b Key) int {
		return cmp.Or(bytes.Compare(a.Data[:], b.Data[:]), cmp.Compare(a.RollingStart, b.RollingStart))
	})
	out := make([]*exportpb.TemporaryExposureKey, len(sorted))
	for i, k := range sorted {
		pb := &exportpb.TemporaryExposureKey{
			KeyData:                    bytes.Clone(k.Data[:]),
			RollingStartIntervalNumber: proto.Int32(int32(k.RollingStart)),
		}
		if k.Missing&FieldTransmissionRisk == 0 {
			pb.TransmissionRiskLevel = proto.Int32(k.TransmissionRisk)
		}
		if k.Missing&FieldRollingPeriod == 0 {
			pb.RollingPeriod = proto.Int32(int32(k.RollingPeriod))
		}
		if k.Missing&FieldDaysSinceOnset == 0 {
			pb.DaysSinceOnsetOfSymptoms = proto.Int32(k.DaysSinceOnset)
		}
		if k.Missing&FieldReportType == 0 && k.ReportType != ReportUnknown {
			pb.ReportType = exportpb.TemporaryExposureKey_ReportType(k.ReportType).Enum()
		}
		out[i] = pb
	}
	return out
}

func keysFromPB(pbs []*exportpb.TemporaryExposureKey, what string) ([]Key, error) {
	var keys []Key
	for i, pb := range pbs {
		if len(pb.GetKeyData()) != KeyLength {
			return nil, fmt.Errorf("export: %s %d: %d bytes of key data, want %d: %w", what, i, len(pb.GetKeyData()), KeyLength, ErrFormat)
		}
		if pb.GetRollingStartIntervalNumber() < 0 {
			return nil, fmt.Errorf("export: %s %d: negative rolling start %d: %w", what, i, pb.GetRollingStartIntervalNumber(), ErrFormat)
		}
		k := Key{
			RollingStart:     uint32(pb.GetRollingStartIntervalNumber()),
			RollingPeriod:    uint32(max(pb.GetRollingPeriod(), 0)),
			ReportType:       ReportType(pb.GetReportType()),
			TransmissionRisk: pb.GetTransmissionRiskLevel(),
			DaysSinceOnset:   pb.GetDaysSinceOnsetOfSymptoms(),
		}
		copy(k.Data[:], pb.GetKeyData())
		for _, o := range []struct {
			set bool
			f   Fields
		}{
			{pb.TransmissionRiskLevel != nil, FieldTransmissionRisk},
			{pb.RollingPeriod != nil, FieldRollingPeriod},
			{pb.ReportType != nil, FieldReportType},
			{pb.DaysSinceOnsetOfSymptoms != nil, FieldDaysSinceOnset},
		} {
			if !o.set {
				k.Missing |= o.f
			}
		}
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("export: %s %d: %v: %w", what, i, err, ErrFormat)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (s SignatureInfo) toPB() *exportpb.SignatureInfo {
	return &exportpb.SignatureInfo{
		VerificationKeyVersion: proto.String(s.KeyVersion),
		VerificationKeyId:      proto.String(s.KeyID),
		SignatureAlgorithm:     proto.String(cmp.Or(s.Algorithm, AlgorithmECDSAP256SHA256)),
	}
}

func sigInfoFromPB(s *exportpb.SignatureInfo) SignatureInfo {
	return SignatureInfo{KeyVersion: s.GetVerificationKeyVersion(), KeyID: s.GetVerificationKeyId(), Algorithm: s.GetSignatureAlgorithm()}
}
