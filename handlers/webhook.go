package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"flinkslink/flinks"
	"flinkslink/handlers/fetcher"
	"flinkslink/store"
)

// WebhookPath is where Flinks posts its webhooks (configured at Flinks, per instance).
const WebhookPath = "/webhooks/flinks"

// Webhooks receives the data Flinks pushes for a card; the fetcher does.
type Webhooks interface {
	Deliver(ctx context.Context, loginID string, d *flinks.AccountsDetail) (fetcher.Pushed, error)
}

// maxWebhooksAtOnce bounds the webhook bodies read at once: each may be as
// large as a data answer, and the route is open to anyone who can reach it.
const maxWebhooksAtOnce = 4

// webhookAnswer is the JSON a webhook gets back: Flinks only reads the
// status (200 = delivered); the words are for whoever debugs it.
type webhookAnswer struct {
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// webhookCard finds the card a push is about and its links: by Login.Id,
// else by the RequestId of a link's fetch, else by the Connect tag. The
// LoginId is "" when nothing matched, or when the tag matched links of
// several cards (links then lists them).
func (h *Handler) webhookCard(ctx context.Context, wh *flinks.Webhook) (string, []store.Link, error) {
	if wh.LoginID != "" {
		links, err := h.store.LinksByLoginID(ctx, wh.LoginID)
		return wh.LoginID, links, err
	}
	links, err := h.store.LinksByRequestID(ctx, wh.RequestID)
	if err == nil && len(links) == 0 {
		links, err = h.store.LinksByTag(ctx, wh.Tag)
	}
	if err != nil || len(links) == 0 {
		return "", nil, err
	}
	loginID := ""
	for _, l := range links {
		id, err := h.store.LoginID(ctx, l.ID)
		if err != nil {
			return "", nil, err
		}
		if loginID != "" && id != loginID {
			return "", links, nil
		}
		loginID = id
	}
	return loginID, links, nil
}

// handleFlinksWebhook is POST /webhooks/flinks. The signature
// (flinks-authenticity-key: Base64 HMAC-SHA256 of the raw body) is checked
// before anything of the body is read as JSON. A GetAccountsDetail push is
// matched to its card by Login.Id (else by RequestId, else by Tag) and completes the card's fetch, the second
// path to ready beside polling: whichever comes first wins. A bad signature
// (401), an unreadable body (400), an unknown card (404) or a replay of a
// push already acted on (409) writes nothing. KYC and other types are
// acknowledged (200) and not used.
func (h *Handler) handleFlinksWebhook(c echo.Context) error {
	answer := func(status int, a webhookAnswer) error { return c.JSON(status, a) }
	select {
	case h.webhookSlots <- struct{}{}:
		defer func() { <-h.webhookSlots }()
	default:
		c.Response().Header().Set("Retry-After", "30")
		return answer(http.StatusServiceUnavailable, webhookAnswer{Error: "too many webhooks at once; send it again later"})
	}
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, flinks.MaxWebhookBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return answer(http.StatusRequestEntityTooLarge, webhookAnswer{Error: "the body is larger than a data answer may be"})
	case err != nil:
		return answer(http.StatusBadRequest, webhookAnswer{Error: "the body could not be read"})
	}
	if !flinks.VerifyWebhook(body, r.Header.Get(flinks.WebhookSignatureHeader), h.cfg.WebhookSecret) {
		h.log.Warn("webhook refused: bad or missing signature", "bytes", len(body))
		return answer(http.StatusUnauthorized, webhookAnswer{Error: "missing or wrong " + flinks.WebhookSignatureHeader})
	}
	wh, err := flinks.ParseWebhook(body)
	if err != nil {
		h.log.Warn("webhook refused: unreadable", "err", err)
		return answer(http.StatusBadRequest, webhookAnswer{Error: "the body is not a Flinks webhook this app can read"})
	}
	if wh.ResponseType != flinks.WebhookAccountsDetail {
		return answer(http.StatusOK, webhookAnswer{Result: "acknowledged; this app does not use " + wh.ResponseType + " pushes"})
	}
	ctx := r.Context()
	loginID, links, err := h.webhookCard(ctx, wh)
	if err != nil {
		return err
	}
	if loginID == "" && len(links) > 0 {
		return answer(http.StatusConflict, webhookAnswer{Error: "the push's Tag names more than one card; it needs its Login.Id"})
	}
	if len(links) == 0 {
		h.log.Warn("webhook refused: no link for its card")
		return answer(http.StatusNotFound, webhookAnswer{Error: "no link has this card"})
	}
	fresh, err := h.store.RecordWebhook(ctx, body)
	if err != nil {
		return err
	}
	if !fresh {
		h.log.Warn("webhook refused: a replay of a push already acted on")
		return answer(http.StatusConflict, webhookAnswer{Error: "this push was already received"})
	}
	if wh.Detail.Login.ID == "" {
		wh.Detail.Login.ID = loginID // matched by RequestId or Tag
	}
	pushed, err := h.webhooks.Deliver(ctx, loginID, wh.Detail)
	if err != nil {
		// Not acted on: Flinks' next attempt must not look like a replay.
		if ferr := h.store.ForgetWebhook(context.WithoutCancel(ctx), body); ferr != nil {
			h.log.Error("webhook: forget a failed delivery", "err", ferr)
		}
		if errors.Is(err, flinks.ErrForeignData) {
			return answer(http.StatusBadRequest, webhookAnswer{Error: "the push's data is for another card"})
		}
		return err
	}
	h.log.Info("webhook: account data received", "links", len(links), "outcome", pushed)
	switch pushed {
	case fetcher.PushedToFetch:
		return answer(http.StatusOK, webhookAnswer{Result: "completed the running fetch"})
	case fetcher.PushedStored:
		return answer(http.StatusOK, webhookAnswer{Result: "stored on the card's unfinished links"})
	default:
		return answer(http.StatusOK, webhookAnswer{Result: "every link of this card already had its data; nothing changed"})
	}
}
