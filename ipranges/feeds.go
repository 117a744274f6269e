package ipranges

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// entry is one labelled prefix of a source.
type entry struct {
	Prefix netip.Prefix
	Label  string
	// Detail is the publisher's finer name for the entry, may be empty.
	Detail string
}

// The downloadable sources, also the cache file names without ".json".
const (
	sourceO365        = "o365"
	sourceAzure       = "azure"
	sourceGoogle      = "google"
	sourceGoogleCloud = "google-cloud"
	sourceAWS         = "aws"
)

// feedNames lists the downloadable sources in update order.
func feedNames() []string {
	return []string{sourceO365, sourceAzure, sourceGoogle, sourceGoogleCloud, sourceAWS}
}

// errEmpty rejects a feed without prefixes, which would wipe good data.
var errEmpty = errors.New("no prefixes")

// prefixAt parses a CIDR from a feed, reporting its JSON path (formatted
// from pathf and args only on failure) on failure.
func prefixAt(file, s, pathf string, args ...any) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, &ParseError{File: file, Path: fmt.Sprintf(pathf, args...), Text: s, Err: errors.New("bad prefix")}
	}
	np, ok := normalize(p)
	if !ok {
		return netip.Prefix{}, &ParseError{File: file, Path: fmt.Sprintf(pathf, args...), Text: s, Err: errors.New("unsupported prefix")}
	}
	if err := tooBroad(np); err != nil {
		return netip.Prefix{}, &ParseError{File: file, Path: fmt.Sprintf(pathf, args...), Text: s, Err: err}
	}
	return np, nil
}

// entrySet collects entries, merging the details of repeated
// (prefix, label) pairs.
type entrySet struct {
	idx     map[entry]int // key has Detail ""
	entries []entry
}

func (s *entrySet) add(p netip.Prefix, label, detail string) {
	if s.idx == nil {
		s.idx = make(map[entry]int)
	}
	k := entry{Prefix: p, Label: label}
	if i, ok := s.idx[k]; ok {
		e := &s.entries[i]
		if detail != "" && !slices.Contains(strings.Split(e.Detail, "; "), detail) {
			if e.Detail == "" {
				e.Detail = detail
			} else {
				e.Detail += "; " + detail
			}
		}
		return
	}
	s.idx[k] = len(s.entries)
	s.entries = append(s.entries, entry{Prefix: p, Label: label, Detail: detail})
}

// o365Record is one endpoint set of the Microsoft 365 web service.
type o365Record struct {
	ID          int      `json:"id"`
	ServiceArea string   `json:"serviceArea"`
	Category    string   `json:"category"`
	IPs         []string `json:"ips"`
	TCPPorts    string   `json:"tcpPorts"`
}

// o365Version is the answer of the web service's version method.
type o365Version struct {
	Instance string `json:"instance"`
	Latest   string `json:"latest"`
}

var o365VersionRE = regexp.MustCompile(`^[0-9]{10}$`)

// parseO365Version decodes a /version/<instance> answer and returns latest.
func parseO365Version(file string, data []byte) (string, error) {
	var v o365Version
	if err := decodeJSON(file, data, &v); err != nil {
		return "", err
	}
	if !o365VersionRE.MatchString(v.Latest) {
		return "", &ParseError{File: file, Path: "$.latest", Text: v.Latest, Err: errors.New("not a YYYYMMDDNN version")}
	}
	return v.Latest, nil
}

