package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"flinkslink/store"
	"flinkslink/views"
)

// badRequest is a 400 whose message the person can act on.
func badRequest(heading, msg string, hints ...string) error {
	return &userError{status: http.StatusBadRequest, heading: heading, msg: msg, hints: hints}
}

// errCSRF refuses a state-changing request that did not come from our own pages.
var errCSRF = &userError{
	status:  http.StatusForbidden,
	heading: "Request refused",
	msg:     "This form was not sent from this app's own page, so it was refused. Reload the page and try again.",
}

// userError is an error meant to be shown as is, with its status.
type userError struct {
	status  int
	heading string
	msg     string
	hints   []string
}

func (e *userError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.heading, e.msg) }

// HandleError is echo's HTTPErrorHandler: the one place where errors become
// responses. Known errors get their status and a message in words; anything
// else is logged with its chain and shown as a generic 500.
func (h *Handler) HandleError(err error, c echo.Context) {
	if c.Response().Committed || errors.Is(err, context.Canceled) {
		return
	}
	v := h.errorView(c, err)
	if v.Status >= 500 {
		h.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "status", v.Status, "err", err)
	} else {
		h.log.Warn("request rejected", "method", c.Request().Method, "path", c.Path(), "status", v.Status, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(v.Status)
		return
	}
	var rerr error
	if isFragment(c) {
		rerr = h.render(c, v.Status, views.ErrorAlert(v))
	} else {
		rerr = h.render(c, v.Status, views.ErrorPage(v))
	}
	if rerr != nil {
		h.log.Error("render error page", "err", rerr)
		_ = c.String(v.Status, v.Message)
	}
}

// errorView maps an error to what the person sees. Internal details never
// reach the page.
func (h *Handler) errorView(c echo.Context, err error) views.ErrorView {
	v := views.ErrorView{Page: views.Page{Title: "Error", CSRFToken: csrfToken(c)}}
	var ue *userError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ue):
		v.Status, v.Heading, v.Message, v.Hints = ue.status, ue.heading, ue.msg, ue.hints
	case errors.Is(err, store.ErrNotFound):
		v.Status, v.Heading = http.StatusNotFound, "Link not found"
		v.Message = "There is no link at this address for this browser. Links are only visible in the browser that created them."
	case errors.Is(err, store.ErrBusy):
		v.Status, v.Heading = http.StatusConflict, "Already running"
		v.Message = "A fetch for this link is already running; its progress is shown on the link's page."
	case errors.As(err, &he):
		v.Status = he.Code
		v.Heading = http.StatusText(he.Code)
		switch he.Code {
		case http.StatusNotFound:
			v.Heading, v.Message = "Page not found", "There is nothing at this address."
		case http.StatusMethodNotAllowed:
			v.Message = "This address does not accept that kind of request."
		case http.StatusRequestEntityTooLarge:
			v.Message = "The request was too large."
		case http.StatusTooManyRequests:
			v.Heading, v.Message = "Too many requests", "Please wait a moment before trying again."
		default:
			if msg, ok := he.Message.(string); ok && he.Code < 500 {
				v.Message = msg
			}
		}
	default:
		v.Status = http.StatusInternalServerError
	}
	if v.Status >= 500 {
		v.Heading = "Something went wrong"
		v.Message = "The app could not complete this request. Nothing was lost; please try again in a moment."
	}
	if v.Heading == "" {
		v.Heading = http.StatusText(v.Status)
	}
	return v
}
