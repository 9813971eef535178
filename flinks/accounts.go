package flinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Values of DetailRequest.DaysOfTransactions.
const (
	Days90  = "Days90"
	Days365 = "Days365"
)

// DetailRequest is the body of GetAccountsDetail. Booleans are always sent, because
// Flinks' defaults differ per flag; start from NewDetailRequest.
type DetailRequest struct {
	RequestID           string   `json:"RequestId"`
	DaysOfTransactions  string   `json:"DaysOfTransactions,omitempty"` // Days90 (Flinks' default) or Days365
	WithAccountIdentity bool     `json:"WithAccountIdentity"`          // transit, institution and account numbers
	WithKYC             bool     `json:"WithKYC"`                      // Holder
	WithTransactions    bool     `json:"WithTransactions"`
	WithBalance         bool     `json:"WithBalance"`
	AccountsFilter      []string `json:"AccountsFilter,omitempty"` // account Ids to restrict to; empty = all
}

// NewDetailRequest returns the app's default request for requestID: 90 days of
// transactions, with account identity, KYC, transactions and balances.
func NewDetailRequest(requestID string) DetailRequest {
	return DetailRequest{
		RequestID:           requestID,
		DaysOfTransactions:  Days90,
		WithAccountIdentity: true,
		WithKYC:             true,
		WithTransactions:    true,
		WithBalance:         true,
	}
}

// AccountsDetail is the 200 answer of GetAccountsDetail and GetAccountsDetailAsync
// (and the body of the GetAccountsDetail webhook).
type AccountsDetail struct {
	RequestID       string `json:"RequestId"`
	Institution     string `json:"Institution"`
	InstitutionName string `json:"InstitutionName"` // absent in older payloads
	InstitutionID   int    `json:"InstitutionId"`   // absent in older payloads
	Tag             string `json:"Tag"`
	Login           Login  `json:"Login"`
	Accounts        []Account
	// Replayed is set by FetchCached when the data came although the cached
	// Authorize answered with a replayed failure of the last refresh
	// (QUESTION_NOT_FOUND): the data is then as of Login.LastRefresh, and only
	// the person, reconnecting in Connect, can let Flinks refresh it.
	Replayed *Error `json:"-"`
}

// AccountsSummary is the 200 answer of GetAccountsSummary and
// GetAccountsSummaryAsync: like AccountsDetail, without transactions.
type AccountsSummary struct {
	RequestID       string `json:"RequestId"`
	Institution     string `json:"Institution"`
	InstitutionName string `json:"InstitutionName"`
	InstitutionID   int    `json:"InstitutionId"`
	Tag             string `json:"Tag"`
	Login           Login  `json:"Login"`
	Accounts        []Account
	Replayed        *Error `json:"-"` // as on AccountsDetail
}

// Account is one bank account. Every scalar may be empty: Flinks sends null for
// what it does not know or what the request did not ask for (WithAccountIdentity,
// WithKYC, WithBalance).
type Account struct {
	ID                string `json:"Id"` // stable account GUID, used in AccountsFilter
	Title             string
	AccountNumber     string // sent as a string or, in older payloads, a number
	LastFourDigits    string
	TransitNumber     string // string (leading zeros kept) or number
	InstitutionNumber string // string (leading zeros kept) or number
	Category          string // "Operations", "Credits", "Products" or "Others"
	Type              string // e.g. "Chequing", "Savings", "CreditCard", "LineOfCredit"
	Currency          string // "CAD" or "USD"
	AccountType       string // "Personal", "Business" or empty
	OverdraftLimit    *Amount
	Balance           Balance
	Holder            *Holder // nil when KYC was not requested or unknown
	// Transactions are the rows that could be read; Unreadable counts the
	// others (not an object, a date that is not a date, an amount that is
	// not a number), so that one bad row does not lose the account.
	Transactions []Transaction
	Unreadable   int `json:"-"`
	// EftEligibleRatio and ETransferEligibleRatio are the historical success ratios
	// (0 to 1) of getting EFT / e-Transfer details for this kind of account, kept
	// as the exact decimal text; nil when absent, null or not a number. Not money.
	EftEligibleRatio       *json.Number
	ETransferEligibleRatio *json.Number
}

