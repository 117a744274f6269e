package ipranges

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// publisher is a fake of all the feeds' servers.
type publisher struct {
	t       *testing.T
	mu      sync.Mutex
	files   map[string]string // path -> testdata file
	status  map[string]int    // path -> forced status
	calls   map[string]int    // path -> count
	clients []string          // clientrequestid values seen
	srv     *httptest.Server
}

func newPublisher(t *testing.T) *publisher {
	p := &publisher{t: t, status: map[string]int{}, calls: map[string]int{}, files: map[string]string{
		"/version/Worldwide":     "o365-version.json",
		"/endpoints/Worldwide":   "o365-endpoints.json",
		"/download/details.aspx": "azure-download.html",
		"/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20251110.json": "azure-servicetags.json",
		"/ipranges/goog.json":  "goog.json",
		"/ipranges/cloud.json": "cloud.json",
		"/ip-ranges.json":      "aws-ip-ranges.json",
	}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *publisher) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[r.URL.Path]++
	if strings.HasPrefix(r.URL.Path, "/version/") || strings.HasPrefix(r.URL.Path, "/endpoints/") {
		p.clients = append(p.clients, r.URL.Query().Get("clientrequestid"))
	}
	if s := p.status[r.URL.Path]; s != 0 {
		http.Error(w, http.StatusText(s), s)
		return
	}
	name, ok := p.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		p.t.Error(err)
	}
	w.Write(data)
}

func (p *publisher) feeds() Feeds {
	u := p.srv.URL
	return Feeds{O365: u, O365Instance: "Worldwide", AzurePage: u + "/download/details.aspx?id=56519",
		Google: u + "/ipranges/goog.json", GoogleCloud: u + "/ipranges/cloud.json", AWS: u + "/ip-ranges.json"}
}

func (p *publisher) set(path, file string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if file != "" {
		p.files[path] = file
	}
	p.status[path] = status
}

func (p *publisher) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[path]
}

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func states(sts []UpdateStatus) string {
	var s []string
	for _, st := range sts {
		s = append(s, st.Source+"="+string(st.State))
	}
	return strings.Join(s, " ")
}

