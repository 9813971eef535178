package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// NewCookieStore is the session store: gorilla's cookie store whose cookies
// are written as JSON of string values rather than gob. Gob compiles its
// type description for every cookie it decodes, which was a quarter of a
// status poll's cost; the session holds only strings. Cookies written as gob
// by earlier versions are still read (the second codec), so nobody loses
// their links on an upgrade; each is rewritten as JSON when next saved.
func NewCookieStore(authKey, encKey []byte) *sessions.CookieStore {
	gob := sessions.NewCookieStore(authKey, encKey)
	s := sessions.NewCookieStore(authKey, encKey)
	for i, c := range s.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(stringValues{})
			s.Codecs[i] = &recentCookies{Codec: sc, m: map[string]recentCookie{}}
		}
	}
	s.Codecs = append(s.Codecs, gob.Codecs...)
	s.MaxAge(sessionMaxAge)
	return s
}

// sessionMaxAge is how long a session cookie lives: 30 days.
const sessionMaxAge = 30 * 24 * 3600

// stringValues serializes a session's values, all strings, as a JSON object.
type stringValues struct{}

func (stringValues) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("session: cannot serialize %T", src)
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("session: value %v (%T) is not a string", k, v)
		}
		out[ks] = vs
	}
	return json.Marshal(out)
}

func (stringValues) Deserialize(b []byte, dst any) error {
	values, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("session: cannot deserialize into %T", dst)
	}
	var in map[string]string
	if err := json.Unmarshal(b, &in); err != nil {
		return errors.New("session: not a JSON session")
	}
	if *values == nil {
		*values = make(map[any]any, len(in))
	}
	for k, v := range in {
		(*values)[k] = v
	}
	return nil
}

// recentCookies remembers the session cookies it verified in the last
// minute: a browser sends the same cookie with every poll, and checking its
// HMAC and decrypting it again was a tenth of a status answer. The key is
// the cookie's exact bytes, so only a cookie already verified is taken on
// trust, and only for a minute (its 30-day expiry is then checked again).
type recentCookies struct {
	securecookie.Codec
	mu sync.Mutex
	m  map[string]recentCookie
}

type recentCookie struct {
	values map[string]string
	at     time.Time
}

// Bounds of recentCookies: how long a verification holds, and how many are
// kept (past that, it starts afresh).
const (
	cookieRecheck    = time.Minute
	maxRecentCookies = 20_000
)

func (r *recentCookies) Decode(name, value string, dst any) error {
	values, ok := dst.(*map[any]any)
	if !ok {
		return r.Codec.Decode(name, value, dst)
	}
	key := name + "\x00" + value
	r.mu.Lock()
	e, hit := r.m[key]
	r.mu.Unlock()
	if hit && time.Since(e.at) < cookieRecheck {
		if *values == nil {
			*values = make(map[any]any, len(e.values))
		}
		for k, v := range e.values {
			(*values)[k] = v
		}
		return nil
	}
	if err := r.Codec.Decode(name, value, dst); err != nil {
		return err
	}
	kept := make(map[string]string, len(*values))
	for k, v := range *values {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if !ok1 || !ok2 {
			return nil // not ours to remember
		}
		kept[ks] = vs
	}
	r.mu.Lock()
	if len(r.m) >= maxRecentCookies {
		r.m = make(map[string]recentCookie)
	}
	r.m[key] = recentCookie{values: kept, at: time.Now()}
	r.mu.Unlock()
	return nil
}
