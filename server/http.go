package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
)

const (
	// responseSize is the padded size of every API response, real or chaff.
	responseSize = 1024
	maxBodyBytes = 64 << 10
)

// Handler returns the HTTP API, the export files, /healthz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle := func(route string, h func(ctx context.Context, body []byte) (any, error)) {
		opt := apiOptions{publish: route == api.PathPublish}
		if opt.publish {
			// Up to 30 key rejections do not fit in 1024 bytes: a real
			// answer longer than chaff's would tell it apart.
			opt.responseSize = publishResponseSize
		}
		mux.Handle("POST "+route, s.instrument(route, s.apiHandler(h, opt)))
	}
	// Verification alone is limited: it is where codes can be guessed;
	// certificates and uploads need what a verification gave.
	mux.Handle("POST "+api.PathVerify, s.instrument(api.PathVerify, s.apiHandler(func(ctx context.Context, body []byte) (any, error) {
		var req api.VerifyRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return s.Verify(ctx, req.Code)
	}, apiOptions{limited: true})))
	handle(api.PathCertificate, func(ctx context.Context, body []byte) (any, error) {
		var req api.CertificateRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return s.Certificate(ctx, req.Token, req.KeyHMAC)
	})
	handle(api.PathPublish, func(ctx context.Context, body []byte) (any, error) {
		var req api.PublishRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return s.Publish(ctx, &req)
	})
	s.appAPIRoutes(mux)
	mux.Handle("GET /exports/{name...}", s.instrument("/exports", http.HandlerFunc(s.serveExport)))
	mux.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.db.Ping(r.Context()); err != nil {
			// The answer is public: the error (a PostgreSQL one names the
			// database's host and user) goes to the log only.
			s.log.ErrorContext(r.Context(), "healthz", "err", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	// A person who types the server's address wants the portal.
	mux.Handle("GET /{$}", http.RedirectHandler("/portal/", http.StatusFound))
	s.portalRoutes(mux)
	s.callbackRoutes(mux)
	return s.commonHeaders(mux)
}

// hstsMaxAge is a year, what browsers' preload lists ask for.
const hstsMaxAge = "max-age=31536000"

// commonHeaders sets what every response carries: nosniff, so that no
// browser takes an export file or a padded JSON answer for a page, and,
// when browsers reach us over TLS, Strict-Transport-Security, so that
// they never fall back to plain HTTP.
func (s *Server) commonHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if s.overTLS(r) {
			w.Header().Set("Strict-Transport-Security", hstsMaxAge)
		}
		h.ServeHTTP(w, r)
	})
}

func decode(body []byte, v any) error { return decodeJSON(body, v, true) }

// decodeLenient ignores unknown members: the EN API's apps send fields of
// later versions of Google's types, which its servers ignore too.
func decodeLenient(body []byte, v any) error { return decodeJSON(body, v, false) }

func decodeJSON(body []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return apiErr(400, "bad_request", "the body is not the expected JSON: %v", err)
	}
	// One value per body: what follows would otherwise be ignored unseen.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apiErr(400, "bad_request", "the body has data after its JSON value")
	}
	return nil
}

// apiOptions set how apiHandler treats one endpoint.
type apiOptions struct {
	// limited: every request, chaff or real, is counted against the
	// verification limits first.
	limited bool
	// publish: chaff is counted among the uploads of the metrics, so that
	// they do not tell how many of the answered requests were fake.
	publish bool
	// apiKey: the request must carry a registered app's X-API-Key (checked
	// first, for chaff as for real requests).
	apiKey bool
	// render writes refusals in the endpoint's API's shape (nil: api.Error).
	render func(*APIError) (int, any)
	// responseSize pads every answer, real and chaff (0: responseSize).
	responseSize int
}

// fail writes a refusal in the endpoint's shape, padded like its answers.
func (o apiOptions) fail(w http.ResponseWriter, e *APIError) {
	if o.render == nil {
		writeJSONSize(w, e.Status, &e.Body, o.size())
		return
	}
	status, body := o.render(e)
	writeJSONSize(w, status, body, o.size())
}

