package parking_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"flinkslink/handlers/parking"
)

// server is an http.Server on a Lot whose handler parks every GET to
// /wait until the test wakes it (or its wait runs out), and answers it with
// "woken" or "resumed" when it is served again.
type server struct {
	lot  *parking.Lot
	srv  *http.Server
	url  string
	mu   sync.Mutex
	wake []func()
	// notParked counts requests Park refused.
	notParked int
	released  chan struct{}
}

func startServer(t *testing.T, wait time.Duration, h2c bool) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{lot: parking.NewLot(ln), url: "http://" + ln.Addr().String(), released: make(chan struct{}, 1000)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /wait", func(w http.ResponseWriter, r *http.Request) {
		if parking.Resumed(r) {
			io.WriteString(w, "resumed")
			return
		}
		wake, err := s.lot.Park(w, r, wait, func() { s.released <- struct{}{} })
		if err != nil {
			s.mu.Lock()
			s.notParked++
			s.mu.Unlock()
			io.WriteString(w, "not parked")
			return
		}
		s.mu.Lock()
		s.wake = append(s.wake, wake)
		s.mu.Unlock()
	})
	mux.HandleFunc("GET /now", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "now") })
	s.lot.SetHandler(mux)
	s.srv = &http.Server{Handler: mux}
	if h2c {
		s.srv.Protocols = new(http.Protocols)
		s.srv.Protocols.SetHTTP1(true)
		s.srv.Protocols.SetUnencryptedHTTP2(true)
	}
	go s.srv.Serve(s.lot)
	t.Cleanup(func() {
		s.srv.Close()
		s.lot.Wait(context.Background())
	})
	return s
}

// parkedAtLeast waits (hang guard) until n requests are parked.
func (s *server) parked(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for s.lot.Parked() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests parked, want %d", s.lot.Parked(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *server) wakeAll() {
	s.mu.Lock()
	wake := s.wake
	s.wake = nil
	s.mu.Unlock()
	for _, w := range wake {
		w()
	}
}

type result struct {
	body   string
	reused bool
	close  bool
	err    error
}

// get sends a GET in the background; the answer says whether it came on a
// reused connection.
func get(c *http.Client, url string) <-chan result {
	out := make(chan result, 1)
	go func() {
		var reused bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		out <- result{body: string(b), reused: reused, close: resp.Close, err: err}
	}()
	return out
}

func await(t *testing.T, ch <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		return r
	case <-time.After(time.Minute):
		t.Fatalf("%s: no answer", what)
		return result{}
	}
}

// serverGoroutines counts the goroutines net/http runs for connections.
func serverGoroutines() int {
	buf := make([]byte, 1<<24)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "net/http.(*conn).serve(")
}

// A parked request holds no server goroutine; woken, it is served again and
// answered, and its connection carries the client's next request.
func TestParkedRequestHoldsNoGoroutineAndKeepsItsConnection(t *testing.T) {
	s := startServer(t, time.Hour, false)
	const n = 100
	clients := make([]*http.Client, n)
	waits := make([]<-chan result, n)
	for i := range clients {
		clients[i] = &http.Client{Transport: &http.Transport{}}
		waits[i] = get(clients[i], s.url+"/wait")
	}
	s.parked(t, n)
	if g := serverGoroutines(); g != 0 {
		t.Errorf("%d net/http connection goroutines while %d requests are parked, want 0", g, n)
	}
	s.wakeAll()
	for i, w := range waits {
		r := await(t, w, "woken request")
		if r.body != "resumed" || r.close {
			t.Fatalf("woken request %d: %q (close %v), want the handler's answer on a kept connection", i, r.body, r.close)
		}
	}
	for i, c := range clients {
		r := await(t, get(c, s.url+"/now"), "next request")
		if r.body != "now" || !r.reused {
			t.Fatalf("next request %d: %q, reused connection %v: want the same connection", i, r.body, r.reused)
		}
	}
	if got := len(s.released); got != n {
		t.Errorf("release ran %d times, want once per parked request (%d)", got, n)
	}
}

// A parked request that nothing wakes is answered when its wait runs out.
func TestParkedRequestIsAnsweredWhenItsWaitRunsOut(t *testing.T) {
	s := startServer(t, 50*time.Millisecond, false)
	c := &http.Client{Transport: &http.Transport{}}
	r := await(t, get(c, s.url+"/wait"), "request whose wait ran out")
	if r.body != "resumed" {
		t.Errorf("answer %q, want the handler's", r.body)
	}
	if s.lot.Parked() != 0 {
		t.Errorf("%d still parked", s.lot.Parked())
	}
}

// A shutdown answers the parked requests at once, closing their
// connections, and refuses to park more.
func TestShutdownAnswersParkedRequests(t *testing.T) {
	s := startServer(t, time.Hour, false)
	c := &http.Client{Transport: &http.Transport{}}
	w := get(c, s.url+"/wait")
	s.parked(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	r := await(t, w, "request parked at shutdown")
	if r.body != "resumed" || !r.close {
		t.Errorf("answer %q (close %v), want the handler's with Connection: close", r.body, r.close)
	}
	if err := s.lot.Wait(ctx); err != nil {
		t.Errorf("answers not written: %v", err)
	}
}

// HTTP/2 has no connection to take: Park refuses, and the handler answers
// as usual.
func TestHTTP2RequestsAreNotParked(t *testing.T) {
	s := startServer(t, time.Hour, true)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	r := await(t, get(&http.Client{Transport: tr}, s.url+"/wait"), "h2c request")
	if r.body != "not parked" {
		t.Errorf("answer %q, want the handler's own", r.body)
	}
	if s.notParked != 1 {
		t.Errorf("Park refused %d requests, want 1", s.notParked)
	}
	if _, err := s.lot.Park(nil, &http.Request{ProtoMajor: 2, Method: http.MethodGet}, time.Second, nil); !errors.Is(err, parking.ErrNotParked) {
		t.Errorf("Park of an HTTP/2 request: %v", err)
	}
}
