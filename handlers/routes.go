package handlers

import (
	"io/fs"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// SandboxPrefix is where main mounts the embedded Flinks sandbox. The app's own
// middleware (CSRF, CSP, body limits) leaves those paths alone: the sandbox
// plays a third-party service with rules of its own.
const SandboxPrefix = "/sandbox"

// Routes registers every route of the app and its middleware on e. assets is
// the embedded static tree (see package static).
func (h *Handler) Routes(e *echo.Echo, assets fs.FS) {
	e.HTTPErrorHandler = h.HandleError
	// The GET routes answer HEAD too (monitors and link checkers use it),
	// but for those that spend Flinks calls;
	// net/http sends the headers without the body.
	get := func(path string, handler echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		e.Match([]string{http.MethodGet, http.MethodHead}, path, handler, m...)
	}
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}))
	e.Use(h.requestLogger())
	// Before the body limit, so that its 413 carries them too.
	e.Use(h.securityHeaders)
	// A webhook may be as large as a data answer: its handler bounds it.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Skipper: skip(isSandboxPath, isWebhookPath), Limit: "64K"}))
	// Text answers are compressed (the landing page: 64 KB, 21 KB gzipped);
	// small ones are not worth it. The sandbox plays Flinks and keeps its own
	// ways. Long polls are not: echo's gzip holds a compressor (hundreds of
	// KB) for the whole request, and thousands of them wait at once.
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{Skipper: skip(isSandboxPath, isWebhookPath, isLongPoll), Level: 5, MinLength: 1024}))
	e.Use(noTokenInURL)
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		// Flinks' webhook is server to server, proven by its signature.
		Skipper:        skip(isSandboxPath, isWebhookPath, isUnrouted),
		TokenLookup:    "header:X-CSRF-Token,form:csrf",
		CookieName:     "_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   h.cfg.SecureCookies,
		CookieSameSite: http.SameSiteLaxMode,
		ErrorHandler:   func(error, echo.Context) error { return errCSRF },
		// A browser that says the request is cross-site is refused outright;
		// same-site requests fall back to the token check.
		AllowSecFetchSiteFunc: func(c echo.Context) (bool, error) {
			if c.Request().Header.Get(echo.HeaderSecFetchSite) == "cross-site" {
				return false, errCSRF
			}
			return false, nil
		},
	}))

	// The landing page with the Connect iframe.
	get("/", h.handleHome)
	// Flinks Connect's redirect after a successful connection (carries the LoginId).
	rl := h.cfg.RateLimits
	e.GET("/connect/callback", h.handleConnectCallback, rateLimits(rl.Off,
		per(rl.Callback, h.sessionOrIP), per(rl.CallbackPerIP, ipOf), per(rl.CallbackGlobal, everyone))...)
	// A fresh Connect URL (new authorize token) for the landing page's frame.
	e.GET(connectFramePath, h.handleConnectFrame) // mints a token: GET only
	// The language switch.
	e.POST("/language", h.handleLanguage)
	// This browser's links.
	get("/links", h.handleLinksIndex)
	// One link: full page, the htmx polling fragment, and "Try again".
	get("/links/:id", h.handleLink)
	get("/links/:id/status", h.handleLinkStatus)
	e.POST("/links/:id/retry", h.handleLinkRetry, rateLimits(rl.Off, per(rl.Retry, h.sessionOrIP))...)
	e.POST("/links/:id/cancel", h.handleLinkCancel)
	// The links list's row fragment and actions: Refresh data, Delete (a
	// confirmation page, then the POST), Start over (a new session).
	get("/links/:id/row", h.handleLinkRow)
	e.POST("/links/:id/refresh", h.handleLinkRefresh, rateLimits(rl.Off, per(rl.Refresh, h.sessionOrIP))...)
	e.POST("/links/:id/refresh-bank", h.handleLinkRefreshFromBank, rateLimits(rl.Off, per(rl.Refresh, h.sessionOrIP))...)
	get("/links/:id/delete", h.handleLinkDeleteConfirm)
	e.POST("/links/:id/delete", h.handleLinkDelete, rateLimits(rl.Off, per(rl.Delete, h.sessionOrIP))...)
	get(startOverPath, h.handleStartOverConfirm)
	e.POST(startOverPath, h.handleStartOver)
	// The sandbox's pending duration, set from the scenario card (sandbox mode only).
	if h.cfg.Sandbox && h.cfg.SandboxPending != nil {
		e.POST(pendingPath, h.handleSandboxPending)
	}
	// One link's Details panel: the timeline's poll target and downloads (a
	// call's masked response body, the whole timeline as JSON).
	get("/links/:id/timeline", h.handleTimeline)
	get("/links/:id/timeline.json", h.handleTimelineDownload)
	get("/links/:id/calls/:call/body", h.handleCallBody)
	// The JSON API for automation (same ownership as the pages; errors in JSON).
	get("/api/links/:id", h.handleAPILink)
	// Flinks' pushes (configured at Flinks): the second path to ready.
	if h.cfg.WebhookSecret != "" && h.webhooks != nil {
		e.POST(WebhookPath, h.handleFlinksWebhook)
	}
	// Liveness for load balancers and tests: 200 when the database answers.
	get("/healthz", h.handleHealthz)

	static := e.Group("/static", cacheForever)
	static.StaticFS("/", assets)
}

