package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	endpointDetail  = "GetAccountsDetail"
	endpointSummary = "GetAccountsSummary"
)

// parseDays maps DaysOfTransactions to a day count (§5.3); "" is Days90.
// Days360 is what 2018–2019 clients sent; it is still honoured.
func parseDays(v string) (int, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "days90":
		return 90, true
	case "days365":
		return 365, true
	case "days360":
		return 360, true
	}
	return 0, false
}

// handleData is POST /GetAccountsDetail and /GetAccountsSummary.
func (s *Server) handleData(endpoint string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.customerOK(w, r.PathValue("customerId")) || !s.apiKeyOK(w, r) {
			return
		}
		var req dataRequest
		if err := decodeBody(w, r, &req); err != nil {
			writeJSON(w, http.StatusBadRequest, invalidRequest(err))
			return
		}
		if strings.TrimSpace(req.RequestID) == "" {
			writeJSON(w, http.StatusBadRequest, errorBody{HTTPStatusCode: http.StatusBadRequest, FlinksCode: "INVALID_REQUEST",
				Message: "RequestId is required", ValidationDetails: map[string][]string{"RequestId": {"The RequestId field is required."}}})
			return
		}
		days, ok := parseDays(req.DaysOfTransactions)
		if !ok {
			writeJSON(w, http.StatusBadRequest, errorBody{HTTPStatusCode: http.StatusBadRequest, FlinksCode: "INVALID_REQUEST",
				Message: fmt.Sprintf("DaysOfTransactions %q is invalid; use Days90 or Days365", req.DaysOfTransactions), RequestID: req.RequestID})
			return
		}
		params := &storedParams{
			WithAccountIdentity: optBool(req.WithAccountIdentity),
			WithKYC:             optBool(req.WithKYC),
			WithTransactions:    optBool(req.WithTransactions),
			WithBalance:         optBool(req.WithBalance),
			Days:                days,
			AccountsFilter:      req.AccountsFilter,
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.serveData(w, r, endpoint, req.RequestID, params)
	}
}

// handleAsync is GET (or POST) /GetAccountsDetailAsync/{RequestId} and
// /GetAccountsSummaryAsync/{RequestId}: the poller of §4.3.
func (s *Server) handleAsync(endpoint string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.customerOK(w, r.PathValue("customerId")) || !s.apiKeyOK(w, r) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.serveData(w, r, endpoint, r.PathValue("requestId"), nil)
	}
}

// serveData answers a data call (params != nil) or a poll (params == nil).
// Whether the data is ready is pure arithmetic on stored times: the login's
// scrape must be over, and the call must be past any overlap block or
// dispatch delay it got when it started. Called with mu held.
func (s *Server) serveData(w http.ResponseWriter, r *http.Request, endpoint, id string, params *storedParams) {
	ctx := r.Context()
	now := s.now()
	poll := params == nil
	rq, err := s.getRequest(ctx, id)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	var l *login
	if rq != nil && rq.LoginID != "" {
		if l, err = s.getLogin(ctx, rq.LoginID); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	if rq == nil || (rq.State != stateMFA && l == nil) || !s.requestAlive(rq, l, now) {
		writeError(w, http.StatusBadRequest, "SESSION_NONEXISTENT", msgSessionNone, id)
		return
	}
	if rq.State == stateMFA {
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "This RequestId is not authorized yet: answer its security challenge first", rq.ID)
		return
	}
	def := scenarioOf(l.Scenario)
	if e := def.authErr; e != nil {
		// Only reachable with the RequestId of Connect's own live session
		// (the REDIRECT event's requestId): the bank refused that user.
		writeError(w, e.status, e.code, e.message, rq.ID)
		return
	}

	if poll {
		// test_expired: the first RequestId of the login dies on its 4th poll.
		if def.expire && !l.ExpiryShown && rq.State == statePending && rq.Polls >= 3 {
			rq.State, l.ExpiryShown = stateExpired, true
			if err := s.saveBoth(r, rq, l); err != nil {
				s.internalError(w, r, err)
				return
			}
			writeError(w, http.StatusBadRequest, "SESSION_NONEXISTENT", msgSessionNone, rq.ID)
			return
		}
		rq.Polls++
		if def.flaky && rq.Polls <= 3 {
			if err := s.saveRequest(ctx, rq); err != nil {
				s.internalError(w, r, err)
				return
			}
			flakyFailure(w, rq.Polls, rq.ID)
			return
		}
		if rq.DataEndpoint == endpoint {
			params = &storedParams{Days: 90}
			if err := json.Unmarshal([]byte(rq.DataParams), params); err != nil {
				s.internalError(w, r, fmt.Errorf("decode stored params: %w", err))
				return
			}
		} else {
			// Polled without a data call for this endpoint: behave as the
			// data call with its defaults would.
			params = &storedParams{Days: 90}
			poll = false
		}
	}
	if !poll {
		s.startDataCall(rq, l, def, endpoint, params, now)
	}

	ready := !l.scraping(now) && !now.Before(rq.BlockedUntil) && !now.Before(rq.DispatchedUntil)
	if !ready {
		rq.State = statePending
		if err := s.saveRequest(ctx, rq); err != nil {
			s.internalError(w, r, err)
			return
		}
		code, msg := "OPERATION_PENDING", msgPending
		if def.dispatched {
			code, msg = "OPERATION_DISPATCHED", msgDispatched
		}
		writeJSON(w, http.StatusAccepted, pendingBody{FlinksCode: code, Links: asyncLinks(endpoint, rq.ID),
			HTTPStatusCode: http.StatusAccepted, Message: msg, RequestID: rq.ID})
		return
	}
	rq.State, rq.LastActivity = stateAuthorized, now
	l.BusyUntil, l.BusyRequest = now.Add(s.scaled(busyWindow)), rq.ID
	if err := s.saveBoth(r, rq, l); err != nil {
		s.internalError(w, r, err)
		return
	}
	ds := newDataset(l.ID, l.ScrapeEnd, def)
	if endpoint == endpointSummary {
		writeJSON(w, http.StatusOK, summaryJSON(ds, rq, l, params))
		return
	}
	writeJSON(w, http.StatusOK, detailJSON(ds, rq, l, params))
}

