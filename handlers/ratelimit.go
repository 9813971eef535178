package handlers

import (
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst requests at once, refilled at PerMinute.
type Limit struct {
	PerMinute float64
	Burst     int
}

// RateLimits bounds the routes that create work: each redirect may start a
// Flinks fetch, each "Try again" and "Refresh data" does, each "Delete" calls
// Flinks' DeleteCard.
//
// A fresh session costs nothing, so the routes that spend Flinks calls are
// also bounded per client IP and for the whole server: no visitor, however
// many cookies they throw away, can spend the app's Flinks quota.
type RateLimits struct {
	Callback Limit // per browser session (client IP when there is none)
	Retry    Limit // per browser session (client IP when there is none)
	Refresh  Limit // per browser session (client IP when there is none)
	Delete   Limit // per browser session (client IP when there is none)

	CallbackPerIP  Limit // redirects (each may start a fetch) per client IP
	CallbackGlobal Limit // redirects for the whole server
	TokenPerIP     Limit // landing pages that mint a Flinks authorize token, per client IP
	TokenGlobal    Limit // authorize tokens minted by the whole server
	// Off disables every limit: for load tests on 127.0.0.1 only (RATE_LIMITS=off).
	Off bool
}

// DefaultRateLimits allow a person and a QA tester everything they do by hand,
// and stop scripts that hammer the routes.
var DefaultRateLimits = RateLimits{
	Callback: Limit{PerMinute: 30, Burst: 10},
	Retry:    Limit{PerMinute: 6, Burst: 3},
	Refresh:  Limit{PerMinute: 6, Burst: 3},
	Delete:   Limit{PerMinute: 10, Burst: 5},

	CallbackPerIP:  Limit{PerMinute: 60, Burst: 30},
	CallbackGlobal: Limit{PerMinute: 1200, Burst: 200},
	TokenPerIP:     Limit{PerMinute: 60, Burst: 30},
	TokenGlobal:    Limit{PerMinute: 600, Burst: 100},
}

// limiter is a token bucket per identifier, for limits checked inside a
// handler (the landing page mints a token only when it may).
type limiter struct {
	store *middleware.RateLimiterMemoryStore
}

func newLimiter(l Limit) limiter {
	return limiter{middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate:      rate.Limit(l.PerMinute / 60),
		Burst:     l.Burst,
		ExpiresIn: 10 * time.Minute,
	})}
}

func (l limiter) allow(id string) bool {
	ok, err := l.store.Allow(id)
	return ok && err == nil
}

// everyone is the identifier of a server-wide limit.
func everyone(echo.Context) string { return "all" }

// rateLimits returns one middleware enforcing every limit in order, each per
// its identifier; with off, none.
func rateLimits(off bool, limits ...struct {
	l  Limit
	id func(echo.Context) string
}) []echo.MiddlewareFunc {
	if off {
		return nil
	}
	var out []echo.MiddlewareFunc
	for _, x := range limits {
		out = append(out, rateLimit(x.l, x.id))
	}
	return out
}

// per pairs a limit with what it counts by.
func per(l Limit, id func(echo.Context) string) struct {
	l  Limit
	id func(echo.Context) string
} {
	return struct {
		l  Limit
		id func(echo.Context) string
	}{l, id}
}

// rateLimit returns a middleware enforcing l per identifier.
func rateLimit(l Limit, id func(c echo.Context) string) echo.MiddlewareFunc {
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate:      rate.Limit(l.PerMinute / 60),
		Burst:     l.Burst,
		ExpiresIn: 10 * time.Minute,
	})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return id(c), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "60")
			return errTooMany
		},
		ErrorHandler: func(echo.Context, error) error { return errTooMany },
	})
}

// clientIP is the address of the peer. Forwarded-for headers are not trusted:
// behind a proxy every client would otherwise choose its own identity.
func clientIP(c echo.Context) string { return echo.ExtractIPDirect()(c.Request()) }

// ipOf is clientIP as a limiter identifier.
func ipOf(c echo.Context) string { return "ip:" + clientIP(c) }

// sessionOrIP identifies a browser by its session, or by address without one.
func (h *Handler) sessionOrIP(c echo.Context) string {
	if sid := h.session(c).get(keySessionID); sid != "" {
		return "s:" + sid
	}
	return "ip:" + clientIP(c)
}
