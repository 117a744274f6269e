package rules

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mailaudit/mailaudit/ipranges"
)

// An Allowlist says which logins are expected. It is read from a text file,
// one entry per line; "#" starts a comment, blank lines are skipped. An
// entry is whitespace-separated tokens:
//
//	203.0.113.7                       # an address: anyone may log in from it
//	198.51.100.0/24                   # a network (no host bits: 198.51.100.7/24 is an error)
//	alice@example.org 203.0.113.0/24  # only alice, from that network
//	provider:microsoft bob@example.org  # bob through Microsoft (Outlook mobile, new Outlook)
//	asn:64500                         # anyone from AS64500 (needs GeoIP ASN data)
//	country:DE carol@example.org      # carol from Germany (needs GeoIP country data)
//	user:odd/name 192.0.2.1           # user: forces a token to be read as a user name
//
// A line holds at most one user and at least one of: address, network,
// provider:NAME, asn:N, country:CC. It allows a login when the user matches
// (or the line names none) and any of its matchers matches. User names
// compare as CanonicalUser forms (case and surrounding space ignored);
// providers and countries compare case-insensitively. provider:NAME
// matches only addresses classified as that provider's cloud
// intermediary (ipranges.Intermediary), never its hosting space: an Azure
// VM is "microsoft" too, and anyone can rent one. Use asn: or a network
// to allow a provider's whole space. A token with a "/" or
// made only of hex digits, dots and colons must be an address or network;
// any other token with a colon must use one of the prefixes above.
//
// Loopback addresses (webmail on 127.0.0.1 or ::1) are always allowed.
// A nil *Allowlist allows everything. An Allowlist is safe for concurrent
// reads.
type Allowlist struct {
	any    []allowEntry
	byUser map[string][]allowEntry
}

type allowEntry struct {
	prefixes  []netip.Prefix
	providers []string
	asns      []uint32
	countries []string
}

// AllowlistError is a bad allowlist entry.
type AllowlistError struct {
	File string // the file name given to ParseAllowlist
	Line int    // 1-based
	Text string // the entry, without its comment
	Err  error  // what is wrong with it
}

// Error returns "file:line: bad allowlist entry "text": reason".
func (e *AllowlistError) Error() string {
	return fmt.Sprintf("%s:%d: bad allowlist entry %q: %v", e.File, e.Line, e.Text, e.Err)
}

// Unwrap returns the reason.
func (e *AllowlistError) Unwrap() error { return e.Err }

// LoadAllowlist reads the allowlist file at path; see ParseAllowlist for
// providers.
func LoadAllowlist(path string, providers ...string) (*Allowlist, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseAllowlist(f, path, providers...)
}

// maxAllowLine bounds one allowlist line.
const maxAllowLine = 64 << 10

