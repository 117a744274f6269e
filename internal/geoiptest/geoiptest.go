// Package geoiptest writes small GeoLite2-format country and ASN databases
// for tests, with github.com/maxmind/mmdbwriter. Only tests import it, so
// the writer never reaches the mailaudit binary.
package geoiptest

import (
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Write builds a database of dbType ("GeoLite2-Country", "GeoLite2-ASN")
// holding recs (CIDR → record) at path. Documentation and private ranges
// are allowed, so fixtures can use TEST-NET addresses.
func Write(path, dbType string, recs map[string]mmdbtype.Map) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		return err
	}
	for cidr, v := range recs {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return err
		}
		if err := tree.Insert(n, v); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Country is a country record with ISO code iso (also its English name).
func Country(iso string) mmdbtype.Map {
	c := mmdbtype.Map{"iso_code": mmdbtype.String(iso), "geoname_id": mmdbtype.Uint32(1), "names": mmdbtype.Map{"en": mmdbtype.String(iso)}}
	return mmdbtype.Map{"country": c, "registered_country": c}
}

// ASN is an ASN record.
func ASN(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
}
