package server_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// TestENRevision: a phone that published as a confirmed F1 (RECURSIVE)
// revises its keys to F0 with the revision token its publish answered;
// the revised keys go out again in the next export with their new type.
// Missing, altered, foreign and expired tokens, and transitions Google's
// rules (extended to RECURSIVE) forbid, are refused.
func TestENRevision(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{MinBatchKeys: 10})
			ctx := context.Background()
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			key := e.apiKey(t)
			keys := gKeys(e.clock.now(), 3) // today and the two days before
			st, f1, raw := e.gFlow(t, key, e.issue(t, export.ReportRecursive, 2).Code, keys, "", false)
			if st != 200 || f1.InsertedExposures != 3 || f1.RevisionToken == "" {
				t.Fatalf("F1 publish: %d %s", st, raw)
			}
			e.clock.add(26 * time.Hour)
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				d, _ := base64.StdEncoding.DecodeString(k.Key)
				if rt := exportedKeys(t, e)[string(d)]; rt != export.ReportRecursive {
					t.Fatalf("before the revision, a key went out as %v", rt)
				}
			}

			// Refused: no token, an altered one, one of other keys.
			_, other, _ := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 1).Code, gKeys(e.clock.now(), 1), "", false)
			tok, _ := base64.StdEncoding.DecodeString(f1.RevisionToken)
			tok[len(tok)/2] ^= 1
			for _, tt := range []struct {
				name, token, code string
			}{
				{"no token", "", "missing_revision_token"},
				{"altered token", base64.StdEncoding.EncodeToString(tok), "invalid_revision_token"},
				{"not base64", "!!", "invalid_revision_token"},
				{"another upload's token", other.RevisionToken, "invalid_revision_token"},
			} {
				st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 3).Code, keys, tt.token, false)
				if st != 400 || pr.Code != tt.code {
					t.Errorf("%s: %d %s, want 400 %s", tt.name, st, short(raw), tt.code)
				}
			}

			// F1 → F0 (clinical diagnosis): revised.
			st, f0, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedClinical, 3).Code, keys, f1.RevisionToken, false)
			if st != 200 || f0.InsertedExposures != 0 || f0.Code != "" || f0.RevisionToken == "" || f0.RevisionToken == f1.RevisionToken {
				t.Fatalf("revision: %d %s", st, short(raw))
			}
			e.clock.add(time.Hour)
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			got := exportedKeys(t, e)
			for _, k := range keys {
				d, _ := base64.StdEncoding.DecodeString(k.Key)
				if got[string(d)] != export.ReportConfirmedClinical {
					t.Errorf("after the revision, a key went out as %v", got[string(d)])
				}
			}
			// The same type again: nothing to do. A weaker type: refused.
			if st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedClinical, 3).Code, keys, f0.RevisionToken, false); st != 200 || pr.InsertedExposures != 0 {
				t.Errorf("same type again: %d %s", st, raw)
			}
			f0keys := gKeys(e.clock.now(), 1)
			_, confirmed, _ := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 3).Code, f0keys, "", false)
			if st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportRecursive, 0).Code, f0keys, confirmed.RevisionToken, false); st != 400 || pr.Code != "invalid_report_type_transition" {
				t.Errorf("F0 → F1: %d %s", st, short(raw))
			}
			// Revised once, a key is not revised again (likely → confirmed would be allowed otherwise).
			if st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 3).Code, keys, f0.RevisionToken, false); st != 400 || pr.Code != "key_already_revised" {
				t.Errorf("second revision: %d %s", st, raw)
			}
			// A new key with the token: inserted, and the new token names both.
			more := append(gKeys(e.clock.now(), 1), keys[2])
			st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedClinical, 3).Code, more, f0.RevisionToken, false)
			if st != 200 || pr.InsertedExposures != 1 {
				t.Fatalf("new key with the token: %d %s", st, raw)
			}
			// Tokens expire with the keys' retention (14 days).
			old := pr.RevisionToken
			e.clock.add(14*24*time.Hour - 26*time.Hour)
			if st, _, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedClinical, 3).Code, more[:1], old, false); st != 200 {
				t.Errorf("token 13 days old: %d %s", st, short(raw))
			}
			e.clock.add(26*time.Hour + time.Minute) // the token is now 14 days and a minute old
			if st, got, _ := e.gFlow(t, key, e.issue(t, export.ReportConfirmedClinical, 3).Code, more[:1], old, false); st != 400 || got.Code != "invalid_revision_token" {
				t.Errorf("token over 14 days old: %d %+v", st, got)
			}
		})
	}
}

// short cuts a padded answer for error messages.
func short(raw []byte) string {
	if len(raw) > 300 {
		return string(raw[:300]) + "…"
	}
	return string(raw)
}

// TestRevisionTokenCarriesEarlierKeys: a publish with a token answers a
// token naming its own keys and the earlier token's, so a phone that
// published twice as F1 can revise the first upload's keys with the second
// answer's token.
func TestRevisionTokenCarriesEarlierKeys(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{MinBatchKeys: 10})
	ctx := context.Background()
	if _, err := e.srv.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	key := e.apiKey(t)
	// The first upload's oldest key is 13 days old: still within the
	// retention the new token keeps keys for.
	keys := gKeys(e.clock.now(), 14)
	first, second := []gKey{keys[0], keys[12]}, keys[13:]
	st, one, raw := e.gFlow(t, key, e.issue(t, export.ReportRecursive, 13).Code, first, "", false)
	if st != 200 || one.InsertedExposures != 2 {
		t.Fatalf("first F1 publish: %d %s", st, short(raw))
	}
	st, two, raw := e.gFlow(t, key, e.issue(t, export.ReportRecursive, 2).Code, second, one.RevisionToken, false)
	if st != 200 || two.InsertedExposures != 1 {
		t.Fatalf("second F1 publish: %d %s", st, short(raw))
	}
	// Confirmed F0: the first upload's keys, with the second token only.
	st, f0, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 2).Code, first, two.RevisionToken, false)
	if st != 200 || f0.Code != "" || f0.InsertedExposures != 0 {
		t.Fatalf("revising the first upload's keys with the second token: %d %s", st, short(raw))
	}
	e.clock.add(26 * time.Hour)
	if _, err := e.srv.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := exportedKeys(t, e)
	for _, k := range first {
		d, _ := base64.StdEncoding.DecodeString(k.Key)
		if got[string(d)] != export.ReportConfirmedTest {
			t.Errorf("a key of the first upload went out as %v, want CONFIRMED_TEST", got[string(d)])
		}
	}
}
