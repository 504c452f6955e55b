package api

// SigningKeysName lists the live export signing keys (JSON, SigningKeys),
// relative to PathExports, for apps: the current one (also PublicKeyName)
// and, during a rotation, the next, endorsed by the current one.
const SigningKeysName = "keys.json"

// SigningKeys is the body of SigningKeysName.
type SigningKeys struct {
	Keys []SigningKey `json:"keys"`
}

// SigningKey is one live export signing key. KeyID and KeyVersion are
// what export files name it by (verification_key_id/version).
type SigningKey struct {
	KeyID      string `json:"verification_key_id"`
	KeyVersion string `json:"verification_key_version"`
	Algorithm  string `json:"signature_algorithm"`
	PublicKey  string `json:"public_key"` // PEM "PUBLIC KEY"
	// Current: the key of PublicKeyName and of the risk configuration's
	// signature. The others are new keys in their overlap.
	Current bool `json:"current"`
	// RetireAt (RFC 3339) is when the server stops signing with this key;
	// empty when no retirement is planned.
	RetireAt string `json:"retire_at,omitempty"`
	// Endorsements are signatures of EndorsementMessage of this key by
	// the keys that were live when it was added: an app that pins one of
	// them may pin this one too, and so keeps working after a rotation.
	Endorsements []Endorsement `json:"endorsements,omitempty"`
}

// Endorsement is an ECDSA P-256/SHA-256 signature (base64 of ASN.1) of a
// key's EndorsementMessage by the key KeyID/KeyVersion.
type Endorsement struct {
	KeyID      string `json:"verification_key_id"`
	KeyVersion string `json:"verification_key_version"`
	Signature  string `json:"signature"`
}

// EndorsementMessage is what an endorsement signs: a fixed first line, so
// that it can never be taken for an export.bin ("EK Export v1") or a risk
// configuration (JSON), then the key's ID, version and PEM public key.
func EndorsementMessage(keyID, keyVersion string, publicPEM []byte) []byte {
	return []byte("Bluezone export signing key endorsement v1\n" + keyID + "\n" + keyVersion + "\n" + string(publicPEM))
}

// RiskConfigSigNameFor is the signature of RiskConfigName by the signing key
// keyID/keyVersion (relative to PathExports), one for each live key, so
// that an app that pins only a new key verifies the configuration during a
// rotation too. RiskConfigSigName is the current key's.
func RiskConfigSigNameFor(keyID, keyVersion string) string {
	return "risk-config." + keyID + "." + keyVersion + ".sig"
}
