package ipranges

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A ListEntry is one line of a user's range list.
type ListEntry struct {
	Prefix netip.Prefix
	// Label is the label name. Provider, Class and Product are empty when
	// the line does not set them.
	Label    string
	Provider string
	Class    Class
	Product  string
	Line     int
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// ReadList reads a user's labelled CIDR list. Each line is
//
//	CIDR LABEL [PROVIDER [CLASS [PRODUCT…]]]
//
// separated by blanks or tabs; "#" starts a comment, blank lines are
// skipped; a byte order mark and CRLF line ends are allowed. CIDR may be a
// bare address (a /32 or /128) or IPv4-mapped (::ffff:10.0.0.0/104 is
// 10.0.0.0/8); a CIDR with host bits set (10.1.2.3/8) is an error, as it
// is most likely a typo, and so is one broader than /8 (IPv4) or /16
// (IPv6), which would exempt a large part of the Internet from the attack
// rules. LABEL and PROVIDER are names of letters, digits
// and ".", "_", ":", "-"; "-" leaves PROVIDER or CLASS
// unset. CLASS is intermediary, hosting, private or device. PRODUCT is the
// rest of the line. name is used in errors, which are *ParseError values
// carrying the line number.
func ReadList(name string, r io.Reader) ([]ListEntry, error) {
	var out []ListEntry
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF") // a byte order mark
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := func(text, format string, a ...any) error {
			return &ParseError{File: name, Line: n, Text: text, Err: fmt.Errorf(format, a...)}
		}
		if !utf8.ValidString(line) || strings.ContainsFunc(line, isControl) {
			return nil, bad("", "invalid UTF-8 or control character")
		}
		if len(f) < 2 {
			return nil, bad(f[0], "want CIDR LABEL [PROVIDER [CLASS [PRODUCT…]]]")
		}
		p, err := parseListPrefix(f[0])
		if err != nil {
			return nil, bad(f[0], "%v", err)
		}
		e := ListEntry{Prefix: p, Label: f[1], Line: n}
		if !nameRE.MatchString(e.Label) {
			return nil, bad(e.Label, "bad label (letters, digits, . _ : - only)")
		}
		if len(f) > 2 && f[2] != "-" {
			if !nameRE.MatchString(f[2]) {
				return nil, bad(f[2], "bad provider (letters, digits, . _ : - only)")
			}
			e.Provider = f[2]
		}
		if len(f) > 3 && f[3] != "-" {
			switch c := Class(f[3]); c {
			case Intermediary, Hosting, Private, Device:
				e.Class = c
			default:
				return nil, bad(f[3], "bad class (want intermediary, hosting, private or device)")
			}
		}
		if len(f) > 4 {
			e.Product = strings.Join(f[4:], " ")
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: name, Line: n + 1, Err: err}
	}
	return out, nil
}

// isControl reports control characters other than the tab.
func isControl(r rune) bool { return r != '\t' && unicode.IsControl(r) }

// parseListPrefix accepts a CIDR without host bits or a bare address.
func parseListPrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, errors.New("bad CIDR")
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, errors.New("bad address")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	np, ok := normalize(p)
	if !ok {
		return p, errors.New("unsupported prefix")
	}
	if np.Bits() != p.Bits() {
		p = netip.PrefixFrom(p.Addr().Unmap(), np.Bits()) // IPv4-mapped
	}
	if p != np { // a typo such as 203.0.113.7/2 would label a quarter of the Internet
		return p, fmt.Errorf("host bits set (%s?)", np)
	}
	return np, tooBroad(np)
}
