package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The wire shapes below are written from the examples in the reference
// (flinks-api.md §2–§5, §9), never from the client package, so that a wrong
// field name cannot hide on both sides. Field order follows the examples.

// Flinks messages quoted by the reference.
const (
	msgPending         = "Your operation is still processing"
	msgDispatched      = "Your operations had been dispatched to background process for long running jobs"
	msgSessionNone     = "Inputs session id or card if were not found."
	msgBadAuthKey      = "You must provide a valid auth key"
	msgBadToken        = "You must provide a valid authorize token"
	msgInvalidLoginID  = "The LoginId provided is either invalid or does not belong to the CustomerId"
	msgInvalidPassword = "The card number (username) or password provided is invalid"
	// The reference gives no message for QUESTION_NOT_FOUND: ours says what it means.
	msgQuestionNotFound = "The last refresh stopped at a security question that has no stored answer"
)

// lastRefreshLayout is LastRefresh's format: UTC without a zone suffix and
// with six fractional digits, as in the docs' examples.
const lastRefreshLayout = "2006-01-02T15:04:05.000000"

const (
	institutionCode = "FlinksCapital"
	institutionID   = 14
)

type link struct {
	Rel     string  `json:"rel"`
	Href    string  `json:"href"`
	Example *string `json:"example"`
}

// flinksTime marshals as LastRefresh does.
type flinksTime time.Time

func (t flinksTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(lastRefreshLayout) + `"`), nil
}

type loginBody struct {
	Username           string     `json:"Username"`
	IsScheduledRefresh bool       `json:"IsScheduledRefresh"`
	LastRefresh        flinksTime `json:"LastRefresh"`
	Type               string     `json:"Type"`
	ID                 string     `json:"Id"`
}

type tokenBody struct {
	HTTPStatusCode int    `json:"HttpStatusCode"`
	Token          string `json:"Token"`
}

type authorizeBody struct {
	HTTPStatusCode  int       `json:"HttpStatusCode"`
	Links           []link    `json:"Links"`
	InstitutionName string    `json:"InstitutionName"`
	Login           loginBody `json:"Login"`
	InstitutionID   int       `json:"InstitutionId"`
	Institution     string    `json:"Institution"`
	RequestID       string    `json:"RequestId"`
	Tag             string    `json:"Tag,omitempty"`
}

type challenge struct {
	Type   string `json:"Type"`
	Prompt string `json:"Prompt"`
}

type mfaBody struct {
	Links              []link      `json:"Links"`
	HTTPStatusCode     int         `json:"HttpStatusCode"`
	SecurityChallenges []challenge `json:"SecurityChallenges"`
	Institution        string      `json:"Institution"`
	RequestID          string      `json:"RequestId"`
	Tag                string      `json:"Tag,omitempty"`
}

// errorBody is the shared error envelope (§3.4). A wrong MFA answer also
// carries the challenge again so a client can re-prompt (§3.3).
type errorBody struct {
	HTTPStatusCode     int                 `json:"HttpStatusCode"`
	FlinksCode         string              `json:"FlinksCode"`
	Message            string              `json:"Message"`
	RequestID          string              `json:"RequestId,omitempty"`
	SecurityChallenges []challenge         `json:"SecurityChallenges,omitempty"`
	ValidationDetails  map[string][]string `json:"ValidationDetails,omitempty"`
}

// pendingBody is the 202 of §4.1, with the concrete Links form.
type pendingBody struct {
	FlinksCode     string `json:"FlinksCode"`
	Links          []link `json:"Links"`
	HTTPStatusCode int    `json:"HttpStatusCode"`
	Message        string `json:"Message"`
	RequestID      string `json:"RequestId"`
}

// deleteBody is DeleteCard's 200; note StatusCode, not HttpStatusCode (§9.2).
type deleteBody struct {
	StatusCode int    `json:"StatusCode"`
	Message    string `json:"Message"`
}

type balanceBody struct {
	Available *float64 `json:"Available"`
	Current   *float64 `json:"Current"`
	Limit     *float64 `json:"Limit"`
}

type addressBody struct {
	CivicAddress string  `json:"CivicAddress"`
	City         string  `json:"City"`
	Province     string  `json:"Province"`
	PostalCode   string  `json:"PostalCode"`
	POBox        *string `json:"POBox"`
	Country      string  `json:"Country"`
}

