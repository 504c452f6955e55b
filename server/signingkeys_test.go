package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// lastSignatures returns the signature infos of the newest listed file.
func lastSignatures(t *testing.T, e *env) []export.SignatureInfo {
	t.Helper()
	_, index := e.get(t, api.PathExports+api.IndexName)
	names := strings.Fields(string(index))
	if len(names) == 0 {
		t.Fatal("no file listed")
	}
	_, b := e.get(t, api.PathExports+names[len(names)-1])
	a, err := export.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []export.SignatureInfo
	for _, s := range a.Signatures {
		out = append(out, s.Info)
	}
	if len(out) != len(a.File.Signatures) {
		t.Fatalf("export.sig has %d signatures, export.bin names %d", len(out), len(a.File.Signatures))
	}
	return out
}

func labels(infos []export.SignatureInfo) string {
	var s []string
	for _, i := range infos {
		s = append(s, i.KeyID+"/"+i.KeyVersion)
	}
	return strings.Join(s, " ")
}

// TestExportKeyLabels: files name the key by the configured ID and version;
// by default what they always said (region in lower case, v1); labels EN
// would refuse are refused at start.
func TestExportKeyLabels(t *testing.T) {
	for _, tt := range []struct {
		cfg  server.Config
		want string
	}{
		{server.Config{}, "vn/v1"},
		{server.Config{ExportKeyID: "452", ExportKeyVersion: "v7"}, "452/v7"},
		{server.Config{ExportKeyID: strings.Repeat("a", 64)}, strings.Repeat("a", 64) + "/v1"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			e := newEnv(t, filepath.Join(t.TempDir(), "db"), tt.cfg)
			e.srv.ExportOnce(context.Background())
			e.clock.add(time.Hour)
			if _, err := e.srv.ExportOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := labels(lastSignatures(t, e)); got != tt.want {
				t.Fatalf("signed as %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []server.Config{{ExportKeyID: "45 2"}, {ExportKeyVersion: "v/1"}, {ExportKeyID: strings.Repeat("a", 65)}} {
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := server.New(context.Background(), bad, db, nil, nil); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
		db.Close()
	}
}

// TestSigningKeyRotation: a new key signs with the old one through the
// overlap (audited, listed with its endorsement by the old key), and alone
// after it; the old key's labels come from the configuration, as before.
func TestSigningKeyRotation(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, b.URL, server.Config{ExportKeyID: "452"})
			s := e.srv
			oldPEM := s.ExportPublicKeyPEM()
			e.srv.ExportOnce(ctx)
			if _, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v2", Overlap: s.MinKeyOverlap() - time.Second}); !errors.Is(err, server.ErrSigningKey) {
				t.Fatalf("overlap shorter than the files' retention: %v", err)
			}
			if _, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v1"}); !errors.Is(err, server.ErrSigningKey) {
				t.Fatalf("labels of a live key reused: %v", err)
			}
			if err := s.RetireSigningKey(ctx, "452", "v1", "test"); !errors.Is(err, server.ErrSigningKey) {
				t.Fatalf("the only key retired: %v", err)
			}
			added, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v2", By: "ops@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			e.clock.add(time.Hour)
			if _, err := s.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if got := labels(lastSignatures(t, e)); got != "452/v1 452/v2" {
				t.Fatalf("overlap: signed by %s", got)
			}
			_, pem := e.get(t, api.PathExports+api.PublicKeyName)
			if string(pem) != string(oldPEM) {
				t.Fatal("public.pem is not the current key during the overlap")
			}
			resp, raw := e.get(t, api.PathExports+api.SigningKeysName)
			var list api.SigningKeys
			if err := json.Unmarshal(raw, &list); err != nil || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("keys.json %s: %v %s", resp.Header.Get("Content-Type"), err, raw)
			}
			if len(list.Keys) != 2 || !list.Keys[0].Current || list.Keys[1].Current || list.Keys[0].RetireAt == "" || list.Keys[1].PublicKey != string(added.PublicPEM) {
				t.Fatalf("listing %s", raw)
			}
			old, _ := export.ParsePublicKeyPEM(oldPEM)
			nk := list.Keys[1]
			sig, _ := base64.StdEncoding.DecodeString(nk.Endorsements[0].Signature)
			digest := sha256.Sum256(api.EndorsementMessage(nk.KeyID, nk.KeyVersion, []byte(nk.PublicKey)))
			if !ecdsa.VerifyASN1(old, digest[:], sig) {
				t.Fatal("the new key's endorsement does not verify under the old key")
			}
			audit, _ := e.db.Audit(ctx, 10)
			if len(audit) == 0 || audit[0].Action != "signing key added" || audit[0].Actor != "ops@example.org" || !strings.Contains(audit[0].Detail, "452/v2") {
				t.Fatalf("audit %+v", audit)
			}
			// One second before the end of the overlap both sign; at it, the new one alone.
			e.clock.add(s.MinKeyOverlap() - time.Hour - time.Second)
			if _, err := s.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if got := labels(lastSignatures(t, e)); got != "452/v1 452/v2" {
				t.Fatalf("just before the retirement: signed by %s", got)
			}
			e.clock.add(time.Hour + time.Second)
			if _, err := s.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if got := labels(lastSignatures(t, e)); got != "452/v2" {
				t.Fatalf("after the retirement: signed by %s", got)
			}
			if _, pem := e.get(t, api.PathExports+api.PublicKeyName); string(pem) != string(added.PublicPEM) {
				t.Fatal("public.pem is not the new key after the retirement")
			}
			// What the statistics page shows officials to give app makers.
			if got := s.ExportPublicKeyPEM(); string(got) != string(added.PublicPEM) {
				t.Fatal("ExportPublicKeyPEM is not the new key after the retirement")
			}
			_, raw = e.get(t, api.PathExports+api.SigningKeysName)
			if err := json.Unmarshal(raw, &list); err != nil || len(list.Keys) != 1 || !list.Keys[0].Current || len(list.Keys[0].Endorsements) != 1 {
				t.Fatalf("listing after the retirement: %s", raw)
			}
			// The risk configuration follows the current key.
			_, cfg := e.get(t, api.PathExports+api.RiskConfigName)
			_, cfgSig := e.get(t, api.PathExports+api.RiskConfigSigName)
			nkey, _ := export.ParsePublicKeyPEM(added.PublicPEM)
			d := sha256.Sum256(cfg)
			if !ecdsa.VerifyASN1(nkey, d[:], cfgSig) {
				t.Fatal("risk configuration not signed by the new key after the retirement")
			}
		})
	}
}

// TestRetireSigningKeyEarly: retiring ends a key's overlap at once (after a
// compromise, say); it is audited.
func TestRetireSigningKeyEarly(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), server.Config{})
	e.srv.ExportOnce(ctx)
	if _, err := e.srv.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.RetireSigningKey(ctx, "vn", "v9", "ops"); !errors.Is(err, server.ErrSigningKey) {
		t.Fatalf("unknown key retired: %v", err)
	}
	if err := e.srv.RetireSigningKey(ctx, "vn", "v1", "ops"); err != nil {
		t.Fatal(err)
	}
	e.clock.add(time.Hour)
	if _, err := e.srv.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := labels(lastSignatures(t, e)); got != "452/v2" {
		t.Fatalf("signed by %s after the early retirement", got)
	}
	if err := e.srv.RetireSigningKey(ctx, "452", "v2", "ops"); !errors.Is(err, server.ErrSigningKey) {
		t.Fatalf("last key retired: %v", err)
	}
	audit, _ := e.db.Audit(ctx, 1)
	if len(audit) != 1 || audit[0].Action != "signing key retired" || audit[0].Detail != "vn/v1" {
		t.Fatalf("audit %+v", audit)
	}
}
