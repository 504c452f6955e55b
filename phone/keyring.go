package phone

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// Bounds of the signing key listing (api.SigningKeys): a few keys live at a
// time, so anything larger is not the authority's.
const (
	maxKeyListBytes    = 64 << 10
	maxListedKeys      = 16
	maxKeyEndorsements = 16
)

// syncSigningKeys fetches the authority's signing key listing and pins the
// keys a pinned key endorsed, so that the phone keeps verifying files after
// the authority rotates its key (docs/keys.md). A server without a listing,
// or with one that does not parse, changes nothing: files are verified by
// the pins alone either way.
// It returns the listed keys (nil without a listing).
func (e *Engine) syncSigningKeys(ctx context.Context, c *Client) ([]api.SigningKey, error) {
	b, err := c.get(ctx, api.PathExports+api.SigningKeysName, maxKeyListBytes)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("phone: sync: %w", err)
	}
	_, err = e.AdoptEndorsedKeys(b)
	if errors.Is(err, errKeyList) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l api.SigningKeys
	json.Unmarshal(b, &l) // parsed by AdoptEndorsedKeys already
	return l.Keys, nil
}

// keyLabel is what EN allows in a key ID or version; listed labels name
// files to fetch, so nothing else is used.
var keyLabel = regexp.MustCompile(`^[A-Za-z0-9_.]{1,64}$`)

// riskConfigByListedKey tries the risk configuration's signatures by the
// listed keys this phone pins (api.RiskConfigSigNameFor), and returns
// failed when none verifies.
func (e *Engine) riskConfigByListedKey(ctx context.Context, c *Client, data []byte, listed []api.SigningKey, failed error) error {
	e.mu.Lock()
	pinned := map[string]bool{}
	for _, p := range e.state.Pins {
		pinned[string(p)] = true
	}
	e.mu.Unlock()
	for _, k := range listed {
		if !pinned[k.PublicKey] || !keyLabel.MatchString(k.KeyID) || !keyLabel.MatchString(k.KeyVersion) {
			continue
		}
		sig, err := c.get(ctx, api.PathExports+api.RiskConfigSigNameFor(k.KeyID, k.KeyVersion), 1<<10)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("phone: sync: %w", err)
		}
		if e.SetRiskConfig(data, sig) == nil {
			return nil
		}
	}
	return failed
}

var errKeyList = errors.New("signing key listing")

// AdoptEndorsedKeys pins the keys of a signing key listing (api.SigningKeys,
// as served at /exports/keys.json) that carry a valid endorsement by a key
// pinned already, directly or through another key it endorsed. It returns
// how many keys it pinned. Unendorsed keys are ignored: the listing itself
// is unsigned, and anyone who can change it must not change what the phone
// trusts.
func (e *Engine) AdoptEndorsedKeys(listing []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	adopted, err := endorsedKeys(listing, e.pinsLocked())
	if err != nil || len(adopted) == 0 {
		return 0, err
	}
	e.state.Pins = append(e.state.Pins, adopted...)
	return len(adopted), e.saveState()
}

// endorsedKeys returns the PEM keys of listing that pins endorse, not
// pinned yet.
func endorsedKeys(listing []byte, pins []pin) ([][]byte, error) {
	if len(listing) > maxKeyListBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", errKeyList, len(listing), maxKeyListBytes)
	}
	var l api.SigningKeys
	if err := json.Unmarshal(listing, &l); err != nil {
		return nil, fmt.Errorf("%w: %v", errKeyList, err)
	}
	if len(l.Keys) > maxListedKeys {
		return nil, fmt.Errorf("%w: %d keys, at most %d", errKeyList, len(l.Keys), maxListedKeys)
	}
	trusted := map[string]bool{}
	var keys []*ecdsa.PublicKey
	for _, p := range pins {
		trusted[string(p.pem)] = true
		keys = append(keys, p.key)
	}
	var out [][]byte
	// Each pass may trust keys that endorse others later in the list.
	for changed := true; changed; {
		changed = false
		for _, k := range l.Keys {
			if trusted[k.PublicKey] || len(k.Endorsements) > maxKeyEndorsements {
				continue
			}
			pub, err := export.ParsePublicKeyPEM([]byte(k.PublicKey))
			if err != nil {
				continue
			}
			if !endorsed(k, keys) {
				continue
			}
			trusted[k.PublicKey], changed = true, true
			keys = append(keys, pub)
			out = append(out, []byte(k.PublicKey))
		}
	}
	return out, nil
}

// endorsed reports whether one of k's endorsements verifies under one of keys.
func endorsed(k api.SigningKey, keys []*ecdsa.PublicKey) bool {
	digest := sha256.Sum256(api.EndorsementMessage(k.KeyID, k.KeyVersion, []byte(k.PublicKey)))
	for _, en := range k.Endorsements {
		sig, err := base64.StdEncoding.DecodeString(en.Signature)
		if err != nil {
			continue
		}
		for _, pub := range keys {
			if ecdsa.VerifyASN1(pub, digest[:], sig) {
				return true
			}
		}
	}
	return false
}
