package sim

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bluezone-vn/bluezone/api"
)

// cdn stands for the content delivery network in front of the server's
// export directory: the server answers each path once per publication and
// phones get the CDN's copy, as at national scale. purge is called whenever
// the server publishes.
type cdn struct {
	next     http.RoundTripper
	requests atomic.Int64 // export requests answered
	mu       sync.Mutex
	cache    map[string]*cdnEntry
}

type cdnEntry struct {
	once   sync.Once
	status int
	header http.Header
	body   []byte
	err    error
}

func newCDN(next http.RoundTripper) *cdn { return &cdn{next: next, cache: map[string]*cdnEntry{}} }

func (c *cdn) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.cache)
}

func (c *cdn) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, api.PathExports) {
		return c.next.RoundTrip(r)
	}
	c.requests.Add(1)
	c.mu.Lock()
	e, ok := c.cache[r.URL.String()]
	if !ok {
		e = &cdnEntry{}
		c.cache[r.URL.String()] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		resp, err := c.next.RoundTrip(r.Clone(r.Context()))
		if err != nil {
			e.err = err
			return
		}
		defer resp.Body.Close()
		e.status, e.header = resp.StatusCode, resp.Header
		e.body, e.err = io.ReadAll(resp.Body)
	})
	if e.err != nil {
		c.mu.Lock()
		delete(c.cache, r.URL.String()) // try the origin again next time
		c.mu.Unlock()
		return nil, e.err
	}
	return &http.Response{StatusCode: e.status, Status: fmt.Sprintf("%d %s", e.status, http.StatusText(e.status)), Header: e.header.Clone(),
		Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)), Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// countingTransport counts requests and the bytes downloaded.
type countingTransport struct {
	next     http.RoundTripper
	requests atomic.Int64
	bytes    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	resp, err := c.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && resp.ContentLength > 0 {
		c.bytes.Add(resp.ContentLength)
	}
	return resp, err
}
