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
type RateLimits struct {
	Callback Limit // per browser session (client IP when there is none)
	Retry    Limit // per browser session (client IP when there is none)
	Refresh  Limit // per browser session (client IP when there is none)
	Delete   Limit // per browser session (client IP when there is none)
}

// DefaultRateLimits allow a person and a QA tester everything they do by hand,
// and stop scripts that hammer the routes.
var DefaultRateLimits = RateLimits{
	Callback: Limit{PerMinute: 30, Burst: 10},
	Retry:    Limit{PerMinute: 6, Burst: 3},
	Refresh:  Limit{PerMinute: 6, Burst: 3},
	Delete:   Limit{PerMinute: 10, Burst: 5},
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

// sessionOrIP identifies a browser by its session, or by address without one.
func (h *Handler) sessionOrIP(c echo.Context) string {
	if sid := h.session(c).get(keySessionID); sid != "" {
		return "s:" + sid
	}
	return "ip:" + clientIP(c)
}
