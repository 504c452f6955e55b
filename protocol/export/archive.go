package export

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"path"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/bluezone-vn/bluezone/protocol/export/internal/exportpb"
)

const (
	// maxBinSize bounds the uncompressed export.bin (750 000 keys take ~25 MB).
	maxBinSize = 64 << 20
	maxSigSize = 64 << 10
	maxEntries = 16
)

// Signer signs export files. Key is any crypto.Signer for an ECDSA P-256 key,
// so that it can live in a hardware module or a cloud KMS.
type Signer struct {
	Key  crypto.Signer
	Info SignatureInfo
}

// Signature is one entry of export.sig.
type Signature struct {
	Info      SignatureInfo
	BatchNum  int32
	BatchSize int32
	DER       []byte // ASN.1 SEQUENCE { r, s }
}

// Archive is a read export zip: the decoded file, the exact bytes that were
// signed, and the signatures.
type Archive struct {
	File       *File
	Bin        []byte
	Signatures []Signature
}

// Write encodes f, signs it with every signer and writes the zip to w.
// The signers' infos are recorded in the file itself too, as EN requires.
func Write(w io.Writer, f *File, signers ...Signer) error {
	withInfos := *f
	withInfos.Signatures = nil
	for _, s := range signers {
		withInfos.Signatures = append(withInfos.Signatures, s.Info)
	}
	bin, err := MarshalBin(&withInfos)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(bin)
	var list exportpb.TEKSignatureList
	for _, s := range signers {
		der, err := s.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return fmt.Errorf("export: sign with key %q: %w", s.Info.KeyID, err)
		}
		list.Signatures = append(list.Signatures, &exportpb.TEKSignature{
			SignatureInfo: s.Info.toPB(),
			BatchNum:      proto.Int32(f.BatchNum),
			BatchSize:     proto.Int32(f.BatchSize),
			Signature:     der,
		})
	}
	sig, err := proto.MarshalOptions{Deterministic: true}.Marshal(&list)
	if err != nil {
		return fmt.Errorf("export: encode signatures: %w", err)
	}
	zw := zip.NewWriter(w)
	for _, e := range []struct {
		name string
		data []byte
	}{{BinName, bin}, {SigName, sig}} {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		if err != nil {
			return fmt.Errorf("export: zip %s: %w", e.name, err)
		}
		if _, err := fw.Write(e.data); err != nil {
			return fmt.Errorf("export: zip %s: %w", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("export: zip: %w", err)
	}
	return nil
}

// Read parses an export zip. It accepts any EN-conformant file: one *.bin and
// at most one *.sig at the root of the archive. It does not verify signatures;
// call Verify with the pinned public key.
func Read(data []byte) (*Archive, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("export: open zip: %v: %w", err, ErrFormat)
	}
	if len(zr.File) > maxEntries {
		return nil, fmt.Errorf("export: zip has %d entries, at most %d: %w", len(zr.File), maxEntries, ErrFormat)
	}
	var bin, sig []byte
	for _, zf := range zr.File {
		var dst *[]byte
		var limit int64
		switch {
		case strings.Contains(zf.Name, "/") || strings.HasPrefix(zf.Name, "."):
			continue // not at the root, or hidden (e.g. __MACOSX/, .DS_Store)
		case path.Ext(zf.Name) == ".bin":
			dst, limit = &bin, maxBinSize
		case path.Ext(zf.Name) == ".sig":
			dst, limit = &sig, maxSigSize
		default:
			continue
		}
		if *dst != nil {
			return nil, fmt.Errorf("export: zip has more than one %s file: %w", path.Ext(zf.Name), ErrFormat)
		}
		if *dst, err = readEntry(zf, limit); err != nil {
			return nil, err
		}
	}
	if bin == nil {
		return nil, fmt.Errorf("export: zip has no %s: %w", BinName, ErrFormat)
	}
	f, err := UnmarshalBin(bin)
	if err != nil {
		return nil, err
	}
	a := &Archive{File: f, Bin: bin}
	if sig != nil {
		var list exportpb.TEKSignatureList
		if err := proto.Unmarshal(sig, &list); err != nil {
			return nil, fmt.Errorf("export: decode %s: %v: %w", SigName, err, ErrFormat)
		}
		for _, s := range list.GetSignatures() {
			a.Signatures = append(a.Signatures, Signature{
				Info:      sigInfoFromPB(s.GetSignatureInfo()),
				BatchNum:  s.GetBatchNum(),
				BatchSize: s.GetBatchSize(),
				DER:       s.GetSignature(),
			})
		}
	}
	return a, nil
}

func readEntry(zf *zip.File, limit int64) ([]byte, error) {
	// The header's size may lie; the limited reader is what bounds memory.
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("export: %s is %d bytes, at most %d: %w", zf.Name, zf.UncompressedSize64, limit, ErrFormat)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("export: open %s: %v: %w", zf.Name, err, ErrFormat)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("export: read %s: %v: %w", zf.Name, err, ErrFormat)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("export: %s exceeds %d bytes: %w", zf.Name, limit, ErrFormat)
	}
	return b, nil
}

// Verify checks that one of the archive's signatures was made by pub over
// export.bin. It returns ErrUnsigned when there is no ECDSA-SHA256 signature
// at all, and ErrSignature when none verifies.
func (a *Archive) Verify(pub *ecdsa.PublicKey) error {
	digest := sha256.Sum256(a.Bin)
	tried := 0
	for _, s := range a.Signatures {
		if s.Info.Algorithm != "" && s.Info.Algorithm != AlgorithmECDSAP256SHA256 {
			continue
		}
		tried++
		if ecdsa.VerifyASN1(pub, digest[:], s.DER) {
			return nil
		}
	}
	if tried == 0 {
		return fmt.Errorf("export: %w", ErrUnsigned)
	}
	return fmt.Errorf("export: %d signature(s) checked: %w", tried, ErrSignature)
}
