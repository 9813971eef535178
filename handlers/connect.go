package handlers

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"flinkslink/flinks"
	"flinkslink/store"
	"flinkslink/views"
)

var (
	// guidPattern matches Flinks' LoginIds and account ids (GUIDs).
	guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// institutionPattern matches Flinks institution codes such as FlinksCapital or "RBC".
	institutionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _.&'-]{0,63}$`)
)

// maxAccountIDs bounds Connect's account selector list.
const maxAccountIDs = 50

// callbackParams is the validated query of Connect's redirect (docs §7.3).
type callbackParams struct {
	LoginID     string
	Institution string
	Tag         string
	AccountIDs  []string
}

// parseCallback validates Connect's redirect. Each problem gets a message the
// person (or a tester) can act on; nothing reaches Flinks until all pass.
func parseCallback(q map[string][]string, sessionTag string) (callbackParams, error) {
	one := func(name string) (string, error) {
		vs := q[name]
		switch {
		case len(vs) > 1:
			// Checked first: "accountId=&accountId=<id>" must not pass as "none".
			return "", &userError{status: http.StatusBadRequest, key: "duplicateParam", arg: name}
		case len(vs) == 0 || strings.TrimSpace(vs[0]) == "":
			return "", nil
		}
		return strings.TrimSpace(vs[0]), nil
	}
	var p callbackParams
	var err error
	if p.LoginID, err = one("loginId"); err != nil {
		return p, err
	}
	switch {
	case p.LoginID == "":
		return p, badRequest("missingLoginID")
	case !guidPattern.MatchString(p.LoginID):
		return p, badRequest("badLoginID")
	}
	if p.Institution, err = one("institution"); err != nil {
		return p, err
	}
	switch {
	case p.Institution == "":
		return p, badRequest("missingInst")
	case !institutionPattern.MatchString(p.Institution):
		return p, badRequest("badInst")
	}
	if p.Tag, err = one("tag"); err != nil {
		return p, err
	}
	if p.Tag == "" || sessionTag == "" || subtle.ConstantTimeCompare([]byte(p.Tag), []byte(sessionTag)) != 1 {
		return p, badRequest("badTag")
	}
	if raw, err := one("accountId"); err != nil {
		return p, err
	} else if raw != "" {
		for _, id := range strings.Split(raw, ",") {
			id = strings.TrimSpace(id)
			if !guidPattern.MatchString(id) {
				return p, badRequest("badAccountID")
			}
			p.AccountIDs = append(p.AccountIDs, id)
		}
		if len(p.AccountIDs) > maxAccountIDs {
			return p, badRequest("tooManyAccounts")
		}
	}
	return p, nil
}

// handleConnectCallback is the redirectUrl given to Flinks Connect. It records
// the link for this browser, starts the background fetch and answers at once:
// a 303 to the link page, or, when Connect redirected inside its iframe, a tiny
// page that moves the top window there. A reload (or the postMessage and the URL
// redirect arriving together) finds the same link and starts nothing new.
func (h *Handler) handleConnectCallback(c echo.Context) error {
	sess := h.session(c)
	p, err := parseCallback(c.QueryParams(), sess.get(keyTag))
	if err != nil {
		return err
	}
	sid, err := h.rotateSession(c, sess, p.Tag)
	if err != nil {
		return err
	}
	link, created, err := h.store.CreateLink(c.Request().Context(), store.NewLink{
		SessionID: sid, LoginID: p.LoginID, Institution: p.Institution, Tag: p.Tag, AccountIDs: p.AccountIDs,
		TimeLimit: h.qaTimeLimit(c),
	})
	if err != nil {
		return err
	}
	if !created && link.State.Terminal() && link.ErrorCode == flinks.CodeMFARequired {
		// Back from answering the bank's question in Connect (a resumed
		// RequestId): the data can be read now.
		next, err := h.store.StartNewFetch(c.Request().Context(), link.ID)
		switch {
		case err == nil:
			link = next
		case errors.Is(err, store.ErrBusy): // a duplicate of this redirect started it
			if link, err = h.store.LinkForSession(c.Request().Context(), sid, link.ID); err != nil {
				return err
			}
		default:
			return err
		}
	}
	if created || !link.State.Terminal() {
		h.fetcher.Start(link.ID, link.Fetch)
	}
	target := linkPath(link.ID)
	if c.Request().Header.Get("Sec-Fetch-Dest") == "iframe" {
		return h.render(c, http.StatusOK, views.BreakoutPage(views.BreakoutView{
			Page:   h.page(c, h.msgs(c).BreakoutTitle, ""),
			Target: target,
		}))
	}
	return c.Redirect(http.StatusSeeOther, target)
}

func linkPath(id string) string { return "/links/" + id }
