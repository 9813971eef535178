package fetcher

import (
	"bytes"
	"encoding/json"
	"strings"
)

// maskedKeys are the JSON properties (case-insensitive, as Flinks binds them)
// whose values are masked in stored response bodies: the LoginId, account
// numbers and the holder's contact details. Names stay readable.
var maskedKeys = map[string]maskStyle{
	"accountnumber":     keepLast4,
	"transitnumber":     keepLast4,
	"institutionnumber": keepLast4,
	"lastfourdigits":    keepAsIs,
	"email":             hideAll,
	"phonenumber":       hideAll,
	"address":           hideAll,
	"civicaddress":      hideAll,
	"postalcode":        hideAll,
	"username":          hideAll,
	"loginid":           hideAll,
}

type maskStyle int

const (
	keepAsIs maskStyle = iota
	keepLast4
	hideAll
)

const maskText = "••••"

// MaskBody returns a copy of a Flinks response body safe to store and show:
// sensitive properties masked (see maskedKeys), Login.Id removed, and any
// remaining occurrence of the LoginId replaced. A body that is not JSON (an
// HTML error page from a proxy, say) is kept with the LoginId replaced.
func MaskBody(body []byte, loginID string) []byte {
	if len(body) == 0 {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		if loginID != "" {
			body = bytes.ReplaceAll(body, []byte(loginID), []byte(maskText))
		}
		return body
	}
	v = maskValue(v, "")
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil
	}
	if loginID != "" {
		out = bytes.ReplaceAll(out, []byte(loginID), []byte(maskText))
	}
	return out
}

func maskValue(v any, parent string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			lk := strings.ToLower(k)
			// The Login object's Id is the LoginId.
			if parent == "login" && lk == "id" {
				t[k] = maskText
				continue
			}
			if style, ok := maskedKeys[lk]; ok {
				t[k] = maskLeaf(child, style)
				continue
			}
			t[k] = maskValue(child, lk)
		}
		return t
	case []any:
		for i := range t {
			t[i] = maskValue(t[i], parent)
		}
		return t
	default:
		return v
	}
}

func maskLeaf(v any, style maskStyle) any {
	if v == nil {
		return nil
	}
	switch style {
	case keepAsIs:
		return v
	case keepLast4:
		var s string
		switch t := v.(type) {
		case string:
			s = t
		case json.Number:
			s = t.String()
		default:
			return maskText
		}
		if len(s) <= 4 {
			return maskText
		}
		return maskText + s[len(s)-4:]
	default:
		return maskText
	}
}
