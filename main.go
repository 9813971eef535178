// Command flinkslink is a web app that links a bank account through Flinks
// Connect and shows its account summary. With no Flinks configured it plays
// Flinks itself with the embedded sandbox (package flinks/sandbox).
//
//	flinkslink                      serve the app (configuration from the environment)
//	flinkslink sandbox -addr H:P    serve only the Flinks sandbox, as an external Flinks
package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"flinkslink/flinks"
	"flinkslink/flinks/sandbox"
	"flinkslink/handlers"
	"flinkslink/handlers/fetcher"
	"flinkslink/handlers/parking"
	"flinkslink/static"
	"flinkslink/store"
	"flinkslink/views"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal shuts down gracefully; a second one kills at once.
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil, hooks{}); err != nil {
		fmt.Fprintln(os.Stderr, "flinkslink:", err)
		os.Exit(1)
	}
}

// usage is what --help prints.
const usage = `flinkslink links a bank account through Flinks Connect and shows its summary.

  flinkslink                      serve the app; configuration from the environment (see README.md)
  flinkslink sandbox [-addr H:P] [-state FILE]
                                  serve only the Flinks sandbox, as an external Flinks would be
  flinkslink --help               this text

With no FLINKS_API_URL the app plays Flinks itself with the embedded sandbox.
`

// hooks replaces, for in-process tests, what the environment cannot set.
// The zero value is the real program.
type hooks struct {
	// sandboxNow is the embedded sandbox's clock (nil: time.Now), so a test
	// decides when a scrape ends instead of racing it.
	sandboxNow func() time.Time
}

// run starts the app (or, with the "sandbox" argument, the sandbox alone) and
// serves until ctx ends. ready, when not nil, receives the listening base URL.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready chan<- string, hk hooks) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		_, err := io.WriteString(stderr, usage)
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if len(args) > 0 && args[0] == "sandbox" {
		return runSandbox(ctx, args[1:], cfg, log, ready, hk)
	}
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q (try: flinkslink --help)", args[0])
	}
	return runApp(ctx, cfg, log, ready, hk)
}

