package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestRevokedCodeCannotPublish: once an official revokes a code, a token
// or certificate obtained with it before publishes nothing (such keys would
// go out unrevoked and warn people).
func TestRevokedCodeCannotPublish(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			token, codeID := e.verifiedToken(t)
			if st, _, raw, err := e.publishWithToken(token, hourKeys(e.clock.now(), 2)); err != nil || st != 200 {
				t.Fatalf("publish before revoking: %d %s %v", st, raw, err)
			}
			if _, err := e.srv.RevokeCode(context.Background(), codeID, "official"); err != nil {
				t.Fatal(err)
			}
			st, _, raw, err := e.publishWithToken(token, hourKeys(e.clock.now(), 2))
			if err != nil {
				t.Fatal(err)
			}
			if st != 400 || !strings.Contains(string(raw), `"error_code":"code_revoked"`) {
				t.Errorf("publish after revoking: %d %s; want 400 code_revoked", st, raw)
			}
			n, err := e.db.CountKeysByCode(context.Background(), codeID)
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("%d keys stored under the code, want the 2 published before", n)
			}
		})
	}
}