func (o apiOptions) size() int {
	if o.responseSize > 0 {
		return o.responseSize
	}
	return responseSize
}

// isChaff says whether a request is fake: X-Bluezone-Chaff: 1, or X-Chaff
// with any value (as Google's servers read it).
func isChaff(r *http.Request) bool {
	return r.Header.Get(api.ChaffHeader) == api.ChaffFake || r.Header.Get(api.ENChaffHeader) != ""
}

// apiHandler reads the body, answers chaff, and writes padded JSON. Chaff
// answers take about as long as the endpoint's recent real answers.
func (s *Server) apiHandler(h func(ctx context.Context, body []byte) (any, error), opt apiOptions) http.Handler {
	limited := opt.limited
	delay := newChaffDelay(time.Duration(s.cfg.ChaffResponseMs) * time.Millisecond)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set("Cache-Control", "no-store")
		if opt.apiKey {
			if _, err := s.checkAPIKey(r.Context(), r); err != nil {
				s.apiFailed(w, r, opt, err)
				return
			}
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			opt.fail(w, apiErr(413, "body_too_large", "the body exceeds %d bytes", maxBodyBytes))
			return
		}
		chaff := isChaff(r)
		var attempt verifyAttempt
		if limited {
			var ok bool
			if attempt, ok = s.takeVerifyAttempt(w, r, chaff, opt); !ok {
				return
			}
		}
		end := func(o verifyOutcome) {
			if limited {
				s.endVerifyAttempt(r.Context(), attempt, o)
			}
		}
		if chaff {
			end(verifyChaff)
			if opt.publish {
				s.metrics.publishes.Inc()
			}
			// Same size, the latency of real answers, nothing stored.
			t := time.NewTimer(time.Until(start.Add(delay.draw())))
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
			writeJSONSize(w, http.StatusOK, struct{}{}, opt.size())
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			end(verifyFailed)
			opt.fail(w, apiErr(415, "bad_content_type", "send Content-Type: application/json"))
			return
		}
		resp, err := h(r.Context(), body)
		var ae *APIError
		switch {
		case errors.As(err, &ae):
			end(verifyFailed)
		case err != nil:
			end(verifyBroken)
		default:
			end(verifySucceeded)
			// Chaff imitates successful answers: those are what a real
			// upload, which chaff stands for, gets.
			delay.observe(time.Since(start))
			writeJSONSize(w, http.StatusOK, resp, opt.size())
			return
		}
		s.apiFailed(w, r, opt, err)
	})
}

// apiFailed counts and writes an error of an API endpoint.
func (s *Server) apiFailed(w http.ResponseWriter, r *http.Request, opt apiOptions, err error) {
	var ae *APIError
	if !errors.As(err, &ae) {
		s.log.ErrorContext(r.Context(), "api", "path", r.URL.Path, "err", err)
		ae = apiErr(500, "internal", "the server could not answer; try again later")
	}
	s.metrics.errors.WithLabelValues(ae.Body.Code).Inc()
	opt.fail(w, ae)
}

// writeJSON writes v padded to responseSize, so that response sizes reveal
// nothing about the outcome.
func writeJSON(w http.ResponseWriter, status int, v any) { writeJSONSize(w, status, v, responseSize) }

func writeJSONSize(w http.ResponseWriter, status int, v any, size int) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{}`)
	}
	b = api.Pad(b, size)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	data, err := s.blobs.Get(r.Context(), name)
	if errors.Is(err, blob.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "serve export", "name", name, "err", err)
		http.Error(w, "storage error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", blob.CacheControl(name))
	w.Header().Set("Content-Type", blob.ContentType(name))
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(data))
}

// statusWriter counts a request when its status is written, before its
// body: a body larger than the server's write buffer (publish answers'
// 8192 bytes) reaches the client before the handler returns, and a client
// reading /metrics right after its answer must see it counted.
type statusWriter struct {
	http.ResponseWriter
	count   func(status int)
	counted bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.counted {
		w.counted = true
		w.count(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.counted {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, count: func(status int) {
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		}}
		h.ServeHTTP(sw, r)
		if !sw.counted { // nothing written: 200
			sw.count(http.StatusOK)
		}
	})
}
