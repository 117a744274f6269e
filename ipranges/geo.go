package ipranges

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/oschwald/geoip2-golang/v2"
)

// DefaultGeoIPDirs are searched for GeoIP databases when Options names
// none.
func DefaultGeoIPDirs() []string { return []string{"/usr/share/GeoIP", "/var/lib/GeoIP"} }

// geoDB is one open GeoIP database.
type geoDB struct {
	path string
	date string
	r    *geoip2.Reader
}

// openGeo opens a GeoIP database, checking that it answers the wanted
// method (country or asn).
func openGeo(path, kind string) (*geoDB, error) {
	r, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("GeoIP %s database %s: %w", kind, path, err)
	}
	probe := netip.MustParseAddr("8.8.8.8")
	switch kind {
	case "country":
		_, err = r.Country(probe)
	case "asn":
		_, err = r.ASN(probe)
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("GeoIP %s database %s: %w", kind, path, err)
	}
	md := r.Metadata()
	date := time.Unix(int64(md.BuildEpoch), 0).UTC().Format(time.DateOnly)
	return &geoDB{path: path, date: date, r: r}, nil
}

// findGeo returns the first existing file in dirs matching one of the
// glob patterns, or "".
func findGeo(dirs, patterns []string) string {
	for _, d := range dirs {
		for _, pat := range patterns {
			m, _ := filepath.Glob(filepath.Join(d, pat))
			slices.Sort(m)
			for i := len(m) - 1; i >= 0; i-- { // newest name (dbip-*-2026-11) first
				if st, err := os.Stat(m[i]); err == nil && st.Mode().IsRegular() {
					return m[i]
				}
			}
		}
	}
	return ""
}

// geoPatterns are the file names searched for each database kind.
func geoPatterns(kind string) []string {
	if kind == "country" {
		return []string{"GeoLite2-Country.mmdb", "GeoIP2-Country.mmdb", "dbip-country-lite*.mmdb"}
	}
	return []string{"GeoLite2-ASN.mmdb", "dbip-asn-lite*.mmdb"}
}

// loadGeo opens the explicit database path or, if empty, the first found in
// dirs. A missing default database is not an error; a named one that is
// missing, or any corrupt database, is.
func loadGeo(path string, dirs []string, kind string) (*geoDB, error) {
	if path == "" {
		path = findGeo(dirs, geoPatterns(kind))
		if path == "" {
			return nil, nil
		}
	} else if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("GeoIP %s database: %w", kind, err)
	}
	return openGeo(path, kind)
}

// country returns the ISO code of addr, "" when unknown.
func (g *geoDB) country(addr netip.Addr) string {
	if g == nil {
		return ""
	}
	c, err := g.r.Country(addr)
	if err != nil || c == nil || !c.HasData() {
		return ""
	}
	if c.Country.ISOCode != "" {
		return c.Country.ISOCode
	}
	return c.RegisteredCountry.ISOCode
}

// asn returns the ASN, organisation and network of addr.
func (g *geoDB) asn(addr netip.Addr) (uint32, string, netip.Prefix) {
	if g == nil {
		return 0, "", netip.Prefix{}
	}
	a, err := g.r.ASN(addr)
	if err != nil || a == nil || !a.HasData() || a.AutonomousSystemNumber > 1<<32-1 {
		return 0, "", netip.Prefix{}
	}
	return uint32(a.AutonomousSystemNumber), a.AutonomousSystemOrganization, a.Network
}

func (g *geoDB) close() error {
	if g == nil {
		return nil
	}
	return g.r.Close()
}
