package flinks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// WebhookSignatureHeader carries a webhook's signature: Base64 of the
// HMAC-SHA256 of the raw body, keyed with the instance's secret (Flinks'
// HMAC validation guide).
const WebhookSignatureHeader = "flinks-authenticity-key"

// MaxWebhookBody bounds a webhook's body: a GetAccountsDetail push is the
// data call's answer, so it gets the same allowance.
const MaxWebhookBody = maxDataBody

// Webhook response types this app acts on or acknowledges.
const (
	WebhookAccountsDetail = "GetAccountsDetail" // the data, once Connect's background extraction ends
	WebhookKYC            = "KYC"               // the holder, earlier; acknowledged, not used
)

// VerifyWebhook reports whether signature (the WebhookSignatureHeader
// value) is body's signature under secret. It compares in constant time and
// must run before anything of body is parsed.
func VerifyWebhook(body []byte, signature, secret string) bool {
	if secret == "" || signature == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// Webhook is a verified push from Flinks.
type Webhook struct {
	ResponseType string
	// LoginID is Login.Id, the card the push is about; RequestID and Tag as
	// Flinks sent them. Any may be empty.
	LoginID, RequestID, Tag string
	// Detail is the data of a GetAccountsDetail push, checked like a data
	// call's 200; nil for other types.
	Detail *AccountsDetail
}

// ErrBadWebhook is wrapped by ParseWebhook's errors: the body is not a
// webhook this app can read.
var ErrBadWebhook = errors.New("flinks: unreadable webhook")

// ParseWebhook reads a verified webhook body, bounded like a data answer:
// no deeper than MaxNesting, and a GetAccountsDetail push must carry an
// Accounts array and a 200 HttpStatusCode, as the data call's answer does.
func ParseWebhook(body []byte) (*Webhook, error) {
	if len(body) > MaxWebhookBody {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrBadWebhook, MaxWebhookBody)
	}
	if NestingDepth(body) > MaxNesting {
		return nil, fmt.Errorf("%w: body nests deeper than %d levels", ErrBadWebhook, MaxNesting)
	}
	var head struct {
		ResponseType   string
		HTTPStatusCode int    `json:"HttpStatusCode"`
		RequestID      string `json:"RequestId"`
		Tag            string
		Login          struct {
			ID string `json:"Id"`
		}
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWebhook, err)
	}
	w := &Webhook{ResponseType: head.ResponseType, LoginID: head.Login.ID, RequestID: head.RequestID, Tag: head.Tag}
	if !usableID(w.RequestID) {
		w.RequestID = ""
	}
	if w.ResponseType != WebhookAccountsDetail {
		return w, nil
	}
	if head.HTTPStatusCode != 0 && head.HTTPStatusCode != 200 {
		return nil, fmt.Errorf("%w: a GetAccountsDetail push with HttpStatusCode %d", ErrBadWebhook, head.HTTPStatusCode)
	}
	var d AccountsDetail
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWebhook, err)
	}
	if d.Accounts == nil {
		return nil, fmt.Errorf("%w: no Accounts in a GetAccountsDetail push", ErrBadWebhook)
	}
	d.RequestID = w.RequestID
	w.Detail = &d
	return w, nil
}

// usableID reports whether id can stand as a RequestId: letters, digits and
// dashes, at most maxRequestIDLen (Flinks' are GUIDs).
func usableID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if b := id[i]; !(b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '-') {
			return false
		}
	}
	return true
}
