package ipranges

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"time"
)

// Options say where a Classifier gets its data. The zero Options use the
// built-in table, the default cache directory and the GeoIP databases in
// DefaultGeoIPDirs.
type Options struct {
	// CacheDir holds the files `ranges update` downloaded; "" means
	// DefaultCacheDir. A missing directory or file is not an error.
	CacheDir string
	// UserLists are the user's own labelled CIDR lists (see ReadList).
	UserLists []string
	// CountryDB and ASNDB are GeoIP .mmdb files; "" searches GeoIPDirs.
	CountryDB, ASNDB string
	// GeoIPDirs are searched when CountryDB or ASNDB is ""; nil means
	// DefaultGeoIPDirs.
	GeoIPDirs []string
	// NoGeoIP turns GeoIP off entirely.
	NoGeoIP bool
	// SkipBuiltin leaves out the built-in table.
	SkipBuiltin bool
}

// SourceInfo describes one list a Classifier uses.
type SourceInfo struct {
	// Name is "builtin", a feed name (o365, azure, google, google-cloud,
	// aws), "geoip-country", "geoip-asn", or the path of a user list.
	Name string
	// URL is the publisher's URL or the file the data came from.
	URL string
	// Date is the data date or version as the publisher gives it.
	Date string
	// Fetched is when the feed was downloaded (zero for other sources).
	Fetched time.Time
	// Prefixes is the number of entries in use from this source.
	Prefixes int
}

// A Classifier gives an Origin for every address, from the built-in
// table, the downloaded feeds, the user's lists and the GeoIP databases.
// Verdicts are cached per address. A Classifier is not safe for concurrent
// use; Close releases the GeoIP databases.
type Classifier struct {
	table   *Table
	labels  map[string]LabelInfo
	country *geoDB
	asn     *geoDB
	sources []SourceInfo
	cache   map[netip.Addr]Origin
	scratch []Label
	// cacheMax bounds cache: maxCached, smaller in tests.
	cacheMax int
}

// maxCached bounds the verdict cache; when full it is emptied. A day of a
// busy server has a few thousand distinct addresses; 1<<14 verdicts take
// about 5 MB, where 1<<17 took about 40 MB once a million distinct
// (attacking) addresses had filled it.
const maxCached = 1 << 14

// Load builds a Classifier. It returns warnings for data it skipped but
// could do without (a corrupt cache file: the built-in table covers for
// it) and an error for data the user asked for that cannot be used (a bad
// user list, a missing or corrupt GeoIP database). Errors and warnings
// name the file, and the line or JSON path where relevant.
func Load(opts Options) (*Classifier, []error, error) {
	c := &Classifier{
		table:    NewTable(),
		labels:   knownLabels(),
		cache:    make(map[netip.Addr]Origin),
		cacheMax: maxCached,
	}
	var warns []error
	loaded := map[string]map[string]bool{} // feed -> labels it supplied
	dir := opts.CacheDir
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			warns = append(warns, err)
		}
		dir = d
	}
	if dir != "" {
		for _, name := range feedNames() {
			f, es, err := readCacheFile(cachePath(dir, name), c.labels)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				warns = append(warns, fmt.Errorf("skipping cached %s list: %w", name, err))
				continue
			}
			loaded[name] = map[string]bool{}
			for _, e := range es {
				if err := c.table.Insert(e.Prefix, Label{Name: e.Label, Prefix: e.Prefix.String(), Source: f.URL, Date: f.Date, Detail: e.Detail}); err != nil {
					warns = append(warns, err)
				}
				loaded[name][e.Label] = true
			}
			c.sources = append(c.sources, SourceInfo{Name: name, URL: f.URL, Date: f.Date, Fetched: f.Fetched, Prefixes: len(es)})
		}
	}
	if !opts.SkipBuiltin {
		n := 0
		date := builtinMobileDate
		for _, b := range builtinTable() {
			if b.feed != "" && loaded[b.feed][b.label] {
				continue // the downloaded feed is fresher
			}
			if b.feed != "" {
				date = builtinO365Date
			}
			p := netip.MustParsePrefix(b.prefix)
			if err := c.table.Insert(p, Label{Name: b.label, Prefix: b.prefix, Source: b.source, Date: b.date, Detail: b.detail}); err != nil {
				return nil, warns, err // a bug in the built-in table
			}
			n++
		}
		c.sources = append([]SourceInfo{{Name: "builtin", URL: "built in (" + builtinO365URL + " and Microsoft docs)", Date: date, Prefixes: n}}, c.sources...)
	}
	ul := userLists{defined: map[string]bool{}, seen: map[netip.Prefix][]userAt{}}
	for _, path := range opts.UserLists {
		if err := c.addUserList(path, &ul); err != nil {
			return nil, warns, err
		}
	}
	if !opts.NoGeoIP {
		dirs := opts.GeoIPDirs
		if dirs == nil {
			dirs = DefaultGeoIPDirs()
		}
		var err error
		if c.country, err = loadGeo(opts.CountryDB, dirs, "country"); err != nil {
			return nil, warns, err
		}
		if c.asn, err = loadGeo(opts.ASNDB, dirs, "asn"); err != nil {
			c.country.close()
			return nil, warns, err
		}
		for _, g := range []struct {
			name string
			db   *geoDB
		}{{"geoip-country", c.country}, {"geoip-asn", c.asn}} {
			if g.db != nil {
				c.sources = append(c.sources, SourceInfo{Name: g.name, URL: g.db.path, Date: g.db.date})
			}
		}
	}
	return c, warns, nil
}

