package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"flinkslink/flinks"
	"flinkslink/store"
	"flinkslink/views"
)

// This file holds the actions of the links list and the link page: "Refresh
// data", "Delete" (with its confirmation page), "Start over", the list rows'
// polling fragment, and the "longer than usual" note.

// startOverPath is the POST target of "Start over".
const startOverPath = "/start-over"

// DefaultLongerThanUsual is the fetch time after which a pending link says it
// is taking longer than usual: most cached fetches end well before.
const DefaultLongerThanUsual = 45 * time.Second

// deleteCardTimeout bounds the DeleteCard call; it runs on its own context so
// that a browser closing mid-way cannot leave the two deletions half done.
const deleteCardTimeout = 30 * time.Second

// CardDeleter deletes a LoginId and all its data at Flinks; *flinks.Client is one.
type CardDeleter interface {
	DeleteCard(ctx context.Context, loginID string) error
}

// longerThanUsual reports whether a running fetch has passed the threshold.
func (h *Handler) longerThanUsual(l store.Link) bool {
	return !l.State.Terminal() && !l.FetchStartedAt.IsZero() &&
		h.now().Sub(l.FetchStartedAt) >= h.cfg.LongerThanUsual
}

// addLinkActions completes the view of a link that has a summary: "Refresh
// data" unless the last fetch failed (its failure offers "Try again"), and a
// note when a newer fetch runs while the earlier data is shown.
func (h *Handler) addLinkActions(c echo.Context, l store.Link, snap store.Snapshot, v *views.LinkView) {
	if l.State != store.StateFailed && l.State != store.StateTimedOut {
		v.RefreshURL = linkPath(l.ID) + "/refresh"
		v.RefreshBankURL = linkPath(l.ID) + "/refresh-bank"
	}
	if l.State != store.StateReady {
		v.Status.SummaryNote = h.msgs(c).ShowingEarlierData(formatTimestamp(snap.FetchedAt, h.lang(c)))
	}
}

// rowView is one row of the links list with its actions.
func (h *Handler) rowView(c echo.Context, l store.Link) views.LinkRow {
	r := linkRow(l, h.now(), h.lang(c))
	r.ID = l.ID
	r.Terminal = l.State.Terminal()
	r.RowURL = linkPath(l.ID) + "/row"
	// The list is a summary: it polls less often than a link's own page.
	r.PollEvery = pollEveryAttr(2 * h.cfg.PollEvery)
	r.RefreshURL = linkPath(l.ID) + "/refresh"
	r.RetryURL = linkPath(l.ID) + "/retry"
	r.DeleteURL = linkPath(l.ID) + "/delete"
	r.CancelURL = linkPath(l.ID) + "/cancel"
	r.CSRFToken = csrfToken(c)
	if l.State == store.StateFailed || l.State == store.StateTimedOut {
		r.CanRetry = failureView(l, h.lang(c)).CanRetry
	}
	// The data of the last fetch that brought some, whatever the current one
	// does. A first fetch that is not ready has none yet (see linkViewFor):
	// its row, polled while it runs, skips the read.
	if l.Fetch == 1 && l.State != store.StateReady {
		return r
	}
	if brief, err := h.store.SnapshotBrief(c.Request().Context(), l.ID); err == nil {
		lang := h.lang(c)
		sv := summaryView(brief, lang, summaryPage{}, "")
		r.Holder = sv.HolderName
		r.Accounts = views.ForLinks(lang).RowAccounts(len(brief.Accounts))
		var deposits []string
		for _, t := range sv.Totals {
			deposits = append(deposits, t.Assets)
		}
		if len(deposits) > 0 {
			r.Deposits = views.ForLinks(lang).RowDeposits(strings.Join(deposits, " + "))
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		h.log.Warn("links list: snapshot brief", "link", l.ID, "err", err)
	}
	return r
}

// handleLinkRow is the list row's htmx polling target; a request that is not
// from htmx goes to the list.
func (h *Handler) handleLinkRow(c echo.Context) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	if !isFragment(c) {
		return c.Redirect(http.StatusSeeOther, "/links")
	}
	return h.render(c, http.StatusOK, views.LinkRowView(h.rowView(c, link)))
}

