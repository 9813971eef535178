package flinks

// MaxNesting is the deepest JSON nesting an answer may have. Flinks' deepest
// documented shape (Accounts → Transactions → a transaction, or Holder →
// Address) is six levels; anything far deeper is hostile, and decoding it
// into generic values or re-indenting it costs memory quadratic in its depth.
const MaxNesting = 32

// NestingDepth returns the deepest nesting of arrays and objects in the JSON
// text b, without decoding it: one pass over the bytes, no allocation. It
// reads strings (and their escapes) so that brackets inside them do not
// count; it does not validate b.
func NestingDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}