// userLists is what the user's lists said so far, across files.
type userLists struct {
	// defined holds the user labels whose provider, class or product a
	// line set; a label used without them first gets defaults that a
	// later definition replaces.
	defined map[string]bool
	// seen holds the entries read so far, by prefix.
	seen map[netip.Prefix][]userAt
}

// userAt is one user-list entry: its label and where it was read.
type userAt struct {
	label, file string
	line        int
}

// addUserList reads one user list into the table, defining its labels. A
// repeated (prefix, label) entry is skipped; one prefix given two labels
// of the user's own is an error, because neither would outrank the other.
func (c *Classifier) addUserList(path string, ul *userLists) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	es, err := ReadList(path, f)
	if err != nil {
		return err
	}
	date := ""
	if st, err := f.Stat(); err == nil {
		date = st.ModTime().UTC().Format(time.DateOnly)
	}
	n := 0
	for _, e := range es {
		info, ok := c.labels[e.Label]
		custom := e.Provider != "" || e.Class != "" || e.Product != ""
		switch {
		case ok && info.Rank > 0 && custom:
			return &ParseError{File: path, Line: e.Line, Text: e.Label, Err: errors.New("built-in label: add prefixes to it without provider, class or product, or choose another name")}
		case ok && info.Rank > 0: // more prefixes for a built-in label
		case ok && custom && ul.defined[e.Label]:
			if (e.Provider != "" && e.Provider != info.Provider) || (e.Class != "" && e.Class != info.Class) || (e.Product != "" && e.Product != info.Product) {
				return &ParseError{File: path, Line: e.Line, Text: e.Label, Err: errors.New("label already defined differently")}
			}
		case ok && !custom: // a user label defined or used before
		default: // a new user label, or the definition of one used before
			info = LabelInfo{Name: e.Label, Class: Hosting, Product: e.Label, Confidence: High}
			if e.Class != "" {
				info.Class = e.Class
			}
			if e.Product != "" {
				info.Product = e.Product
			}
			info.Provider = e.Provider
			ul.defined[e.Label] = custom
		}
		c.labels[e.Label] = info
		dup := false
		for _, s := range ul.seen[e.Prefix] {
			if s.label == e.Label {
				dup = true
				break
			}
			if info.Rank == 0 && c.labels[s.label].Rank == 0 {
				return &ParseError{File: path, Line: e.Line, Text: e.Prefix.String(),
					Err: fmt.Errorf("labelled %s here but %s at %s:%d", e.Label, s.label, s.file, s.line)}
			}
		}
		if dup {
			continue
		}
		ul.seen[e.Prefix] = append(ul.seen[e.Prefix], userAt{e.Label, path, e.Line})
		if err := c.table.Insert(e.Prefix, Label{Name: e.Label, Prefix: e.Prefix.String(), Source: path, Date: date}); err != nil {
			return &ParseError{File: path, Line: e.Line, Err: err}
		}
		n++
	}
	c.sources = append(c.sources, SourceInfo{Name: path, URL: path, Date: date, Prefixes: n})
	return nil
}

// Sources describes the lists in use, built-in first. The slice is
// shared; do not modify it.
func (c *Classifier) Sources() []SourceInfo { return c.sources }

// LabelInfo returns what the label name means.
func (c *Classifier) LabelInfo(name string) (LabelInfo, bool) {
	i, ok := c.labels[name]
	return i, ok
}

