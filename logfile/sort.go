package logfile

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"
)

// Rotation suffix classes, in oldest-first order within one log.
const (
	genNumbered = iota // mail.log.3: higher is older
	genDated           // mail.log-20261101: lower is older
	genCurrent         // mail.log
)

// generation describes a name as a rotated generation of a log.
type generation struct {
	stem  string // the current log's name: mail.log
	class int
	key   string // the digits of the suffix
}

// parseGeneration splits name (a path or a base name) into the log it
// belongs to and its rotation suffix: "mail.log.2.gz" → ("mail.log",
// numbered, "2"); "mail.log-20261108" → ("mail.log", dated, "20261108"),
// also "mail.log-2026-11-08" and "mail.log-20261108-1794355200" (see
// dateKey); anything else is its own current log.
func parseGeneration(name string) generation {
	base := name
	// The suffixes rotation tools add when compressing.
	for _, ext := range [...]string{".gz", ".bz2", ".xz", ".zst"} {
		if b, ok := strings.CutSuffix(base, ext); ok {
			base = b
			break
		}
	}
	start := strings.LastIndexByte(base, filepath.Separator) + 1
	if i := strings.LastIndexByte(base, '.'); i > start && digits(base[i+1:]) {
		return generation{stem: base[:i], class: genNumbered, key: base[i+1:]}
	}
	for i := start + 1; i < len(base); i++ {
		if base[i] != '-' {
			continue
		}
		if key, ok := dateKey(base[i+1:]); ok {
			return generation{stem: base[:i], class: genDated, key: key}
		}
	}
	return generation{stem: base, class: genCurrent}
}

// dateKey returns the digits of a logrotate dateext suffix (after its
// first "-"): at least 8 digits, possibly in groups separated by single
// dashes, as dateformat -%Y%m%d, -%Y%m%d%H, -%s, -%Y-%m-%d and
// -%Y%m%d-%s make them.
func dateKey(s string) (string, bool) {
	var b strings.Builder
	prev := byte('-')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '-' && prev != '-':
		default:
			return "", false
		}
		prev = c
	}
	if prev == '-' || b.Len() < 8 {
		return "", false
	}
	return b.String(), true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cmpDigits compares two digit strings numerically.
func cmpDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// cmpAge orders two generations of the same log oldest first.
func cmpAge(a, b generation) int {
	if c := cmp.Compare(a.class, b.class); c != 0 {
		return c
	}
	switch a.class {
	case genNumbered:
		return cmpDigits(b.key, a.key) // mail.log.3 before mail.log.2
	case genDated:
		return cmpDigits(a.key, b.key)
	}
	return 0
}

// SortOldestFirst returns paths with the rotated generations of each log
// ordered oldest first, so reading them in order reads the log in time
// order: mail.log.3.gz, mail.log.2.gz, mail.log.1, mail.log; and
// mail.log-20261101, mail.log-20261108, mail.log (logrotate's dateext
// with the dateformats -%Y%m%d, -%Y%m%d%H, -%s, -%Y-%m-%d and -%Y%m%d-%s,
// one format per log). Numbered generations come before dated ones. The generations of one log are placed where the
// first of them appeared; unrelated names keep their relative order.
// Compression suffixes (.gz, .bz2, .xz, .zst) are ignored for ordering.
// paths is not modified.
func SortOldestFirst(paths []string) []string {
	type item struct {
		gen   generation
		group int // index of the first path of the same log
		index int
	}
	items := make([]item, len(paths))
	first := make(map[string]int, len(paths))
	for i, p := range paths {
		g := parseGeneration(p)
		grp, ok := first[g.stem]
		if !ok {
			grp = i
			first[g.stem] = i
		}
		items[i] = item{gen: g, group: grp, index: i}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := cmp.Compare(a.group, b.group); c != 0 {
			return c
		}
		if c := cmpAge(a.gen, b.gen); c != 0 {
			return c
		}
		return cmp.Compare(a.index, b.index)
	})
	out := make([]string, len(paths))
	for i, it := range items {
		out[i] = paths[it.index]
	}
	return out
}

// CurrentOnly returns the paths that are not rotated generations of
// another path in the list: for `mail.log*` it keeps mail.log and drops
// mail.log.1 and mail.log.2.gz, which Resume reads from the saved state
// by itself. A rotated generation whose current log is not in the list
// is kept.
func CurrentOnly(paths []string) []string {
	current := make(map[string]bool, len(paths))
	for _, p := range paths {
		if g := parseGeneration(p); g.class == genCurrent {
			current[g.stem] = true
		}
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if g := parseGeneration(p); g.class == genCurrent || !current[g.stem] {
			out = append(out, p)
		}
	}
	return out
}

// LogOf returns the log that path is a generation of: "mail.log" for
// mail.log, mail.log.2.gz and mail.log-20261108. Paths with the same LogOf
// are one log in time order once sorted by SortOldestFirst.
func LogOf(path string) string { return parseGeneration(path).stem }
