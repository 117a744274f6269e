package ipranges

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Feeds are the publishers' URLs; tests point them at httptest servers.
type Feeds struct {
	// O365 is the Microsoft 365 IP Address and URL web service base URL
	// and O365Instance its instance (Worldwide, USGovDoD, USGovGCCHigh,
	// China).
	O365, O365Instance string
	// Azure is a direct Service Tags JSON URL. When empty, AzurePage (the
	// download page) is scraped for the weekly ServiceTags_Public_*.json
	// link, because that file has no stable URL.
	Azure, AzurePage string
	// Google is goog.json, GoogleCloud cloud.json, AWS ip-ranges.json.
	Google, GoogleCloud, AWS string
}

// DefaultFeeds returns the publishers' real URLs.
func DefaultFeeds() Feeds {
	return Feeds{
		O365:         "https://endpoints.office.com",
		O365Instance: "Worldwide",
		AzurePage:    "https://www.microsoft.com/en-us/download/details.aspx?id=56519",
		Google:       "https://www.gstatic.com/ipranges/goog.json",
		GoogleCloud:  "https://www.gstatic.com/ipranges/cloud.json",
		AWS:          "https://ip-ranges.amazonaws.com/ip-ranges.json",
	}
}

// UpdateOptions configure Update.
type UpdateOptions struct {
	// CacheDir receives the files; "" means DefaultCacheDir.
	CacheDir string
	// Feeds are the URLs; the zero Feeds means DefaultFeeds.
	Feeds Feeds
	// Force ignores the polling intervals (the Microsoft 365 endpoints are
	// still fetched only when the version changed or the cache lacks them).
	Force bool
	// Client makes the requests; nil means a client with a 2-minute
	// timeout.
	Client *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// UpdateState says what Update did with one source.
type UpdateState string

// The update states.
const (
	Updated   UpdateState = "updated"   // new data written
	Unchanged UpdateState = "unchanged" // checked, same version as the cache
	Skipped   UpdateState = "skipped"   // checked too recently (polling etiquette)
	Failed    UpdateState = "failed"    // error; the previous data stays in use
)

// UpdateStatus reports one source's update.
type UpdateStatus struct {
	Source   string
	State    UpdateState
	URL      string
	Date     string // data date or version in the cache after the update
	Prefixes int    // entries in the cache after the update (0 when unknown)
	// Next is the earliest time etiquette allows another check (Skipped).
	Next time.Time
	Err  error // set when State is Failed
}

// pollInterval is how often source may be checked, after the
// publishers' etiquette.
func pollInterval(source string) time.Duration {
	switch source {
	case sourceO365:
		return time.Hour // version check at most hourly (Microsoft docs)
	case sourceAzure:
		return 7 * 24 * time.Hour // published weekly
	}
	return 24 * time.Hour
}

// errRateLimited marks an HTTP 429 answer; the source is then left alone
// for rateLimitWait unless forced.
var errRateLimited = errors.New("rate limited; next try in an hour at the earliest")

// rateLimitWait is how long a source that answered HTTP 429 is left alone
// (the Microsoft 365 web service asks for an hour).
const rateLimitWait = time.Hour

// maxFeedSize bounds a download; the Azure file is about 4 MB.
const maxFeedSize = 64 << 20

// Update downloads the publishers' feeds into the cache directory, one
// normalized file per source, each written atomically. A source that fails
// keeps its previous file; the others are still updated. It returns one
// status per source and a non-nil error when any source failed or the
// cache directory is unusable.
func Update(ctx context.Context, opts UpdateOptions) ([]UpdateStatus, error) {
	u, err := newUpdater(opts)
	if err != nil {
		return nil, err
	}
	var sts []UpdateStatus
	var errs []error
	for _, name := range feedNames() {
		st := u.one(ctx, name)
		if st.State == Failed {
			kept := "previous data kept"
			if st.Date == "" {
				kept = "no previous data"
			}
			errs = append(errs, fmt.Errorf("%s: %w (%s)", name, st.Err, kept))
		}
		sts = append(sts, st)
	}
	if err := writeMeta(u.dir, u.meta); err != nil {
		errs = append(errs, fmt.Errorf("saving %s: %w", metaName, err))
	}
	return sts, errors.Join(errs...)
}

type updater struct {
	dir    string
	feeds  Feeds
	force  bool
	client *http.Client
	now    func() time.Time
	meta   meta
	known  map[string]LabelInfo
	// maxSize bounds a download; 0 means maxFeedSize.
	maxSize int64
}

func newUpdater(opts UpdateOptions) (*updater, error) {
	u := &updater{dir: opts.CacheDir, feeds: opts.Feeds, force: opts.Force, client: opts.Client, now: opts.Now, known: knownLabels()}
	if u.dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		u.dir = d
	}
	if u.feeds == (Feeds{}) {
		u.feeds = DefaultFeeds()
	}
	if u.feeds.O365Instance == "" {
		u.feeds.O365Instance = "Worldwide"
	}
	if u.client == nil {
		u.client = &http.Client{Timeout: 2 * time.Minute}
	}
	if u.now == nil {
		u.now = time.Now
	}
	if err := os.MkdirAll(u.dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	m, fresh, err := readMeta(u.dir)
	if err != nil {
		return nil, err
	}
	u.meta = m
	if fresh { // persist the client id before it is first sent
		if err := writeMeta(u.dir, m); err != nil {
			return nil, fmt.Errorf("saving %s: %w", metaName, err)
		}
	}
	return u, nil
}

// one updates a single source.
func (u *updater) one(ctx context.Context, name string) UpdateStatus {
	st := UpdateStatus{Source: name}
	now := u.now()
	old, oldEntries, oldErr := readCacheFile(cachePath(u.dir, name), u.known)
	if oldErr == nil {
		st.URL, st.Date, st.Prefixes = old.URL, old.Date, len(oldEntries)
	}
	// The cache counts only if it came from the URL configured now (a
	// changed instance or mirror is fetched at once), and a check or
	// back-off time in the future (a clock that was wrong) is ignored.
	same := oldErr == nil && (u.feedURL(name) == "" || old.URL == u.feedURL(name))
	if last, ok := u.meta.Checked[name]; ok && !u.force && same && !last.After(now) {
		if next := last.Add(pollInterval(name)); now.Before(next) {
			st.State, st.Next = Skipped, next
			return st
		}
	}
	if next, ok := u.meta.Backoff[name]; ok && !u.force && now.Before(next) && !next.After(now.Add(rateLimitWait)) {
		st.State, st.Next = Skipped, next // rate-limited earlier
		return st
	}
	fail := func(err error) UpdateStatus {
		if errors.Is(err, errRateLimited) { // HTTP 429: wait an hour
			u.meta.Backoff[name] = now.Add(rateLimitWait).UTC()
		}
		st.State, st.Err = Failed, err
		return st
	}
	f := &cacheFile{Source: name, Fetched: now.UTC()}
	var es []entry
	var err error
	switch name {
	case sourceO365:
		base := strings.TrimRight(u.feeds.O365, "/")
		inst := url.PathEscape(u.feeds.O365Instance)
		q := "?clientrequestid=" + url.QueryEscape(u.meta.ClientRequestID)
		vurl := base + "/version/" + inst + q
		data, err := u.get(ctx, vurl, true)
		if err != nil {
			return fail(err)
		}
		latest, err := parseO365Version(stripQuery(vurl), data)
		if err != nil {
			return fail(err)
		}
		if same && old.Date == latest {
			u.meta.Checked[name] = now.UTC()
			st.State = Unchanged
			return st
		}
		eurl := base + "/endpoints/" + inst + q
		f.URL, f.Date = stripQuery(eurl), latest
		if data, err = u.get(ctx, eurl, true); err != nil {
			return fail(err)
		}
		if es, err = parseO365(f.URL, data); err != nil {
			return fail(err)
		}
	case sourceAzure:
		f.URL = u.feeds.Azure
		if f.URL == "" {
			if f.URL, err = u.scrapeAzure(ctx); err != nil {
				return fail(err)
			}
		}
		if oldErr == nil && (old.URL == f.URL && !u.force || azureOlder(f.URL, old.URL)) {
			// The weekly file name changes with its content; a page
			// served stale by a cache must not replace newer data.
			u.meta.Checked[name] = now.UTC()
			st.State = Unchanged
			return st
		}
		data, err := u.get(ctx, f.URL, true)
		if err != nil {
			return fail(err)
		}
		var cn int
		if es, cn, err = parseAzure(f.URL, data); err != nil {
			return fail(err)
		}
		f.Date = fmt.Sprintf("changeNumber %d", cn)
		if m := azureFileRE.FindStringSubmatch(f.URL); m != nil {
			f.Date = m[1] + " (" + f.Date + ")"
		}
	case sourceGoogle, sourceGoogleCloud:
		f.URL, f.Date = u.feeds.Google, ""
		label := LabelGoogleServices
		if name == sourceGoogleCloud {
			f.URL, label = u.feeds.GoogleCloud, LabelGoogleCloud
		}
		data, err := u.get(ctx, f.URL, true)
		if err != nil {
			return fail(err)
		}
		if es, f.Date, err = parseGoogle(f.URL, data, label); err != nil {
			return fail(err)
		}
	case sourceAWS:
		f.URL = u.feeds.AWS
		data, err := u.get(ctx, f.URL, true)
		if err != nil {
			return fail(err)
		}
		if es, f.Date, err = parseAWS(f.URL, data); err != nil {
			return fail(err)
		}
	}
	if err := writeCacheFile(u.dir, f, es); err != nil {
		return fail(err)
	}
	u.meta.Checked[name] = now.UTC()
	delete(u.meta.Backoff, name)
	st.State, st.URL, st.Date, st.Prefixes = Updated, f.URL, f.Date, len(es)
	return st
}

// feedURL returns the URL source name is fetched from, as it is stored in
// the cache file, or "" when only fetching tells (the scraped Azure file).
func (u *updater) feedURL(name string) string {
	switch name {
	case sourceO365:
		return strings.TrimRight(u.feeds.O365, "/") + "/endpoints/" + url.PathEscape(u.feeds.O365Instance)
	case sourceAzure:
		return u.feeds.Azure
	case sourceGoogle:
		return u.feeds.Google
	case sourceGoogleCloud:
		return u.feeds.GoogleCloud
	case sourceAWS:
		return u.feeds.AWS
	}
	return ""
}

// azureOlder reports whether the Service Tags file at a is dated before
// the one at b, by their ServiceTags_Public_YYYYMMDD.json names.
func azureOlder(a, b string) bool {
	ma, mb := azureFileRE.FindStringSubmatch(a), azureFileRE.FindStringSubmatch(b)
	return ma != nil && mb != nil && ma[1] < mb[1]
}

var azureFileRE = regexp.MustCompile(`ServiceTags_Public_([0-9]{8})\.json`)

// azureLinkRE finds the weekly file's link on the download page.
var azureLinkRE = regexp.MustCompile(`[^"'\s<>=]*ServiceTags_Public_[0-9]+\.json`)

// scrapeAzure finds the newest ServiceTags_Public_*.json link on the
// download page, resolved against the page URL.
func (u *updater) scrapeAzure(ctx context.Context) (string, error) {
	page := u.feeds.AzurePage
	data, err := u.get(ctx, page, false)
	if err != nil {
		return "", err
	}
	// Links inside a script's JSON may have their slashes escaped.
	text := strings.NewReplacer(`\/`, "/", `\u002F`, "/", `\u002f`, "/").Replace(string(data))
	links := azureLinkRE.FindAllString(text, -1)
	if len(links) == 0 {
		return "", fmt.Errorf("%s: no ServiceTags_Public_*.json link on the download page (has its markup changed? the file's URL can be given directly)", page)
	}
	// Newest file name last; of equal names, the longest (fullest) link.
	slices.SortFunc(links, func(a, b string) int {
		if c := strings.Compare(tail(a), tail(b)); c != 0 {
			return c
		}
		return len(a) - len(b)
	})
	base, err := url.Parse(page)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(links[len(links)-1])
	if err != nil {
		return "", fmt.Errorf("%s: bad link %q: %w", page, clip(links[len(links)-1]), err)
	}
	return base.ResolveReference(ref).String(), nil
}

// tail returns the file-name part from "ServiceTags_Public_" on.
func tail(s string) string { return s[strings.LastIndex(s, "ServiceTags_Public_"):] }

// get fetches url, insisting on 200 OK, a bounded body and, when json is
// set, a body that is not declared HTML (a proxy's login or error page).
// Its errors never show the query (the per-install client id).
func (u *updater) get(ctx context.Context, rawURL string, json bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: bad URL", stripQuery(rawURL))
	}
	req.Header.Set("User-Agent", "mailaudit (ranges update)")
	resp, err := u.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // its URL may be a redirect's or carry the client id
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %w", stripQuery(rawURL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusTooManyRequests {
			return nil, fmt.Errorf("GET %s: %s: %w", stripQuery(rawURL), resp.Status, errRateLimited)
		}
		return nil, fmt.Errorf("GET %s: %s", stripQuery(rawURL), resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); json && ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
			return nil, fmt.Errorf("GET %s: Content-Type %s, want JSON (a proxy's login or error page?)", stripQuery(rawURL), mt)
		}
	}
	limit := u.maxSize
	if limit <= 0 {
		limit = maxFeedSize
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", stripQuery(rawURL), err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", stripQuery(rawURL), limit)
	}
	return data, nil
}

// stripQuery drops the query (the per-install client id) from a URL.
func stripQuery(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i]
	}
	return s
}
