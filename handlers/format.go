package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// formatMoney formats cents for English Canada, exactly (no float on the way):
// "$1,234.56" for CAD, "US$1,234.56" for USD, "-$5.00" for negatives, and the
// ISO code before the amount for any other currency.
func formatMoney(cents int64, currency string) string {
	neg := cents < 0
	var u uint64
	if neg {
		u = uint64(-(cents + 1)) + 1 // safe for math.MinInt64
	} else {
		u = uint64(cents)
	}
	whole := strconv.FormatUint(u/100, 10)
	frac := u % 100
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	symbol := "$"
	switch strings.ToUpper(currency) {
	case "CAD", "":
	case "USD":
		symbol = "US$"
	default:
		symbol = strings.ToUpper(currency) + " "
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return fmt.Sprintf("%s%s%s.%02d", sign, symbol, b.String(), frac)
}

// formatMoneyPtr formats a nullable amount; nil (Flinks sent null) is "".
func formatMoneyPtr(cents *int64, currency string) string {
	if cents == nil {
		return ""
	}
	return formatMoney(*cents, currency)
}

// formatDuration is a short human duration: "8 s", "2 min 5 s", "1 h 3 min".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %d s", m, s)
	default:
		return fmt.Sprintf("%d s", s)
	}
}

// formatRelative says how long ago something happened: "just now", "5 min ago".
func formatRelative(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}

// formatDate turns "2025-01-31" into "Jan 31, 2025"; anything unparsable is shown as is.
func formatDate(iso string) string {
	t, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return iso
	}
	return t.Format("Jan 2, 2006")
}

// formatTimestamp shows an instant in UTC, to the minute.
func formatTimestamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("Jan 2, 2006 15:04 UTC")
}

// maskAccountNumber shows only the last four digits.
func maskAccountNumber(last4 string) string {
	if last4 == "" {
		return ""
	}
	return "•••• " + last4
}