// Providers returns every provider a verdict of c can name: the built-in
// ones and those the user's lists define, sorted, each once.
func (c *Classifier) Providers() []string { return providersOf(c.labels) }

// Close releases the GeoIP databases.
func (c *Classifier) Close() error {
	return errors.Join(c.country.close(), c.asn.close())
}

// Classify returns the verdict for addr (an IPv4-mapped address is treated
// as IPv4). Precedence: private space, then the best-ranked list label,
// then the ASN catalogue (Low confidence), then Device (Low confidence: an
// absence of evidence). Country and ASN are filled from the GeoIP
// databases whatever the class. Labels holds every matching list entry,
// best first; the slice is shared between calls and must not be modified.
// The invalid Addr gets the zero Origin. Repeated addresses are answered
// from a cache without allocating.
func (c *Classifier) Classify(addr netip.Addr) Origin {
	addr = addr.Unmap().WithZone("")
	if o, ok := c.cache[addr]; ok {
		return o
	}
	if !addr.IsValid() {
		return Origin{}
	}
	o := c.classify(addr)
	if len(c.cache) >= c.cacheMax {
		clear(c.cache)
	}
	c.cache[addr] = o
	return o
}

func (c *Classifier) classify(addr netip.Addr) Origin {
	var o Origin
	o.Country = c.country.country(addr)
	asn, org, asnNet := c.asn.asn(addr)
	o.ASN, o.ASOrg = asn, org
	if l, ok := privateLabel(addr); ok {
		o.Class, o.Product, o.Confidence = Private, l.Detail, High
		o.Labels = []Label{l}
		return o
	}
	ls := c.table.Lookup(addr, c.scratch[:0])
	c.scratch = ls[:0]
	if len(ls) > 0 {
		ls = slices.Clone(ls)
		slices.Reverse(ls)                               // most specific first …
		slices.SortStableFunc(ls, func(a, b Label) int { // … within each rank
			return c.labels[a.Name].Rank - c.labels[b.Name].Rank
		})
		best := c.labels[ls[0].Name]
		o.Class, o.Provider, o.Product, o.Confidence = best.Class, best.Provider, best.Product, best.Confidence
		o.Labels = ls
		return o
	}
	if info, ok := asnLabel(asn); ok {
		o.Class, o.Provider, o.Product, o.Confidence = info.Class, info.Provider, info.Product, info.Confidence
		o.Labels = []Label{{Name: info.Name, Prefix: asnNet.String(), Source: c.asn.path, Date: c.asn.date,
			Detail: fmt.Sprintf("AS%d %s", asn, clip(org))}}
		return o
	}
	o.Class, o.Confidence = Device, Low
	return o
}

// privateLabel reports whether addr is private, loopback, link-local,
// ULA, CGNAT or unspecified space, with a label saying which.
func privateLabel(addr netip.Addr) (Label, bool) {
	type sp struct{ prefix, name, detail, source string }
	var s sp
	switch {
	case addr.IsUnspecified():
		s = sp{"", "unspecified", "unspecified address", "RFC 4291"}
	case addr.IsLoopback():
		s = sp{"127.0.0.0/8", "loopback", "loopback", "RFC 1122"}
		if addr.Is6() {
			s.prefix, s.source = "::1/128", "RFC 4291"
		}
	case addr.IsLinkLocalUnicast():
		s = sp{"169.254.0.0/16", "link-local", "link-local", "RFC 3927"}
		if addr.Is6() {
			s.prefix, s.source = "fe80::/10", "RFC 4291"
		}
	case addr.IsPrivate():
		s = sp{"", "rfc1918", "private network (RFC 1918)", "RFC 1918"}
		if addr.Is6() {
			s = sp{"fc00::/7", "ula", "unique local address (ULA)", "RFC 4193"}
		}
	case netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64}), 10).Contains(addr):
		s = sp{"100.64.0.0/10", "cgnat", "carrier-grade NAT (RFC 6598)", "RFC 6598"}
	default:
		return Label{}, false
	}
	if s.name == "rfc1918" {
		switch addr.As4()[0] {
		case 10:
			s.prefix = "10.0.0.0/8"
		case 172:
			s.prefix = "172.16.0.0/12"
		case 192:
			s.prefix = "192.168.0.0/16"
		}
	}
	if s.prefix == "" {
		s.prefix = netip.PrefixFrom(addr, addr.BitLen()).String()
	}
	return Label{Name: s.name, Prefix: s.prefix, Source: s.source, Detail: s.detail}, true
}
