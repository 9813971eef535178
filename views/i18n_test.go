package views

import (
	"reflect"
	"testing"
)

// TestMessagesComplete fails when a text is missing in one language.
func TestMessagesComplete(t *testing.T) {
	for _, m := range []*Messages{&english, &french} {
		v := reflect.ValueOf(*m)
		for i := 0; i < v.NumField(); i++ {
			f, name := v.Field(i), v.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				if f.String() == "" {
					t.Errorf("%s: %s is empty", m.Lang, name)
				}
			case reflect.Func:
				if f.IsNil() {
					t.Errorf("%s: %s is nil", m.Lang, name)
				}
			case reflect.Array:
				for j := 0; j < f.Len(); j++ {
					if f.Index(j).String() == "" {
						t.Errorf("%s: %s[%d] is empty", m.Lang, name, j)
					}
				}
			}
		}
	}
	sameKeys := func(name string, a, b map[string]string) {
		for k, v := range a {
			if v == "" || b[k] == "" {
				t.Errorf("%s[%q] missing or empty in a language", name, k)
			}
		}
		if len(a) != len(b) {
			t.Errorf("%s: %d English entries, %d French", name, len(a), len(b))
		}
	}
	sameKeys("StateHeadline", english.StateHeadline, french.StateHeadline)
	sameKeys("StateDetail", english.StateDetail, french.StateDetail)
	sameKeys("StateBadge", english.StateBadge, french.StateBadge)
	if len(english.Errors) != len(french.Errors) {
		t.Errorf("Errors: %d English, %d French", len(english.Errors), len(french.Errors))
	}
	for k, en := range english.Errors {
		fr, ok := french.Errors[k]
		if !ok || fr.Heading == "" || fr.Message == "" || en.Heading == "" || en.Message == "" || len(fr.Hints) != len(en.Hints) {
			t.Errorf("Errors[%q] incomplete: en %+v fr %+v", k, en, fr)
		}
	}
}

// TestErrorKeysAreUnique: ErrorTextFor looks in two catalogues; a key in both
// would hide one of the texts.
func TestErrorKeysAreUnique(t *testing.T) {
	for key := range english.Errors {
		if _, ok := englishLinks.Errors[key]; ok {
			t.Errorf("error key %q is in both catalogues", key)
		}
	}
	for key, want := range englishLinks.Errors {
		if got := ErrorTextFor(English, key); got.Heading != want.Heading {
			t.Errorf("ErrorTextFor(%q) = %+v", key, got)
		}
	}
}
