package handlers

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"flinkslink/views"
)

// Independent restatements of what Connect's redirect may carry (Flinks docs
// §7.3), so the fuzz oracle does not share parseCallback's own patterns.
var (
	oracleGUID        = regexp.MustCompile(`^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$`)
	oracleInstitution = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _.&'-]*$`)
)

// oracleAccepts says whether a redirect query should be accepted for a browser
// whose session issued sessionTag: exactly one non-blank loginId (a GUID), one
// institution (a Flinks code of at most 64 characters), one tag equal to the
// session's, and at most one accountId list of at most 50 GUIDs.
func oracleAccepts(q url.Values, sessionTag string) bool {
	single := func(name string, required bool) (string, bool) {
		vs := q[name]
		if len(vs) > 1 {
			return "", false
		}
		v := ""
		if len(vs) == 1 {
			v = strings.TrimSpace(vs[0])
		}
		return v, v != "" || !required
	}
	login, ok := single("loginId", true)
	if !ok || !oracleGUID.MatchString(login) {
		return false
	}
	inst, ok := single("institution", true)
	if !ok || len(inst) > 64 || !oracleInstitution.MatchString(inst) {
		return false
	}
	tag, ok := single("tag", true)
	if !ok || sessionTag == "" || tag != sessionTag {
		return false
	}
	accounts, ok := single("accountId", false)
	if !ok {
		return false
	}
	if accounts != "" {
		ids := strings.Split(accounts, ",")
		if len(ids) > maxAccountIDs {
			return false
		}
		for _, id := range ids {
			if !oracleGUID.MatchString(strings.TrimSpace(id)) {
				return false
			}
		}
	}
	return true
}

// echoable reports whether v, if it appeared in a message, would prove the
// input was echoed: our messages are words and ordinary punctuation, so a value
// with a digit or a symbol among them cannot be there by coincidence.
func echoable(v string) bool {
	v = strings.TrimSpace(v)
	return len(v) >= 4 && strings.ContainsAny(v, "0123456789<>&\"=/%_{}[]$#@*+|\\~^`")
}

// callbackParamNames are the parameters parseCallback reads: the only values
// a userError's arg may take.
var callbackParamNames = map[string]bool{"loginId": true, "institution": true, "tag": true, "accountId": true}

const fuzzTag = "Zk3vQ9xT2mP7wL4s"

