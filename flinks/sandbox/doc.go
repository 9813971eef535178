// Package sandbox is a local stand-in for Flinks: the Banking Services v3 API
// and a look-alike of the Flinks Connect iframe, serving the test
// institution Flinks Capital. It lets the app link a "bank account" and fetch
// its data in cached mode, including every waiting and failure path, with no
// Flinks account and no network.
//
// It is written from the wire reference (shared docs flinks-api.md) and, on
// purpose, not from the app's Flinks client: its JSON comes from its own
// structs, checked against the documentation's examples, so a wrong field
// name cannot hide on both sides.
//
// # Routes
//
// Every route is under Config.Prefix ("" standalone, "/sandbox" embedded);
// the handler expects full paths.
//
//	POST   /v3/{customerId}/BankingServices/GenerateAuthorizeToken   flinks-auth-key: secret key
//	POST   /v3/{customerId}/BankingServices/Authorize                flinks-auth-key: authorize token
//	POST   /v3/{customerId}/BankingServices/GetAccountsSummary       x-api-key
//	POST   /v3/{customerId}/BankingServices/GetAccountsDetail        x-api-key
//	GET    /v3/{customerId}/BankingServices/GetAccountsSummaryAsync/{requestId}   (POST tolerated)
//	GET    /v3/{customerId}/BankingServices/GetAccountsDetailAsync/{requestId}    (POST tolerated)
//	DELETE /v3/{customerId}/BankingServices/DeleteCard/{loginId}     x-api-key
//	GET    /v2/?demo=true&redirectUrl=...                             Flinks Connect look-alike
//	GET    /                                                          help page: users, credentials, examples
//
// # What is faithful
//
//   - Envelopes, field names, status codes, FlinksCodes and messages of the
//     reference: the 200/203 Authorize bodies, the 202 OPERATION_PENDING /
//     OPERATION_DISPATCHED body with its concrete Links, the error envelope
//     {HttpStatusCode, FlinksCode, Message, RequestId}, DeleteCard's
//     {StatusCode, Message}, LastRefresh without zone and with 6 digits,
//     InstitutionId 14.
//   - Authorize tokens: single use, 30 minutes; the MFA answer may re-send
//     the token of its RequestId. RequestIds: 8 minutes idle, 30 minutes while
//     a data call is processing, then 400 SESSION_NONEXISTENT.
//   - Live and cached Authorize, Greatday's 203 with one of the three Canadian
//     questions (French with Language "fr"), INVALID_SECURITY_RESPONSE,
//     UNKNOWN_CHALLENGE_KEY (keys matched exactly: they are data), another 203
//     for empty answers. JSON keys bind case-insensitively and booleans may be
//     strings, as ASP.NET does for the official C# SDK.
//   - Cached mode's async flow: a connection starts a background scrape, and
//     data calls answer 202 until it ends; pollers then answer 200 with the
//     body of the sync call. A data call from a second RequestId while another
//     call on the card is being served also answers 202. DeleteCard answers
//     CARD_IN_USE during a scrape.
//   - The data options WithAccountIdentity, WithKYC, WithTransactions,
//     WithBalance, DaysOfTransactions and AccountsFilter. WithAccountIdentity
//     defaults to false on GetAccountsDetail, the default the reference
//     documents, so a client must ask for account numbers.
//   - Connect's parameters, steps and postMessage events (docs §7), and its
//     redirect query: loginId, tag, institution, accountId (comma-separated).
//
// # What is simplified
//
//   - A scrape is arithmetic on stored times, not work: a login's scrape has a
//     start and an end in SQLite, and every answer compares them with the
//     clock. So a restart changes nothing and TimeScale shortens everything.
//   - The data is invented, deterministically per LoginId: a Canadian household
//     with chequing, savings, a USD account, a credit card and a line of credit,
//     a year of transactions whose running balances add up (newest first;
//     on credit accounts Balance is the amount owed and a Debit raises it).
//     A day's transactions never change, so a refresh only adds days.
//   - Connect is server-rendered: each step is a form POST answered with the
//     next page, and connect.js posts the page's events to window.parent on
//     load. Its session id travels in hidden fields, not in a cookie. Nothing is
//     inline, so it runs under script-src 'self'. innerRedirect answers a plain
//     303 to the redirect URL (no REDIRECT event, the iframe simply navigates);
//     otherwise the success page posts REDIRECT and navigates the top window,
//     with a visible link as fallback; jsRedirect only posts REDIRECT.
//   - Only Flinks Capital exists. Real banks are listed in Connect but
//     disabled; a live Authorize naming one answers 405 DISABLED_INSTITUTION.
//   - Not implemented: GetStatements, AuthorizeAsync, SetScheduledRefresh,
//     webhooks, Connect's requestId resume and OAuth banks.
//
// # Scenario users
//
// Scenarios lists them (password Everyday, usernames in any case). The error
// users test_disabled_account and test_service_unavailable answer their
// FlinksCode (DISABLED_LOGIN, RETRY_LATER) to a live Authorize through the
// API. The app, however, only ever sees LoginIds that came out of Connect,
// and QA must reach its failure screens, so Connect completes the connection
// for them: it issues a LoginId and redirects, and the error comes from the
// cached Authorize of that LoginId (401 with the code).
//
// # Deviations from the reference, on purpose
//
//   - test_never's pending RequestId does not expire after 30 minutes, so that
//     the client's own give-up is what ends the wait; and its card can be
//     deleted, or it could never be removed.
//   - INVALID_REQUEST uses HTTP 400 (the older table), not 401.
//   - An unknown customerId answers 401 UNAUTHORIZED; an unknown endpoint 404
//     and a wrong method 405, both with the envelope and INVALID_REQUEST.
//   - Passwords are compared case-insensitively (the SDK's sandbox tests log
//     in with "EveryDay").
package sandbox
