package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// sessionName is the cookie that carries the browser's session.
const sessionName = "flinkslink"

// Session keys. Values are strings, so no gob registration is needed.
const (
	keySessionID = "sid" // owns the browser's links
	keyTag       = "tag" // the Connect tag issued to this browser, checked on redirect like OAuth's state
)

// browserSession is the typed view of the session cookie.
type browserSession struct {
	s *sessions.Session
}

// session loads the browser's session. A cookie that no longer decodes (rotated
// keys, tampering) yields a fresh session rather than an error: the person just
// starts over, and their old links stay unreachable to anyone else.
func (h *Handler) session(c echo.Context) *browserSession {
	s, err := h.sessions.Get(c.Request(), sessionName)
	if err != nil {
		h.log.Debug("session cookie discarded", "err", err)
		s, _ = h.sessions.New(c.Request(), sessionName)
	}
	s.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   30 * 24 * 3600,
		HttpOnly: true,
		Secure:   h.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	return &browserSession{s: s}
}

func (b *browserSession) get(key string) string {
	v, _ := b.s.Values[key].(string)
	return v
}

// ensure returns the value under key, creating a random one when missing; the
// bool reports whether the session changed and must be saved.
func (b *browserSession) ensure(key string) (string, bool, error) {
	if v := b.get(key); v != "" {
		return v, false, nil
	}
	v, err := randomToken()
	if err != nil {
		return "", false, err
	}
	b.s.Values[key] = v
	return v, true, nil
}

// save writes the cookie; it must run before anything is written to the response.
func (b *browserSession) save(c echo.Context) error {
	if err := b.s.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// randomToken returns 128 random bits, URL-safe.
func randomToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