// isSandboxPath skips the app's middleware for the embedded sandbox.
func isSandboxPath(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == SandboxPrefix || strings.HasPrefix(p, SandboxPrefix+"/")
}

// isUnrouted reports whether no route takes the request (echo routes before
// this middleware runs): it gets its 404 or 405 rather than a CSRF refusal,
// since there is nothing the token would protect.
func isUnrouted(c echo.Context) bool {
	h := reflect.ValueOf(c.Handler()).Pointer()
	return h == reflect.ValueOf(echo.MethodNotAllowedHandler).Pointer() || h == reflect.ValueOf(echo.NotFoundHandler).Pointer()
}

// noTokenInURL refuses a CSRF token in the query string: echo's form
// lookup would accept it there, and a URL ends up in logs, history and
// Referer headers. The token comes in the form body or the header only.
func noTokenInURL(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isSandboxPath(c) && c.QueryParams().Has("csrf") {
			return errCSRF
		}
		return next(c)
	}
}

// isLongPoll is a request that may wait for its link to change: a status
// poll that names the version it shows (see awaitChange).
func isLongPoll(c echo.Context) bool {
	if !c.QueryParams().Has("v") {
		return false
	}
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/links/") && strings.HasSuffix(p, "/status")
}

// isWebhookPath is Flinks' webhook route.
func isWebhookPath(c echo.Context) bool { return c.Request().URL.Path == WebhookPath }

// skip is a middleware Skipper true when any of skippers is.
func skip(skippers ...func(echo.Context) bool) func(echo.Context) bool {
	return func(c echo.Context) bool {
		for _, s := range skippers {
			if s(c) {
				return true
			}
		}
		return false
	}
}

// cacheForever lets browsers keep static assets: their URLs change with every
// build (views.Asset adds a version), so a stale copy is never used.
func cacheForever(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		return next(c)
	}
}

// securityHeaders sets the browser protections on every app response. The
// Content-Security-Policy allows scripts, styles and frames from this origin
// only, plus the configured Flinks Connect origin as a frame source.
func (h *Handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	frameSrc := "'self'"
	if o := origin(h.cfg.ConnectURL); o != "" {
		frameSrc += " " + o
	}
	csp := strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"frame-src " + frameSrc,
		"frame-ancestors 'self'",
		"form-action 'self'",
		"base-uri 'none'",
		"object-src 'none'",
	}, "; ")
	return func(c echo.Context) error {
		if isSandboxPath(c) {
			return next(c)
		}
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		// The redirect handler's URL carries the LoginId: never send it onwards.
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "SAMEORIGIN")
		if h.cfg.SecureCookies {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// requestLogger logs each request's method, path (never the query string: the
// redirect handler's carries the LoginId), status and latency.
func (h *Handler) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		// The sandbox's API paths carry LoginIds (DeleteCard/{loginId}).
		Skipper:     isSandboxPath,
		LogMethod:   true,
		LogURIPath:  true,
		LogStatus:   true,
		LogLatency:  true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			if c.Get(parkedKey) != nil {
				return nil // logged when it is answered
			}
			h.log.Debug("request", "method", v.Method, "path", v.URIPath, "status", v.Status, "latency", v.Latency)
			return nil
		},
	})
}