// startDataCall records a new data call on rq: its options, and what may
// keep it pending besides the scrape.
func (s *Server) startDataCall(rq *request, l *login, def *scenarioDef, endpoint string, params *storedParams, now time.Time) {
	raw, _ := json.Marshal(params) // plain struct: cannot fail
	fresh := rq.State != statePending
	if fresh {
		rq.DataStarted = now
	}
	rq.DataEndpoint, rq.DataParams = endpoint, string(raw)
	// Another RequestId's call on this card is still being served (§4.2).
	if l.BusyRequest != rq.ID && now.Before(l.BusyUntil) && l.BusyUntil.After(rq.BlockedUntil) {
		rq.BlockedUntil = l.BusyUntil
	}
	if def.dispatched && fresh {
		rq.DispatchedUntil = now.Add(s.dispatchTime(def, rq.Tag))
	}
}

func (s *Server) saveBoth(r *http.Request, rq *request, l *login) error {
	if err := s.saveRequest(r.Context(), rq); err != nil {
		return err
	}
	return s.saveLogin(r.Context(), l)
}

// flakyFailure is test_flaky's n-th failed poll: a JSON 500, then the kind
// of HTML error pages a proxy in front of Flinks would send.
func flakyFailure(w http.ResponseWriter, n int, requestID string) {
	switch n {
	case 1:
		writeError(w, http.StatusInternalServerError, "AGGREGATION_ERROR", "An unexpected error occurred during the aggregation", requestID)
	case 2:
		writeHTMLError(w, http.StatusServiceUnavailable, "503 Service Temporarily Unavailable")
	default:
		writeHTMLError(w, http.StatusBadGateway, "502 Bad Gateway")
	}
}

func writeHTMLError(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", title, title)
}

// handleDeleteCard is DELETE /DeleteCard/{loginId} (§9.2).
func (s *Server) handleDeleteCard(w http.ResponseWriter, r *http.Request) {
	if !s.customerOK(w, r.PathValue("customerId")) || !s.apiKeyOK(w, r) {
		return
	}
	id := r.PathValue("loginId")
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.getLogin(r.Context(), id)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if l == nil {
		// The reference only says the text contains "Invalid LoginId" and
		// that a client maps it to "not found".
		writeError(w, http.StatusNotFound, "INVALID_LOGIN", "Invalid LoginId", "")
		return
	}
	// A scrape that never ends would make the card undeletable; Flinks'
	// "never completes" case is a stuck request, not a locked card.
	if l.scraping(s.now()) && !l.ScrapeNever {
		writeError(w, http.StatusBadRequest, "CARD_IN_USE", "The card is currently being processed; retry once the processing is done", "")
		return
	}
	if err := s.deleteLogin(r.Context(), l.ID); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deleteBody{StatusCode: http.StatusOK,
		Message: "All of the information about LoginId " + l.ID + " has been removed"})
}

// Rendering of the generated data.