// noTemp fails if a temporary file is left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestUpdate(t *testing.T) {
	pub := newPublisher(t)
	dir := filepath.Join(t.TempDir(), "cache")
	clk := &clock{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	opts := UpdateOptions{CacheDir: dir, Feeds: pub.feeds(), Client: pub.srv.Client(), Now: clk.now}
	ctx := context.Background()

	// First run: everything is fetched.
	sts, err := Update(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := states(sts), "o365=updated azure=updated google=updated google-cloud=updated aws=updated"; got != want {
		t.Fatalf("states %s, want %s", got, want)
	}
	if sts[0].Date != "2026073100" || sts[0].Prefixes != 13 {
		t.Errorf("o365 status %+v", sts[0])
	}
	if sts[1].Date != "20251110 (changeNumber 376)" || !strings.HasSuffix(sts[1].URL, "/ServiceTags_Public_20251110.json") {
		t.Errorf("azure status %+v", sts[1])
	}
	noTemp(t, dir)

	// The client id is a UUIDv4, persisted in meta.json and sent on every call.
	m, fresh, err := readMeta(dir)
	if err != nil || fresh {
		t.Fatalf("meta: fresh=%v %v", fresh, err)
	}
	if !uuidRE.MatchString(m.ClientRequestID) {
		t.Errorf("client id %q is not a UUIDv4", m.ClientRequestID)
	}
	for _, id := range pub.clients {
		if id != m.ClientRequestID {
			t.Errorf("sent client id %q, persisted %q", id, m.ClientRequestID)
		}
	}

	// The Classifier uses the cache: the feed replaces the built-in O365 rows.
	c := loadTest(t, Options{CacheDir: dir})
	o := c.Classify(netip.MustParseAddr("52.98.204.101"))
	if o.Class != Intermediary || o.Labels[0].Date != "2026073100" || !strings.HasPrefix(o.Labels[0].Source, pub.srv.URL) {
		t.Errorf("52.98.204.101 after update: %+v", o)
	}
	o = c.Classify(netip.MustParseAddr("52.125.141.200"))
	if o.Class != Intermediary || len(o.Labels) != 2 || o.Labels[0].Name != LabelOutlookMobile || o.Labels[1].Detail != "AzureCloud.westeurope" {
		t.Errorf("52.125.141.200 after update: %+v", o)
	}
	for ip, want := range map[string]string{"34.1.210.1": LabelGoogleCloud, "34.0.0.1": LabelGoogleServices, "3.5.141.1": LabelAWS, "20.38.1.1": LabelAzureCloud} {
		if o := c.Classify(netip.MustParseAddr(ip)); o.Labels == nil || o.Labels[0].Name != want {
			t.Errorf("%s: %+v, want %s", ip, o, want)
		}
	}
	if n := len(c.Sources()); n != 6 {
		t.Errorf("%d sources, want builtin + 5: %+v", n, c.Sources())
	}

	// Ten minutes later: everything is polled too recently.
	clk.t = clk.t.Add(10 * time.Minute)
	before := pub.count("/version/Worldwide")
	sts, err = Update(ctx, opts)
	if err != nil || states(sts) != "o365=skipped azure=skipped google=skipped google-cloud=skipped aws=skipped" {
		t.Errorf("after 10 min: %s, %v", states(sts), err)
	}
	if pub.count("/version/Worldwide") != before {
		t.Error("version checked within the hour")
	}

	// Two hours later: the version is checked, unchanged, so no endpoints call.
	clk.t = clk.t.Add(2 * time.Hour)
	sts, err = Update(ctx, opts)
	if err != nil || states(sts) != "o365=unchanged azure=skipped google=skipped google-cloud=skipped aws=skipped" {
		t.Errorf("after 2 h: %s, %v", states(sts), err)
	}
	if pub.count("/endpoints/Worldwide") != 1 || pub.count("/version/Worldwide") != before+1 {
		t.Errorf("endpoints called %d times, version %d", pub.count("/endpoints/Worldwide"), pub.count("/version/Worldwide"))
	}

	// Forced, with AWS rate-limiting and Google failing: those keep their
	// previous data; the rest is refreshed; the error names them.
	pub.set("/ip-ranges.json", "", http.StatusTooManyRequests)
	pub.set("/ipranges/goog.json", "", http.StatusInternalServerError)
	pub.set("/ipranges/cloud.json", "goog-bad.json", 0)
	opts.Force = true
	awsBefore, _ := os.ReadFile(cachePath(dir, "aws"))
	sts, err = Update(ctx, opts)
	if got := states(sts); got != "o365=unchanged azure=updated google=failed google-cloud=failed aws=failed" {
		t.Errorf("forced with failures: %s", got)
	}
	for _, want := range []string{
		"google: GET " + pub.srv.URL + "/ipranges/goog.json: 500 Internal Server Error (previous data kept)",
		"google-cloud: " + pub.srv.URL + "/ipranges/cloud.json: $.prefixes[1]: want exactly one of ipv4Prefix, ipv6Prefix (previous data kept)",
		"aws: GET " + pub.srv.URL + "/ip-ranges.json: 429 Too Many Requests: rate limited; next try in an hour at the earliest (previous data kept)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant it to contain %s", err, want)
		}
	}
	if sts[4].Prefixes != 3 || sts[4].Date != "2026-11-20-18-33-12" {
		t.Errorf("failed aws status does not describe the previous data: %+v", sts[4])
	}
	if awsAfter, _ := os.ReadFile(cachePath(dir, "aws")); string(awsAfter) != string(awsBefore) {
		t.Error("aws cache file changed by a failed update")
	}
	noTemp(t, dir)
	c = loadTest(t, Options{CacheDir: dir})
	if o := c.Classify(netip.MustParseAddr("3.5.141.1")); o.Labels == nil || o.Labels[0].Name != LabelAWS {
		t.Errorf("previous aws data not in use: %+v", o)
	}

	// After the 429, AWS is left alone for an hour, even past its daily
	// interval; the 500s are retried.
	opts.Force = false
	clk.t = clk.t.Add(25 * time.Hour)
	awsCalls := pub.count("/ip-ranges.json")
	sts, _ = Update(ctx, opts)
	if got := states(sts); !strings.HasSuffix(got, "google=failed google-cloud=failed aws=failed") {
		t.Errorf("a day later: %s", got)
	}
	sts, _ = Update(ctx, opts) // the 429 of the run above backs off
	if sts[4].State != Skipped || !sts[4].Next.Equal(clk.t.Add(time.Hour)) || pub.count("/ip-ranges.json") != awsCalls+1 {
		t.Errorf("after a 429: %+v, %d calls", sts[4], pub.count("/ip-ranges.json")-awsCalls)
	}
}

