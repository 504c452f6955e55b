package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// specChecker is an HTTP transport that checks every request to the app
// API and its answer against docs/openapi.yaml.
type specChecker struct {
	t      *testing.T
	router routers.Router
	seen   map[string]bool // "METHOD path status" answered
}

func (c *specChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	c.t.Helper()
	ctx := context.Background()
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	check := req.Clone(ctx)
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := c.router.FindRoute(check)
	if err != nil {
		c.t.Errorf("%s %s: not in docs/openapi.yaml: %v", req.Method, req.URL.Path, err)
		return resp, nil
	}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if resp.StatusCode == 200 && len(reqBody) < 64<<10 && !strings.Contains(string(reqBody), `"accept":["positive"]`) {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			c.t.Errorf("%s %s: the request does not match docs/openapi.yaml: %v", req.Method, req.URL.Path, err)
		}
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{RequestValidationInput: in,
		Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true}})
	if err != nil {
		c.t.Errorf("%s %s %d: the answer does not match docs/openapi.yaml: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, short(body))
	}
	c.seen[req.URL.Path+" "+resp.Status[:3]] = true
	return resp, nil
}

// TestOpenAPIDescribesTheAnswers runs the app API's flows and refusals
// against a real server on loopback, and checks every request and answer
// against docs/openapi.yaml.
func TestOpenAPIDescribesTheAnswers(t *testing.T) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("docs/openapi.yaml is not valid OpenAPI 3: %v", err)
	}
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{VerifyPerAddressPerMinute: 4, VerifyPerAddressPerHour: 100})
	doc.Servers = openapi3.Servers{{URL: e.http.URL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	checker := &specChecker{t: t, router: router, seen: map[string]bool{}}
	old := http.DefaultClient.Transport
	http.DefaultClient.Transport = checker
	defer func() { http.DefaultClient.Transport = old }()

	key := e.apiKey(t)
	keys := gKeys(e.clock.now(), 4)
	keys[3].Key = "AAAA" // refused: partial_failure
	st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 2).Code, keys, "", false)
	if st != 200 || pr.Code != "partial_failure" {
		t.Fatalf("publish: %d %s", st, short(raw))
	}
	e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 2).Code, keys[:3], "", false) // missing_revision_token
	e.gPost(t, "/v1/publish", gPublish{Keys: keys, HealthAuthorityID: "x"}, nil)         // unknown_health_authority_id
	e.gPost(t, "/v1/publish", gPublish{Keys: keys, HealthAuthorityID: testApp, VerificationPayload: "a.b.c", HMACKey: "AAAAAAAAAAAAAAAAAAAAAA=="}, nil)
	e.gPost(t, "/v1/publish", gPublish{Keys: keys, HealthAuthorityID: testApp}, nil, "X-Chaff", "1")
	e.gPost(t, "/v1/publish", gPublish{HealthAuthorityID: testApp, Padding: strings.Repeat("A", 64<<10)}, nil)
	e.gPost(t, "/api/certificate", gCertRequest{Token: "x", HMAC: "AAAA"}, nil, "X-API-Key", key)
	e.gPost(t, "/api/certificate", gCertRequest{Token: "x", HMAC: "AAAA"}, nil, "X-API-Key", key, "X-Bluezone-Chaff", "1")
	e.gPost(t, "/api/verify", gVerifyRequest{Code: e.issue(t, export.ReportRecursive, 2).Code, Accept: []string{"confirmed"}}, nil, "X-API-Key", key)
	e.gPost(t, "/api/verify", gVerifyRequest{Code: "1", Accept: []string{"positive"}}, nil, "X-API-Key", key)
	e.gPost(t, "/api/verify", gVerifyRequest{Code: "1"}, nil)
	e.gPost(t, "/api/verify", gVerifyRequest{Code: "1"}, nil, "X-API-Key", key, "X-Chaff", "1")
	for i := 0; i < 4; i++ {
		e.gPost(t, "/api/verify", gVerifyRequest{Code: "00000000"}, nil, "X-API-Key", key)
	}
	for _, want := range []string{"/api/verify 200", "/api/verify 400", "/api/verify 401", "/api/verify 412", "/api/verify 429",
		"/api/certificate 200", "/api/certificate 400", "/v1/publish 200", "/v1/publish 400", "/v1/publish 401", "/v1/publish 413"} {
		if !checker.seen[want] {
			t.Errorf("no answer %s was checked", want)
		}
	}
}