func money(cents int64) *float64 {
	v := float64(cents) / 100
	return &v
}

func strPtr(s string) *string { return &s }

func filterAccounts(accounts []account, filter []string) []account {
	if len(filter) == 0 {
		return accounts
	}
	var out []account
	for _, a := range accounts {
		for _, id := range filter {
			if strings.EqualFold(strings.TrimSpace(id), a.id) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

func holderJSON(h holder) *holderBody {
	return &holderBody{
		Name: h.name,
		Address: addressBody{CivicAddress: h.civic, City: h.city, Province: h.province, PostalCode: h.postal,
			Country: "CA"},
		Email:       h.email,
		PhoneNumber: h.phone,
	}
}

func balanceJSON(a account, with bool) balanceBody {
	if !with {
		return balanceBody{}
	}
	b := balanceBody{Current: money(a.current)}
	if !a.availableNull {
		b.Available = money(a.available)
	}
	if a.limit != 0 {
		b.Limit = money(a.limit)
	}
	return b
}

func detailJSON(ds dataset, rq *request, l *login, p *storedParams) detailBody {
	withIdentity := boolOr(p.WithAccountIdentity, false) // the SDK's documented default (§5.3)
	withKYC := boolOr(p.WithKYC, true)
	withTx := boolOr(p.WithTransactions, true)
	withBalance := boolOr(p.WithBalance, true)
	cutoff := dayNum(l.ScrapeEnd) - int64(p.Days)
	accounts := make([]detailAccountBody, 0, len(ds.accounts))
	for _, a := range filterAccounts(ds.accounts, p.AccountsFilter) {
		info := kinds[a.kind]
		out := detailAccountBody{
			Transactions:   make([]transactionBody, 0),
			OverdraftLimit: float64(a.overdraft) / 100,
			Title:          info.title,
			Balance:        balanceJSON(a, withBalance),
			Category:       info.category,
			Type:           info.typ,
			Currency:       info.currency,
			AccountType:    "Personal",
			ID:             a.id,
		}
		if a.lastFour != "" {
			out.LastFourDigits = strPtr(a.lastFour)
		}
		if withIdentity {
			out.TransitNumber, out.InstitutionNumber, out.AccountNumber = strPtr(a.transit), strPtr("777"), strPtr(a.number)
		}
		if withKYC {
			out.Holder = holderJSON(ds.holder)
		}
		if withTx {
			for _, t := range a.txns {
				if dayNum(t.date) <= cutoff {
					break // newest first: everything after is older still
				}
				tb := transactionBody{Date: t.date.Format(time.DateOnly), Description: t.desc,
					Balance: float64(t.balance) / 100, ID: t.id}
				if t.debit != 0 {
					tb.Debit = money(t.debit)
				} else {
					tb.Credit = money(t.credit)
				}
				out.Transactions = append(out.Transactions, tb)
			}
		}
		accounts = append(accounts, out)
	}
	return detailBody{HTTPStatusCode: http.StatusOK, Accounts: accounts, InstitutionName: institutionCode,
		Login: loginJSON(l), InstitutionID: institutionID, Institution: institutionCode, RequestID: rq.ID, Tag: rq.Tag}
}

func summaryJSON(ds dataset, rq *request, l *login, p *storedParams) summaryBody {
	// The summary example shows AccountNumber without any flag, so here
	// only an explicit WithAccountIdentity:false hides it.
	withIdentity := boolOr(p.WithAccountIdentity, true)
	withBalance := boolOr(p.WithBalance, true)
	accounts := make([]summaryAccountBody, 0, len(ds.accounts))
	for _, a := range filterAccounts(ds.accounts, p.AccountsFilter) {
		info := kinds[a.kind]
		out := summaryAccountBody{
			EftEligibleRatio:       info.eft,
			ETransferEligibleRatio: info.eTransfer,
			Title:                  info.title,
			Balance:                balanceJSON(a, withBalance),
			Category:               info.category,
			Type:                   info.typ,
			Currency:               info.currency,
			Holder:                 holderJSON(ds.holder),
			AccountType:            "Personal",
			ID:                     a.id,
		}
		if a.lastFour != "" {
			out.LastFourDigits = strPtr(a.lastFour)
		}
		if withIdentity {
			out.AccountNumber = strPtr(a.number)
		}
		accounts = append(accounts, out)
	}
	return summaryBody{HTTPStatusCode: http.StatusOK, Accounts: accounts, Links: summaryLinks(), Tag: rq.Tag,
		InstitutionName: institutionCode, Login: loginJSON(l), InstitutionID: institutionID,
		Institution: institutionCode, RequestID: rq.ID}
}
