package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"flinkslink/flinks"
)

// codeInfo explains a FlinksCode (or one of our own) to the person who sees it.
// Its words are this file's; what the code means (whether trying again can
// help) is the flinks package's (flinks.CanRetry), decided there once.
type codeInfo struct {
	codeWords
	Retry bool // whether "Try again" (a new cached fetch) can help: flinks.CanRetry
}

// codeWords are one catalogue entry's words.
type codeWords struct {
	Title   string // short heading
	Message string // what happened, in plain language
	Action  string // what the person can do
	Docs    string // Flinks' documentation for the code
}

// flinksErrorDocs is Flinks' error-code reference.
const flinksErrorDocs = "https://docs.flinks.com/api/authorize/error-codes"

// codeCatalogue maps every FlinksCode of the Flinks reference (§6) and our own
// codes to words. Codes not listed fall back to the UNEXPECTED entry.
var codeCatalogue = map[string]codeWords{
	"OPERATION_PENDING":                  {"Still processing, nothing to follow", "Flinks said it was still collecting the data from your bank, but gave no request we could follow.", "Try again in a minute.", flinksErrorDocs},
	"OPERATION_DISPATCHED":               {"Still processing, nothing to follow", "Flinks moved this long request to a background job, but gave no request we could follow.", "Try again in a minute.", flinksErrorDocs},
	"SESSION_NONEXISTENT":                {"Flinks session expired", "The Flinks session for this request expired before the data was ready.", "Try again: a new session will be opened.", flinksErrorDocs},
	"SESSION_EXPIRED":                    {"Flinks session expired", "The Flinks session for this request timed out.", "Try again: a new session will be opened.", flinksErrorDocs},
	"CARD_IN_USE":                        {"Your connection is busy", "Flinks is still processing this bank connection.", "Wait a minute, then try again.", flinksErrorDocs},
	"CONCURRENT_SESSION":                 {"Another request is running", "Flinks already has a session open for this bank connection.", "Wait a minute, then try again.", flinksErrorDocs},
	"ACCESS_DENIED":                      {"Flinks refused our credentials", "Flinks did not accept this app's keys, so it could not open a session.", "This is a configuration problem on our side; please tell the app's operators.", flinksErrorDocs},
	"UNAUTHORIZED":                       {"Not authorized", "Flinks or your bank did not authorize access to this connection.", "Link the account again from the start; if it keeps happening, tell the app's operators.", flinksErrorDocs},
	"INVALID_LOGIN":                      {"Connection not recognised", "Flinks no longer recognises this bank connection, or the sign-in details were refused.", "Link the account again from the start.", flinksErrorDocs},
	"INVALID_REQUEST":                    {"Request refused by Flinks", "Flinks rejected the request as incomplete.", "This is a problem on our side; please tell the app's operators.", flinksErrorDocs},
	"INVALID_USERNAME":                   {"Username refused", "Your bank did not accept the username.", "Link the account again and check the username.", flinksErrorDocs},
	"INVALID_PASSWORD":                   {"Password refused", "Your bank did not accept the password.", "Link the account again and check the password.", flinksErrorDocs},
	"INVALID_SECURITY_RESPONSE":          {"Security answer refused", "Your bank did not accept the answer to its security question.", "Link the account again and answer the question carefully.", flinksErrorDocs},
	"INVALID_SECURITY_RESPONSE_NO_RETRY": {"Security answer refused", "Your bank did not accept the security answer and does not allow another try now.", "Wait, then link the account again.", flinksErrorDocs},
	"QUESTION_NOT_FOUND":                 {"New security question", "Your bank asked a security question Flinks has no answer for.", "Link the account again so you can answer it.", flinksErrorDocs},
	"UNKNOWN_CHALLENGE_KEY":              {"Security answer mismatch", "An answer was sent for a question the bank did not ask.", "Link the account again.", flinksErrorDocs},
	"SECURITYRESPONSES_INCOMPLETE":       {"Security questions unanswered", "Not every security question from your bank was answered.", "Link the account again and answer every question.", flinksErrorDocs},
	"RETRY_LATER":                        {"Your bank is not answering", "Flinks could not open a connection with your bank right now.", "Try again in a few minutes.", flinksErrorDocs},
	"TOO_MANY_REQUESTS":                  {"Too many requests", "Flinks asked us to slow down.", "Try again in a few minutes.", flinksErrorDocs},
	"NEW_ACCOUNT":                        {"Action needed at your bank", "Your bank needs you to do something in online banking first, such as accepting new terms.", "Sign in to your bank's website, finish what it asks, then link the account again.", flinksErrorDocs},
	"DISABLED_LOGIN":                     {"Your online banking is disabled", "Your bank has disabled or locked this online banking access.", "Contact your bank to unlock it, then link the account again.", flinksErrorDocs},
	"DISABLED_INSTITUTION":               {"Bank unavailable", "Flinks cannot reach this bank at the moment.", "Try again later, or link an account at another bank.", flinksErrorDocs},
	"AGGREGATION_ERROR":                  {"Flinks had a problem", "Flinks ran into an unexpected error while collecting your data.", "Try again; if it keeps failing, try later.", flinksErrorDocs},
	"ALREADY_AUTHORIZED":                 {"Already authorized", "Flinks reports this session was already authorized.", "Try again.", flinksErrorDocs},
	"NO_TRANSACTION":                     {"No transactions", "Flinks found no transactions (or too few) for this connection.", "Link an account that has recent activity.", flinksErrorDocs},
	"METHOD_NOT_AVAILABLE":               {"Feature not enabled", "This Flinks feature is not enabled for this app.", "Please tell the app's operators.", flinksErrorDocs},
	flinks.CodeTimedOut:                  {"Flinks took too long", "Flinks was still collecting your data when our time limit ran out. Accounts with many transactions can take long.", "Try again: Flinks may have finished by now.", "https://docs.flinks.com/api/connect/endpoints/account-linking/get-accounts-detail-async"},
	flinks.CodeNetwork:                   {"Flinks could not be reached", "We could not reach Flinks, or its answers broke off or did not come in time, several times in a row.", "Try again in a few minutes.", ""},
	flinks.CodeMalformed:                 {"Unreadable answer from Flinks", "Flinks answered with data we could not read, even after retrying.", "Try again; if it keeps happening, tell the app's operators.", ""},
	flinks.CodeForeignData:               {"Data for another connection", "Flinks answered with data that belongs to another bank connection, so we did not keep or show any of it.", "Try again; if it happens again, tell the app's operators.", ""},
	flinks.CodeMFARequired:               {"Your bank asks a security question", "Your bank wants a security question answered before Flinks can read your accounts again, and that can only be done in the Flinks window.", "Continue in Flinks Connect and answer the question there.", flinksErrorDocs},
	flinks.CodeCancelled:                 {"Stopped", "You stopped this fetch: we made no more calls to Flinks for it, and kept no data from it.", "Try again to fetch the data, or delete the link.", ""},
	flinks.CodeUnexpected:                {"Something went wrong", "The request to Flinks failed in an unexpected way.", "Try again; if it keeps happening, tell the app's operators.", ""},
}

