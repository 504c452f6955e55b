package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Revision tokens let a phone revise the keys it published, as Google's
// key server allows: a publish answers a token naming the keys it stored,
// and a later publish of the same keys (with another certificate, say F0
// after F1) must bring it back. The token is sealed with AES-256-GCM under a
// key only the server holds (shared by replicas through the settings
// table), so that a phone cannot forge one for keys it did not publish, nor
// read anything from it; its size is fixed, so that it tells nothing of how
// many keys it names.

const (
	revisionTokenVersion = 1
	// revisionSlots is how many keys a token names: twice the 30 one code
	// may publish, so that an F1 upload and the F0 upload that revises it
	// both fit; past it, the keys that start latest are kept.
	revisionSlots    = 64
	revisionSlotSize = 16 + 4 + 1 // key, rolling start, rolling period
	revisionPlain    = 8 + revisionSlots*revisionSlotSize
	revisionAAD      = "bluezone revision token v1"
)

// revisableKey is one key a revision token names.
type revisableKey struct {
	data          [16]byte
	rollingStart  uint32
	rollingPeriod uint8
}

// revisionData is what a revision token holds.
type revisionData struct {
	issued time.Time
	keys   []revisableKey
}

type revisionSealer struct {
	aead cipher.AEAD
}

var errRevisionToken = errors.New("revision token invalid")

func newRevisionSealer(ctx context.Context, db interface {
	SettingOrInit(ctx context.Context, name string, init func() (string, error)) (string, error)
}) (*revisionSealer, error) {
	v, err := db.SettingOrInit(ctx, "revision_token_key", func() (string, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return hex.EncodeToString(b), err
	})
	if err != nil {
		return nil, fmt.Errorf("server: revision token key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("server: revision token key: want 32 bytes in hex")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &revisionSealer{aead: aead}, nil
}

// seal makes a token naming keys (at most revisionSlots: those that start
// latest are kept).
func (r *revisionSealer) seal(d revisionData) string {
	keys := append([]revisableKey(nil), d.keys...)
	sort.Slice(keys, func(a, b int) bool { return keys[a].rollingStart > keys[b].rollingStart })
	if len(keys) > revisionSlots {
		keys = keys[:revisionSlots]
	}
	plain := make([]byte, revisionPlain) // unused slots stay zero: rolling period 0
	binary.BigEndian.PutUint64(plain, uint64(d.issued.Unix()))
	for i, k := range keys {
		p := plain[8+i*revisionSlotSize:]
		copy(p, k.data[:])
		binary.BigEndian.PutUint32(p[16:], k.rollingStart)
		p[20] = k.rollingPeriod
	}
	out := make([]byte, 1+r.aead.NonceSize(), 1+r.aead.NonceSize()+revisionPlain+r.aead.Overhead())
	out[0] = revisionTokenVersion
	rand.Read(out[1:])
	out = r.aead.Seal(out, out[1:], plain, []byte(revisionAAD))
	return base64.StdEncoding.EncodeToString(out)
}

// open reads a token, errRevisionToken when it was not made by this
// server's key (or was altered) or is older than maxAge.
func (r *revisionSealer) open(token string, now time.Time, maxAge time.Duration) (revisionData, error) {
	b, err := base64.StdEncoding.DecodeString(token)
	ns := r.aead.NonceSize()
	if err != nil || len(b) != 1+ns+revisionPlain+r.aead.Overhead() || b[0] != revisionTokenVersion {
		return revisionData{}, errRevisionToken
	}
	plain, err := r.aead.Open(nil, b[1:1+ns], b[1+ns:], []byte(revisionAAD))
	if err != nil {
		return revisionData{}, errRevisionToken
	}
	d := revisionData{issued: time.Unix(int64(binary.BigEndian.Uint64(plain)), 0).UTC()}
	if now.Sub(d.issued) > maxAge || d.issued.After(now.Add(time.Minute)) {
		return revisionData{}, fmt.Errorf("%w: issued %s", errRevisionToken, d.issued.Format(time.RFC3339))
	}
	for i := 0; i < revisionSlots; i++ {
		p := plain[8+i*revisionSlotSize:]
		if p[20] == 0 {
			continue
		}
		var k revisableKey
		copy(k.data[:], p[:16])
		k.rollingStart, k.rollingPeriod = binary.BigEndian.Uint32(p[16:]), p[20]
		d.keys = append(d.keys, k)
	}
	return d, nil
}
