package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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
	keyRotated   = "rot" // the tag whose redirect last gave this session a new id (see rotateSession)
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

// set stores value under key; the session must then be saved.
func (b *browserSession) set(key, value string) { b.s.Values[key] = value }

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

// rotateSession gives the browser a new session id when it links an
// account, so that a session cookie planted by someone else (session
// fixation) cannot read the summary: the planted cookie keeps the old id,
// which owns nothing any more. The new id is derived from the old one and the
// Connect tag with a server key, so the redirect's duplicates (a reload, the
// iframe's and the top window's arriving together, with the old cookie)
// agree on it; once rotated for a tag, the session keeps its id. The old
// id's links follow. It returns the id to create the link under.
func (h *Handler) rotateSession(c echo.Context, sess *browserSession, tag string) (string, error) {
	old := sess.get(keySessionID)
	if old != "" && sess.get(keyRotated) == tag {
		return old, nil
	}
	m := hmac.New(sha256.New, h.cfg.SessionKey)
	m.Write([]byte(old + "\x00" + tag))
	next := base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
	if old != "" {
		if _, err := h.store.MoveSessionLinks(c.Request().Context(), old, next); err != nil {
			return "", err
		}
	}
	sess.s.Values[keySessionID], sess.s.Values[keyRotated] = next, tag
	if err := sess.save(c); err != nil {
		return "", err
	}
	return next, nil
}

// randomToken returns 128 random bits, URL-safe.
func randomToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
