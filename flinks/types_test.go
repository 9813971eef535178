package flinks_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    flinks.Amount
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "-0", want: 0},
		{in: "0.00", want: 0},
		{in: "1234.45", want: 123445},
		{in: "-1234.56", want: -123456},
		{in: "1000.4", want: 100040},
		{in: "100.5", want: 10050},
		{in: "0.1", want: 10},
		{in: "0.2", want: 20},
		// What 0.1+0.2 prints as in float64; exact parsing still gives 30 cents.
		{in: "0.30000000000000004", want: 30},
		{in: "5105.6", want: 510560},
		{in: "1e3", want: 100000},
		{in: "1E3", want: 100000},
		{in: "1.5e+2", want: 15000},
		{in: "12345e-2", want: 12345},
		{in: "1e-2", want: 1},
		{in: "0e999999999999", want: 0},
		{in: "1e-999999999999", want: 0},
		// Rounding beyond cents: half away from zero.
		{in: "1.005", want: 101},
		{in: "-1.005", want: -101},
		{in: "1.0049999", want: 100},
		{in: "0.005", want: 1},
		{in: "-0.005", want: -1},
		{in: "0.004", want: 0},
		{in: "-0.004", want: 0},
		{in: "2.675", want: 268}, // 267.49999... as a float64
		{in: "0.0000000000000000000001", want: 0},
		// Big values stay exact (float64 loses the last digits past 2^53).
		{in: "12345678901234567", want: 1234567890123456700},
		{in: "90071992547409.93", want: 9007199254740993},
		{in: "92233720368547758.07", want: math.MaxInt64},
		{in: "-92233720368547758.07", want: -math.MaxInt64},
		{in: "92233720368547758.08", wantErr: true},
		{in: "92233720368547758.065", want: math.MaxInt64}, // rounds up to the max
		{in: "92233720368547758.075", wantErr: true},       // rounds past the max
		{in: "1e400", wantErr: true},
		// Tolerated in strings.
		{in: " 12.34 ", want: 1234},
		{in: "+12.34", want: 1234},
		{in: ".5", want: 50},
		{in: "5.", want: 500},
		{in: "007.10", want: 710},
		// Not numbers.
		{in: "", wantErr: true},
		{in: "-", wantErr: true},
		{in: ".", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "1.2.3", wantErr: true},
		{in: "1e", wantErr: true},
		{in: "1e+", wantErr: true},
		{in: "1,234.56", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "Infinity", wantErr: true},
		{in: "0x10", wantErr: true},
		{in: "12 34", wantErr: true},
	}
	for _, tt := range tests {
		got, err := flinks.ParseAmount(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseAmount(%q) = %d, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestAmountString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   flinks.Amount
		want string
	}{
		{0, "0.00"},
		{5, "0.05"},
		{-5, "-0.05"},
		{-123456, "-1234.56"},
		{100000, "1000.00"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Amount(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
}

func TestAmountJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		Num, Str, Exp flinks.Amount
		Null          *flinks.Amount
		Missing       *flinks.Amount
	}
	if err := json.Unmarshal([]byte(`{"Num":1234.45,"Str":"-0.10","Exp":1e3,"Null":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.Num != 123445 || v.Str != -10 || v.Exp != 100000 || v.Null != nil || v.Missing != nil {
		t.Errorf("decoded %+v", v)
	}
	for _, bad := range []string{`{"Num":"abc"}`, `{"Num":true}`, `{"Num":""}`, `{"Num":[1]}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s): want error", bad)
		}
	}
	b, err := json.Marshal(struct{ A flinks.Amount }{-123456})
	if err != nil || string(b) != `{"A":-1234.56}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    flinks.Date
		wantErr bool
	}{
		{in: "2025-01-31", want: flinks.Date{Year: 2025, Month: time.January, Day: 31}},
		{in: "2025-01-31T00:00:00", want: flinks.Date{Year: 2025, Month: time.January, Day: 31}},
		{in: "2025-01-31T17:40:54.569261Z", want: flinks.Date{Year: 2025, Month: time.January, Day: 31}},
		{in: "2024-02-29", want: flinks.Date{Year: 2024, Month: time.February, Day: 29}},
		{in: "2025-02-30", wantErr: true},
		{in: "31/01/2025", wantErr: true},
		{in: "2025-1-31", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := flinks.ParseDate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}

	d := flinks.Date{Year: 2025, Month: time.January, Day: 5}
	if got := d.String(); got != "2025-01-05" {
		t.Errorf("String = %q", got)
	}
	if got := d.Time(); !got.Equal(time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("Time = %v", got)
	}
	if (flinks.Date{}).String() != "" || !(flinks.Date{}).IsZero() {
		t.Error("zero Date should be IsZero with empty String")
	}
	if !d.Before(flinks.Date{Year: 2025, Month: time.January, Day: 6}) {
		t.Error("Before")
	}

	var v struct{ A, B, C flinks.Date }
	if err := json.Unmarshal([]byte(`{"A":"2025-01-31","B":null,"C":""}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "2025-01-31" || !v.B.IsZero() || !v.C.IsZero() {
		t.Errorf("decoded %+v", v)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"A":"2025-01-31","B":null,"C":null}` {
		t.Errorf("Marshal = %s", b)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in       string
		want     time.Time
		wantZero bool
		wantErr  bool
	}{
		{in: "2025-01-31T17:40:54.569261", want: utc(2025, 1, 31, 17, 40, 54, 569261000)},  // 6 digits
		{in: "2026-01-21T20:47:47.1459993", want: utc(2026, 1, 21, 20, 47, 47, 145999300)}, // 7 digits
		{in: "2024-10-10T12:00:00", want: utc(2024, 10, 10, 12, 0, 0, 0)},                  // none
		{in: "2024-10-10T12:00:00.000000", want: utc(2024, 10, 10, 12, 0, 0, 0)},           // zeros
		{in: "2020-05-01T10:00:00Z", want: utc(2020, 5, 1, 10, 0, 0, 0)},                   // Z
		{in: "2020-05-01T10:00:00.5-04:00", want: utc(2020, 5, 1, 14, 0, 0, 500000000)},    // offset
		{in: "0001-01-01T00:00:00", wantZero: true},                                        // never refreshed
		{in: "", wantZero: true},
		{in: "yesterday", wantErr: true},
		{in: "2025-13-01T00:00:00", wantErr: true},
	}
	for _, tt := range tests {
		got, err := flinks.ParseTime(tt.in)
		switch {
		case tt.wantErr:
			if err == nil {
				t.Errorf("ParseTime(%q) = %v, want error", tt.in, got)
			}
		case err != nil:
			t.Errorf("ParseTime(%q): %v", tt.in, err)
		case tt.wantZero:
			if !got.IsZero() {
				t.Errorf("ParseTime(%q) = %v, want zero", tt.in, got)
			}
		case !got.Equal(tt.want) || got.Location() != time.UTC:
			t.Errorf("ParseTime(%q) = %v, want %v (UTC)", tt.in, got.Time, tt.want)
		}
	}

	var v struct{ A, B, C flinks.Time }
	if err := json.Unmarshal([]byte(`{"A":"2025-01-31T17:40:54.569261","B":null,"C":"0001-01-01T00:00:00"}`), &v); err != nil {
		t.Fatal(err)
	}
	if !v.A.Equal(utc(2025, 1, 31, 17, 40, 54, 569261000)) || !v.B.IsZero() || !v.C.IsZero() {
		t.Errorf("decoded %+v", v)
	}
	// Round trip through our own encoding.
	b, _ := json.Marshal(v)
	var back struct{ A, B, C flinks.Time }
	if err := json.Unmarshal(b, &back); err != nil || !back.A.Equal(v.A.Time) || !back.B.IsZero() || !back.C.IsZero() {
		t.Errorf("round trip %s: %+v, %v", b, back, err)
	}
}

func TestDecodeDetailFixture(t *testing.T) {
	t.Parallel()
	var got flinks.AccountsDetail
	if err := json.Unmarshal([]byte(fixture(t, "detail_200.json")), &got); err != nil {
		t.Fatal(err)
	}
	want := flinks.AccountsDetail{
		RequestID:       "22178382-31ee-485c-a750-c20929b6a344",
		Institution:     "FlinksCapital",
		InstitutionName: "FlinksCapital",
		InstitutionID:   14,
		Login: flinks.Login{
			ID:          "5602459c-f6d0-4ca0-6750-08dccdcadcc0",
			Username:    "chat_gpt",
			LastRefresh: flinks.Time{Time: time.Date(2025, 1, 31, 17, 40, 54, 569261000, time.UTC)},
			Type:        "Personal",
		},
		Accounts: []flinks.Account{{
			ID:                "27a9ffa0-c6b9-4cc6-9eaa-aa9efa07a889",
			Title:             "Chequing Account",
			AccountNumber:     "7641238",
			TransitNumber:     "12347",
			InstitutionNumber: "777",
			Category:          "Operations",
			Type:              "Chequing",
			Currency:          "CAD",
			OverdraftLimit:    ptr(flinks.Amount(10050)),
			Balance: flinks.Balance{
				Available: ptr(flinks.Amount(540550)),
				Current:   ptr(flinks.Amount(510550)),
				Limit:     ptr(flinks.Amount(510550)),
			},
			Holder: &flinks.Holder{
				Name:        "Testing",
				Address:     &flinks.Address{CivicAddress: "25 york street", City: "TOR", Province: "ON", PostalCode: "M5J 2V5", Country: "CA"},
				Email:       "test_user1@nomail.com",
				PhoneNumber: "9051234567",
			},
			Transactions: []flinks.Transaction{{
				ID:          "94584aed-7c98-42a4-9836-9f8557db63f5",
				Date:        flinks.Date{Year: 2025, Month: time.January, Day: 31},
				Description: "PAYROLL - Stripe Paycheck",
				Debit:       ptr(flinks.Amount(100040)),
				Credit:      ptr(flinks.Amount(150025)),
				Balance:     ptr(flinks.Amount(510560)),
			}, {
				ID:          "b1e3c1f0-0d4e-4f5a-9b8c-7d6e5f4a3b2c",
				Date:        flinks.Date{Year: 2025, Month: time.January, Day: 30},
				Description: "TrxChe@De12.06",
				Debit:       ptr(flinks.Amount(1206)),
				Balance:     ptr(flinks.Amount(460575)),
			}},
		}},
	}
	equal(t, "AccountsDetail", got, want)
}

func TestDecodeSummaryFixture(t *testing.T) {
	t.Parallel()
	var got flinks.AccountsSummary
	if err := json.Unmarshal([]byte(fixture(t, "summary_200.json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Tag != "userId=42" || got.InstitutionID != 1 || got.InstitutionName != "BMO" || got.Login.Type != "Business" {
		t.Errorf("top level = %+v", got)
	}
	if !got.Login.LastRefresh.Equal(time.Date(2024, 10, 10, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("LastRefresh = %v", got.Login.LastRefresh)
	}
	if len(got.Accounts) != 1 {
		t.Fatalf("accounts = %d", len(got.Accounts))
	}
	a := got.Accounts[0]
	if a.Balance.Available == nil || *a.Balance.Available != 123445 || *a.Balance.Current != 432145 || a.Balance.Limit != nil {
		t.Errorf("Balance = %+v", a.Balance)
	}
	if a.EftEligibleRatio == nil || a.EftEligibleRatio.String() != "0" || a.ETransferEligibleRatio == nil || a.ETransferEligibleRatio.String() != "0.85" {
		t.Errorf("ratios = %v, %v", a.EftEligibleRatio, a.ETransferEligibleRatio)
	}
	if a.Holder == nil || a.Holder.Name != "John Doe" || a.Holder.Address.POBox != "" || a.LastFourDigits != "" || a.Transactions != nil {
		t.Errorf("account = %+v", a)
	}
}

func TestDecodeQuirks(t *testing.T) {
	t.Parallel()
	var got flinks.AccountsDetail
	if err := json.Unmarshal([]byte(fixture(t, "detail_quirks.json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.InstitutionName != "" || got.InstitutionID != 0 {
		t.Errorf("older payload: InstitutionName/Id = %q/%d, want empty", got.InstitutionName, got.InstitutionID)
	}
	if !got.Login.LastRefresh.IsZero() {
		t.Errorf("LastRefresh 0001-01-01 = %v, want zero", got.Login.LastRefresh)
	}
	a := got.Accounts[0]
	if a.TransitNumber != "12347" || a.InstitutionNumber != "001" || a.AccountNumber != "7641238" {
		t.Errorf("identity = %q %q %q", a.TransitNumber, a.InstitutionNumber, a.AccountNumber)
	}
	equal(t, "Holder as string", a.Holder, &flinks.Holder{Name: "John Flinkyfoot"})
	equal(t, "Balance with null, numeric string and empty string", a.Balance, flinks.Balance{Current: ptr(flinks.Amount(432145))})
	if a.OverdraftLimit != nil {
		t.Errorf("OverdraftLimit = %v, want nil", *a.OverdraftLimit)
	}
	if a.EftEligibleRatio == nil || a.EftEligibleRatio.String() != "0.5" || a.ETransferEligibleRatio != nil {
		t.Errorf("ratios = %v %v", a.EftEligibleRatio, a.ETransferEligibleRatio)
	}
	tx := a.Transactions[0]
	if tx.Debit != nil || *tx.Credit != 10 || *tx.Balance != 100000 {
		t.Errorf("transaction amounts = %v %v %v", tx.Debit, tx.Credit, tx.Balance)
	}
	b := got.Accounts[1]
	if b.Holder != nil || b.Balance != (flinks.Balance{}) {
		t.Errorf("nulls: Holder %v Balance %+v", b.Holder, b.Balance)
	}

	// Property names are case-insensitive on the wire.
	var lower flinks.Account
	if err := json.Unmarshal([]byte(`{"id":"x","transitNumber":"00123","balance":{"current":"1.5"},"holder":{"name":"N"},"unknownField":1}`), &lower); err != nil {
		t.Fatal(err)
	}
	if lower.ID != "x" || lower.TransitNumber != "00123" || *lower.Balance.Current != 150 || lower.Holder.Name != "N" {
		t.Errorf("case-insensitive decode = %+v", lower)
	}

	// A garbage ratio is dropped, not fatal; a garbage amount is fatal.
	var acc flinks.Account
	if err := json.Unmarshal([]byte(`{"EftEligibleRatio":"n/a"}`), &acc); err != nil || acc.EftEligibleRatio != nil {
		t.Errorf("garbage ratio: %v, %v", acc.EftEligibleRatio, err)
	}
	if err := json.Unmarshal([]byte(`{"Balance":{"Current":"n/a"}}`), &acc); err == nil {
		t.Error("garbage amount: want error")
	}
	if err := json.Unmarshal([]byte(`{"TransitNumber":true}`), &acc); err == nil {
		t.Error("bool transit number: want error")
	}
}

func TestAccountsDetailJSONRoundTrip(t *testing.T) {
	t.Parallel()
	var d flinks.AccountsDetail
	if err := json.Unmarshal([]byte(fixture(t, "detail_200.json")), &d); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"Available":5405.50`) {
		t.Errorf("amounts should marshal as decimal numbers: %s", b)
	}
	var back flinks.AccountsDetail
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	equal(t, "round trip", back, d)
}