// ParseAllowlist reads an allowlist from r; name is the file name used in
// errors, which carry file and line. A provider: entry must name one of
// ipranges.Providers or of providers (those the user's own range lists
// define, see ipranges.Classifier.Providers): a misspelt provider would
// otherwise allow nothing, silently. A network with host bits set
// (198.51.100.7/2, a typo for /32) is an error too: masked, it would allow
// a quarter of IPv4.
func ParseAllowlist(r io.Reader, name string, providers ...string) (*Allowlist, error) {
	a := &Allowlist{byUser: make(map[string][]allowEntry)}
	known := ipranges.Providers()
	for _, p := range providers {
		if p = strings.ToLower(p); p != "" && !slices.Contains(known, p) {
			known = append(known, p)
		}
	}
	slices.Sort(known)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxAllowLine)
	n := 0
	for sc.Scan() {
		n++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		user, hasUser, e, err := parseAllowEntry(text, known)
		if err != nil {
			return nil, &AllowlistError{File: name, Line: n, Text: text, Err: err}
		}
		if hasUser {
			k := CanonicalUser(user)
			a.byUser[k] = append(a.byUser[k], e)
		} else {
			a.any = append(a.any, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return a, nil
}

func looksLikeAddr(tok string) bool {
	if !strings.ContainsAny(tok, ".:") {
		return false
	}
	for _, c := range tok {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':':
		default:
			return false
		}
	}
	// "a.b" style user names made of hex letters only ("dead.beef") are
	// rare; a dot-only token with a letter is a user name.
	if !strings.Contains(tok, ":") && strings.IndexFunc(tok, func(c rune) bool { return c > '9' }) >= 0 {
		return false
	}
	return true
}

func parseAllowEntry(text string, providers []string) (user string, hasUser bool, e allowEntry, err error) {
	for _, tok := range strings.Fields(text) {
		kind, val, hasColon := strings.Cut(tok, ":")
		switch {
		case strings.Contains(tok, "/") && !strings.HasPrefix(tok, "user:"):
			p, perr := netip.ParsePrefix(tok)
			if perr != nil {
				return "", false, e, fmt.Errorf("bad network %q: %v", tok, perr)
			}
			np := netip.PrefixFrom(p.Addr().Unmap(), prefixBits(p))
			if m := np.Masked(); m != np {
				return "", false, e, fmt.Errorf("host bits set (%s?)", m)
			}
			e.prefixes = append(e.prefixes, np)
		case looksLikeAddr(tok):
			ad, aerr := netip.ParseAddr(tok)
			if aerr != nil {
				return "", false, e, fmt.Errorf("bad address %q: %v", tok, aerr)
			}
			if ad.Zone() != "" {
				return "", false, e, fmt.Errorf("bad address %q: zones are not allowed", tok)
			}
			ad = ad.Unmap()
			e.prefixes = append(e.prefixes, netip.PrefixFrom(ad, ad.BitLen()))
		case hasColon && strings.EqualFold(kind, "provider"):
			if val == "" {
				return "", false, e, errors.New("empty provider")
			}
			if !slices.Contains(providers, strings.ToLower(val)) {
				return "", false, e, fmt.Errorf("unknown provider %q (known: %s)", val, strings.Join(providers, ", "))
			}
			e.providers = append(e.providers, strings.ToLower(val))
		case hasColon && strings.EqualFold(kind, "asn"):
			n, perr := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(val), "AS"), 10, 32)
			if perr != nil || n == 0 {
				return "", false, e, fmt.Errorf("bad ASN %q", val)
			}
			e.asns = append(e.asns, uint32(n))
		case hasColon && strings.EqualFold(kind, "country"):
			if len(val) != 2 || !isLetters(val) {
				return "", false, e, fmt.Errorf("bad country %q (want a two-letter ISO code)", val)
			}
			e.countries = append(e.countries, strings.ToUpper(val))
		case hasColon && strings.EqualFold(kind, "user"):
			if val == "" {
				return "", false, e, errors.New("empty user")
			}
			if hasUser {
				return "", false, e, errors.New("more than one user")
			}
			user, hasUser = val, true
		case hasColon:
			return "", false, e, fmt.Errorf("unknown kind %q (want provider:, asn:, country: or user:)", kind+":")
		default:
			if hasUser {
				return "", false, e, fmt.Errorf("more than one user (%q and %q)", user, tok)
			}
			user, hasUser = tok, true
		}
	}
	if len(e.prefixes)+len(e.providers)+len(e.asns)+len(e.countries) == 0 {
		return "", false, e, errors.New("no address, network, provider:, asn: or country:")
	}
	return user, hasUser, e, nil
}

// prefixBits maps an IPv4-mapped prefix length to its IPv4 length.
func prefixBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		if b := p.Bits() - 96; b >= 0 {
			return b
		}
		return 0
	}
	return p.Bits()
}

func isLetters(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Allows reports whether a login of user from addr, classified as o, is
// on the list.
func (a *Allowlist) Allows(user string, addr netip.Addr, o ipranges.Origin) bool {
	if a == nil {
		return true
	}
	addr = addr.Unmap().WithZone("")
	if addr.IsLoopback() {
		return true
	}
	for _, e := range a.any {
		if e.matches(addr, o) {
			return true
		}
	}
	if len(a.byUser) > 0 {
		for _, e := range a.byUser[CanonicalUser(user)] {
			if e.matches(addr, o) {
				return true
			}
		}
	}
	return false
}

// Len returns the number of entries.
func (a *Allowlist) Len() int {
	if a == nil {
		return 0
	}
	n := len(a.any)
	for _, es := range a.byUser {
		n += len(es)
	}
	return n
}

func (e allowEntry) matches(addr netip.Addr, o ipranges.Origin) bool {
	for _, p := range e.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	// A provider is allowed as the user's cloud intermediary only: its
	// hosting space (an Azure or AWS VM anyone can rent) is not.
	if o.Provider != "" && o.Class == ipranges.Intermediary {
		for _, p := range e.providers {
			if strings.EqualFold(p, o.Provider) {
				return true
			}
		}
	}
	if o.ASN != 0 {
		for _, n := range e.asns {
			if n == o.ASN {
				return true
			}
		}
	}
	if o.Country != "" {
		for _, c := range e.countries {
			if strings.EqualFold(c, o.Country) {
				return true
			}
		}
	}
	return false
}
