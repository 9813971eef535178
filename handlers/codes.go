package handlers

import "flinkslink/handlers/fetcher"

// codeInfo explains a FlinksCode (or one of our own) to the person who sees it.
type codeInfo struct {
	Title   string // short heading
	Message string // what happened, in plain language
	Action  string // what the person can do
	Retry   bool   // whether "Try again" (a new cached fetch) can help
	Docs    string // Flinks' documentation for the code
}

// flinksErrorDocs is Flinks' error-code reference.
const flinksErrorDocs = "https://docs.flinks.com/api/authorize/error-codes"

// codeCatalogue maps every FlinksCode of the Flinks reference (§6) and our own
// codes to words. Codes not listed fall back to the UNEXPECTED entry.
var codeCatalogue = map[string]codeInfo{
	"OPERATION_PENDING":                  {"Still processing", "Flinks was still collecting the data from your bank.", "Wait a little; the page updates on its own.", true, flinksErrorDocs},
	"OPERATION_DISPATCHED":               {"Still processing", "Flinks moved this long request to a background job.", "Wait a little; the page updates on its own.", true, flinksErrorDocs},
	"SESSION_NONEXISTENT":                {"Flinks session expired", "The Flinks session for this request expired before the data was ready.", "Try again: a new session will be opened.", true, flinksErrorDocs},
	"SESSION_EXPIRED":                    {"Flinks session expired", "The Flinks session for this request timed out.", "Try again: a new session will be opened.", true, flinksErrorDocs},
	"CARD_IN_USE":                        {"Your connection is busy", "Flinks is still processing this bank connection.", "Wait a minute, then try again.", true, flinksErrorDocs},
	"CONCURRENT_SESSION":                 {"Another request is running", "Flinks already has a session open for this bank connection.", "Wait a minute, then try again.", true, flinksErrorDocs},
	"ACCESS_DENIED":                      {"Flinks refused our credentials", "Flinks did not accept this app's keys, so it could not open a session.", "This is a configuration problem on our side; please tell the app's operators.", false, flinksErrorDocs},
	"UNAUTHORIZED":                       {"Not authorized", "Flinks or your bank did not authorize access to this connection.", "Link the account again from the start; if it keeps happening, tell the app's operators.", false, flinksErrorDocs},
	"INVALID_LOGIN":                      {"Connection not recognised", "Flinks no longer recognises this bank connection, or the sign-in details were refused.", "Link the account again from the start.", false, flinksErrorDocs},
	"INVALID_REQUEST":                    {"Request refused by Flinks", "Flinks rejected the request as incomplete.", "This is a problem on our side; please tell the app's operators.", false, flinksErrorDocs},
	"INVALID_USERNAME":                   {"Username refused", "Your bank did not accept the username.", "Link the account again and check the username.", false, flinksErrorDocs},
	"INVALID_PASSWORD":                   {"Password refused", "Your bank did not accept the password.", "Link the account again and check the password.", false, flinksErrorDocs},
	"INVALID_SECURITY_RESPONSE":          {"Security answer refused", "Your bank did not accept the answer to its security question.", "Link the account again and answer the question carefully.", false, flinksErrorDocs},
	"INVALID_SECURITY_RESPONSE_NO_RETRY": {"Security answer refused", "Your bank did not accept the security answer and does not allow another try now.", "Wait, then link the account again.", false, flinksErrorDocs},
	"QUESTION_NOT_FOUND":                 {"New security question", "Your bank asked a security question Flinks has no answer for.", "Link the account again so you can answer it.", false, flinksErrorDocs},
	"UNKNOWN_CHALLENGE_KEY":              {"Security answer mismatch", "An answer was sent for a question the bank did not ask.", "Link the account again.", false, flinksErrorDocs},
	"SECURITYRESPONSES_INCOMPLETE":       {"Security questions unanswered", "Not every security question from your bank was answered.", "Link the account again and answer every question.", false, flinksErrorDocs},
	"RETRY_LATER":                        {"Your bank is not answering", "Flinks could not open a connection with your bank right now.", "Try again in a few minutes.", true, flinksErrorDocs},
	"TOO_MANY_REQUESTS":                  {"Too many requests", "Flinks asked us to slow down.", "Try again in a few minutes.", true, flinksErrorDocs},
	"NEW_ACCOUNT":                        {"Action needed at your bank", "Your bank needs you to do something in online banking first, such as accepting new terms.", "Sign in to your bank's website, finish what it asks, then link the account again.", false, flinksErrorDocs},
	"DISABLED_LOGIN":                     {"Your online banking is disabled", "Your bank has disabled or locked this online banking access.", "Contact your bank to unlock it, then link the account again.", false, flinksErrorDocs},
	"DISABLED_INSTITUTION":               {"Bank unavailable", "Flinks cannot reach this bank at the moment.", "Try again later, or link an account at another bank.", true, flinksErrorDocs},
	"AGGREGATION_ERROR":                  {"Flinks had a problem", "Flinks ran into an unexpected error while collecting your data.", "Try again; if it keeps failing, try later.", true, flinksErrorDocs},
	"ALREADY_AUTHORIZED":                 {"Already authorized", "Flinks reports this session was already authorized.", "Try again.", true, flinksErrorDocs},
	"NO_TRANSACTION":                     {"No transactions", "Flinks found no transactions (or too few) for this connection.", "Link an account that has recent activity.", false, flinksErrorDocs},
	"METHOD_NOT_AVAILABLE":               {"Feature not enabled", "This Flinks feature is not enabled for this app.", "Please tell the app's operators.", false, flinksErrorDocs},
	fetcher.CodeTimedOut:                 {"Flinks took too long", "Flinks was still collecting your data when our time limit ran out. Accounts with many transactions can take long.", "Try again: Flinks may have finished by now.", true, "https://docs.flinks.com/api/connect/endpoints/account-linking/get-accounts-detail-async"},
	fetcher.CodeNetwork:                  {"Flinks could not be reached", "We could not reach Flinks after several tries.", "Try again in a few minutes.", true, ""},
	fetcher.CodeMalformed:                {"Unreadable answer from Flinks", "Flinks answered with data we could not read, even after retrying.", "Try again; if it keeps happening, tell the app's operators.", true, ""},
	fetcher.CodeUnexpected:               {"Something went wrong", "The request to Flinks failed in an unexpected way.", "Try again; if it keeps happening, tell the app's operators.", true, ""},
}

// describeCode returns the catalogue entry for code, or the generic one.
func describeCode(code string) codeInfo {
	if info, ok := codeCatalogue[code]; ok {
		return info
	}
	return codeCatalogue[fetcher.CodeUnexpected]
}
