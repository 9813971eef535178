package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/sessions"
)

// TestSessionCookiesAreJSONAndOldOnesStillRead: new cookies are JSON (cheap
// to decode: a third of gob's allocations), and a cookie an earlier version
// wrote as gob still opens its session, so an upgrade loses nobody's links.
func TestSessionCookiesAreJSONAndOldOnesStillRead(t *testing.T) {
	auth, enc := make([]byte, 32), make([]byte, 32)
	enc[0] = 1
	values := map[any]any{keySessionID: "sid-123", keyTag: "tag-456", keyQAPending: "never"}
	cookieOf := func(store sessions.Store) *http.Cookie {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		rec := httptest.NewRecorder()
		s, _ := store.New(req, sessionName)
		for k, v := range values {
			s.Values[k] = v
		}
		if err := s.Save(req, rec); err != nil {
			t.Fatal(err)
		}
		return rec.Result().Cookies()[0]
	}
	read := func(store sessions.Store, c *http.Cookie) (*sessions.Session, error) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(c)
		return store.Get(req, sessionName)
	}
	ours := NewCookieStore(auth, enc)
	gobOnly := sessions.NewCookieStore(auth, enc)

	fresh := cookieOf(ours)
	if _, err := read(gobOnly, fresh); err == nil {
		t.Error("a new cookie decodes as gob: it was not written as JSON")
	}
	s, err := read(ours, fresh)
	if err != nil || s.Values[keySessionID] != "sid-123" || s.Values[keyQAPending] != "never" {
		t.Errorf("new cookie reads back %v, %v", s.Values, err)
	}
	old := cookieOf(gobOnly)
	if s, err := read(ours, old); err != nil || s.Values[keySessionID] != "sid-123" || s.Values[keyTag] != "tag-456" {
		t.Errorf("a gob cookie from an earlier version reads back %v, %v", s.Values, err)
	}
	// What decoding one cookie costs, in allocations (deterministic, unlike time).
	jsonAllocs := testing.AllocsPerRun(50, func() { read(ours, fresh) })
	gobAllocs := testing.AllocsPerRun(50, func() { read(gobOnly, old) })
	t.Logf("allocations to read a session: JSON %.0f, gob %.0f", jsonAllocs, gobAllocs)
	if jsonAllocs >= gobAllocs {
		t.Errorf("reading a JSON session allocates %.0f times, gob %.0f: no cheaper", jsonAllocs, gobAllocs)
	}
}
