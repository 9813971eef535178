package flinks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// GenerateAuthorizeToken mints an authorize token with the configured SecretKey.
// A token authenticates one session: it is single use (the MFA-answer Authorize
// re-sends the same one) and expires 30 minutes after minting if unused.
//
// It fails with an error of KindMisconfigured when no SecretKey is configured or
// Flinks rejects it (401).
//
// Flinks API docs: https://docs.flinks.com/api/authorize/endpoints/generate-authorize-token
func (c *Client) GenerateAuthorizeToken(ctx context.Context) (string, error) {
	return c.generateAuthorizeToken(ctx, nil)
}

func (c *Client) generateAuthorizeToken(ctx context.Context, obs *observer) (string, error) {
	if c.secretKey == "" {
		return "", fmt.Errorf("flinks: %s: %w", epGenerateAuthorizeToken, errNoSecretKey)
	}
	var token string
	r := &request{
		method:   http.MethodPost,
		endpoint: epGenerateAuthorizeToken,
		authKey:  c.secretKey,
		ok:       []int{http.StatusOK},
	}
	r.decode = func(_ int, body []byte) error {
		var v struct {
			Token string `json:"Token"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		if strings.TrimSpace(v.Token) == "" {
			return errors.New("no Token in response")
		}
		token = v.Token
		// The token is a credential: keep it out of this Call's Body and out of
		// every later error and Call of the same operation.
		r.secrets = append(r.secrets, token)
		if obs != nil {
			obs.secrets = append(obs.secrets, token)
		}
		return nil
	}
	if err := c.do(ctx, obs, r); err != nil {
		return "", err
	}
	return token, nil
}

// AuthorizeRequest is the body of an Authorize call. Cached mode (after Flinks
// Connect) needs LoginID and MostRecentCached; live mode uses Username, Password and
// Institution, or LoginID with Save; the MFA answer sends RequestID and
// SecurityResponses.
//
// False booleans and empty strings are omitted from the JSON, which Flinks treats
// as false/absent; this keeps the MFA-answer call from overriding the first call's
// choices.
type AuthorizeRequest struct {
	LoginID          string
	Username         string
	Password         string
	Institution      string // FI code, e.g. "FlinksCapital"
	Language         string // "en" or "fr"; MFA prompts come back in that language
	Tag              string // free-form label echoed in responses and webhooks
	RequestID        string // required on the MFA-answer call: the RequestId of the 203
	MostRecentCached bool   // true: no bank contact, the session of the latest aggregated data
	Save             bool   // persist credentials and data (creates or keeps the LoginId)
	// SecurityResponses maps the bank's prompt text, exactly as received in
	// SecurityChallenge.Prompt, to the answers. Keys are sent verbatim: Flinks
	// answers UNKNOWN_CHALLENGE_KEY when they do not match.
	SecurityResponses map[string][]string
	// AuthorizeToken is sent as the flinks-auth-key header, not in the JSON. Set it
	// to the first call's AuthorizeResponse.AuthorizeToken on the MFA-answer call.
	// When empty and a SecretKey is configured, a fresh token is minted.
	AuthorizeToken string
}

// authorizeBody is the wire form of AuthorizeRequest.
type authorizeBody struct {
	LoginID           string              `json:"LoginId,omitempty"`
	Username          string              `json:"Username,omitempty"`
	Password          string              `json:"Password,omitempty"`
	Institution       string              `json:"Institution,omitempty"`
	Language          string              `json:"Language,omitempty"`
	Tag               string              `json:"Tag,omitempty"`
	RequestID         string              `json:"RequestId,omitempty"`
	MostRecentCached  bool                `json:"MostRecentCached,omitempty"`
	Save              bool                `json:"Save,omitempty"`
	SecurityResponses map[string][]string `json:"SecurityResponses,omitempty"`
}

// AuthorizeResponse is the answer to Authorize: 200 (session opened; use RequestID
// with the data endpoints within 8 minutes) or 203 (NeedsMFA: answer
// SecurityChallenges with another Authorize carrying RequestID and AuthorizeToken).
type AuthorizeResponse struct {
	HTTPStatusCode     int    `json:"-"` // 200 or 203, from the status line
	RequestID          string `json:"RequestId"`
	Institution        string `json:"Institution"`
	InstitutionName    string `json:"InstitutionName"` // absent in older payloads
	InstitutionID      int    `json:"InstitutionId"`   // absent in older payloads
	Tag                string `json:"Tag"`
	Login              Login  `json:"Login"`
	SecurityChallenges []SecurityChallenge
	// AuthorizeToken is the token this call sent (minted or supplied), to re-send
	// on the MFA-answer call. Empty when none was sent.
	AuthorizeToken string `json:"-"`
}

// NeedsMFA reports whether Flinks answered 203: the bank asks security questions.
func (r *AuthorizeResponse) NeedsMFA() bool {
	return r != nil && r.HTTPStatusCode == http.StatusNonAuthoritativeInfo
}

// SecurityChallenge is one MFA question of a 203 answer.
type SecurityChallenge struct {
	// Type is e.g. "QuestionAndAnswer", "MultipleChoice",
	// "MultipleChoiceMultipleAnswers", "ImageSelection" or "TextOrCall".
	Type string
	// Prompt is the question; use it verbatim as the SecurityResponses key.
	Prompt string
	// Iterables are the choices (base64 images for ImageSelection), if any.
	Iterables []string
}

// Login describes the saved connection (card) a response is about.
type Login struct {
	ID                 string `json:"Id"` // the LoginId: a permanent credential, never log or render it
	Username           string
	IsScheduledRefresh bool
	LastRefresh        Time   // zero when the card was never refreshed
	Type               string // "Personal" or "Business"
}

// Authorize opens a session and returns its RequestId, or (203, nil error) MFA
// challenges to answer with a second Authorize. Every status other than 200 and
// 203 is an *Error.
//
// When req.AuthorizeToken is empty and a SecretKey is configured, a fresh token is
// minted first with GenerateAuthorizeToken (whose failure is returned as is).
//
// Flinks API docs: https://docs.flinks.com/api/authorize/endpoints/authorize
func (c *Client) Authorize(ctx context.Context, req AuthorizeRequest) (*AuthorizeResponse, error) {
	return c.authorize(ctx, nil, req)
}

func (c *Client) authorize(ctx context.Context, obs *observer, req AuthorizeRequest) (*AuthorizeResponse, error) {
	token := req.AuthorizeToken
	if token == "" && c.secretKey != "" {
		var err error
		if token, err = c.generateAuthorizeToken(ctx, obs); err != nil {
			return nil, err
		}
	}
	var out AuthorizeResponse
	r := &request{
		method:   http.MethodPost,
		endpoint: epAuthorize,
		body: authorizeBody{
			LoginID:           req.LoginID,
			Username:          req.Username,
			Password:          req.Password,
			Institution:       req.Institution,
			Language:          req.Language,
			Tag:               req.Tag,
			RequestID:         req.RequestID,
			MostRecentCached:  req.MostRecentCached,
			Save:              req.Save,
			SecurityResponses: req.SecurityResponses,
		},
		authKey:   token,
		ok:        []int{http.StatusOK, http.StatusNonAuthoritativeInfo},
		requestID: req.RequestID,
		secrets:   []string{token, req.Password},
		private:   []string{req.LoginID, req.Username},
	}
	r.decode = func(status int, body []byte) error {
		if err := json.Unmarshal(body, &out); err != nil {
			return err
		}
		if out.RequestID != "" && !c.usableRequestID(out.RequestID, r) {
			// Not something to put in a URL, a Call and the app's database.
			return errors.New("unusable RequestId in response")
		}
		if out.RequestID == "" {
			// The MFA answer's 200 carries the 203's RequestId; fall back to it.
			out.RequestID = req.RequestID
		}
		if out.RequestID == "" {
			return errors.New("no RequestId in response")
		}
		out.HTTPStatusCode = status
		out.AuthorizeToken = token
		return nil
	}
	if err := c.do(ctx, obs, r); err != nil {
		return nil, err
	}
	return &out, nil
}
