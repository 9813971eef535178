package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"flinkslink/store"
	"flinkslink/views"
)

// ownedLink loads the link named in the path if it belongs to this browser's
// session; anyone else gets store.ErrNotFound (a 404), whether or not it exists.
func (h *Handler) ownedLink(c echo.Context) (store.Link, error) {
	return h.ownedLinkByID(c, c.Param("id"))
}

// ownedLinkByID is ownedLink for an id given elsewhere than the path.
func (h *Handler) ownedLinkByID(c echo.Context, id string) (store.Link, error) {
	sess := h.session(c)
	sid := sess.get(keySessionID)
	if sid == "" || !linkIDPattern.MatchString(id) {
		return store.Link{}, store.ErrNotFound
	}
	l, err := h.store.LinkForSession(c.Request().Context(), sid, id)
	if errors.Is(err, store.ErrNotFound) && slices.Contains(strings.Fields(sess.get(keyDeleted)), id) {
		// This browser deleted it: say so, rather than "not found".
		return store.Link{}, &userError{status: http.StatusGone, key: "linkDeleted"}
	}
	return l, err
}

// keyDeleted lists, space-separated, the last links this browser deleted,
// so that their pages say they were deleted.
const keyDeleted = "deleted"

// maxDeletedRemembered bounds that list (and the cookie).
const maxDeletedRemembered = 20

// rememberDeleted adds id to the browser's deleted links.
func (h *Handler) rememberDeleted(c echo.Context, id string) {
	sess := h.session(c)
	ids := append(strings.Fields(sess.get(keyDeleted)), id)
	if len(ids) > maxDeletedRemembered {
		ids = ids[len(ids)-maxDeletedRemembered:]
	}
	sess.set(keyDeleted, strings.Join(ids, " "))
	if err := sess.save(c); err != nil {
		h.log.Warn("remember a deleted link", "err", err)
	}
}

// handleLink renders a link's full page.
func (h *Handler) handleLink(c echo.Context) error {
	v, err := h.linkView(c)
	if err != nil {
		return err
	}
	return h.renderLinkPage(c, v)
}

// handleLinkStatus is the htmx polling target, long-polled (see
// awaitChange): it answers when the link changes, with the status element
// and what the Details panel gains. It reads only our database; the
// background fetch is the only thing that talks to Flinks. A request that is
// not from htmx (a reload of this URL) gets the full page.
func (h *Handler) handleLinkStatus(c echo.Context) error {
	if !isFragment(c) {
		return h.handleLink(c)
	}
	link, err := h.awaitChange(c, func() (store.Link, error) { return h.ownedLink(c) })
	if errors.Is(err, errParked) {
		return nil // answered when it is served again
	}
	if err != nil {
		return err
	}
	v, err := h.linkViewFor(c, link)
	if err != nil {
		return err
	}
	delta, err := h.timelineDelta(c, link)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.StatusUpdate(v, delta))
}

// handleLinkRetry starts a new fetch for a link whose last one ended ("Try again").
func (h *Handler) handleLinkRetry(c echo.Context) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	link, err = h.store.StartNewFetch(c.Request().Context(), link.ID)
	if err != nil && !errors.Is(err, store.ErrBusy) {
		return err
	}
	if err == nil {
		h.fetcher.Start(link.ID, link.Fetch)
	}
	// Busy means a fetch is already running: its page shows the progress.
	return redirect(c, linkPath(c.Param("id")))
}

// handleLinkCancel stops a link's running fetch ("Stop"): no more calls to
// Flinks for it, and the link can then be deleted or tried again. A fetch
// that already ended is left as it is.
func (h *Handler) handleLinkCancel(c echo.Context) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	if !link.State.Terminal() {
		err := h.fetcher.Cancel(c.Request().Context(), link.ID, link.Fetch)
		if err != nil && !errors.Is(err, store.ErrStale) {
			return err
		}
	}
	back := linkPath(link.ID)
	switch c.FormValue("return") {
	case "list":
		if isFragment(c) { // the list's row, swapped in place: Delete replaces Stop
			if link, err = h.ownedLink(c); err != nil {
				return err
			}
			return h.render(c, http.StatusOK, views.LinkRowView(h.rowView(c, link)))
		}
		back = "/links"
	case "delete":
		back = linkPath(link.ID) + "/delete"
	}
	return redirect(c, back)
}

// noScriptReload is how often, in seconds, a running link's page reloads
// itself in a browser without JavaScript.
const noScriptReload = 5

