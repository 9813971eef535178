package handlers

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"flinkslink/store"
	"flinkslink/views"
)

// recentTransactions is how many transactions each account card shows.
const recentTransactions = 10

// accountsPerPage is how many account cards one summary page shows: the
// totals cover every account, the cards come a page at a time, so that a
// login with thousands of accounts still makes a small page.
const accountsPerPage = 25

// transactionsPerPage is how many transactions one page of an account's
// full list shows ("Show all"), beyond the recentTransactions of its card.
const transactionsPerPage = 50

// summaryPage says which part of a summary a request shows: the page of
// account cards (from 1; out of range means the nearest) and, optionally, one
// account whose transactions are listed in full, a page at a time.
type summaryPage struct {
	accounts  int
	txAccount string // a Flinks account ID; "" for none
	txPage    int
}

// summaryView turns a stored snapshot into the account summary, showing the
// part of it p names. pageURL is the link page, for the pages' links.
func summaryView(s store.Snapshot, lang string, p summaryPage, pageURL string) views.SummaryView {
	page := p.accounts
	v := views.SummaryView{
		Institution:    views.InstitutionName(firstNonEmpty(s.InstitutionName, s.Institution)),
		LastRefresh:    formatTimestamp(s.LastRefresh, lang),
		LastRefreshISO: isoTime(s.LastRefresh),
		HolderName:     s.HolderName,
		FetchedAt:      formatTimestamp(s.FetchedAt, lang),
		Stale:          s.StaleCode != "",
		Unreadable:     s.UnreadableTransactions,
	}
	type total struct {
		assets, owed int64
		n            int
	}
	totals := map[string]*total{}
	var currencies []string
	for _, a := range s.Accounts {
		cur := strings.ToUpper(a.Currency)
		if cur == "" {
			cur = "CAD"
		}
		t := totals[cur]
		if t == nil {
			t = &total{}
			totals[cur] = t
			currencies = append(currencies, cur)
		}
		t.n++
		if a.Current != nil {
			if isCredit(a) {
				t.owed += *a.Current
			} else {
				t.assets += *a.Current
			}
		}
		if v.HolderName == "" {
			v.HolderName = a.HolderName
		}
	}
	pages := max(1, (len(s.Accounts)+accountsPerPage-1)/accountsPerPage)
	page = min(max(page, 1), pages)
	from, to := (page-1)*accountsPerPage, min(page*accountsPerPage, len(s.Accounts))
	for i, a := range s.Accounts[from:to] {
		cur := strings.ToUpper(a.Currency)
		if cur == "" {
			cur = "CAD"
		}
		av := accountView(a, cur, lang)
		av.Anchor = fmt.Sprintf("acct-%d", from+i+1)
		listURL := func(txPage int) string {
			q := url.Values{"tx": {a.ID}, "tx_page": {strconv.Itoa(txPage)}}
			if page > 1 {
				q.Set("accounts", strconv.Itoa(page))
			}
			return pageURL + "?" + q.Encode() + "#" + av.Anchor
		}
		if p.txAccount != "" && p.txAccount == a.ID {
			allTransactions(&av, a, cur, lang, p.txPage, listURL)
			av.CloseURL = pageURL + "#" + av.Anchor
		} else if av.MoreCount > 0 {
			av.AllURL = listURL(1)
		}
		v.Accounts = append(v.Accounts, av)
	}
	if pages > 1 {
		v.Paging = &views.PagingView{From: from + 1, To: to, Total: len(s.Accounts)}
		if page > 1 {
			v.Paging.PrevURL = fmt.Sprintf("%s?accounts=%d#summary", pageURL, page-1)
		}
		if page < pages {
			v.Paging.NextURL = fmt.Sprintf("%s?accounts=%d#summary", pageURL, page+1)
		}
	}
	slices.Sort(currencies)
	for _, cur := range currencies {
		t := totals[cur]
		v.Totals = append(v.Totals, views.TotalView{
			Currency: cur, Assets: formatMoney(t.assets, cur, lang), Owed: formatMoney(t.owed, cur, lang), Accounts: t.n,
		})
	}
	return v
}

// isCredit reports whether an account's balance is money owed (Flinks'
// "Credits" category: credit cards, lines of credit, loans, mortgages).
func isCredit(a store.Account) bool {
	if strings.EqualFold(a.Category, "Credits") {
		return true
	}
	switch strings.ToLower(a.Type) {
	case "creditcard", "lineofcredit", "loan", "loanpersonal", "mortgage":
		return true
	}
	return false
}

func accountView(a store.Account, cur, lang string) views.AccountView {
	v := views.AccountView{
		ID:        a.ID,
		Title:     firstNonEmpty(a.Title, views.AccountType(lang, a.Type)),
		Masked:    maskAccountNumber(a.Last4),
		Type:      views.AccountType(lang, a.Type),
		Category:  views.AccountCategory(lang, a.Category),
		Currency:  cur,
		Current:   formatMoneyPtr(a.Current, cur, lang),
		Available: formatMoneyPtr(a.Available, cur, lang),
		Limit:     formatMoneyPtr(a.Limit, cur, lang),
	}
	txs := sortedTransactions(a.Transactions)
	if len(txs) > recentTransactions {
		v.MoreCount = len(txs) - recentTransactions
		txs = txs[:recentTransactions]
	}
	for _, t := range txs {
		v.Transactions = append(v.Transactions, transactionView(t, cur, lang))
	}
	return v
}

// sortedTransactions is txs newest first, stable for same-day rows: Flinks
// does not promise an order.
func sortedTransactions(txs []store.Transaction) []store.Transaction {
	txs = slices.Clone(txs)
	slices.SortStableFunc(txs, func(x, y store.Transaction) int { return strings.Compare(y.Date, x.Date) })
	return txs
}

func transactionView(t store.Transaction, cur, lang string) views.TransactionView {
	return views.TransactionView{
		Date:        formatDate(t.Date, lang),
		DateISO:     t.Date,
		Description: t.Description,
		Debit:       formatMoneyPtr(t.Debit, cur, lang),
		Credit:      formatMoneyPtr(t.Credit, cur, lang),
		Balance:     formatMoneyPtr(t.Balance, cur, lang),
	}
}

// allTransactions lists every transaction of a, newest first, the page-th
// page of transactionsPerPage (out of range means the nearest), with the
// links to the pages around it.
func allTransactions(v *views.AccountView, a store.Account, cur, lang string, page int, pageURL func(int) string) {
	txs := sortedTransactions(a.Transactions)
	pages := max(1, (len(txs)+transactionsPerPage-1)/transactionsPerPage)
	page = min(max(page, 1), pages)
	from, to := (page-1)*transactionsPerPage, min(page*transactionsPerPage, len(txs))
	v.Transactions, v.MoreCount = nil, 0
	for _, t := range txs[from:to] {
		v.Transactions = append(v.Transactions, transactionView(t, cur, lang))
	}
	v.TxPaging = &views.PagingView{From: from + 1, To: to, Total: len(txs)}
	if page > 1 {
		v.TxPaging.PrevURL = pageURL(page - 1)
	}
	if page < pages {
		v.TxPaging.NextURL = pageURL(page + 1)
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
