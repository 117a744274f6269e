// Package ipranges says who operates the network an address belongs to: a
// cloud intermediary acting for the user (Microsoft Exchange Online, Outlook
// mobile, Google, …), a hosting network, private space, or none of these
// (the user's own device). It knows addresses only, not logs.
//
// A Classifier (see Load) combines, in this order of precedence: private
// space; the best-ranked label of every list entry containing the address
// (user lists first, then Exchange Online client access, Outlook mobile,
// EOP relays, other Microsoft 365, Google Cloud, Google services, Azure,
// AWS); an ASN catalogue of intermediaries that publish no lists (Low
// confidence, needs a GeoIP ASN database); and finally Device. The lists
// come from a built-in table (usable offline), the publishers' feeds that
// Update downloads into a cache directory, and user lists in the format
// ReadList documents:
//
//	# CIDR            LABEL        PROVIDER  CLASS         PRODUCT…
//	198.51.100.0/24   office-vpn   -         device        Office VPN
//	2001:db8:1::/48   fetcher      fastmail  intermediary  Fastmail fetcher
//	52.125.138.0/23   azure-cloud            # more prefixes for a built-in label
package ipranges

// Class is the coarse verdict for an address.
type Class string

// The classes, as they appear in the event and findings contracts.
const (
	// Intermediary means a cloud service that logs in with the user's
	// stored credentials (new Outlook, Outlook mobile, Gmail fetcher, …).
	Intermediary Class = "intermediary"
	// Hosting means a cloud or hosting network whose service is unknown:
	// a customer VM as much as a first-party service.
	Hosting Class = "hosting"
	// Private means RFC 1918, loopback, link-local, ULA or CGNAT space.
	Private Class = "private"
	// Device means no list matched: presumably the user's own device.
	Device Class = "device"
)

// Confidence grades a verdict.
type Confidence string

// The confidences.
const (
	High   Confidence = "high"   // a publisher's service-specific list
	Medium Confidence = "medium" // a publisher's generic cloud list
	Low    Confidence = "low"    // an ASN catalogue entry only
)

// Label is one list entry that matched an address.
type Label struct {
	// Name is the label, e.g. "ms-exchange-online", "azure-cloud".
	Name string `json:"name"`
	// Prefix is the matching CIDR as listed.
	Prefix string `json:"prefix"`
	// Source names the list (URL or file) and Date its data date.
	Source string `json:"source"`
	Date   string `json:"date"`
	// Detail says more about the entry where the list does, e.g. the
	// Azure service tag ("AzureCloud.westeurope") or the Microsoft 365
	// endpoint set ("Exchange Optimize, id 1"). It may be empty.
	Detail string `json:"detail,omitempty"`
}

// Origin is the verdict for one address. The zero Origin means "not
// classified" and renders as null.
type Origin struct {
	Class Class `json:"class"`
	// Provider is "microsoft", "google", "amazon", …, empty when none.
	Provider string `json:"provider"`
	// Product is a person's name for the service, e.g.
	// "Exchange Online (new Outlook, Outlook.com sync)".
	Product    string     `json:"product"`
	Labels     []Label    `json:"labels"`
	Confidence Confidence `json:"confidence"`
	// ASN and ASOrg come from a GeoIP ASN database, 0/"" when unknown.
	ASN   uint32 `json:"asn"`
	ASOrg string `json:"as_org"`
	// Country is the ISO 3166 code from a GeoIP country database.
	Country string `json:"country"`
}

// IsZero reports whether o is the zero Origin (not classified).
func (o Origin) IsZero() bool { return o.Class == "" }
