package sandbox

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// handleGenerateToken is POST /GenerateAuthorizeToken (§2.2): the secret key
// in flinks-auth-key buys a single-use authorize token.
func (s *Server) handleGenerateToken(w http.ResponseWriter, r *http.Request) {
	if !s.customerOK(w, r.PathValue("customerId")) {
		return
	}
	key := r.Header.Get("flinks-auth-key")
	if key == "" || subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.SecretKey)) != 1 {
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", msgBadAuthKey, "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t := &token{Token: newGUID(), CreatedAt: now, ExpiresAt: now.Add(s.scaled(tokenLifetime))}
	if err := s.insertToken(r.Context(), t); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenBody{HTTPStatusCode: http.StatusOK, Token: t.Token})
}

// tokenUsable reports whether an authorize token may be consumed now, or
// re-used for the MFA answer of the RequestId it opened (§2.1).
func (s *Server) tokenUsable(ctx context.Context, tok, requestID string, now time.Time) (bool, error) {
	if tok == "" {
		return false, nil
	}
	t, err := s.getToken(ctx, tok)
	if err != nil || t == nil {
		return false, err
	}
	if !t.UsedAt.IsZero() {
		return requestID != "" && strings.EqualFold(t.UsedFor, requestID), nil
	}
	return now.Before(t.ExpiresAt), nil
}

// outcome is what an Authorize call answers; requestID is recorded on the
// consumed token so the MFA answer may re-send it.
type outcome struct {
	status    int
	body      any
	requestID string
}

func fail(status int, code, message, requestID string) outcome {
	return outcome{status, errorBody{HTTPStatusCode: status, FlinksCode: code, Message: message, RequestID: requestID}, requestID}
}