// parseO365 decodes a Microsoft 365 /endpoints/<instance> answer. The
// Exchange Optimize/Allow sets become ms-exchange-online except the EOP
// relay space (ms-eop-relay); everything else is ms-other-365. An
// Exchange set most of whose prefixes are EOP relay space is the EOP set
// as a whole: its other prefixes (52.238.78.88/32 in version 2026073100)
// are relay space too, not client access. The classification keys on
// service area, category and CIDR, never on the set id, which Microsoft
// re-cuts between versions.
func parseO365(file string, data []byte) ([]entry, error) {
	var recs []o365Record
	if err := decodeJSON(file, data, &recs); err != nil {
		return nil, err
	}
	var eop []netip.Prefix
	for _, s := range eopPrefixes() {
		eop = append(eop, netip.MustParsePrefix(s))
	}
	isEOP := func(p netip.Prefix) bool {
		return slices.ContainsFunc(eop, func(e netip.Prefix) bool { return e.Bits() <= p.Bits() && e.Contains(p.Addr()) })
	}
	var set entrySet
	ps := make([]netip.Prefix, 0, 64)
	for i, r := range recs {
		ps = ps[:0]
		nEOP := 0
		for j, s := range r.IPs {
			p, err := prefixAt(file, s, "$[%d].ips[%d]", i, j)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
			if isEOP(p) {
				nEOP++
			}
		}
		exchange := r.ServiceArea == "Exchange" && (r.Category == "Optimize" || r.Category == "Allow")
		eopSet := 2*nEOP > len(ps)
		for _, p := range ps {
			label := LabelMicrosoft365
			if exchange {
				label = LabelExchangeOnline
				if eopSet || isEOP(p) {
					label = LabelEOPRelay
				}
			}
			set.add(p, label, fmt.Sprintf("%s %s, id %d", clip(r.ServiceArea), clip(r.Category), r.ID))
		}
	}
	if len(set.entries) == 0 {
		return nil, &ParseError{File: file, Err: errEmpty}
	}
	// The list replaces the built-in Exchange Online rows: one without
	// them (a filtered or broken answer) must not wipe them.
	if !slices.ContainsFunc(set.entries, func(e entry) bool { return e.Label == LabelExchangeOnline }) {
		return nil, &ParseError{File: file, Err: errors.New("no Exchange Online client-access prefixes (serviceArea Exchange, category Optimize or Allow)")}
	}
	return set.entries, nil
}

// azureTags is the Azure IP Ranges and Service Tags file.
type azureTags struct {
	ChangeNumber int    `json:"changeNumber"`
	Cloud        string `json:"cloud"`
	Values       []struct {
		Name string `json:"name"`
		// Properties is decoded only for the tags that are kept.
		Properties json.RawMessage `json:"properties"`
	} `json:"values"`
}

// azureProps are a kept tag's properties.
type azureProps struct {
	AddressPrefixes []string `json:"addressPrefixes"`
}

// parseAzure decodes a Service Tags file. Only the tags that matter for
// classification are kept: AzureCloud and AzureCloud.<region>
// (azure-cloud, the regional tag as detail), EOPExternalPublishedIPs
// (ms-eop-relay) and AzureFrontDoor.FirstParty (ms-other-365). It returns
// the file's changeNumber.
func parseAzure(file string, data []byte) ([]entry, int, error) {
	var f azureTags
	if err := decodeJSON(file, data, &f); err != nil {
		return nil, 0, err
	}
	var set entrySet
	region := map[netip.Prefix]string{}
	for i, v := range f.Values {
		var label string
		switch {
		case v.Name == "AzureCloud" || strings.HasPrefix(v.Name, "AzureCloud."):
			label = LabelAzureCloud
		case v.Name == "EOPExternalPublishedIPs":
			label = LabelEOPRelay
		case v.Name == "AzureFrontDoor.FirstParty":
			label = LabelMicrosoft365
		default:
			continue
		}
		var props azureProps
		if err := json.Unmarshal(v.Properties, &props); err != nil {
			return nil, 0, &ParseError{File: file, Path: fmt.Sprintf("$.values[%d].properties", i), Err: err}
		}
		for j, s := range props.AddressPrefixes {
			p, err := prefixAt(file, s, "$.values[%d].properties.addressPrefixes[%d]", i, j)
			if err != nil {
				return nil, 0, err
			}
			if label == LabelAzureCloud {
				// One entry per prefix; the regional tag is the detail.
				if r, ok := region[p]; !ok || r == "AzureCloud" {
					region[p] = clip(v.Name)
				}
				continue
			}
			set.add(p, label, v.Name)
		}
	}
	ps := make([]netip.Prefix, 0, len(region))
	for p := range region {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].String() < ps[j].String() })
	for _, p := range ps {
		set.add(p, LabelAzureCloud, region[p])
	}
	if len(set.entries) == 0 {
		return nil, 0, &ParseError{File: file, Path: "$.values", Err: errEmpty}
	}
	return set.entries, f.ChangeNumber, nil
}

