package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"flinkslink/views"
)

// formatMoney formats cents exactly (no float on the way) the way Canadians
// read it: "$1,234.56" / "US$1,234.56" in English, "1 234,56 $" / "1 234,56 $ US"
// in French; the ISO code stands in for any other currency.
func formatMoney(cents int64, currency, lang string) string {
	neg := cents < 0
	var u uint64
	if neg {
		u = uint64(-(cents + 1)) + 1 // safe for math.MinInt64
	} else {
		u = uint64(cents)
	}
	group, decimal := ",", "."
	if lang == views.French {
		group, decimal = "\u00a0", ","
	}
	whole := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	number := fmt.Sprintf("%s%s%02d", b.String(), decimal, u%100)
	sign := ""
	if neg {
		sign = "-"
	}
	cur := strings.ToUpper(currency)
	if lang == views.French {
		switch cur {
		case "CAD", "":
			return sign + number + "\u00a0$"
		case "USD":
			return sign + number + "\u00a0$\u00a0US"
		default:
			return sign + number + "\u00a0" + cur
		}
	}
	switch cur {
	case "CAD", "":
		return sign + "$" + number
	case "USD":
		return sign + "US$" + number
	default:
		return sign + cur + "\u00a0" + number
	}
}

// formatMoneyPtr formats a nullable amount; nil (Flinks sent null) is "".
func formatMoneyPtr(cents *int64, currency, lang string) string {
	if cents == nil {
		return ""
	}
	return formatMoney(*cents, currency, lang)
}

// formatDuration is a short duration, the same in both languages: "8 s",
// "2 min 5 s", "1 h 3 min".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0 && m == 0:
		return fmt.Sprintf("%d h", h)
	case h > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case m > 0 && s == 0:
		return fmt.Sprintf("%d min", m)
	case m > 0:
		return fmt.Sprintf("%d min %d s", m, s)
	default:
		return fmt.Sprintf("%d s", s)
	}
}

// formatRelative says how long ago something happened: "5 min ago", "il y a 5 min".
func formatRelative(d time.Duration, lang string) string {
	var amount string
	switch {
	case d < 10*time.Second:
		if lang == views.French {
			return "à l'instant"
		}
		return "just now"
	case d < time.Minute:
		amount = fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		amount = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		amount = fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		days := int(d / (24 * time.Hour))
		if lang == views.French {
			amount = fmt.Sprintf("%d jours", days)
		} else {
			amount = fmt.Sprintf("%d days", days)
		}
	}
	if lang == views.French {
		return "il y a " + amount
	}
	return amount + " ago"
}

var frenchMonths = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// formatDay writes a calendar day: "Jan 31, 2025" or "31 janv. 2025".
func formatDay(t time.Time, lang string) string {
	if lang == views.French {
		return fmt.Sprintf("%d %s %d", t.Day(), frenchMonths[t.Month()-1], t.Year())
	}
	return t.Format("Jan 2, 2006")
}

// formatDate turns "2025-01-31" into a localized day; anything unparsable is shown as is.
func formatDate(iso, lang string) string {
	t, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return iso
	}
	return formatDay(t, lang)
}

// formatTimestamp shows an instant in UTC, to the minute.
func formatTimestamp(t time.Time, lang string) string {
	if t.IsZero() {
		if lang == views.French {
			return "inconnue"
		}
		return "unknown"
	}
	t = t.UTC()
	return formatDay(t, lang) + " " + t.Format("15:04") + " UTC"
}

// maskAccountNumber shows only the last four digits.
func maskAccountNumber(last4 string) string {
	if last4 == "" {
		return ""
	}
	return "•••• " + last4
}
