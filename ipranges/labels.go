package ipranges

import "slices"

// The label names this package assigns from the publishers' lists and the
// built-in table. User lists may add prefixes to these labels or define
// their own.
const (
	LabelExchangeOnline = "ms-exchange-online"
	LabelOutlookMobile  = "ms-outlook-mobile"
	LabelEOPRelay       = "ms-eop-relay"
	LabelMicrosoft365   = "ms-other-365"
	LabelGoogleServices = "google-services"
	LabelGoogleCloud    = "google-cloud"
	LabelAzureCloud     = "azure-cloud"
	LabelAWS            = "aws"
)

// LabelInfo is what a label means: the verdict an address gets when this
// label is the best-ranked match.
type LabelInfo struct {
	Name       string
	Class      Class
	Provider   string
	Product    string
	Confidence Confidence
	// Rank orders labels when several match; lower wins. User-defined
	// labels have rank 0 and beat every built-in label.
	Rank int
}

// knownLabels returns the catalogue of built-in labels, ranked as proposed
// in ipranges.md §7: Microsoft's service-specific lists first, generic
// cloud space last.
func knownLabels() map[string]LabelInfo {
	l := []LabelInfo{
		{LabelExchangeOnline, Intermediary, "microsoft", "Exchange Online (new Outlook, Outlook.com sync)", High, 1},
		{LabelOutlookMobile, Intermediary, "microsoft", "Outlook for iOS/Android", High, 2},
		{LabelEOPRelay, Hosting, "microsoft", "Exchange Online Protection relay (unexpected AUTH)", High, 3},
		{LabelMicrosoft365, Hosting, "microsoft", "Microsoft 365 first-party service (not known to log in to mail)", High, 4},
		{LabelGoogleCloud, Hosting, "google", "Google Cloud", Medium, 5},
		{LabelGoogleServices, Intermediary, "google", "Google (Gmail fetcher, Gmailify)", Medium, 6},
		{LabelAzureCloud, Hosting, "microsoft", "Azure (customer VM or first-party service)", Medium, 7},
		{LabelAWS, Hosting, "amazon", "Amazon AWS", Medium, 8},
	}
	m := make(map[string]LabelInfo, len(l)+8)
	for _, i := range l {
		m[i.Name] = i
	}
	for _, n := range catalogueASNs() {
		a, _ := asnLabel(n)
		m[a.Name] = a
	}
	return m
}

// asnRank is the rank of ASN catalogue verdicts: below every list.
const asnRank = 100

// catalogueASNs lists the autonomous systems asnLabel knows.
func catalogueASNs() []uint32 { return []uint32{8075, 15169, 62371, 16509, 14618, 63949, 47764} }

// asnLabel names intermediaries and clouds that publish no usable list, by
// autonomous system number. Their verdicts have Low confidence.
func asnLabel(asn uint32) (LabelInfo, bool) {
	switch asn {
	case 8075:
		return LabelInfo{"asn-microsoft", Hosting, "microsoft", "Microsoft network, service unknown", Low, asnRank}, true
	case 15169:
		return LabelInfo{"asn-google", Intermediary, "google", "Google network (Gmail fetcher?)", Low, asnRank}, true
	case 62371:
		return LabelInfo{"asn-proton", Intermediary, "proton", "Proton network (import or fetch?)", Low, asnRank}, true
	case 16509, 14618:
		return LabelInfo{"asn-amazon", Hosting, "amazon", "Amazon network", Low, asnRank}, true
	case 63949:
		return LabelInfo{"asn-akamai-linode", Hosting, "akamai", "Akamai/Linode hosting", Low, asnRank}, true
	case 47764:
		return LabelInfo{"asn-vk", Intermediary, "vk", "VK / Mail.ru network (mail collector?)", Low, asnRank}, true
	}
	return LabelInfo{}, false
}

// Providers returns the providers the built-in labels and the ASN
// catalogue name ("microsoft", "google", …), sorted, each once.
func Providers() []string { return providersOf(knownLabels()) }

// providersOf returns the non-empty providers of labels, sorted, each once.
func providersOf(labels map[string]LabelInfo) []string {
	var out []string
	for _, l := range labels {
		if l.Provider != "" && !slices.Contains(out, l.Provider) {
			out = append(out, l.Provider)
		}
	}
	slices.Sort(out)
	return out
}
