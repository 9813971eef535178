// Package parking holds HTTP/1.1 requests that wait for an event (long
// polls) with no goroutine and no buffers: the connection is taken from
// net/http, kept as a bare socket with a timer, and when the request is to
// be answered it is served again through the same handler, its answer is
// written to the socket, and the connection goes back to the server through
// the listener to carry the client's next request (keep-alive holds).
//
// net/http keeps two goroutines and two 4 KB buffers per waiting request (the
// handler and the connection's background read): about 50 KB each, 500 MB for
// 10,000 waiting browsers. A parked one keeps its socket, its request and a
// timer.
//
// HTTP/2 streams cannot be taken over: Park refuses them (ErrNotParked) and
// the caller waits as before. A Lot wraps a plain TCP listener, not a TLS
// one: a connection handed back is served as it came.
package parking

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrNotParked is Park's answer for a request it cannot hold: not HTTP/1.1
// (HTTP/2 has no connection to take), not a GET, already answered, or the
// Lot is closing. The caller answers it in the usual way.
var ErrNotParked = errors.New("parking: request not parked")

// writeTimeout bounds the write of a parked request's answer: a client that
// does not read it loses its connection instead of holding a goroutine.
const writeTimeout = 10 * time.Second

// Lot is a net.Listener around the server's own: it accepts the server's
// connections and hands back those whose parked request was answered. Give
// it to http.Server.Serve, and the server's handler to SetHandler.
type Lot struct {
	inner    net.Listener
	handler  http.Handler
	accepted chan accepted
	back     chan net.Conn
	closing  chan struct{}
	start    sync.Once
	stop     sync.Once
	// resumed marks a request served again: the handler answers it at once.
	resumed context.Context

	mu       sync.Mutex
	parked   map[*parked]struct{}
	draining bool
	answers  sync.WaitGroup
}

type accepted struct {
	conn net.Conn
	err  error
}

// NewLot wraps ln. Set the handler before the first request is parked.
func NewLot(ln net.Listener) *Lot {
	return &Lot{
		inner:    ln,
		accepted: make(chan accepted),
		back:     make(chan net.Conn),
		closing:  make(chan struct{}),
		resumed:  context.WithValue(context.Background(), resumedKey{}, true),
		parked:   map[*parked]struct{}{},
	}
}

// SetHandler is what serves a parked request again when it is answered:
// the server's handler, with its middleware.
func (l *Lot) SetHandler(h http.Handler) { l.handler = h }

// Accept returns the next new connection, or one whose parked request was
// answered and that waits for its client's next request.
func (l *Lot) Accept() (net.Conn, error) {
	l.start.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.back:
		return c, nil
	case a := <-l.accepted:
		return a.conn, a.err
	case <-l.closing:
		return nil, net.ErrClosed
	}
}

