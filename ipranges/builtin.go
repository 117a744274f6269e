package ipranges

// The sources of the built-in table.
const (
	builtinO365URL    = "https://endpoints.office.com/endpoints/Worldwide"
	builtinO365Date   = "2026073100"
	builtinMobileURL  = "https://learn.microsoft.com/en-us/microsoft-365/enterprise/additional-office365-ip-addresses-and-urls"
	builtinMobileDate = "docs commit 08c1e5d3 (undated prose table, row 10)"
)

// builtinEntry is one row of the curated offline table.
type builtinEntry struct {
	prefix, label, detail string
	source, date          string
	// feed names the downloadable source that supersedes this row once
	// it is in the cache ("" = never superseded: prose-only data).
	feed string
}

// builtinTable returns the curated offline default: the Exchange Online
// client-access ranges (Exchange service area, Optimize/Allow sets of the
// Microsoft 365 endpoint list, version 2026073100), the Exchange Online
// Protection relays from the same list, and the Outlook for iOS/Android
// prefixes that Microsoft documents only in prose.
func builtinTable() []builtinEntry {
	var t []builtinEntry
	exo := []string{
		"13.107.6.152/31", "13.107.18.10/31", "13.107.128.0/22", "23.103.160.0/20",
		"40.96.0.0/13", "40.104.0.0/15", "52.96.0.0/14", "131.253.33.215/32",
		"132.245.0.0/16", "150.171.32.0/22", "204.79.197.215/32",
		"2603:1006::/40", "2603:1016::/36", "2603:1026::/36", "2603:1036::/36",
		"2603:1046::/36", "2603:1056::/36", "2620:1ec:4::152/128", "2620:1ec:4::153/128",
		"2620:1ec:c::10/128", "2620:1ec:c::11/128", "2620:1ec:d::10/128", "2620:1ec:d::11/128",
		"2620:1ec:8f0::/46", "2620:1ec:900::/46", "2620:1ec:a92::152/128", "2620:1ec:a92::153/128",
	}
	for _, p := range exo {
		t = append(t, builtinEntry{p, LabelExchangeOnline, "Exchange Optimize/Allow, ids 1 and 2", builtinO365URL, builtinO365Date, sourceO365})
	}
	for _, p := range eopPrefixes() {
		detail := "Exchange Allow, ids 9 and 10: EOP relays"
		if p == "52.238.78.88/32" {
			detail = "Exchange Allow, id 9: EOP"
		}
		t = append(t, builtinEntry{p, LabelEOPRelay, detail, builtinO365URL, builtinO365Date, sourceO365})
	}
	for _, p := range []string{"52.125.128.0/20", "52.127.96.0/23"} {
		t = append(t, builtinEntry{p, LabelOutlookMobile, "AutoDetect / hybrid modern auth for Outlook for iOS and Android", builtinMobileURL, builtinMobileDate, ""})
	}
	return t
}

// eopPrefixes returns the Exchange Online Protection relay prefixes, which
// the Microsoft 365 list files under serviceArea Exchange too but which
// carry mail between servers, not users' logins (ipranges.md §7), plus
// 52.238.78.88/32, which version 2026073100 lists in the EOP set (id 9)
// only.
func eopPrefixes() []string {
	return []string{
		"40.92.0.0/15", "40.107.0.0/16", "52.100.0.0/14", "104.47.0.0/17", "52.238.78.88/32",
		"2a01:111:f400::/48", "2a01:111:f403::/48",
	}
}
