package fetcher

import (
	"bytes"
	"encoding/json"
	"strings"

	"flinkslink/flinks"
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
//
// The work is bounded by the body's size: a body nested deeper than
// flinks.MaxNesting is kept as text rather than decoded, and the result is
// indented only while that at most doubles its size.
func MaskBody(body []byte, loginID string) []byte {
	if len(body) == 0 {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if flinks.NestingDepth(body) > flinks.MaxNesting || dec.Decode(&v) != nil {
		return replaceFold(bytes.Clone(body), loginID)
	}
	v = maskValue(v, "")
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil
	}
	if len(out) > 2*len(body)+1024 {
		if out, err = json.Marshal(v); err != nil {
			return nil
		}
	}
	return replaceFold(out, loginID)
}

// replaceFold returns b with every occurrence of the LoginId replaced by the
// mask, ignoring case: Flinks may echo it in another case than it issued.
func replaceFold(b []byte, loginID string) []byte {
	if loginID == "" {
		return b
	}
	id := []byte(loginID)
	var out []byte
	last := 0
	for i := 0; i+len(id) <= len(b); {
		if bytes.EqualFold(b[i:i+len(id)], id) {
			out = append(append(out, b[last:i]...), maskText...)
			i += len(id)
			last = i
			continue
		}
		i++
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
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