func runApp(ctx context.Context, cfg config, log *slog.Logger, ready chan<- string, hk hooks) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ADDR: %w", err)
	}
	base := "http://" + ln.Addr().String()
	// Long-polled status requests wait parked, with no goroutine (package
	// parking): the server accepts through the lot.
	lot := parking.NewLot(ln)

	dataDir := filepath.Dir(cfg.DBPath)
	loginKey, err := secretKey(cfg.LoginIDKey, filepath.Join(dataDir, "loginid.key"))
	if err != nil {
		return err
	}
	dbLocation, dbShown := cfg.DBPath, cfg.DBPath
	if cfg.DatabaseURL != "" {
		dbLocation = cfg.DatabaseURL
		if u, err := url.Parse(cfg.DatabaseURL); err == nil {
			dbShown = u.Redacted() // no password in the log
		}
	}
	db, err := store.Open(ctx, dbLocation, loginKey, store.WithMaxSize(cfg.DBMaxBytes))
	if err != nil {
		return err
	}
	defer db.Close()

	e := echo.New()
	e.HideBanner, e.HidePort = true, true

	// Flinks: the configured one, or the embedded sandbox on this same server,
	// reached over real HTTP like any Flinks.
	apiURL, connectURL := cfg.APIURL, cfg.ConnectURL
	apiKey, secret := cfg.APIKey, cfg.SecretKey
	hcfg := handlers.Config{PublicURL: cfg.PublicURL, PollEvery: cfg.BrowserPollDur}
	hcfg.RateLimits.Off = cfg.RateLimitsOff
	hcfg.AccountSelector = cfg.AccountSelector
	hcfg.ConnectRefreshAfter = cfg.ConnectRefresh
	if cfg.RateLimitsOff {
		log.Warn("RATE_LIMITS=off: no route is rate limited; for load tests only")
	}
	webhookSecret := cfg.WebhookSecret
	var sandboxWebhookURL string
	if cfg.sandboxMode() && cfg.SandboxWebhookDelay != nil {
		// The embedded sandbox pushes to this app, signed with the configured
		// secret or one derived from the LoginId key.
		sandboxWebhookURL = base + handlers.WebhookPath
		if webhookSecret == "" {
			webhookSecret = base64.StdEncoding.EncodeToString(derive(loginKey, "sandbox-webhook"))
		}
	}
	if cfg.sandboxMode() {
		delay := time.Duration(0)
		if cfg.SandboxWebhookDelay != nil {
			delay = *cfg.SandboxWebhookDelay
		}
		sb, err := sandbox.New(sandbox.Config{
			WebhookURL:    sandboxWebhookURL,
			WebhookSecret: webhookSecret,
			WebhookDelay:  delay,
			Prefix:        handlers.SandboxPrefix,
			TimeScale:     cfg.SandboxScale,
			StatePath:     filepath.Join(dataDir, "sandbox.db"),
			APIKey:        cfg.APIKey,
			SecretKey:     cfg.SecretKey,
			Now:           hk.sandboxNow,
		})
		if err != nil {
			return err
		}
		defer sb.Close()
		// The sandbox enforces the Toolbox's keys unless others were configured.
		apiKey, secret = cmp.Or(cfg.APIKey, sandbox.DefaultAPIKey), cmp.Or(cfg.SecretKey, sandbox.DefaultSecretKey)
		apiURL, _ = url.Parse(base + handlers.SandboxPrefix + "/v3/" + sandbox.DefaultCustomerID)
		connectURL = &url.URL{Path: handlers.SandboxPrefix + "/v2/"}
		e.Any(handlers.SandboxPrefix, echo.WrapHandler(sb))
		e.Any(handlers.SandboxPrefix+"/*", echo.WrapHandler(sb))
		hcfg.Sandbox = true
		hcfg.Scenarios = scenarioViews(sandbox.Scenarios(), cfg.SandboxScale)
		hcfg.SandboxPending = sb // the scenario card's pending-duration control
		log.Info("flinks: embedded sandbox", "api", apiURL.String(), "connect", base+connectURL.Path, "time_scale", cfg.SandboxScale)
	} else {
		log.Info("flinks: external", "api", apiURL.String(), "connect", connectURL.String(),
			"api_key", apiKey != "", "secret_key", secret != "")
	}
	hcfg.ConnectURL = connectURL
	hcfg.FetchTimeout = cfg.PollTimeout
	// demo=true shows the Flinks Capital test bank: wanted with the sandboxes, not in production.
	hcfg.Demo = cfg.sandboxMode() || strings.HasPrefix(connectURL.Hostname(), "toolbox-")
	if cfg.Demo != nil {
		hcfg.Demo = *cfg.Demo
	}
	hcfg.Parking = lot
	hcfg.SecureCookies = cfg.PublicURL != nil && cfg.PublicURL.Scheme == "https"

	client, err := flinks.NewClient(flinks.Config{BaseURL: apiURL.String(), APIKey: apiKey, SecretKey: secret})
	if err != nil {
		return err
	}
	hcfg.Cards = client // "Delete" calls DeleteCard
	var tokens handlers.TokenSource
	if secret != "" {
		tokens = client
	}

	sessionKey, err := secretKey(cfg.SessionSecret, filepath.Join(dataDir, "session.key"))
	if err != nil {
		return err
	}
	cookies := handlers.NewCookieStore(derive(sessionKey, "session-auth"), derive(sessionKey, "session-enc")[:32])

	// Fetches run on their own context: cancelled first at shutdown, so their
	// waits end, while the server (and the embedded sandbox) still answers.
	fetchCtx, cancelFetches := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelFetches()
	f := fetcher.New(fetchCtx, log, db, client, fetcher.Options{
		PollInterval: cfg.PollInterval, Timeout: cfg.PollTimeout, DaysOfTransactions: cfg.Days,
		LeaseTTL: cfg.FetchLease,
	})

	assets, err := fs.Sub(static.FS, ".")
	if err != nil {
		return err
	}
	if !static.HasHTMX() {
		log.Warn("built without htmx (static/lib is empty): pages will not update on their own; build with make run or make build, which run make assets")
	}
	views.SetAssetVersion(strconv.FormatInt(time.Now().Unix(), 36))
	hcfg.WebhookSecret, hcfg.Webhooks = webhookSecret, f
	hcfg.Workers = f
	hcfg.SessionKey = derive(sessionKey, "session-rotation") // shared by every instance with the same SESSION_SECRET
	h := handlers.New(log, hcfg, db, f, tokens, cookies)
	h.Routes(e, assets)
	lot.SetHandler(e)

	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if cfg.CleartextHTTP2 {
		// A load balancer that speaks HTTP/2 to the app multiplexes every
		// waiting status request of its browsers onto a few connections.
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	// Shutdown answers the long-polled status requests at once: the parked
	// ones when it closes the lot, those waiting over HTTP/2 with Drain.
	srv.RegisterOnShutdown(h.Drain)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(lot) }()
	log.Info("listening", "url", base, "db", dbShown)

	n, err := f.Resume(ctx)
	if err != nil {
		log.Error("resume unfinished fetches", "err", err)
	} else if n > 0 {
		log.Info("resumed unfinished fetches", "count", n)
	}
	if ready != nil {
		ready <- base
	}

	select {
	case err := <-serveErr:
		cancelFetches()
		f.Wait()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// At once: end the fetches' waits and stop accepting requests (those in
	// flight may finish). Fetches first, so none starts a call to a closed
	// listener (the embedded sandbox's). Every step of a fetch is already
	// persisted, in its own transaction, so an interrupted fetch stays
	// unfinished and the next start resumes it.
	cancelFetches()
	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- srv.Shutdown(shutdownCtx) }()
	stopped := make(chan struct{})
	go func() { f.Wait(); close(stopped) }()
	select {
	case <-stopped:
		// Hand the fetch leases back: another instance takes the fetches
		// over at its next sweep instead of when the leases run out.
		if err := f.Release(shutdownCtx); err != nil {
			log.Warn("fetch leases not handed back; they run out in FETCH_LEASE", "err", err)
		}
	case <-shutdownCtx.Done():
		log.Warn("fetches still stopping at the shutdown deadline; they resume at the next start")
	}
	if err := <-shutdownErr; err != nil {
		log.Warn("requests still running at the shutdown deadline were cut off", "err", err)
		srv.Close()
	}
	if err := lot.Wait(shutdownCtx); err != nil {
		log.Warn("answers to parked status requests still being written at the shutdown deadline", "err", err)
	}
	log.Info("stopped")
	return nil
}