type holderBody struct {
	Name        string      `json:"Name"`
	Address     addressBody `json:"Address"`
	Email       string      `json:"Email"`
	PhoneNumber string      `json:"PhoneNumber"`
}

type transactionBody struct {
	Date        string   `json:"Date"`
	Code        *string  `json:"Code"`
	Description string   `json:"Description"`
	Debit       *float64 `json:"Debit"`
	Credit      *float64 `json:"Credit"`
	Balance     float64  `json:"Balance"`
	ID          string   `json:"Id"`
}

type detailAccountBody struct {
	Transactions      []transactionBody `json:"Transactions"`
	TransitNumber     *string           `json:"TransitNumber"`
	InstitutionNumber *string           `json:"InstitutionNumber"`
	OverdraftLimit    float64           `json:"OverdraftLimit"`
	Title             string            `json:"Title"`
	AccountNumber     *string           `json:"AccountNumber"`
	LastFourDigits    *string           `json:"LastFourDigits"`
	Balance           balanceBody       `json:"Balance"`
	Category          string            `json:"Category"`
	Type              string            `json:"Type"`
	Currency          string            `json:"Currency"`
	Holder            *holderBody       `json:"Holder"`
	AccountType       string            `json:"AccountType"`
	ID                string            `json:"Id"`
}

type detailBody struct {
	HTTPStatusCode  int                 `json:"HttpStatusCode"`
	Accounts        []detailAccountBody `json:"Accounts"`
	InstitutionName string              `json:"InstitutionName"`
	Login           loginBody           `json:"Login"`
	InstitutionID   int                 `json:"InstitutionId"`
	Institution     string              `json:"Institution"`
	RequestID       string              `json:"RequestId"`
	Tag             string              `json:"Tag,omitempty"`
}

type summaryAccountBody struct {
	EftEligibleRatio       float64     `json:"EftEligibleRatio"`
	ETransferEligibleRatio float64     `json:"ETransferEligibleRatio"`
	Title                  string      `json:"Title"`
	AccountNumber          *string     `json:"AccountNumber"`
	LastFourDigits         *string     `json:"LastFourDigits"`
	Balance                balanceBody `json:"Balance"`
	Category               string      `json:"Category"`
	Type                   string      `json:"Type"`
	Currency               string      `json:"Currency"`
	Holder                 *holderBody `json:"Holder"`
	AccountType            string      `json:"AccountType"`
	ID                     string      `json:"Id"`
}

type summaryBody struct {
	HTTPStatusCode  int                  `json:"HttpStatusCode"`
	Accounts        []summaryAccountBody `json:"Accounts"`
	Links           []link               `json:"Links"`
	Tag             string               `json:"Tag,omitempty"`
	InstitutionName string               `json:"InstitutionName"`
	Login           loginBody            `json:"Login"`
	InstitutionID   int                  `json:"InstitutionId"`
	Institution     string               `json:"Institution"`
	RequestID       string               `json:"RequestId"`
}

// flexBool accepts JSON booleans and the strings "true"/"false": the official
// C# SDK sends booleans as strings and ASP.NET binds them (§3.1). It also
// remembers whether the field was sent, for flags whose default matters.
type flexBool struct {
	set, val bool
}

func (b *flexBool) UnmarshalJSON(p []byte) error {
	s := strings.TrimSpace(string(p))
	if s == "null" {
		*b = flexBool{}
		return nil
	}
	s = strings.ToLower(strings.Trim(s, `"`))
	switch strings.TrimSpace(s) {
	case "true":
		*b = flexBool{set: true, val: true}
	case "false":
		*b = flexBool{set: true, val: false}
	default:
		return fmt.Errorf("%s is not a boolean", p)
	}
	return nil
}

// or returns the value sent, or def when the field was absent or null.
func (b flexBool) or(def bool) bool {
	if b.set {
		return b.val
	}
	return def
}

// authorizeRequest binds /Authorize bodies. encoding/json matches keys
// case-insensitively, which is what ASP.NET does for "UserName" or
// "username" (§3.1).
type authorizeRequest struct {
	LoginID           string                     `json:"LoginId"`
	MostRecentCached  flexBool                   `json:"MostRecentCached"`
	Username          string                     `json:"Username"`
	Password          string                     `json:"Password"`
	Institution       string                     `json:"Institution"`
	Language          string                     `json:"Language"`
	Save              flexBool                   `json:"Save"`
	Tag               string                     `json:"Tag"`
	RequestID         string                     `json:"RequestId"`
	SecurityResponses map[string]json.RawMessage `json:"SecurityResponses"`
	ScheduleRefresh   flexBool                   `json:"ScheduleRefresh"`
}

