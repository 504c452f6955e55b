package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// FuzzAPIBodies: whatever an app sends, the API answers with a clear 4xx
// error or a 200, padded to the same size, never a 500 or a crash.
func FuzzAPIBodies(f *testing.F) {
	f.Add(uint8(0), []byte(`{"code":"12345678"}`))
	f.Add(uint8(1), []byte(`{"token":"x","ekeyhmac":"AAAA"}`))
	f.Add(uint8(2), []byte(`{"temporaryExposureKeys":[{"key":"AAAAAAAAAAAAAAAAAAAAAA==","rollingStartNumber":1,"rollingPeriod":144}],"certificate":"a.b.c","hmackey":"AAAAAAAAAAAAAAAAAAAAAA=="}`))
	f.Add(uint8(2), []byte(`{"temporaryExposureKeys":null}`))
	e := newEnvTB(f, dbtest.Backends(f)[0].URL, server.Config{})
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := []string{api.PathVerify, api.PathCertificate, api.PathPublish}[int(which)%3]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body)
		}
		want := 1024
		if path == api.PathPublish {
			want = 8192 // room for 30 key rejections
		}
		if rec.Body.Len() != want {
			t.Fatalf("%s answered %d bytes, want %d (padding)", path, rec.Body.Len(), want)
		}
	})
}
