package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"flinkslink/flinks"
	"flinkslink/views"
)

// callbackPath is our redirect handler, the redirectUrl given to Flinks Connect.
const callbackPath = "/connect/callback"

// handleHome renders the landing page with the Flinks Connect iframe.
func (h *Handler) handleHome(c echo.Context) error {
	if c.Request().Method == http.MethodHead {
		// A monitor's check: the page is there; no authorize token is spent on it.
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		return c.NoContent(http.StatusOK)
	}
	sess := h.session(c)
	_, sidNew, err := sess.ensure(keySessionID)
	if err != nil {
		return err
	}
	tag, tagNew, err := sess.ensure(keyTag)
	if err != nil {
		return err
	}
	if sidNew || tagNew {
		if err := sess.save(c); err != nil {
			return err
		}
	}
	// This browser's QA choice reaches the sandbox under the tag its
	// Connect will carry (a new tag, after a Start over, gets it too).
	h.applyPending(c, tag)

	// Each landing page mints a Flinks authorize token: one call to Flinks
	// per view, so views are bounded per client IP and for the server.
	if h.tokens != nil && !h.cfg.RateLimits.Off &&
		(!h.tokenPerIP.allow(ipOf(c)) || !h.tokenGlobal.allow("all")) {
		c.Response().Header().Set("Retry-After", "60")
		return errTooMany
	}
	v := views.HomeView{
		Page:           h.page(c, h.msgs(c).HomeTitle, "home"),
		CallbackPath:   callbackPath,
		FrameURL:       connectFramePath,
		RefreshAfterMs: h.cfg.ConnectRefreshAfter.Milliseconds(),
		Sandbox:        h.cfg.Sandbox,
		Scenarios:      h.cfg.Scenarios,
		Pending:        h.pendingView(c, false),
	}
	// ?reconnect={link}: the link's fetch stopped at the bank's security
	// question; Connect resumes that RequestId so the person answers it.
	var resume string
	if id := c.QueryParam("reconnect"); id != "" {
		if l, err := h.ownedLinkByID(c, id); err == nil && l.ErrorCode == flinks.CodeMFARequired && l.RequestID != "" {
			resume, v.Reconnecting = l.RequestID, true
		}
	}
	connect, err := h.connectURLResuming(c.Request().Context(), c.Request(), tag, h.lang(c), resume)
	if err != nil {
		// The page still renders: the person learns why Connect is missing
		// instead of staring at an empty frame.
		h.log.Error("build connect url", "err", err)
		v.ConnectError = h.msgs(c).ConnectErrorToken
	} else {
		v.ConnectURL = connect.String()
		v.ConnectOrigin = origin(connect)
	}
	return h.render(c, http.StatusOK, views.HomePage(v))
}

// connectFramePath answers a fresh Connect URL for this browser (a new
// authorize token), for the landing page to reload its frame.
const connectFramePath = "/connect/frame"

// handleConnectFrame is GET /connect/frame: {"url": …}, a new Connect URL for
// this browser's session, minting a new authorize token (bounded like the
// landing page's). The page asks for it on TOKEN_INVALID, when the frame sat
// unused long enough for its token to be near expiry, and when the person
// starts again after refusing consent or closing Connect.
func (h *Handler) handleConnectFrame(c echo.Context) error {
	tag := h.session(c).get(keyTag)
	if tag == "" {
		return c.JSON(http.StatusConflict, map[string]string{"error": "no Connect session: reload the page"})
	}
	if h.tokens != nil && !h.cfg.RateLimits.Off &&
		(!h.tokenPerIP.allow(ipOf(c)) || !h.tokenGlobal.allow("all")) {
		c.Response().Header().Set("Retry-After", "60")
		return c.JSON(http.StatusTooManyRequests, map[string]string{"error": "too many requests; wait a minute"})
	}
	connect, err := h.connectURL(c.Request().Context(), c.Request(), tag, h.lang(c))
	if err != nil {
		h.log.Error("build connect url", "err", err)
		return c.JSON(http.StatusBadGateway, map[string]string{"error": h.msgs(c).ConnectErrorToken})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"url": connect.String()})
}

// connectURL builds the Flinks Connect iframe URL for this browser (docs §7.2).
func (h *Handler) connectURL(ctx context.Context, r *http.Request, tag, lang string) (*url.URL, error) {
	return h.connectURLResuming(ctx, r, tag, lang, "")
}

// connectURLResuming is connectURL that, with a RequestId, resumes its
// security question in Connect (requestId, Flinks' "resume" parameter).
func (h *Handler) connectURLResuming(ctx context.Context, r *http.Request, tag, lang, requestID string) (*url.URL, error) {
	u := *h.cfg.ConnectURL
	q := u.Query()
	if requestID != "" {
		q.Set("requestId", requestID)
	}
	q.Set("redirectUrl", h.publicBase(r)+callbackPath)
	// Connect navigates its own frame to redirectUrl; the redirect handler then
	// moves the top window (see handleConnectCallback), and the page's script also
	// follows Connect's REDIRECT event, whichever comes first.
	q.Set("innerRedirect", "true")
	q.Set("tag", tag)
	q.Set("language", lang)
	q.Set("consentEnable", "true")
	q.Set("customerName", "Flinks Link")
	q.Set("institutionFilterEnable", "true")
	// Connect stops after three refused sign-ins (MAXIMUM_RETRY_REACHED)
	// rather than letting the bank lock the person out, and offers a close
	// button (COMPONENT_CLOSE_SESSION); the page explains both.
	q.Set("maximumRetry", "3")
	q.Set("closeEnable", "true")
	if h.cfg.Demo {
		q.Set("demo", "true")
	}
	if h.cfg.AccountSelector != "" {
		q.Set("accountSelectorEnable", "true")
		q.Set("accountSelectorMultiple", strconv.FormatBool(h.cfg.AccountSelector == "multiple"))
	}
	if h.tokens != nil {
		token, err := h.tokens.GenerateAuthorizeToken(ctx)
		if err != nil {
			return nil, err
		}
		q.Set("authorizeToken", token)
	}
	u.RawQuery = q.Encode()
	if !u.IsAbs() {
		// A relative Connect URL (the embedded sandbox) is served by this app.
		base, err := url.Parse(h.publicBase(r))
		if err != nil {
			return nil, err
		}
		return base.ResolveReference(&u), nil
	}
	return &u, nil
}

// publicBase is scheme://host[:port] of this app as the browser sees it.
func (h *Handler) publicBase(r *http.Request) string {
	if h.cfg.PublicURL != nil {
		return strings.TrimRight(h.cfg.PublicURL.String(), "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// origin returns scheme://host of an absolute URL, "" otherwise.
func origin(u *url.URL) string {
	if u == nil || !u.IsAbs() {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// language picks en or fr from Accept-Language (Flinks Connect speaks both).
func language(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case tag == "fr" || strings.HasPrefix(tag, "fr-"):
			return "fr"
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			return "en"
		}
	}
	return "en"
}

// csrfToken is the token our forms and htmx requests echo back.
func csrfToken(c echo.Context) string {
	t, _ := c.Get("csrf").(string)
	return t
}
