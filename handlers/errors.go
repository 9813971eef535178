package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"flinkslink/store"
	"flinkslink/views"
)

// userError is an error shown to the person as is: its status and the text
// under key in views.Messages.Errors, in their language.
type userError struct {
	status int
	key    string
	arg    string // replaces %s in the message: a parameter name, never raw input
}

func (e *userError) Error() string {
	if e.arg != "" {
		return fmt.Sprintf("%d %s (%s)", e.status, e.key, e.arg)
	}
	return fmt.Sprintf("%d %s", e.status, e.key)
}

// badRequest is a 400 with the text under key.
func badRequest(key string) error { return &userError{status: http.StatusBadRequest, key: key} }

// Errors with fixed texts.
var (
	// errCSRF refuses a state-changing request that did not come from our pages.
	errCSRF = &userError{status: http.StatusForbidden, key: "csrf"}
	// errTooMany is shown when a rate limit is hit.
	errTooMany = &userError{status: http.StatusTooManyRequests, key: "tooMany"}
)

// HandleError is echo's HTTPErrorHandler: the one place where errors become
// responses. Known errors get their status and a message in words; anything
// else is logged with its chain and shown as a generic 500.
func (h *Handler) HandleError(err error, c echo.Context) {
	if c.Response().Committed || errors.Is(err, context.Canceled) {
		return
	}
	status, key, arg := classify(err)
	if status >= 500 {
		h.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "status", status, "err", err)
	} else {
		h.log.Warn("request rejected", "method", c.Request().Method, "path", c.Path(), "status", status, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	text := views.ErrorTextFor(h.lang(c), key)
	v := views.ErrorView{
		Page:    h.page(c, h.msgs(c).ErrorTitle, ""),
		Status:  status,
		Heading: text.Heading,
		Message: strings.Replace(text.Message, "%s", arg, 1),
		Hints:   text.Hints,
	}
	// The JSON API answers errors in JSON: its clients are scripts.
	if isAPIPath(c) {
		if err := writeAPIError(c, status, key, v.Message); err != nil {
			h.log.Error("write API error", "err", err)
		}
		return
	}
	var rerr error
	if isFragment(c) {
		rerr = h.render(c, status, views.ErrorAlert(v))
	} else {
		rerr = h.render(c, status, views.ErrorPage(v))
	}
	if rerr != nil {
		h.log.Error("render error page", "err", rerr)
		_ = c.String(status, v.Message)
	}
}

// classify maps an error to a status and the key of its text. Internal
// details never reach the page.
func classify(err error) (status int, key, arg string) {
	var ue *userError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ue):
		return ue.status, ue.key, ue.arg
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "linkNotFound", ""
	case errors.Is(err, store.ErrBusy):
		return http.StatusConflict, "busy", ""
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, "pageNotFound", ""
		case http.StatusMethodNotAllowed:
			return he.Code, "method", ""
		case http.StatusRequestEntityTooLarge:
			return he.Code, "tooLarge", ""
		case http.StatusTooManyRequests:
			return he.Code, "tooMany", ""
		case http.StatusServiceUnavailable:
			return he.Code, "unavailable", ""
		}
		if he.Code >= 400 && he.Code < 500 {
			return he.Code, "badRequest", ""
		}
	}
	return http.StatusInternalServerError, "internal", ""
}
