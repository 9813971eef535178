package handlers

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"flinkslink/views"
)

// render writes a component with the given status. It renders into a buffer
// first so that a template error still reaches HandleError as a clean 500
// instead of a half-written page.
func (h *Handler) render(c echo.Context, status int, comp templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	ctx := views.WithLang(c.Request().Context(), h.lang(c))
	if err := comp.Render(ctx, buf); err != nil {
		return err
	}
	// Pages show per-person state (links, balances): never cache them.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// htmx request headers (htmx 4).
const (
	headerHXRequest  = "HX-Request"
	headerHXBoosted  = "HX-Boosted"
	headerHXRedirect = "HX-Redirect"
)

// isFragment reports whether the request came from htmx and wants only the
// swapped element; any other request (a reload, a bookmark) gets the full page.
func isFragment(c echo.Context) bool {
	r := c.Request()
	return r.Header.Get(headerHXRequest) == "true" && r.Header.Get(headerHXBoosted) != "true"
}

// redirect sends the browser to url after a POST: a 303, or HX-Redirect for htmx.
func redirect(c echo.Context, url string) error {
	if isFragment(c) {
		c.Response().Header().Set(headerHXRedirect, url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}