// handleAuthorize is POST /Authorize (§3), in all its modes.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if !s.customerOK(w, r.PathValue("customerId")) {
		return
	}
	var req authorizeRequest
	if err := decodeBody(w, r, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, invalidRequest(err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := r.Context()
	now := s.now()
	tok := r.Header.Get("flinks-auth-key")
	ok, err := s.tokenUsable(ctx, tok, req.RequestID, now)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", msgBadToken, "")
		return
	}
	var out outcome
	switch {
	case req.RequestID != "":
		out, err = s.answerMFA(ctx, &req, now)
	case req.LoginID != "" && req.MostRecentCached.or(false):
		out, err = s.authorizeCached(ctx, &req, now)
	case req.LoginID != "":
		out, err = s.authorizeRefresh(ctx, &req, now)
	case req.Username != "" || req.Password != "":
		// Also when MostRecentCached is true: without a LoginId there is
		// nothing cached to return, so old clients that always send it
		// (node-flinks) get the live login they meant.
		out, err = s.authorizeLive(ctx, &req, now)
	case req.MostRecentCached.or(false):
		out = outcome{status: http.StatusBadRequest, body: errorBody{HTTPStatusCode: http.StatusBadRequest,
			FlinksCode: "INVALID_REQUEST", Message: "LoginId is required when MostRecentCached is true",
			ValidationDetails: map[string][]string{"LoginId": {"The LoginId field is required."}}}}
	default:
		out = outcome{status: http.StatusBadRequest, body: errorBody{HTTPStatusCode: http.StatusBadRequest,
			FlinksCode: "INVALID_REQUEST",
			Message:    "Send LoginId with MostRecentCached for a cached session, or Username, Password and Institution for a live one",
			ValidationDetails: map[string][]string{
				"Username": {"The Username field is required."}, "Password": {"The Password field is required."}}}}
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	// A well-formed call spends the token, whatever the answer: it opened
	// (or tried to open) a session.
	if tok != "" {
		if err := s.useTokenOnce(ctx, tok, now, out.requestID); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	writeJSON(w, out.status, out.body)
}

// useTokenOnce marks tok used unless it already is (the MFA answer re-sends it).
func (s *Server) useTokenOnce(ctx context.Context, tok string, now time.Time, requestID string) error {
	t, err := s.getToken(ctx, tok)
	if err != nil || t == nil || !t.UsedAt.IsZero() {
		return err
	}
	return s.useToken(ctx, tok, now, requestID)
}

// knownBanks are real institutions a live Authorize may name; the sandbox
// only serves Flinks Capital, so they answer DISABLED_INSTITUTION.
var knownBanks = map[string]bool{"rbc": true, "td": true, "bmo": true, "scotia": true, "cibc": true,
	"desjardins": true, "national": true, "tangerine": true, "hsbc": true, "laurentienne": true, "atb": true}

func (s *Server) authorizeLive(ctx context.Context, req *authorizeRequest, now time.Time) (outcome, error) {
	missing := map[string][]string{}
	for field, v := range map[string]string{"Username": req.Username, "Password": req.Password, "Institution": req.Institution} {
		if strings.TrimSpace(v) == "" {
			missing[field] = []string{"The " + field + " field is required."}
		}
	}
	if len(missing) > 0 {
		return outcome{status: http.StatusBadRequest, body: errorBody{HTTPStatusCode: http.StatusBadRequest,
			FlinksCode: "INVALID_REQUEST", Message: "Username, Password and Institution are required for a live session",
			ValidationDetails: missing}}, nil
	}
	requestID := newGUID()
	if !strings.EqualFold(strings.TrimSpace(req.Institution), institutionCode) {
		if knownBanks[strings.ToLower(strings.TrimSpace(req.Institution))] {
			return fail(http.StatusMethodNotAllowed, "DISABLED_INSTITUTION",
				"The institution "+req.Institution+" is not available in the sandbox; use FlinksCapital", requestID), nil
		}
		return fail(http.StatusBadRequest, "INVALID_REQUEST", "Unknown institution "+req.Institution, requestID), nil
	}
	def := lookupScenario(req.Username)
	if def == nil || !strings.EqualFold(req.Password, def.Password) {
		return fail(http.StatusUnauthorized, "INVALID_LOGIN", msgInvalidPassword, requestID), nil
	}
	if e := def.authErr; e != nil {
		return fail(e.status, e.code, e.message, requestID), nil
	}
	lang := language(req.Language)
	rq := &request{ID: requestID, Username: def.Username, Scenario: def.key, Tag: req.Tag, Language: lang,
		Scheduled: req.ScheduleRefresh.or(false), CreatedAt: now, LastActivity: now}
	if def.MFA {
		rq.State = stateMFA
		rq.Prompt = rand.IntN(len(promptsEN))
		if err := s.saveRequest(ctx, rq); err != nil {
			return outcome{}, err
		}
		return s.challenge(rq, http.StatusNonAuthoritativeInfo, "", ""), nil
	}
	// A live login always yields a new LoginId, as Connect issues one per
	// connection (Save only decides whether Flinks keeps credentials).
	l, err := s.createLogin(ctx, def, rq, now)
	if err != nil {
		return outcome{}, err
	}
	return s.authorized(ctx, rq, l, now)
}

// challenge answers 203 (or a 401 re-prompt when code is set) with the
// request's security question.
func (s *Server) challenge(rq *request, status int, code, message string) outcome {
	ch := []challenge{{Type: "QuestionAndAnswer", Prompt: prompt(rq.Prompt, rq.Language)}}
	if code != "" {
		return outcome{status, errorBody{HTTPStatusCode: status, FlinksCode: code, Message: message,
			RequestID: rq.ID, SecurityChallenges: ch}, rq.ID}
	}
	return outcome{status, mfaBody{Links: mfaLinks(), HTTPStatusCode: status, SecurityChallenges: ch,
		Institution: institutionCode, RequestID: rq.ID, Tag: rq.Tag}, rq.ID}
}

// answerMFA handles the second Authorize call carrying SecurityResponses.
func (s *Server) answerMFA(ctx context.Context, req *authorizeRequest, now time.Time) (outcome, error) {
	rq, err := s.getRequest(ctx, req.RequestID)
	if err != nil {
		return outcome{}, err
	}
	if rq == nil || !s.requestAlive(rq, nil, now) {
		return fail(http.StatusBadRequest, "SESSION_NONEXISTENT", msgSessionNone, req.RequestID), nil
	}
	if rq.State != stateMFA {
		return fail(http.StatusBadRequest, "ALREADY_AUTHORIZED", "This RequestId is already authorized; call the data endpoints with it", rq.ID), nil
	}
	rq.LastActivity = now
	if req.Tag != "" {
		rq.Tag = req.Tag
	}
	def := scenarioOf(rq.Scenario)
	asked := prompt(rq.Prompt, rq.Language)
	answers, otherKey := securityAnswers(req.SecurityResponses, asked)
	var out outcome
	switch {
	case len(answers) > 0 && def.checkAnswer(asked, answers[0]) && rq.LoginID != "":
		// The question of a refresh of a saved login: refresh that login.
		l, err := s.getLogin(ctx, rq.LoginID)
		if err != nil {
			return outcome{}, err
		}
		if l == nil {
			return fail(http.StatusUnauthorized, "INVALID_LOGIN", msgInvalidLoginID, rq.ID), nil
		}
		return s.refreshLogin(ctx, rq, l, def, now)
	case len(answers) > 0 && def.checkAnswer(asked, answers[0]):
		l, err := s.createLogin(ctx, def, rq, now)
		if err != nil {
			return outcome{}, err
		}
		return s.authorized(ctx, rq, l, now)
	case len(answers) > 0:
		out = s.challenge(rq, http.StatusUnauthorized, "INVALID_SECURITY_RESPONSE", "The security response provided is incorrect")
	case otherKey:
		out = s.challenge(rq, http.StatusUnauthorized, "UNKNOWN_CHALLENGE_KEY",
			"The security responses do not answer the challenge that was asked; key them by its exact Prompt")
	default:
		// Nothing answered: the same challenge again, as the SDK's sandbox
		// test observed (§3.3).
		out = s.challenge(rq, http.StatusNonAuthoritativeInfo, "", "")
	}
	return out, s.saveRequest(ctx, rq)
}

// securityAnswers returns the non-empty answers given for the asked prompt
// (matched exactly: keys are data, §3.1), and whether some other key carried
// an answer. An answer may be an array of strings or a bare string.
func securityAnswers(responses map[string]json.RawMessage, asked string) (answers []string, otherKey bool) {
	for key, raw := range responses {
		var vals []string
		if err := json.Unmarshal(raw, &vals); err != nil {
			var one string
			if json.Unmarshal(raw, &one) == nil {
				vals = []string{one}
			}
		}
		var nonEmpty []string
		for _, v := range vals {
			if strings.TrimSpace(v) != "" {
				nonEmpty = append(nonEmpty, v)
			}
		}
		if key == asked {
			answers = nonEmpty
		} else if len(nonEmpty) > 0 {
			otherKey = true
		}
	}
	return answers, otherKey
}

// authorizeCached is the normal path after Connect: {LoginId, MostRecentCached: true}.
func (s *Server) authorizeCached(ctx context.Context, req *authorizeRequest, now time.Time) (outcome, error) {
	l, err := s.getLogin(ctx, req.LoginID)
	if err != nil {
		return outcome{}, err
	}
	requestID := newGUID()
	if l == nil {
		return fail(http.StatusUnauthorized, "INVALID_LOGIN", msgInvalidLoginID, requestID), nil
	}
	def := scenarioOf(l.Scenario)
	if e := def.authErr; e != nil {
		return fail(e.status, e.code, e.message, requestID), nil
	}
	rq := s.newSession(requestID, l, req, now)
	if def.questionNotFound {
		// The session is open on the cached data; the answer replays the
		// last refresh's failure.
		if err := s.saveRequest(ctx, rq); err != nil {
			return outcome{}, err
		}
		return fail(http.StatusUnauthorized, "QUESTION_NOT_FOUND", msgQuestionNotFound, rq.ID), nil
	}
	if def.authPending && l.scraping(now) {
		// The RequestId starts out as a pending GetAccountsDetail with the
		// defaults, so its Async poller answers once the scrape ends.
		s.startDataCall(rq, l, def, endpointDetail, &storedParams{Days: 90}, now)
		rq.State = statePending
		if err := s.saveRequest(ctx, rq); err != nil {
			return outcome{}, err
		}
		return outcome{http.StatusAccepted, pendingBody{FlinksCode: "OPERATION_PENDING", Links: asyncLinks(endpointDetail, rq.ID),
			HTTPStatusCode: http.StatusAccepted, Message: msgPending, RequestID: rq.ID}, rq.ID}, nil
	}
	return s.authorized(ctx, rq, l, now)
}

// authorizeRefresh is a live Authorize of a saved LoginId: a new scrape
// starts unless one is running. Saved MFA answers are reused, so no 203.
func (s *Server) authorizeRefresh(ctx context.Context, req *authorizeRequest, now time.Time) (outcome, error) {
	l, err := s.getLogin(ctx, req.LoginID)
	if err != nil {
		return outcome{}, err
	}
	requestID := newGUID()
	if l == nil {
		return fail(http.StatusUnauthorized, "INVALID_LOGIN", msgInvalidLoginID, requestID), nil
	}
	def := scenarioOf(l.Scenario)
	if e := def.authErr; e != nil {
		return fail(e.status, e.code, e.message, requestID), nil
	}
	rq := s.newSession(requestID, l, req, now)
	if def.refreshMFA {
		// The bank asks before it lets Flinks in: the refresh starts once
		// the question is answered (answerMFA, or Connect's requestId).
		rq.State, rq.Prompt = stateMFA, rand.IntN(len(promptsEN))
		if err := s.saveRequest(ctx, rq); err != nil {
			return outcome{}, err
		}
		return s.challenge(rq, http.StatusNonAuthoritativeInfo, "", ""), nil
	}
	return s.refreshLogin(ctx, rq, l, def, now)
}

// refreshLogin starts a new scrape of l unless one runs, and authorizes rq on it.
func (s *Server) refreshLogin(ctx context.Context, rq *request, l *login, def *scenarioDef, now time.Time) (outcome, error) {
	if !l.scraping(now) {
		s.startScrape(l, def, now)
		if err := s.saveLogin(ctx, l); err != nil {
			return outcome{}, err
		}
	}
	return s.authorized(ctx, rq, l, now)
}

// newSession opens an authorized RequestId on an existing login.
func (s *Server) newSession(id string, l *login, req *authorizeRequest, now time.Time) *request {
	tag := req.Tag
	if tag == "" {
		tag = l.Tag
	}
	lang := l.Language
	if req.Language != "" {
		lang = language(req.Language)
	}
	return &request{ID: id, LoginID: l.ID, Username: l.Username, Scenario: l.Scenario, State: stateAuthorized,
		Tag: tag, Language: lang, CreatedAt: now, LastActivity: now}
}

// createLogin issues a LoginId for a completed live login and starts its
// background scrape; rq carries the tag, language and refresh choice.
func (s *Server) createLogin(ctx context.Context, def *scenarioDef, rq *request, now time.Time) (*login, error) {
	l := &login{ID: newGUID(), Username: def.Username, Scenario: def.key, Language: rq.Language, Tag: rq.Tag,
		Scheduled: rq.Scheduled, CreatedAt: now}
	s.startScrape(l, def, now)
	if err := s.saveLogin(ctx, l); err != nil {
		return nil, err
	}
	rq.LoginID, rq.State, rq.LastActivity = l.ID, stateAuthorized, now
	return l, nil
}

// authorized saves rq and answers the 200 of §3.2.
func (s *Server) authorized(ctx context.Context, rq *request, l *login, now time.Time) (outcome, error) {
	rq.State, rq.LastActivity = stateAuthorized, now
	if err := s.saveRequest(ctx, rq); err != nil {
		return outcome{}, err
	}
	return outcome{http.StatusOK, authorizeBody{
		HTTPStatusCode:  http.StatusOK,
		Links:           authorizeLinks(),
		InstitutionName: institutionCode,
		Login:           loginJSON(l),
		InstitutionID:   institutionID,
		Institution:     institutionCode,
		RequestID:       rq.ID,
		Tag:             rq.Tag,
	}, rq.ID}, nil
}

func loginJSON(l *login) loginBody {
	return loginBody{Username: l.Username, IsScheduledRefresh: l.Scheduled, LastRefresh: flinksTime(l.ScrapeStart),
		Type: "Personal", ID: l.ID}
}

// language normalises the Language field: "fr" or "en".
func language(v string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "fr") {
		return "fr"
	}
	return "en"
}

// requestAlive applies the RequestId lifetimes of §4.5: 8 minutes idle, or
// 30 minutes while a data call is processing. test_never's pending calls
// never time out, so the client's own give-up is what ends them. l may be
// nil when the caller has not loaded it.
func (s *Server) requestAlive(rq *request, l *login, now time.Time) bool {
	switch rq.State {
	case stateExpired:
		return false
	case statePending:
		if l != nil && l.ScrapeNever {
			return true
		}
		return now.Before(rq.DataStarted.Add(s.scaled(processingLifetime)))
	}
	return now.Before(rq.LastActivity.Add(s.scaled(requestIdleLifetime)))
}
