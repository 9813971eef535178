package views

import (
	"reflect"
	"strings"
	"testing"
)

// TestTimelineMessagesComplete fails when a text of the Details panel is missing
// in one language, or was left in English on the French side.
func TestTimelineMessagesComplete(t *testing.T) {
	langs := map[string]*TimelineMessages{English: &englishTimeline, French: &frenchTimeline}
	en, fr := reflect.ValueOf(englishTimeline), reflect.ValueOf(frenchTimeline)
	for i := 0; i < en.NumField(); i++ {
		name := en.Type().Field(i).Name
		for lang, m := range langs {
			f := reflect.ValueOf(*m).Field(i)
			switch f.Kind() {
			case reflect.String:
				if f.String() == "" {
					t.Errorf("%s: %s is empty", lang, name)
				}
			case reflect.Func:
				if f.IsNil() {
					t.Errorf("%s: %s is nil", lang, name)
				}
			case reflect.Map:
				if f.Len() == 0 || f.Len() != en.Field(i).Len() {
					t.Errorf("%s: %s has %d entries, English %d", lang, name, f.Len(), en.Field(i).Len())
				}
			default:
				t.Errorf("%s: field kind %s not checked: extend this test", name, f.Kind())
			}
		}
		// Identical texts are fine only where both languages say the same.
		if en.Field(i).Kind() == reflect.String && en.Field(i).String() == fr.Field(i).String() {
			switch name {
			case "FlinksCode", "RequestID", "Note":
			default:
				t.Errorf("%s is the same in English and French: %q", name, en.Field(i).String())
			}
		}
	}
	// The functions produce text in their language.
	for lang, m := range langs {
		for what, s := range map[string]string{
			"Ended": m.Ended("Ready"), "FetchHeading": m.FetchHeading(2), "BodySize": m.BodySize(2048),
			"CopyLabel": m.CopyLabel("POST Authorize"), "DownloadLabel": m.DownloadLabel("POST Authorize"),
		} {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: %s returns nothing", lang, what)
			}
		}
	}
	if got := englishTimeline.BodySize(1536); got != "1.5 KB" {
		t.Errorf("English BodySize(1536) = %q", got)
	}
	if got := frenchTimeline.BodySize(1536); got != "1,5 ko" {
		t.Errorf("French BodySize(1536) = %q", got)
	}
	if got := frenchTimeline.BodySize(12); got != "12 octets" {
		t.Errorf("French BodySize(12) = %q", got)
	}
	if !strings.HasPrefix(frenchTimeline.FetchHeading(2), "Récupération 2") {
		t.Error("French FetchHeading is not French")
	}
}
