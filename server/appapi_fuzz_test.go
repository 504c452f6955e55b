package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// FuzzENAPIBodies: whatever an app sends to the EN paths, the answer is a
// 4xx refusal or a 200, padded to the endpoint's size, never a 500.
func FuzzENAPIBodies(f *testing.F) {
	f.Add(uint8(0), []byte(`{"code":"12345678","accept":["confirmed"],"padding":"AAAA"}`))
	f.Add(uint8(0), []byte(`{"code":"12345678","accept":"confirmed"}`))
	f.Add(uint8(1), []byte(`{"token":"x","ekeyhmac":"AAAA"}`))
	f.Add(uint8(2), []byte(`{"temporaryExposureKeys":[{"key":"AAAAAAAAAAAAAAAAAAAAAA==","rollingStartNumber":1,"rollingPeriod":144}],"healthAuthorityID":"vn.gov.bluezone","verificationPayload":"a.b.c","hmacKey":"AAAAAAAAAAAAAAAAAAAAAA==","revisionToken":"AQ=="}`))
	f.Add(uint8(2), []byte(`{"temporaryExposureKeys":null,"healthAuthorityID":"vn.gov.bluezone"}`))
	e := newEnvTB(f, dbtest.Backends(f)[0].URL, server.Config{})
	k, err := e.srv.CreateAPIKey(context.Background(), "vn.gov.bluezone", "android", "admin")
	if err != nil {
		f.Fatal(err)
	}
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := []string{api.PathENVerify, api.PathENCertificate, api.PathENPublish}[int(which)%3]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(api.APIKeyHeader, k.Key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body)
		}
		want := 1024
		if path == api.PathENPublish {
			want = 8192
		}
		if rec.Body.Len() != want {
			t.Fatalf("%s answered %d bytes, want %d (padding)", path, rec.Body.Len(), want)
		}
	})
}