// googleRanges is Google's goog.json and cloud.json.
type googleRanges struct {
	SyncToken    string `json:"syncToken"`
	CreationTime string `json:"creationTime"`
	Prefixes     []struct {
		IPv4  string `json:"ipv4Prefix"`
		IPv6  string `json:"ipv6Prefix"`
		IP    string `json:"ipPrefix"` // re-serialized trackers' copies
		Scope string `json:"scope"`
	} `json:"prefixes"`
}

// parseGoogle decodes goog.json or cloud.json, labelling every prefix with
// label, and returns the creationTime.
func parseGoogle(file string, data []byte, label string) ([]entry, string, error) {
	var f googleRanges
	if err := decodeJSON(file, data, &f); err != nil {
		return nil, "", err
	}
	var set entrySet
	for i, r := range f.Prefixes {
		path := fmt.Sprintf("$.prefixes[%d]", i)
		var s string
		switch {
		case r.IPv4 != "" && r.IPv6 == "":
			s, path = r.IPv4, path+".ipv4Prefix"
		case r.IPv6 != "" && r.IPv4 == "":
			s, path = r.IPv6, path+".ipv6Prefix"
		case r.IP != "" && r.IPv4 == "" && r.IPv6 == "":
			s, path = r.IP, path+".ipPrefix"
		default:
			return nil, "", &ParseError{File: file, Path: path, Err: errors.New("want exactly one of ipv4Prefix, ipv6Prefix")}
		}
		p, err := prefixAt(file, s, "%s", path)
		if err != nil {
			return nil, "", err
		}
		set.add(p, label, clip(r.Scope))
	}
	if len(set.entries) == 0 {
		return nil, "", &ParseError{File: file, Path: "$.prefixes", Err: errEmpty}
	}
	return set.entries, clip(f.CreationTime), nil
}

// awsRanges is AWS's ip-ranges.json.
type awsRanges struct {
	SyncToken  string `json:"syncToken"`
	CreateDate string `json:"createDate"`
	Prefixes   []struct {
		IPPrefix string `json:"ip_prefix"`
		Region   string `json:"region"`
	} `json:"prefixes"`
	IPv6Prefixes []struct {
		IPv6Prefix string `json:"ipv6_prefix"`
		Region     string `json:"region"`
	} `json:"ipv6_prefixes"`
}

// parseAWS decodes ip-ranges.json into aws entries (one per prefix, the
// region as detail; the per-service duplicates collapse) and returns the
// createDate.
func parseAWS(file string, data []byte) ([]entry, string, error) {
	var f awsRanges
	if err := decodeJSON(file, data, &f); err != nil {
		return nil, "", err
	}
	var set entrySet
	for i, r := range f.Prefixes {
		p, err := prefixAt(file, r.IPPrefix, "$.prefixes[%d].ip_prefix", i)
		if err != nil {
			return nil, "", err
		}
		set.add(p, LabelAWS, clip(r.Region))
	}
	for i, r := range f.IPv6Prefixes {
		p, err := prefixAt(file, r.IPv6Prefix, "$.ipv6_prefixes[%d].ipv6_prefix", i)
		if err != nil {
			return nil, "", err
		}
		set.add(p, LabelAWS, clip(r.Region))
	}
	if len(set.entries) == 0 {
		return nil, "", &ParseError{File: file, Path: "$.prefixes", Err: errEmpty}
	}
	return set.entries, clip(f.CreateDate), nil
}