func TestUpdateNewVersion(t *testing.T) {
	pub := newPublisher(t)
	dir := t.TempDir()
	opts := UpdateOptions{CacheDir: dir, Feeds: pub.feeds(), Client: pub.srv.Client(), Force: true}
	if _, err := Update(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	// Serve the new version from a second server sharing the endpoints.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/version/Worldwide" {
			w.Write([]byte(`{"instance":"Worldwide","latest":"2026083100"}`))
			return
		}
		pub.serve(w, r)
	}))
	defer srv.Close()
	opts.Feeds.O365 = srv.URL
	sts, err := Update(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sts[0].State != Updated || sts[0].Date != "2026083100" || pub.count("/endpoints/Worldwide") != 2 {
		t.Errorf("new version: %+v, endpoints calls %d", sts[0], pub.count("/endpoints/Worldwide"))
	}
}

func TestUpdateMalformedKeepsPrevious(t *testing.T) {
	pub := newPublisher(t)
	dir := t.TempDir()
	opts := UpdateOptions{CacheDir: dir, Feeds: pub.feeds(), Client: pub.srv.Client(), Force: true}
	if _, err := Update(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	prev, _ := os.ReadFile(cachePath(dir, "azure"))
	opts.Feeds.Azure = pub.srv.URL + "/bad/ServiceTags_Public_20251117.json"
	pub.set("/bad/ServiceTags_Public_20251117.json", "azure-servicetags-bad.json", 0)
	sts, err := Update(context.Background(), opts)
	if sts[1].State != Failed || err == nil || !strings.Contains(err.Error(), "$.values[1].properties.addressPrefixes[1]") {
		t.Errorf("azure: %+v, %v", sts[1], err)
	}
	if now, _ := os.ReadFile(cachePath(dir, "azure")); string(now) != string(prev) {
		t.Error("azure cache changed by a malformed feed")
	}
	noTemp(t, dir)
}

func TestScrapeAzure(t *testing.T) {
	tests := []struct{ name, page, want, err string }{
		{"relative links, newest wins", "", "/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20251110.json", ""},
		{"absolute", `<a href="https://download.microsoft.com/download/x/ServiceTags_Public_20260105.json">`, "https://download.microsoft.com/download/x/ServiceTags_Public_20260105.json", ""},
		{"escaped in a script", `<script>{"url":"https:\/\/download.microsoft.com\/download\/7\/ServiceTags_Public_20260112.json","name":"ServiceTags_Public_20260112.json"}</script>`, "https://download.microsoft.com/download/7/ServiceTags_Public_20260112.json", ""},
		{"unicode escaped", `{"url":"https:\u002F\u002Fdownload.microsoft.com\u002Fd\u002FServiceTags_Public_20260119.json"}`, "https://download.microsoft.com/d/ServiceTags_Public_20260119.json", ""},
		{"none", `<html>moved</html>`, "", "no ServiceTags_Public_*.json link on the download page (has its markup changed?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := newPublisher(t)
			if tt.page != "" {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(tt.page)) }))
				defer srv.Close()
				pub.srv = srv
			}
			u := &updater{feeds: pub.feeds(), client: pub.srv.Client()}
			got, err := u.scrapeAzure(context.Background())
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(tt.want, "/") {
				tt.want = pub.srv.URL + tt.want
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCorruptCacheWarns(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(cachePath(dir, "o365"), []byte(`{"source":"o365","prefixes":[{"prefix":"52.96.0.0/14","label":"made-up"}]}`), 0o644)
	os.WriteFile(cachePath(dir, "aws"), []byte(`{"source":`), 0o644)
	c, warns, err := Load(Options{CacheDir: dir, NoGeoIP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := []string{
		"skipping cached o365 list: " + cachePath(dir, "o365") + `: $.prefixes[0].label: "made-up": unknown label`,
		"skipping cached aws list: " + cachePath(dir, "aws") + ":1: invalid JSON: unexpected end of JSON input",
	}
	if len(warns) != len(want) {
		t.Fatalf("warnings %v", warns)
	}
	for i := range want {
		if warns[i].Error() != want[i] {
			t.Errorf("warning\n got %s\nwant %s", warns[i], want[i])
		}
	}
	// The built-in table still answers.
	if o := c.Classify(netip.MustParseAddr("52.98.204.101")); o.Class != Intermediary {
		t.Errorf("built-in fallback: %+v", o)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	uc := func() (string, error) { return "/home/u/.cache", nil }
	if d, _ := defaultCacheDir(0, uc); d != "/var/lib/mailaudit" {
		t.Errorf("root: %s", d)
	}
	if d, _ := defaultCacheDir(1000, uc); d != "/home/u/.cache/mailaudit" {
		t.Errorf("user: %s", d)
	}
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if os.Geteuid() != 0 {
		if d, _ := DefaultCacheDir(); d != "/xdg/mailaudit" {
			t.Errorf("XDG: %s", d)
		}
	}
}

func TestWriteAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "sub")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	// Renaming a file over a directory fails: nothing may be left behind.
	if err := writeAtomic(target, []byte("x")); err == nil {
		t.Fatal("rename over a directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

// primed returns a cache directory filled by one successful update from
// pub, and the options that made it.
func primed(t *testing.T, pub *publisher, clk *clock) (string, UpdateOptions) {
	t.Helper()
	dir := t.TempDir()
	opts := UpdateOptions{CacheDir: dir, Feeds: pub.feeds(), Client: pub.srv.Client(), Now: clk.now}
	if _, err := Update(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	return dir, opts
}

// What each kind of HTTP answer does to a source: only a good feed
// replaces the cache; everything else fails and keeps the previous data.
func TestUpdateHTTPAnswers(t *testing.T) {
	const feed = `{"createDate":"2026-11-23-00-00-00","prefixes":[{"ip_prefix":"3.6.0.0/16","region":"x"}]}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
		state   UpdateState
		err     string // substring of the error after the server URL
	}{
		{"ok", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(feed))
		}, Updated, ""},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/feed" {
				http.Redirect(w, r, "/moved", http.StatusFound)
				return
			}
			w.Write([]byte(feed))
		}, Updated, ""},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusMovedPermanently)
		}, Failed, "/feed: stopped after 10 redirects"},
		{"not modified", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotModified)
		}, Failed, "/feed: 304 Not Modified"},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "oops", http.StatusInternalServerError)
		}, Failed, "/feed: 500 Internal Server Error"},
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(feed))
		}, Failed, "/feed: Content-Type text/html, want JSON (a proxy's login or error page?)"},
		{"too big", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(feed + strings.Repeat(" ", 1000)))
		}, Failed, "/feed: larger than 1000 bytes"},
		{"no prefixes", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"createDate":"2026-11-23-00-00-00","prefixes":[],"ipv6_prefixes":[]}`))
		}, Failed, "/feed: $.prefixes: no prefixes"},
		{"truncated", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(feed[:40]))
		}, Failed, "/feed:1: invalid JSON: unexpected end of JSON input"},
		{"wrong schema", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"prefixes":[{"ip_prefix":["3.6.0.0/16"]}]}`))
		}, Failed, "/feed:1: $.prefixes.ip_prefix: array where string expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
			dir, opts := primed(t, newPublisher(t), clk)
			prev, _ := os.ReadFile(cachePath(dir, sourceAWS))
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			opts.Feeds.AWS, opts.Client, opts.Force = srv.URL+"/feed", srv.Client(), true
			u, err := newUpdater(opts)
			if err != nil {
				t.Fatal(err)
			}
			u.maxSize = 1000
			st := u.one(context.Background(), sourceAWS)
			if st.State != tt.state {
				t.Fatalf("state %s (%v), want %s", st.State, st.Err, tt.state)
			}
			now, _ := os.ReadFile(cachePath(dir, sourceAWS))
			if tt.state == Updated {
				if st.Prefixes != 1 || st.Date != "2026-11-23-00-00-00" || string(now) == string(prev) {
					t.Errorf("not updated: %+v", st)
				}
				return
			}
			if st.Err == nil || !strings.Contains(st.Err.Error(), srv.URL+tt.err) {
				t.Errorf("error %v\nwant it to contain %s", st.Err, srv.URL+tt.err)
			}
			if string(now) != string(prev) || st.Prefixes != 3 {
				t.Errorf("previous data not kept: %+v", st)
			}
			noTemp(t, dir)
		})
	}
}

// The per-install client id is sent but never shown, whatever fails.
func TestUpdateClientIDNeverShown(t *testing.T) {
	for _, base := range []string{"http://bad host", "ftp://example.invalid", "http://127.0.0.1:1", "redirect-loop", "html"} {
		t.Run(base, func(t *testing.T) {
			dir := t.TempDir()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if base == "html" {
					w.Header().Set("Content-Type", "text/html")
					w.Write([]byte("<html>"))
					return
				}
				http.Redirect(w, r, r.URL.String(), http.StatusFound)
			}))
			defer srv.Close()
			if base == "redirect-loop" || base == "html" {
				base = srv.URL
			}
			f := Feeds{O365: base, O365Instance: "Worldwide", Azure: base, Google: base, GoogleCloud: base, AWS: base}
			sts, err := Update(context.Background(), UpdateOptions{CacheDir: dir, Feeds: f, Client: srv.Client()})
			m, _, merr := readMeta(dir)
			if merr != nil || m.ClientRequestID == "" {
				t.Fatalf("meta %+v, %v", m, merr)
			}
			if err == nil || strings.Contains(err.Error(), m.ClientRequestID) || strings.Contains(err.Error(), "clientrequestid") {
				t.Errorf("error shows the client id: %v", err)
			}
			if sts[0].State != Failed || strings.Contains(fmt.Sprint(sts), m.ClientRequestID) {
				t.Errorf("status shows the client id or did not fail: %+v", sts[0])
			}
		})
	}
}

// Polling times in meta.json that lie in the future (a clock that was
// wrong when they were written) must not stop updates until that date.
func TestUpdateClockInFuture(t *testing.T) {
	clk := &clock{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	pub := newPublisher(t)
	dir, opts := primed(t, pub, clk)
	m, _, err := readMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range feedNames() {
		m.Checked[n] = clk.t.AddDate(1, 0, 0)
	}
	m.Backoff[sourceAWS] = clk.t.AddDate(0, 0, 7)
	if err := writeMeta(dir, m); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(25 * time.Hour)
	sts, err := Update(context.Background(), opts)
	if got, want := states(sts), "o365=unchanged azure=unchanged google=updated google-cloud=updated aws=updated"; err != nil || got != want {
		t.Errorf("got %s (%v), want %s", got, err, want)
	}
	// A real back-off, at most an hour ahead, is still honoured.
	m, _, _ = readMeta(dir)
	m.Backoff[sourceAWS] = clk.t.Add(30 * time.Minute)
	m.Checked[sourceAWS] = clk.t.Add(-48 * time.Hour)
	writeMeta(dir, m)
	sts, _ = Update(context.Background(), opts)
	if sts[4].State != Skipped || !sts[4].Next.Equal(clk.t.Add(30*time.Minute)) {
		t.Errorf("back-off ignored: %+v", sts[4])
	}
}

// The etiquette intervals, to the second, with an injected clock.
func TestUpdateIntervals(t *testing.T) {
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	pub := newPublisher(t)
	tests := []struct {
		after time.Duration
		want  string
	}{
		{time.Hour - time.Second, "o365=skipped azure=skipped google=skipped google-cloud=skipped aws=skipped"},
		{time.Hour, "o365=unchanged azure=skipped google=skipped google-cloud=skipped aws=skipped"},
		{24*time.Hour - time.Second, "o365=unchanged azure=skipped google=skipped google-cloud=skipped aws=skipped"},
		{24 * time.Hour, "o365=unchanged azure=skipped google=updated google-cloud=updated aws=updated"},
		{7*24*time.Hour - time.Second, "o365=unchanged azure=skipped google=updated google-cloud=updated aws=updated"},
		{7 * 24 * time.Hour, "o365=unchanged azure=unchanged google=updated google-cloud=updated aws=updated"},
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			clk := &clock{start}
			_, opts := primed(t, pub, clk) // every source checked at start
			clk.t = start.Add(tt.after)
			sts, err := Update(context.Background(), opts)
			if got := states(sts); err != nil || got != tt.want {
				t.Errorf("%s (%v), want %s", got, err, tt.want)
			}
			if sts[0].State == Skipped && !sts[0].Next.Equal(start.Add(time.Hour)) {
				t.Errorf("o365 next check %v, want %v", sts[0].Next, start.Add(time.Hour))
			}
		})
	}
}

// A cached list from another instance or mirror is no reason to skip or
// to call the version unchanged: Microsoft versions all instances alike.
func TestUpdateInstanceChanged(t *testing.T) {
	clk := &clock{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	pub := newPublisher(t)
	pub.set("/version/China", "o365-version.json", 0)
	pub.set("/endpoints/China", "o365-endpoints.json", 0)
	dir, opts := primed(t, pub, clk)
	opts.Feeds.O365Instance = "China"
	clk.t = clk.t.Add(time.Minute)
	sts, err := Update(context.Background(), opts)
	if err != nil || sts[0].State != Updated || !strings.HasSuffix(sts[0].URL, "/endpoints/China") {
		t.Errorf("o365 after switching instance: %+v, %v", sts[0], err)
	}
	if pub.count("/endpoints/China") != 1 {
		t.Errorf("China endpoints fetched %d times", pub.count("/endpoints/China"))
	}
	f, _, _ := readCacheFile(cachePath(dir, sourceO365), knownLabels())
	if f == nil || !strings.HasSuffix(f.URL, "/endpoints/China") {
		t.Errorf("cache %+v", f)
	}
}

// A server that never answers cannot hang Update: the context ends every
// request, and the default client has its own timeout.
func TestUpdateHungServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the user gives up (or a deadline passes) while we wait
		<-r.Context().Done()
	}))
	defer srv.Close()
	f := Feeds{O365: srv.URL, O365Instance: "Worldwide", AzurePage: srv.URL, Google: srv.URL, GoogleCloud: srv.URL, AWS: srv.URL}
	sts, err := Update(ctx, UpdateOptions{CacheDir: t.TempDir(), Feeds: f, Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %v", err)
	}
	for _, st := range sts {
		if st.State != Failed {
			t.Errorf("%s: %s", st.Source, st.State)
		}
	}
	u, err := newUpdater(UpdateOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if u.client.Timeout <= 0 || u.client.Timeout > 5*time.Minute {
		t.Errorf("default client timeout %v", u.client.Timeout)
	}
}

// A download page served stale (an older weekly file than the cached
// one) leaves the newer data in place, even when forced.
func TestUpdateAzureOlderFile(t *testing.T) {
	clk := &clock{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	pub := newPublisher(t)
	dir, opts := primed(t, pub, clk)
	prev, _ := os.ReadFile(cachePath(dir, sourceAzure))
	pub.set("/old/details.aspx", "azure-download-old.html", 0)
	pub.set("/download/ServiceTags_Public_20251020.json", "azure-servicetags.json", 0)
	opts.Feeds.AzurePage = pub.srv.URL + "/old/details.aspx"
	opts.Force = true
	sts, err := Update(context.Background(), opts)
	if err != nil || sts[1].State != Unchanged || !strings.HasSuffix(sts[1].URL, "ServiceTags_Public_20251110.json") {
		t.Errorf("azure: %+v, %v", sts[1], err)
	}
	if now, _ := os.ReadFile(cachePath(dir, sourceAzure)); string(now) != string(prev) || pub.count("/download/ServiceTags_Public_20251020.json") != 0 {
		t.Error("older Service Tags file downloaded or cached")
	}
}