// linkView builds the view model of the link named in the path.
func (h *Handler) linkView(c echo.Context) (views.LinkView, error) {
	link, err := h.ownedLink(c)
	if err != nil {
		return views.LinkView{}, err
	}
	return h.linkViewFor(c, link)
}

// linkViewFor builds the view model of a link this browser owns.
func (h *Handler) linkViewFor(c echo.Context, link store.Link) (views.LinkView, error) {
	v := views.LinkView{
		Page:        h.page(c, views.InstitutionName(link.Institution), "links"),
		ID:          link.ID,
		Institution: views.InstitutionName(link.Institution),
		StatusURL:   statusURL(link),
		RetryURL:    linkPath(link.ID) + "/retry",
		CancelURL:   linkPath(link.ID) + "/cancel",
		Status:      statusView(link, h.now(), h.cfg.PollEvery, h.lang(c)),
	}
	// A snapshot exists once a fetch succeeded; a later fetch in progress keeps
	// showing it (a refresh should not blank the page). During a first fetch
	// none can exist yet (CompleteFetch writes it with the ready state), so the
	// once-a-second status poll skips reading it.
	if link.Fetch > 1 || link.State == store.StateReady {
		snap, err := h.store.Snapshot(c.Request().Context(), link.ID)
		switch {
		case err == nil:
			page, _ := strconv.Atoi(c.QueryParam("accounts"))
			txPage, _ := strconv.Atoi(c.QueryParam("tx_page"))
			p := summaryPage{accounts: page, txAccount: c.QueryParam("tx"), txPage: txPage}
			if v.Summary, err = h.summaries.get(c.Request().Context(), snap, h.lang(c), p, linkPath(link.ID)); err != nil {
				return views.LinkView{}, err
			}
			h.addLinkActions(c, link, snap, &v)
		case !errors.Is(err, store.ErrNotFound):
			return views.LinkView{}, err
		}
	}
	v.Status.LongerThanUsual = h.longerThanUsual(link)
	if !link.State.Terminal() {
		v.ReloadEvery = noScriptReload
	}
	return v, nil
}

// handleLinksIndex lists this browser's links, newest first, with their actions.
// ?done= names the action that led here (a deletion), to say how it went.
func (h *Handler) handleLinksIndex(c echo.Context) error {
	v := views.LinksView{
		Page:         h.page(c, h.msgs(c).LinksTitle, "links"),
		Notice:       views.ForLinks(h.lang(c)).Notices[c.QueryParam("done")],
		StartOverURL: startOverPath,
	}
	rows, err := h.sessionRows(c)
	if err != nil {
		return err
	}
	v.Links = rows
	return h.render(c, http.StatusOK, views.LinksPage(v))
}

// sessionRows are this browser's links as list rows, newest first.
func (h *Handler) sessionRows(c echo.Context) ([]views.LinkRow, error) {
	sid := h.session(c).get(keySessionID)
	if sid == "" {
		return nil, nil
	}
	links, err := h.store.LinksForSession(c.Request().Context(), sid)
	if err != nil {
		return nil, err
	}
	rows := make([]views.LinkRow, 0, len(links))
	for _, l := range links {
		rows = append(rows, h.rowView(c, l))
	}
	return rows, nil
}

// handleHealthz answers 200 when the database answers and its last write
// succeeded; 503 while it cannot write (a full disk), so that a load
// balancer or an operator sees it.
func (h *Handler) handleHealthz(c echo.Context) error {
	if err := h.store.Ping(c.Request().Context()); err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the database does not answer").WithInternal(err)
	}
	if err := h.store.Writable(); err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the database cannot write").WithInternal(err)
	}
	lines := []string{"ok", "database: ok"}
	if err := h.store.Listening(); err != nil {
		// Degraded, not down: pages here see other instances' changes only
		// when their wait runs out.
		lines = append(lines, "changes from other instances: not received ("+err.Error()+")")
	}
	if h.cfg.Workers != nil {
		w := h.cfg.Workers.Health()
		if w.Late > stuckFetches {
			return echo.NewHTTPError(http.StatusServiceUnavailable,
				fmt.Sprintf("fetches are %s late: the workers are stuck", w.Late.Round(time.Second)))
		}
		lines = append(lines, fmt.Sprintf("fetches: %d (%d holding their lease), next step %s late",
			w.Fetches, w.Leases, w.Late.Round(time.Millisecond)))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, strings.Join(lines, "\n")+"\n")
}

// stuckFetches is how late the next fetch step may be before /healthz
// fails: far past any load (10,000 fetches keep it under a second), so the
// instance is taken out of rotation only when its workers are stuck.
const stuckFetches = time.Minute