// UnmarshalJSON decodes an account, accepting identity numbers as strings or
// numbers, Holder as an object or a plain name, and "" for null amounts.
func (a *Account) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	type plain Account // same fields, no methods: avoids recursion
	aux := struct {
		*plain
		AccountNumber          flexString
		LastFourDigits         flexString
		TransitNumber          flexString
		InstitutionNumber      flexString
		OverdraftLimit         looseAmount
		EftEligibleRatio       looseNumber
		ETransferEligibleRatio looseNumber
		Transactions           []json.RawMessage
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	a.Transactions, a.Unreadable = nil, 0
	if aux.Transactions != nil {
		a.Transactions = make([]Transaction, 0, len(aux.Transactions))
	}
	for _, raw := range aux.Transactions {
		var t Transaction
		if string(bytes.TrimSpace(raw)) == "null" || json.Unmarshal(raw, &t) != nil || t.Date.IsZero() {
			a.Unreadable++
			continue
		}
		a.Transactions = append(a.Transactions, t)
	}
	a.AccountNumber = string(aux.AccountNumber)
	a.LastFourDigits = string(aux.LastFourDigits)
	a.TransitNumber = string(aux.TransitNumber)
	a.InstitutionNumber = string(aux.InstitutionNumber)
	a.OverdraftLimit = aux.OverdraftLimit.p
	a.EftEligibleRatio = aux.EftEligibleRatio.p
	a.ETransferEligibleRatio = aux.ETransferEligibleRatio.p
	return nil
}

// Balance holds an account's balances; nil means null or absent (WithBalance false).
type Balance struct {
	Available *Amount // posted plus authorized
	Current   *Amount // posted
	Limit     *Amount // maximum debit, e.g. a credit limit
}

// UnmarshalJSON decodes a balance, treating "" like null.
func (bal *Balance) UnmarshalJSON(b []byte) error {
	var aux struct{ Available, Current, Limit looseAmount }
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*bal = Balance{Available: aux.Available.p, Current: aux.Current.p, Limit: aux.Limit.p}
	return nil
}

// Holder is the account holder (KYC data).
type Holder struct {
	Name        string
	Address     *Address
	Email       string
	PhoneNumber string
}

// UnmarshalJSON accepts the holder object, or a plain string (older summaries send
// "Holder": "John Flinkyfoot"), which becomes Holder{Name: s}.
func (h *Holder) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var name string
		if err := json.Unmarshal(b, &name); err != nil {
			return err
		}
		*h = Holder{Name: name}
		return nil
	}
	type plain Holder
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*h = Holder(p)
	return nil
}

// Address is a postal address.
type Address struct {
	CivicAddress string
	City         string
	Province     string
	PostalCode   string
	POBox        string
	Country      string
}

// Transaction is one posted transaction. In real data exactly one of Debit and
// Credit is set; Balance is the running balance after it. Order is not specified
// by Flinks (sample data is newest first).
type Transaction struct {
	ID          string `json:"Id"` // stable GUID
	Date        Date
	Description string
	Code        string // deprecated by Flinks, always empty
	Debit       *Amount
	Credit      *Amount
	Balance     *Amount
}

// UnmarshalJSON decodes a transaction, treating "" like null for amounts.
func (t *Transaction) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	type plain Transaction
	aux := struct {
		*plain
		Debit, Credit, Balance looseAmount
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	t.Debit, t.Credit, t.Balance = aux.Debit.p, aux.Credit.p, aux.Balance.p
	return nil
}

var errEmptyID = errors.New("empty id")

// GetAccountsDetail asks for the accounts, balances, KYC and transactions of the
// session req.RequestID. A 202 is returned as (nil, *Error) with Kind KindPending
// (errors.Is(err, ErrPending)): poll GetAccountsDetailAsync with the same RequestId.
//
// Flinks API docs: https://docs.flinks.com/api/connect/endpoints/account-linking/get-accounts-detail
func (c *Client) GetAccountsDetail(ctx context.Context, req DetailRequest) (*AccountsDetail, error) {
	return c.getAccountsDetail(ctx, nil, req)
}

func (c *Client) getAccountsDetail(ctx context.Context, obs *observer, req DetailRequest) (*AccountsDetail, error) {
	if strings.TrimSpace(req.RequestID) == "" {
		return nil, fmt.Errorf("flinks: %s: %w", epGetAccountsDetail, errEmptyID)
	}
	return c.accounts(ctx, obs, http.MethodPost, epGetAccountsDetail, "", req, req.RequestID)
}

// GetAccountsDetailAsync polls for the result of a GetAccountsDetail that answered
// 202, with a GET and no body. Flinks asks for one poll every 10 s for at most 30
// minutes; a 202 is returned as a KindPending *Error.
//
// Flinks API docs: https://docs.flinks.com/api/connect/endpoints/account-linking/get-accounts-detail-async
func (c *Client) GetAccountsDetailAsync(ctx context.Context, requestID string) (*AccountsDetail, error) {
	return c.getAccountsDetailAsync(ctx, nil, requestID)
}