// handleLinkRefresh is "Refresh data": a new cached fetch of a link whose last
// fetch ended. While one runs it is refused with 409 (store.ErrBusy).
func (h *Handler) handleLinkRefresh(c echo.Context) error {
	return h.refreshWith(c, h.store.StartNewFetch)
}

// handleLinkRefreshFromBank is "Refresh from the bank": a new fetch whose
// Authorize asks Flinks to sign in to the bank now (MostRecentCached false,
// Save true). A bank that asks a security question ends it in MFA_REQUIRED,
// whose page continues in Connect on the same RequestId.
func (h *Handler) handleLinkRefreshFromBank(c echo.Context) error {
	return h.refreshWith(c, h.store.StartRefreshFromBank)
}

// refreshWith starts a link's next fetch with start and answers like the
// refresh forms expect.
func (h *Handler) refreshWith(c echo.Context, start func(context.Context, string) (store.Link, error)) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	link, err = start(c.Request().Context(), link.ID)
	if err != nil {
		return err
	}
	h.fetcher.Start(link.ID, link.Fetch)
	// The answer shows the link as StartNewFetch left it (received, polling),
	// whatever the fetch has done since: the browser then follows it by polling.
	fromList := c.FormValue("return") == "list"
	switch {
	case fromList && isFragment(c):
		return h.render(c, http.StatusOK, views.LinkRowView(h.rowView(c, link)))
	case fromList:
		return c.Redirect(http.StatusSeeOther, "/links")
	case isFragment(c):
		v, err := h.linkViewFor(c, link)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusOK, views.LinkStatus(v))
	}
	return c.Redirect(http.StatusSeeOther, linkPath(link.ID))
}

// deleteLink deletes a link whose fetch has ended: DeleteCard at Flinks
// first, then this app's copy; "deleted", or "deleted_local" when Flinks no
// longer knew the card. Nothing is removed here unless Flinks confirmed (or
// no longer knows the card), and a card another session is fetching is left
// alone. Its errors are the user's explanation.
func (h *Handler) deleteLink(ctx context.Context, link store.Link) (string, error) {
	if h.cfg.Cards == nil {
		return "", &userError{status: http.StatusNotImplemented, key: "deleteNoFlinks"}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteCardTimeout)
	defer cancel()
	loginID, err := h.store.LoginID(ctx, link.ID)
	if err != nil {
		return "", err
	}
	// Another browser may have linked the same bank connection and be fetching
	// it now: DeleteCard would hit a card in use, so wait for that to end too.
	sharing, err := h.store.LinksByLoginID(ctx, loginID)
	if err != nil {
		return "", err
	}
	for _, l := range sharing {
		if !l.State.Terminal() {
			return "", &userError{status: http.StatusConflict, key: "deleteRunning"}
		}
	}
	done := "deleted"
	if err := h.cfg.Cards.DeleteCard(ctx, loginID); err != nil {
		failure := flinks.Classify(err)
		code := failure.Code
		switch {
		case failure.CardUnknown:
			h.log.Info("delete: Flinks no longer knows the LoginId; removing the link here", "link", link.ID)
			done = "deleted_local"
		case code == "CARD_IN_USE":
			h.log.Warn("delete: card in use at Flinks; link kept", "link", link.ID)
			return "", &userError{status: http.StatusConflict, key: "deleteInUse"}
		default:
			// The client's errors never carry the LoginId.
			h.log.Warn("delete: DeleteCard failed; link kept", "link", link.ID, "code", code, "err", err)
			return "", &userError{status: http.StatusBadGateway, key: "deleteFailed", arg: code}
		}
	}
	if err := h.store.DeleteLink(ctx, link.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("delete link after DeleteCard: %w", err)
	}
	return done, nil
}

// handleLinkDeleteConfirm is the confirmation page of "Delete".
func (h *Handler) handleLinkDeleteConfirm(c echo.Context) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	v := views.DeleteView{
		Page:        h.page(c, views.ForLinks(h.lang(c)).DeleteTitle, "links"),
		Institution: views.InstitutionName(link.Institution),
		State:       string(link.State),
		StateLabel:  stateLabel(link.State, h.lang(c)),
		Created:     formatTimestamp(link.CreatedAt, h.lang(c)),
		LinkURL:     linkPath(link.ID),
		CancelURL:   linkPath(link.ID) + "/cancel",
		DeleteURL:   linkPath(link.ID) + "/delete",
		Running:     !link.State.Terminal(),
	}
	return h.render(c, http.StatusOK, views.DeletePage(v))
}