// describeCode returns the catalogue entry for code (a FlinksCode, one of the
// fetcher's codes or an "HTTP_nnn" status the fetcher records when Flinks gave no
// code), or the generic one.
func describeCode(code string) codeInfo {
	info, _ := lookupCode(code)
	return info
}

// lookupCode is describeCode that also says whether the entry is specific to
// code (false: the generic UNEXPECTED entry).
func lookupCode(code string) (codeInfo, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if w, ok := codeCatalogue[code]; ok {
		return codeInfo{w, flinks.CanRetry(code)}, code != flinks.CodeUnexpected
	}
	if rest, ok := strings.CutPrefix(code, "HTTP_"); ok && len(rest) == 3 {
		if status, err := strconv.Atoi(rest); err == nil {
			if w, ok := describeStatus(status); ok {
				return codeInfo{w, flinks.CanRetry(code)}, true
			}
		}
	}
	return codeInfo{codeCatalogue[flinks.CodeUnexpected], flinks.CanRetry(flinks.CodeUnexpected)}, false
}

// describeStatus explains an HTTP status Flinks answered without a FlinksCode
// (the fetcher records it as HTTP_nnn), following the client's retry policy:
// 408, 429 and 5xx are transient; 401/403 and 404/405 are our configuration;
// a redirect means the configured Flinks address is wrong.
func describeStatus(status int) (codeWords, bool) {
	const operators = "This is a problem on our side; please tell the app's operators."
	switch {
	case status >= 300 && status <= 399:
		return codeWords{"Flinks answered from elsewhere",
			fmt.Sprintf("Flinks answered with a redirect (HTTP %d) instead of the data. For safety we do not follow redirects with this app's keys; the Flinks address configured for this app is probably wrong.", status),
			operators, ""}, true
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		info := codeCatalogue["ACCESS_DENIED"]
		info.Message = fmt.Sprintf("Flinks refused this app's keys (HTTP %d), so it could not open a session.", status)
		return info, true
	case status == http.StatusNotFound, status == http.StatusMethodNotAllowed:
		return codeWords{"Flinks address not found",
			fmt.Sprintf("Flinks did not recognise the address we called (HTTP %d); the Flinks address or customer id configured for this app is probably wrong.", status),
			operators, ""}, true
	case status == http.StatusRequestTimeout:
		return codeWords{"Flinks did not answer in time",
			"Flinks gave up waiting for our request (HTTP 408), several times in a row.",
			"Try again in a few minutes.", ""}, true
	case status == http.StatusTooManyRequests:
		info := codeCatalogue["TOO_MANY_REQUESTS"]
		info.Message = "Flinks asked us to slow down (HTTP 429) and kept doing so after we waited."
		return info, true
	case status >= 400 && status <= 499:
		return codeWords{"Request refused by Flinks",
			fmt.Sprintf("Flinks refused our request (HTTP %d) without saying why.", status),
			operators, ""}, true
	case status >= 500 && status <= 599:
		return codeWords{"Flinks is having problems",
			fmt.Sprintf("Flinks answered with a server error (HTTP %d) several times in a row; the problem is on Flinks' side.", status),
			"Try again in a few minutes.", ""}, true
	}
	return codeWords{}, false
}

// ExplainCode returns the words the failure page shows for a failure code (a
// FlinksCode, one of the fetcher's codes or "HTTP_nnn"), and whether they are
// specific to it rather than the generic "something went wrong" entry.
func ExplainCode(code string) (title, message, action string, specific bool) {
	info, specific := lookupCode(code)
	return info.Title, info.Message, info.Action, specific
}
