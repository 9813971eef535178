package flinks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Amount is money in cents (minor units of the account's Currency).
//
// It is decoded from the exact decimal text of the JSON value, never through
// float64, so 0.1 is 10 cents and 1234.45 is 123445. Both JSON numbers and numeric
// strings ("1234.45") are accepted, including exponent forms (1e3). Values with more
// than two decimals are rounded half away from zero (1.005 → 101, -1.005 → -101).
// Values whose magnitude exceeds math.MaxInt64 cents are an error.
type Amount int64

// ParseAmount parses a decimal such as "-1234.56", "1e3" or "0.30000000000000004"
// into cents, with the rules described on Amount. Surrounding spaces, a leading '+'
// and forms like ".5" or "5." are tolerated.
func ParseAmount(s string) (Amount, error) {
	c, err := parseCents(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("flinks: invalid amount %q: %w", truncate(s, 40), err)
	}
	return Amount(c), nil
}

// String formats a as a decimal with exactly two fraction digits, e.g. "-1234.56".
func (a Amount) String() string {
	neg := a < 0
	mag := uint64(a)
	if neg {
		mag = -mag // two's complement: correct for math.MinInt64 too
	}
	s := fmt.Sprintf("%d.%02d", mag/100, mag%100)
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON encodes a as a JSON number with two decimals, so a stored
// AccountsDetail decodes back to the same cents.
func (a Amount) MarshalJSON() ([]byte, error) {
	return []byte(a.String()), nil
}

// UnmarshalJSON accepts a JSON number or a string holding one; null leaves a unchanged.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s, isNull, err := numberText(b)
	if err != nil || isNull {
		return err
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// numberText returns the text of a JSON number, or of a JSON string that should hold
// one.
func numberText(b []byte) (text string, isNull bool, err error) {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return "", true, nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		return s, false, nil
	}
	return string(b), false, nil
}

var (
	errSyntax   = errors.New("not a decimal number")
	errOverflow = errors.New("out of range")
)

// parseCents converts decimal text to cents exactly. The digits are kept as text;
// the decimal point is moved by the exponent plus two (cents), the digits left of
// it form the integer and the first digit right of it decides rounding.
func parseCents(s string) (int64, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intDigits := s[intStart:i]
	var fracDigits string
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracDigits = s[fracStart:i]
	}
	if intDigits == "" && fracDigits == "" {
		return 0, errSyntax
	}
	// The exponent saturates: anything beyond ±1e6 is either zero or an overflow
	// for a value that fits in 32 MiB of digits.
	const expCap = 1_000_000
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			expNeg = s[i] == '-'
			i++
		}
		expStart := i
		for i < len(s) && isDigit(s[i]) {
			if exp < expCap {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == expStart {
			return 0, errSyntax
		}
		exp = min(exp, expCap)
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0, errSyntax
	}

	digits := intDigits + fracDigits
	point := len(intDigits) + exp // position of the decimal point within digits
	trimmed := strings.TrimLeft(digits, "0")
	point -= len(digits) - len(trimmed)
	digits = trimmed
	if digits == "" {
		return 0, nil // any form of zero, including -0 and 0e999
	}

	cut := point + 2 // digits[:cut] are whole cents
	var mag uint64
	for j := 0; j < cut; j++ {
		d := uint64(0)
		if j < len(digits) {
			d = uint64(digits[j] - '0')
		}
		if mag > (math.MaxInt64-d)/10 {
			return 0, errOverflow
		}
		mag = mag*10 + d
	}
	// Round half away from zero: on the magnitude, up when the first dropped digit
	// is 5 or more. A negative cut means the first dropped digit is a leading zero.
	if cut >= 0 && cut < len(digits) && digits[cut] >= '5' {
		if mag == math.MaxInt64 {
			return 0, errOverflow
		}
		mag++
	}
	if neg {
		return -int64(mag), nil
	}
	return int64(mag), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// looseAmount decodes a nullable amount, treating an empty string like null: every
// scalar in a Flinks payload is nullable and one schema types Balance.Limit as a
// string, so "" must not make the whole payload unreadable.
type looseAmount struct{ p *Amount }

func (l *looseAmount) UnmarshalJSON(b []byte) error {
	s, isNull, err := numberText(b)
	if err != nil {
		return err
	}
	if isNull || strings.TrimSpace(s) == "" {
		l.p = nil
		return nil
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	l.p = &v
	return nil
}

// looseNumber decodes an informational decimal (a ratio) exactly, from a number or
// a numeric string. Anything else becomes nil rather than failing the payload: these
// fields are not worth losing the accounts over.
type looseNumber struct{ p *json.Number }

func (l *looseNumber) UnmarshalJSON(b []byte) error {
	l.p = nil
	s, isNull, err := numberText(b)
	if err != nil || isNull {
		return nil
	}
	s = strings.TrimSpace(s)
	var n json.Number
	if json.Unmarshal([]byte(strconv.Quote(s)), &n) != nil {
		return nil
	}
	l.p = &n
	return nil
}

// Date is a civil date (no time of day, no zone), such as a transaction date.
// The zero Date means unknown.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD", ignoring a trailing time part such as
// "T00:00:00" (some payloads send dates as midnight timestamps).
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("flinks: invalid date %q", truncate(s, 40))
	}
	return DateOf(t), nil
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as "YYYY-MM-DD"; the zero Date formats as "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// MarshalJSON encodes d as "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts "YYYY-MM-DD" with an optional time part; null and "" give the
// zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	s, ok, err := jsonString(b)
	if err != nil || !ok {
		return err
	}
	if strings.TrimSpace(s) == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// jsonString decodes a JSON string; ok is false for null.
func jsonString(b []byte) (s string, ok bool, err error) {
	if string(bytes.TrimSpace(b)) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false, err
	}
	return s, true, nil
}

// Time is a Flinks timestamp such as Login.LastRefresh, always in UTC.
//
// Flinks sends these without a zone ("2025-01-31T17:40:54.569261") meaning UTC, with
// 0, 6 or 7 fractional digits; a never-refreshed card shows "0001-01-01T00:00:00",
// which decodes to the zero Time (IsZero). A trailing "Z" or offset is honoured;
// null and "" decode to the zero Time.
type Time struct {
	time.Time
}

// timeLayouts are tried in order. Go accepts any number of fractional digits after
// the seconds even when the layout has none.
var timeLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	time.DateOnly,
}

// ParseTime parses a Flinks timestamp as described on Time.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Time{}, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return Time{t.UTC()}, nil
		}
	}
	return Time{}, fmt.Errorf("flinks: invalid timestamp %q", truncate(s, 40))
}

// MarshalJSON encodes t as RFC 3339 in UTC, or null for the zero Time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(time.RFC3339Nano) + `"`), nil
}

// UnmarshalJSON decodes a Flinks timestamp as described on Time.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, ok, err := jsonString(b)
	if err != nil {
		return err
	}
	if !ok {
		*t = Time{}
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// flexString accepts a JSON string, number or null. Account identity fields are
// strings in current payloads but were integers in older ones; a number keeps its
// literal text (a string keeps its leading zeros).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("flinks: expected a string or number, got %s", truncate(string(b), 20))
		}
		*f = flexString(n.String())
	}
	return nil
}
