package phone

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// listed is authority k as a listing entry, endorsed by the given authorities.
func listed(t testing.TB, k *authority, id, version string, by ...*authority) api.SigningKey {
	t.Helper()
	e := api.SigningKey{KeyID: id, KeyVersion: version, Algorithm: export.AlgorithmECDSAP256SHA256, PublicKey: string(k.pem)}
	digest := sha256.Sum256(api.EndorsementMessage(id, version, k.pem))
	for _, b := range by {
		sig, err := b.key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		e.Endorsements = append(e.Endorsements, api.Endorsement{KeyID: "x", KeyVersion: "v", Signature: base64.StdEncoding.EncodeToString(sig)})
	}
	return e
}

func listing(t testing.TB, keys ...api.SigningKey) []byte {
	t.Helper()
	b, err := json.Marshal(api.SigningKeys{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAdoptEndorsedKeys: only keys endorsed by a pinned key (directly or
// through a chain) are pinned; an unsigned listing cannot add others.
func TestAdoptEndorsedKeys(t *testing.T) {
	pinned, k2, k3, other := newAuthority(t), newAuthority(t), newAuthority(t), newAuthority(t)
	tampered := listed(t, k2, "452", "v2", pinned)
	tampered.PublicKey = string(other.pem) // another key under k2's endorsement
	relabelled := listed(t, k2, "452", "v2", pinned)
	relabelled.KeyVersion = "v9"
	badSig := listed(t, k2, "452", "v2")
	badSig.Endorsements = []api.Endorsement{{Signature: "!!"}}
	many := make([]api.SigningKey, maxListedKeys)
	for i := range many {
		many[i] = listed(t, pinned, "vn", "v1")
	}
	padded := func(size int) []byte { // JSON allows trailing space
		b := listing(t, listed(t, k2, "452", "v2", pinned))
		if len(b) > size {
			t.Fatalf("listing of %d bytes, longer than %d", len(b), size)
		}
		return append(b, bytes.Repeat([]byte(" "), size-len(b))...)
	}
	endorsedBy := func(n int) []byte { // n endorsements, the pinned key's last
		k := listed(t, k2, "452", "v2", other)
		e := k.Endorsements[0]
		k.Endorsements = nil
		for range n - 1 {
			k.Endorsements = append(k.Endorsements, e) // by an unpinned key
		}
		k.Endorsements = append(k.Endorsements, listed(t, k2, "452", "v2", pinned).Endorsements[0])
		return listing(t, k)
	}
	tests := []struct {
		name    string
		listing []byte
		want    int
		err     bool
	}{
		{"endorsed by the pin", listing(t, listed(t, pinned, "vn", "v1"), listed(t, k2, "452", "v2", pinned)), 1, false},
		{"chain listed backwards", listing(t, listed(t, k3, "452", "v3", k2), listed(t, k2, "452", "v2", pinned)), 2, false},
		{"endorsed by an unpinned key", listing(t, listed(t, k2, "452", "v2", other)), 0, false},
		{"unendorsed", listing(t, listed(t, k2, "452", "v2")), 0, false},
		{"other key under an endorsement", listing(t, tampered), 0, false},
		{"relabelled after endorsement", listing(t, relabelled), 0, false},
		{"signature not base64", listing(t, badSig), 0, false},
		{"already pinned only", listing(t, listed(t, pinned, "vn", "v1", pinned)), 0, false},
		{"exactly the most keys", listing(t, many...), 0, false},
		{"one key too many", listing(t, append(many, listed(t, k2, "452", "v2", pinned))...), 0, true},
		{"not JSON", []byte("<html>"), 0, true},
		{"exactly the largest listing", padded(maxKeyListBytes), 1, false},
		{"one byte too large", padded(maxKeyListBytes + 1), 0, true},
		{"exactly the most endorsements", endorsedBy(maxKeyEndorsements), 1, false},
		{"one endorsement too many", endorsedBy(maxKeyEndorsements + 1), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPhone(t, -8)
			if err := p.PinPublicKey(pinned.pem); err != nil {
				t.Fatal(err)
			}
			n, err := p.AdoptEndorsedKeys(tt.listing)
			if (err != nil) != tt.err || (err != nil && !errors.Is(err, errKeyList)) {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if n != tt.want {
				t.Fatalf("adopted %d keys, want %d", n, tt.want)
			}
			p.mu.Lock()
			pins := len(p.state.Pins)
			p.mu.Unlock()
			if pins != 1+tt.want {
				t.Fatalf("%d pins, want %d", pins, 1+tt.want)
			}
		})
	}
}

// FuzzSigningKeyList: any listing gives an error or keys that each parse
// and carry an endorsement that verifies; never a panic.
func FuzzSigningKeyList(f *testing.F) {
	pinned, k2 := newAuthority(f), newAuthority(f)
	f.Add(listing(f, listed(f, k2, "452", "v2", pinned)))
	f.Add([]byte(`{"keys":[{"public_key":"-----BEGIN PUBLIC KEY-----\n"}]}`))
	f.Add([]byte(`{"keys":null}`))
	pins := []pin{{pem: pinned.pem, key: &pinned.key.PublicKey}}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := endorsedKeys(data, pins)
		if err != nil {
			if !errors.Is(err, errKeyList) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		for _, k := range keys {
			if _, err := export.ParsePublicKeyPEM(k); err != nil {
				panic(fmt.Sprintf("adopted a key that does not parse: %v", err))
			}
		}
	})
}
