package flinks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
)

// This app's own failure codes, for failures that carry no FlinksCode. With
// the FlinksCodes and "HTTP_nnn" (a status Flinks answered without a code),
// they are every code a failed fetch can end with.
const (
	CodeTimedOut    = "TIMED_OUT"    // Flinks kept answering 202 past the fetch's limit, or the limit cut a call off
	CodeNetwork     = "NETWORK"      // Flinks could not be reached, or its answers broke off
	CodeMalformed   = "MALFORMED"    // Flinks answered something unreadable
	CodeMFARequired = "MFA_REQUIRED" // the cached Authorize asked security questions, which only Connect can answer
	CodeForeignData = "FOREIGN_DATA" // Flinks answered with another card's data
	CodeUnexpected  = "UNEXPECTED"   // anything else
	CodeCancelled   = "CANCELLED"    // the link's owner stopped the fetch
)

// ours is what each of our codes means.
var ours = map[string]codeMeaning{
	CodeTimedOut:    {KindRetryLater, true}, // Flinks may have finished by now
	CodeNetwork:     {KindRetryLater, true},
	CodeMalformed:   {KindRetryLater, true},
	CodeMFARequired: {KindNeedsUser, false}, // a cached fetch would meet the same question
	CodeForeignData: {KindUnexpected, true},
	CodeUnexpected:  {KindUnexpected, true},
	CodeCancelled:   {KindNeedsUser, true}, // a new fetch starts again when asked
}

// Failure is what an error from this package means, decided here once: the
// fetcher records it, the pages explain it, "Try again" is offered from it.
type Failure struct {
	// Code names the failure: a FlinksCode (upper case), one of this app's
	// codes (Ours), or "HTTP_nnn" for a status Flinks answered without one.
	Code string
	Ours bool
	Kind Kind
	// Retry reports whether trying again later (a new fetch) can help.
	Retry bool
	// Message is what Flinks said (scrubbed of the LoginId and keys), or a
	// sentence of ours when Flinks said nothing.
	Message string
	// CardUnknown: Flinks does not know the LoginId (INVALID_LOGIN, or the
	// "Invalid LoginId" text DeleteCard answers with).
	CardUnknown bool
}

// Classify says what err, returned by this package, means.
func Classify(err error) Failure {
	var fe *Error
	var te *TransportError
	f := Failure{Kind: KindOf(err)}
	switch {
	case err == nil:
		return Failure{}
	case errors.Is(err, ErrTimedOut):
		f.Code, f.Message = CodeTimedOut, "Flinks was still processing when the time limit was reached."
	case errors.Is(err, ErrForeignData):
		f.Code, f.Message = CodeForeignData, "Flinks answered with data for another connection; none of it was kept."
	case errors.As(err, &fe):
		f.Message = fe.Message
		switch {
		case fe.FlinksCode != "":
			f.Code = strings.ToUpper(strings.TrimSpace(fe.FlinksCode))
		case fe.StatusCode == http.StatusNonAuthoritativeInfo && fe.Kind() == KindNeedsUser:
			f.Code = CodeMFARequired
		case fe.StatusCode >= 200 && fe.StatusCode < 300:
			f.Code = CodeMalformed
		default:
			f.Code = fmt.Sprintf("HTTP_%d", fe.StatusCode)
		}
		if f.Message == "" {
			f.Message = fmt.Sprintf("HTTP %d from Flinks", fe.StatusCode)
		}
		msg := strings.ToLower(fe.Message)
		f.CardUnknown = f.Code == "INVALID_LOGIN" || strings.Contains(msg, "invalid loginid") ||
			strings.Contains(msg, "loginid provided is either invalid")
	case errors.As(err, &te), errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		f.Code = CodeNetwork
		f.Message = "Flinks could not be reached, or the connection broke off."
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
			f.Message = "Flinks did not answer in time."
		}
	default:
		f.Code, f.Message = CodeUnexpected, "The request to Flinks failed unexpectedly."
	}
	f.Ours = IsOurCode(f.Code)
	f.Retry = CanRetry(f.Code)
	return f
}

// IsOurCode reports whether code is one of this app's own codes, not Flinks'.
func IsOurCode(code string) bool {
	_, ok := ours[code]
	return ok
}

// CanRetry reports whether trying again later (a new fetch) can help with a
// failure recorded as code: a FlinksCode, one of ours or "HTTP_nnn" (408, 429
// and 5xx are transient; a redirect, 401/403 and other 4xx are not).
func CanRetry(code string) bool {
	code = strings.ToUpper(strings.TrimSpace(code))
	if m, ok := codes[code]; ok {
		return m.retry
	}
	if m, ok := ours[code]; ok {
		return m.retry
	}
	if rest, ok := strings.CutPrefix(code, "HTTP_"); ok {
		status, err := strconv.Atoi(rest)
		return err == nil && (status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500 && status <= 599)
	}
	return ours[CodeUnexpected].retry
}

// Known reports whether code is a FlinksCode of the reference or one of ours.
func Known(code string) bool {
	code = strings.ToUpper(strings.TrimSpace(code))
	_, flinks := codes[code]
	return flinks || IsOurCode(code)
}

// FlinksCodes lists the FlinksCodes this package knows, sorted: every one
// needs its words wherever failures are shown.
func FlinksCodes() []string {
	out := make([]string, 0, len(codes))
	for c := range codes {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// OurCodes lists this app's own codes, sorted.
func OurCodes() []string {
	out := make([]string, 0, len(ours))
	for c := range ours {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
