package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"flinkslink/views"
)

// keyLang is the session key of the language the person chose with the switch.
const keyLang = "lang"

// lang is the language to answer in: the one chosen with the switch, else the
// browser's Accept-Language (English or French; Flinks Connect speaks both).
func (h *Handler) lang(c echo.Context) string {
	if l := h.session(c).get(keyLang); l == views.English || l == views.French {
		return l
	}
	return language(c.Request())
}

// msgs returns the copy for this request's language.
func (h *Handler) msgs(c echo.Context) *views.Messages { return views.For(h.lang(c)) }

// page fills the parts of a view model every full page needs.
func (h *Handler) page(c echo.Context, title, nav string) views.Page {
	return views.Page{Title: title, CSRFToken: csrfToken(c), Nav: nav, Path: c.Request().URL.Path}
}

// handleLanguage stores the language chosen with the switch and returns to the page.
func (h *Handler) handleLanguage(c echo.Context) error {
	lang := c.FormValue("lang")
	if lang != views.English && lang != views.French {
		return badRequest("badLanguage")
	}
	next := c.FormValue("next")
	// Only a path of this app: never an absolute or protocol-relative URL.
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 512 {
		next = "/"
	}
	sess := h.session(c)
	sess.s.Values[keyLang] = lang
	if err := sess.save(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}