// shutdownTimeout bounds a graceful shutdown: fetches stop at once, requests
// in flight get this long to finish.
const shutdownTimeout = 4 * time.Second

// runSandbox serves the Flinks sandbox alone, at the root, for another process or curl.
func runSandbox(ctx context.Context, args []string, cfg config, log *slog.Logger, ready chan<- string, hk hooks) error {
	fl := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	addr := fl.String("addr", "localhost:8081", "listen address")
	state := fl.String("state", filepath.Join("data", "sandbox-standalone.db"), "SQLite file for the sandbox's state")
	if err := fl.Parse(args); err != nil {
		return err
	}
	// The default sits in data/, which a fresh clone does not have yet.
	if err := os.MkdirAll(filepath.Dir(*state), 0o700); err != nil {
		return fmt.Errorf("-state: %w", err)
	}
	sb, err := sandbox.New(sandbox.Config{TimeScale: cfg.SandboxScale, StatePath: *state, Now: hk.sandboxNow})
	if err != nil {
		return err
	}
	defer sb.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	log.Info("flinks sandbox listening", "api", base+"/v3/"+sandbox.DefaultCustomerID, "connect", base+"/v2/", "time_scale", cfg.SandboxScale)
	if ready != nil {
		ready <- base
	}
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// scenarioViews are the scenario card's users. Their summaries name the
// sandbox's reference timings ("~10 s"); the card shows them as this
// server's SANDBOX_TIME_SCALE makes them.
func scenarioViews(sc []sandbox.Scenario, scale float64) []views.ScenarioView {
	out := make([]views.ScenarioView, 0, len(sc))
	for _, s := range sc {
		v := views.ScenarioView{Username: s.Username, Password: s.Password, Summary: s.Summary}
		if s.Pending > 0 && scale != 1 {
			v.PendingRef = fmt.Sprintf("~%d s", int(s.Pending/time.Second))
			v.PendingShown = "~" + strings.TrimSuffix(strings.TrimSuffix(strconv.FormatFloat(s.Pending.Seconds()*scale, 'f', 1, 64), "0"), ".") + " s"
		}
		if s.MFA {
			// The same three answers serve the English and French prompts.
			var answers []string
			for _, answer := range s.MFAAnswers {
				answers = append(answers, answer)
			}
			slices.Sort(answers)
			v.MFAAnswers = slices.Compact(slices.Clone(answers)) // before the line below compacts answers in place
			v.MFA = "Security question: answer " + strings.Join(slices.Compact(answers), ", ") + " (whichever fits the question)."
		}
		out = append(out, v)
	}
	return out
}