// handleLinkDelete deletes a link: first its LoginId at Flinks (DeleteCard),
// then everything stored here. Refused while a fetch runs (Flinks would answer
// CARD_IN_USE). When Flinks does not confirm, the local data is kept, so that
// nothing stays at Flinks unseen; when Flinks no longer knows the LoginId
// (deleted already, from another session say), it is removed here anyway.
func (h *Handler) handleLinkDelete(c echo.Context) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	if !link.State.Terminal() {
		return &userError{status: http.StatusConflict, key: "deleteRunning"}
	}
	done, err := h.deleteLink(c.Request().Context(), link)
	if err != nil {
		return err
	}
	h.log.Info("link deleted", "link", link.ID, "at_flinks", done == "deleted")
	h.rememberDeleted(c, link.ID)
	return redirect(c, "/links?done="+done)
}

// handleStartOverConfirm is the confirmation page of "Start over": the links
// it leaves behind, and the choice to delete them first.
func (h *Handler) handleStartOverConfirm(c echo.Context) error {
	m := views.ForLinks(h.lang(c))
	v := views.StartOverView{Page: h.page(c, m.StartOverTitle, "links"), Action: startOverPath}
	rows, err := h.sessionRows(c)
	if err != nil {
		return err
	}
	v.Links = rows
	return h.render(c, http.StatusOK, views.StartOverPage(v))
}

// handleStartOver gives this browser a new session: a new session id (its
// links are no longer shown here) and a new Connect tag; the chosen language
// stays. With links=delete it first deletes every link of the session, at
// Flinks and here, stopping running fetches; if any cannot be deleted, nothing
// is started over and the page says which, so that no link is left where no
// page can reach it.
func (h *Handler) handleStartOver(c echo.Context) error {
	sess := h.session(c)
	if c.FormValue("links") == "delete" {
		if err := h.deleteSessionLinks(c, sess.get(keySessionID)); err != nil {
			return err
		}
	}
	// Revoke the old cookie: its links go to an id no cookie holds, so a copy
	// of it (a shared computer, a stolen cookie) shows nothing any more.
	if old := sess.get(keySessionID); old != "" {
		gone, err := randomToken()
		if err != nil {
			return err
		}
		if _, err := h.store.MoveSessionLinks(c.Request().Context(), old, "revoked-"+gone); err != nil {
			return err
		}
	}
	delete(sess.s.Values, keyRotated)
	for _, key := range []string{keySessionID, keyTag} {
		v, err := randomToken()
		if err != nil {
			return err
		}
		sess.s.Values[key] = v
	}
	if err := sess.save(c); err != nil {
		return err
	}
	return redirect(c, "/")
}

// deleteSessionLinks deletes every link of the session (see deleteLink),
// stopping the fetches that run; the first refusal is returned, naming how
// many links were kept.
func (h *Handler) deleteSessionLinks(c echo.Context, sid string) error {
	if sid == "" {
		return nil
	}
	ctx := c.Request().Context()
	links, err := h.store.LinksForSession(ctx, sid)
	if err != nil {
		return err
	}
	var firstErr error
	kept := 0
	for _, l := range links {
		if !l.State.Terminal() {
			if err := h.fetcher.Cancel(ctx, l.ID, l.Fetch); err != nil && !errors.Is(err, store.ErrStale) {
				return err
			}
			if l, err = h.store.LinkForSession(ctx, sid, l.ID); err != nil {
				return err
			}
		}
		if _, err := h.deleteLink(ctx, l); err != nil {
			kept++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		h.log.Info("link deleted by Start over", "link", l.ID)
	}
	if firstErr != nil {
		h.log.Warn("start over: links kept", "kept", kept, "err", firstErr)
		var ue *userError
		if errors.As(firstErr, &ue) {
			return &userError{status: ue.status, key: "startOverKept", arg: strconv.Itoa(kept)}
		}
		return firstErr
	}
	return nil
}