func FuzzParseCallback(f *testing.F) {
	guid := "8b35f6c8-1c0e-4f6a-9d55-2f0c5e7d9a10"
	guid2 := "0d3e8c5a-5f2b-4f0e-9d0a-6a1b2c3d4e5f"
	valid := "loginId=" + guid + "&institution=FlinksCapital&tag=" + fuzzTag
	for _, q := range []string{
		valid,
		valid + "&accountId=" + guid2,
		valid + "&accountId=" + guid2 + "," + guid,
		valid + "&accountId=" + guid2 + ",%20" + guid + "%20",
		valid + "&accountId=" + guid2 + ",",
		valid + "&accountId=,",
		valid + "&accountId=" + strings.Repeat(guid2+",", 50) + guid2,
		valid + "&accountId=&accountId=" + guid2,
		valid + "&accountId=" + guid2 + "&accountId=" + guid2,
		"",
		"loginId=&institution=&tag=",
		"loginId=" + guid + "&loginId=" + guid + "&institution=FlinksCapital&tag=" + fuzzTag,
		"loginId=&loginId=" + guid + "&institution=FlinksCapital&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=FlinksCapital&institution=RBC&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=FlinksCapital&tag=" + fuzzTag + "&tag=other",
		"loginId=" + strings.ToUpper(guid) + "&institution=Desjardins%20%26%20Co.&tag=" + fuzzTag,
		"loginId=%20" + guid + "%20&institution=%20RBC%20&tag=%20" + fuzzTag + "%20",
		"loginId=" + guid + "&institution=FlinksCapital&tag=" + strings.ToLower(fuzzTag),
		"loginId=" + guid + "&institution=FlinksCapital",
		"loginId=" + guid + "x&institution=FlinksCapital&tag=" + fuzzTag,
		"loginId=" + strings.ReplaceAll(guid, "-", "") + "&institution=FlinksCapital&tag=" + fuzzTag,
		"loginId=%3Cscript%3Ealert(1)%3C/script%3E&institution=FlinksCapital&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=%3Cscript%3Ealert(1)%3C%2Fscript%3E&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=FlinksCapital&tag=%3Cimg%20src=x%20onerror=alert(1)%3E",
		"loginId=" + guid + "&institution=FlinksCapital&tag=" + fuzzTag + "&accountId=%3Cb%3E",
		"loginId=" + guid + "&institution=Banque%C3%A9&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=%E2%80%AEFlinks&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=Flinks%00Capital&tag=" + fuzzTag,
		"loginId=%EF%BC%98b35f6c8-1c0e-4f6a-9d55-2f0c5e7d9a10&institution=FlinksCapital&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=" + strings.Repeat("A", 64) + "&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=" + strings.Repeat("A", 65) + "&tag=" + fuzzTag,
		"loginId=" + strings.Repeat("9", 10000) + "&institution=FlinksCapital&tag=" + fuzzTag,
		"loginId=" + guid + "&institution=FlinksCapital&tag=" + strings.Repeat("t", 10000),
		"loginId=%zz&institution=FlinksCapital&tag=" + fuzzTag,
		"loginId=" + guid + ";institution=FlinksCapital;tag=" + fuzzTag,
		"returned=1&loginId=" + guid + "&institution=FlinksCapital&tag=" + fuzzTag,
		"LOGINID=" + guid + "&institution=FlinksCapital&tag=" + fuzzTag,
	} {
		f.Add(q, fuzzTag)
	}
	f.Add(valid, "")
	f.Add("loginId="+guid+"&institution=FlinksCapital&tag=", "")
	f.Add(valid, fuzzTag+" ")

	f.Fuzz(func(t *testing.T, rawQuery, sessionTag string) {
		// What echo's QueryParams gives the handler: url.ParseQuery, keeping
		// what parsed when some pairs did not.
		q, _ := url.ParseQuery(rawQuery)
		p, err := parseCallback(q, sessionTag)
		want := oracleAccepts(q, sessionTag)
		if err == nil {
			if !want {
				t.Fatalf("accepted %q (session tag %q) as %+v", rawQuery, sessionTag, p)
			}
			if !oracleGUID.MatchString(p.LoginID) || p.Tag != sessionTag || !institutionPattern.MatchString(p.Institution) {
				t.Fatalf("accepted values %+v", p)
			}
			for _, id := range p.AccountIDs {
				if !oracleGUID.MatchString(id) {
					t.Fatalf("accepted accountId %q", id)
				}
			}
			return
		}
		if want {
			t.Fatalf("rejected a valid redirect %q (session tag %q): %v", rawQuery, sessionTag, err)
		}
		var ue *userError
		if !errors.As(err, &ue) {
			t.Fatalf("rejection is %T, not a *userError: %v", err, err)
		}
		if ue.status < 400 || ue.status > 499 {
			t.Fatalf("rejection status %d", ue.status)
		}
		if ue.arg != "" && !callbackParamNames[ue.arg] {
			t.Fatalf("rejection argument %q is not a parameter name", ue.arg)
		}
		var shown string
		for _, lang := range []string{views.English, views.French} {
			text, ok := views.For(lang).Errors[ue.key]
			if !ok || text.Heading == "" || text.Message == "" {
				t.Fatalf("rejection %q has no %s text", ue.key, lang)
			}
			shown += text.Heading + "\n" + strings.Replace(text.Message, "%s", ue.arg, 1) + "\n" + strings.Join(text.Hints, "\n") + "\n"
		}
		if strings.ContainsAny(shown, "<>\"&") {
			t.Fatalf("rejection text has markup characters: %q", shown)
		}
		for name, vs := range q {
			for _, v := range append([]string{name}, vs...) {
				if echoable(v) && strings.Contains(shown, strings.TrimSpace(v)) {
					t.Fatalf("rejection echoes the input %q: %q", v, shown)
				}
			}
		}
	})
}
