package phone

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the bytes each connection receives: with one
// request a connection, that is the request's whole size on the wire,
// request line and headers included.
type countingListener struct {
	net.Listener
	mu    sync.Mutex
	sizes []*atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := new(atomic.Int64)
	l.mu.Lock()
	l.sizes = append(l.sizes, n)
	l.mu.Unlock()
	return &countingConn{Conn: c, n: n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	k, err := c.Conn.Read(b)
	c.n.Add(int64(k))
	return k, err
}

// TestChaffIsTheSameSizeOnTheWire: a chaff request is as many bytes on the
// wire as the real request it stands for, headers included (the chaff
// header once made fake requests 20 bytes longer).
func TestChaffIsTheSameSizeOnTheWire(t *testing.T) {
	h := &appAPI{}
	srv := httptest.NewUnstartedServer(h)
	cl := &countingListener{Listener: srv.Listener}
	srv.Listener = cl
	srv.Start()
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, HTTP: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	e := newPhone(t, -8)
	now := day0.Add(3*24*time.Hour + 9*time.Hour).Unix()
	if _, err := e.Advertisement(day0.Unix() + 3600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Upload(context.Background(), c, "12345678", now); err != nil {
		t.Fatal(err)
	}
	if err := e.SendChaff(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	srv.Close() // every connection done and counted
	if len(cl.sizes) != 6 || len(h.seen) != 6 {
		t.Fatalf("%d connections, %d requests; want 3 real and 3 chaff, one a connection", len(cl.sizes), len(h.seen))
	}
	for i := range 3 {
		real, fake := cl.sizes[i].Load(), cl.sizes[i+3].Load()
		if real != fake || h.seen[i].chaff || !h.seen[i+3].chaff {
			t.Errorf("%s: real request %d bytes on the wire, chaff %d; want the same", h.seen[i].path, real, fake)
		}
	}
}