// acceptLoop runs the inner listener's Accept, so that Accept can wait for
// a new connection and a handed-back one at once.
func (l *Lot) acceptLoop() {
	for {
		c, err := l.inner.Accept()
		select {
		case l.accepted <- accepted{c, err}:
		case <-l.closing:
			if c != nil {
				c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Close stops accepting and answers every parked request at once, with
// "Connection: close". http.Server.Shutdown and Close call it first; Wait
// until the answers are written.
func (l *Lot) Close() error {
	err := l.inner.Close()
	l.stop.Do(func() { close(l.closing) })
	l.Drain()
	return err
}

// Addr is the inner listener's address.
func (l *Lot) Addr() net.Addr { return l.inner.Addr() }

// Drain answers every parked request now, and refuses to park more: the
// server is stopping.
func (l *Lot) Drain() {
	l.mu.Lock()
	l.draining = true
	all := make([]*parked, 0, len(l.parked))
	for p := range l.parked {
		all = append(all, p)
	}
	l.mu.Unlock()
	for _, p := range all {
		p.answer()
	}
}

// Wait blocks until every answer that was started is written, or ctx ends.
func (l *Lot) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { l.answers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Parked is how many requests are parked now.
func (l *Lot) Parked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.parked)
}

type resumedKey struct{}

// Resumed reports whether the request is a parked one served again: the
// handler answers it at once, with things as they are now.
func Resumed(r *http.Request) bool { return r.Context().Value(resumedKey{}) != nil }

// Park takes the request's connection from net/http and holds it until
// wake is called or wait runs out (or the Lot drains); then it serves the
// request again through the handler, marked Resumed, and writes that answer.
// release runs once, when the wait ends, to drop what the caller subscribed.
//
// After a nil error the handler must return without writing anything. With
// ErrNotParked nothing was taken: the caller answers as usual.
func (l *Lot) Park(w http.ResponseWriter, r *http.Request, wait time.Duration, release func()) (wake func(), err error) {
	if l == nil || l.handler == nil || r.ProtoMajor != 1 || r.ProtoMinor < 1 || r.Method != http.MethodGet || Resumed(r) {
		return nil, ErrNotParked
	}
	l.mu.Lock()
	draining := l.draining
	l.mu.Unlock()
	if draining {
		return nil, ErrNotParked
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, ErrNotParked
	}
	if n := rw.Reader.Buffered(); n > 0 {
		// The client already sent more: keep those bytes for the server
		// that reads this connection next.
		early, _ := rw.Reader.Peek(n)
		conn = &prefixed{Conn: conn, early: bytes.Clone(early)}
	}
	p := &parked{lot: l, conn: conn, release: release,
		req: r.WithContext(l.resumed), keepAlive: !r.Close}
	p.req.Body = http.NoBody
	l.mu.Lock()
	p.timer = time.AfterFunc(wait, p.answer) // under the lock that answer takes first
	if !p.answered {                         // a wait of (nearly) nothing may have run out already
		l.parked[p] = struct{}{}
	}
	draining = l.draining
	l.mu.Unlock()
	if draining { // Drain ran while the connection was being taken
		p.answer()
	}
	return p.answer, nil
}

// parked is one held request.
type parked struct {
	lot       *Lot
	conn      net.Conn
	req       *http.Request
	keepAlive bool
	timer     *time.Timer // under lot.mu
	release   func()
	once      sync.Once
	answered  bool // under lot.mu
}

// answer serves the request again and writes the answer, once, on a
// goroutine of its own (it is called from timers and from the store's
// notifications, which must not block).
func (p *parked) answer() {
	p.once.Do(func() {
		l := p.lot
		l.mu.Lock()
		delete(l.parked, p)
		p.answered = true
		closing := l.draining
		timer := p.timer
		l.answers.Add(1)
		l.mu.Unlock()
		if timer != nil {
			timer.Stop()
		}
		if p.release != nil {
			p.release()
		}
		go func() {
			defer l.answers.Done()
			p.respond(closing || !p.keepAlive)
		}()
	})
}

// respond writes the handler's answer and hands the connection back to the
// server, or closes it.
func (p *parked) respond(closeAfter bool) {
	l := p.lot
	rec := &recorder{header: http.Header{}}
	l.handler.ServeHTTP(rec, p.req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.header.Get("Date") == "" {
		rec.header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	resp := &http.Response{
		StatusCode: rec.status, ProtoMajor: 1, ProtoMinor: 1, Request: p.req,
		Header: rec.header, ContentLength: int64(rec.body.Len()),
		Body: io.NopCloser(&rec.body), Close: closeAfter,
	}
	var out bytes.Buffer
	out.Grow(rec.body.Len() + 512)
	err := resp.Write(&out)
	if err == nil {
		p.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err = p.conn.Write(out.Bytes())
		p.conn.SetWriteDeadline(time.Time{})
	}
	if err != nil || closeAfter {
		p.conn.Close()
		return
	}
	select {
	case l.back <- p.conn:
	case <-l.closing:
		p.conn.Close()
	}
}

// recorder is the answer of a request served again, kept whole so that it
// is written with its length.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// prefixed is a connection with bytes already read from it.
type prefixed struct {
	net.Conn
	early []byte
}

func (c *prefixed) Read(b []byte) (int, error) {
	if len(c.early) > 0 {
		n := copy(b, c.early)
		c.early = c.early[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}