func (c *Client) getAccountsDetailAsync(ctx context.Context, obs *observer, requestID string) (*AccountsDetail, error) {
	if strings.TrimSpace(requestID) == "" {
		return nil, fmt.Errorf("flinks: %s: %w", epGetAccountsDetailAsync, errEmptyID)
	}
	return c.accounts(ctx, obs, http.MethodGet, epGetAccountsDetailAsync, requestID, nil, requestID)
}

// GetAccountsSummary asks for the accounts and balances (no transactions) of the
// session requestID. A 202 is returned as a KindPending *Error: poll
// GetAccountsSummaryAsync.
//
// Flinks API docs: https://docs.flinks.com/api/connect/endpoints/account-linking/get-accounts-summary
func (c *Client) GetAccountsSummary(ctx context.Context, requestID string) (*AccountsSummary, error) {
	if strings.TrimSpace(requestID) == "" {
		return nil, fmt.Errorf("flinks: %s: %w", epGetAccountsSummary, errEmptyID)
	}
	body := struct {
		RequestID string `json:"RequestId"`
	}{requestID}
	d, err := c.accounts(ctx, nil, http.MethodPost, epGetAccountsSummary, "", body, requestID)
	if err != nil {
		return nil, err
	}
	s := AccountsSummary(*d)
	return &s, nil
}

// GetAccountsSummaryAsync polls for the result of a GetAccountsSummary that
// answered 202, with a GET and no body.
//
// Flinks API docs: https://docs.flinks.com/api/connect/endpoints/account-linking/get-accounts-summary-async
func (c *Client) GetAccountsSummaryAsync(ctx context.Context, requestID string) (*AccountsSummary, error) {
	if strings.TrimSpace(requestID) == "" {
		return nil, fmt.Errorf("flinks: %s: %w", epGetAccountsSummaryAsync, errEmptyID)
	}
	d, err := c.accounts(ctx, nil, http.MethodGet, epGetAccountsSummaryAsync, requestID, nil, requestID)
	if err != nil {
		return nil, err
	}
	s := AccountsSummary(*d)
	return &s, nil
}

// accounts performs a data call; only a 200 with an Accounts array is data.
func (c *Client) accounts(ctx context.Context, obs *observer, method, endpoint, pathID string, body any, requestID string) (*AccountsDetail, error) {
	var out AccountsDetail
	r := &request{
		method:    method,
		endpoint:  endpoint,
		pathID:    pathID,
		body:      body,
		apiKey:    true,
		ok:        []int{http.StatusOK},
		requestID: requestID,
	}
	r.decode = func(_ int, b []byte) error {
		if err := json.Unmarshal(b, &out); err != nil {
			return err
		}
		// A login without accounts still gets "Accounts": []; a missing or null
		// array means this is not a data payload.
		if out.Accounts == nil {
			return errors.New("no Accounts in response")
		}
		if !c.usableRequestID(out.RequestID, r) {
			out.RequestID = requestID
		}
		return nil
	}
	if err := c.do(ctx, obs, r); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCard permanently removes a LoginId and all its data at Flinks. Calling it
// while the card is still being processed answers 400 CARD_IN_USE (KindRetryLater).
// Flinks' messages echo the LoginId; they are scrubbed from the returned error.
//
// Flinks API docs: https://docs.flinks.com/api/connect/endpoints/account-linking/delete-card
func (c *Client) DeleteCard(ctx context.Context, loginID string) error {
	if strings.TrimSpace(loginID) == "" {
		return fmt.Errorf("flinks: %s: %w", epDeleteCard, errEmptyID)
	}
	r := &request{
		method:   http.MethodDelete,
		endpoint: epDeleteCard,
		pathID:   loginID,
		apiKey:   true,
		ok:       []int{http.StatusOK, http.StatusNoContent},
		private:  []string{loginID},
	}
	// The answer is {"StatusCode":200,"Message":"All of the information about
	// LoginId <id> has been removed"}: nothing to keep. A non-JSON 200 (a proxy's
	// HTML page) means we did not reach Flinks.
	r.decode = func(_ int, b []byte) error {
		if len(bytes.TrimSpace(b)) == 0 || json.Valid(b) {
			return nil
		}
		return errors.New("body is not JSON")
	}
	return c.do(ctx, nil, r)
}