// dataRequest binds GetAccountsDetail / GetAccountsSummary bodies (§5.1, §5.3).
type dataRequest struct {
	RequestID           string   `json:"RequestId"`
	WithAccountIdentity flexBool `json:"WithAccountIdentity"`
	WithKYC             flexBool `json:"WithKYC"`
	WithTransactions    flexBool `json:"WithTransactions"`
	WithBalance         flexBool `json:"WithBalance"`
	DaysOfTransactions  string   `json:"DaysOfTransactions"`
	AccountsFilter      []string `json:"AccountsFilter"`
}

// storedParams is how a pending data call's options are persisted until the
// poller delivers them; flexBool cannot round-trip through JSON on its own.
type storedParams struct {
	WithAccountIdentity *bool    `json:"a,omitempty"`
	WithKYC             *bool    `json:"k,omitempty"`
	WithTransactions    *bool    `json:"t,omitempty"`
	WithBalance         *bool    `json:"b,omitempty"`
	Days                int      `json:"d"`
	AccountsFilter      []string `json:"f,omitempty"`
}

func optBool(b flexBool) *bool {
	if !b.set {
		return nil
	}
	v := b.val
	return &v
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// maxBody bounds request bodies; Flinks requests are a few hundred bytes.
const maxBody = 1 << 20

// errEmptyBody marks a missing JSON body.
var errEmptyBody = errors.New("empty body")

// decodeBody reads a JSON request body into v. Unknown fields are ignored,
// like ASP.NET model binding does.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errEmptyBody
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	return nil
}

// invalidRequest turns a decode error into Flinks' INVALID_REQUEST envelope,
// worded for a Flinks user rather than with Go type names.
func invalidRequest(err error) errorBody {
	msg := "The request is invalid"
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, errEmptyBody):
		msg = "The request body is empty; a JSON object is required"
	case errors.As(err, &typeErr) && typeErr.Field == "":
		msg = "The request body must be a JSON object"
	case errors.As(err, &typeErr):
		msg = fmt.Sprintf("The value of %s is invalid: got a JSON %s", typeErr.Field, typeErr.Value)
	case errors.As(err, &syntaxErr):
		msg = fmt.Sprintf("The request body is not valid JSON (error at byte %d)", syntaxErr.Offset)
	case errors.As(err, &maxErr):
		msg = "The request body is too large"
	case strings.Contains(err.Error(), "is not a boolean"):
		msg = "A boolean field has an invalid value: use true or false"
	case strings.Contains(err.Error(), "unexpected end of JSON"):
		msg = "The request body is not valid JSON (unexpected end of input)"
	}
	return errorBody{HTTPStatusCode: http.StatusBadRequest, FlinksCode: "INVALID_REQUEST", Message: msg}
}

// writeJSON writes v with the given status. HTML escaping is off because
// Flinks (ASP.NET) does not escape "&" in descriptions such as "A&W".
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError writes the error envelope; requestID may be empty.
func writeError(w http.ResponseWriter, status int, code, message, requestID string) {
	writeJSON(w, status, errorBody{HTTPStatusCode: status, FlinksCode: code, Message: message, RequestID: requestID})
}

// Links of the different responses, copied from the examples.
func authorizeLinks() []link {
	return []link{
		{Rel: "AccountsDetail", Href: "/GetAccountsDetail"},
		{Rel: "AccountsSummary", Href: "/GetAccountsSummary"},
		{Rel: "Statements", Href: "/GetStatements"},
	}
}

func summaryLinks() []link {
	return []link{
		{Rel: "AccountsDetail", Href: "/GetAccountsDetail"},
		{Rel: "Statements", Href: "/GetStatements"},
	}
}

func mfaLinks() []link {
	return []link{{Rel: "Authorization", Href: "/Authorize"}}
}

// asyncLinks is the concrete pending form of §4.1, e.g.
// {"rel":"GetAccountsDetailAsync","href":"/GetAccountsDetailAsync","example":"/GetAccountsDetailAsync/<id>"}.
func asyncLinks(endpoint, requestID string) []link {
	name := endpoint + "Async"
	example := "/" + name + "/" + requestID
	return []link{{Rel: name, Href: "/" + name, Example: &example}}
}
