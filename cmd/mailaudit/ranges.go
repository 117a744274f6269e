package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/report"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// rangeFlags are the flags that choose the classifier's data, shared by
// every command that classifies addresses (scan, check, report, ranges).
type rangeFlags struct {
	cacheDir         string
	lists            []string
	countryDB, asnDB string
	noGeoIP          bool
	// warnings holds what classifier skipped but could do without (a
	// corrupt cache file); callers print them with printWarnings.
	warnings []error
}

// register adds --cache-dir, --ranges (repeatable), --geoip-country,
// --geoip-asn and --no-geoip to fs.
func (f *rangeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.cacheDir, "cache-dir", "", "`DIR` holding the downloaded range lists (default $XDG_CACHE_HOME/mailaudit, ~/.cache/mailaudit, or /var/lib/mailaudit as root)")
	fs.StringArrayVar(&f.lists, "ranges", nil, "add your own labelled CIDR list from `FILE`: lines of \"CIDR LABEL [PROVIDER [CLASS [PRODUCT…]]]\" (repeatable)")
	fs.StringVar(&f.countryDB, "geoip-country", "", "read countries from GeoLite2/DB-IP .mmdb `FILE` (default: searched in /usr/share/GeoIP, /var/lib/GeoIP)")
	fs.StringVar(&f.asnDB, "geoip-asn", "", "read ASNs from GeoLite2/DB-IP .mmdb `FILE` (default: searched in /usr/share/GeoIP, /var/lib/GeoIP)")
	fs.BoolVar(&f.noGeoIP, "no-geoip", false, "do not use GeoIP databases")
}

// classifier loads the classifier the flags describe. Warnings (data it
// skipped) are kept in f.warnings; errors name the file and line.
// The caller must Close the classifier.
func (f *rangeFlags) classifier() (*ipranges.Classifier, error) {
	c, warns, err := ipranges.Load(ipranges.Options{
		CacheDir:  f.cacheDir,
		UserLists: f.lists,
		CountryDB: f.countryDB,
		ASNDB:     f.asnDB,
		NoGeoIP:   f.noGeoIP,
	})
	f.warnings = append(f.warnings, warns...)
	return c, err
}

// printWarnings writes the classifier's warnings to w.
func (f *rangeFlags) printWarnings(w io.Writer) {
	for _, err := range f.warnings {
		fmt.Fprintln(w, "mailaudit: warning:", err)
	}
}

func newRangesCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ranges",
		Short: "Update, list and query the IP-range lists that classify addresses",
		Long: `mailaudit classifies every remote address: a cloud intermediary acting for
the user (Exchange Online, Outlook mobile, Google's fetcher, …), a hosting
network, private space, or the user's own device. It uses a built-in table of
Microsoft ranges, the publishers' feeds downloaded by "ranges update", your
own lists (--ranges FILE) and GeoIP databases when present.
` + exitHelp,
		Args: cobra.ArbitraryArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newRangesUpdateCmd(e), newRangesLookupCmd(e), newRangesListCmd(e))
	return cmd
}

func newRangesUpdateCmd(e *env) *cobra.Command {
	var (
		cacheDir string
		force    bool
		feeds    = ipranges.DefaultFeeds()
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the publishers' range lists into the cache",
		Long: `update downloads the Microsoft 365 endpoint list, Azure Service Tags,
Google's goog.json and cloud.json and AWS ip-ranges.json, one file each in the
cache directory, written atomically. It keeps to the publishers' etiquette:
the Microsoft 365 version is checked at most hourly and its endpoints fetched
only when the version changes; Azure at most weekly; Google and AWS at most
daily. --force ignores the intervals. A source that fails keeps its previous
data; the others are still updated, and the command exits 3.
` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sts, err := ipranges.Update(cmd.Context(), ipranges.UpdateOptions{CacheDir: cacheDir, Feeds: feeds, Force: force})
			if sts == nil && err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SOURCE\tSTATE\tDATE\tPREFIXES\tNOTE")
			for _, st := range sts {
				note := ""
				switch st.State {
				case ipranges.Skipped:
					note = "checked recently; next check after " + st.Next.UTC().Format("2006-01-02 15:04 UTC") + " (or --force)"
				case ipranges.Failed:
					note = "failed, previous data kept"
					if st.Date == "" {
						note = "failed, no data"
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", st.Source, st.State, orDash(st.Date), st.Prefixes, note)
			}
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cacheDir, "cache-dir", "", "cache `DIR` (default $XDG_CACHE_HOME/mailaudit, ~/.cache/mailaudit, or /var/lib/mailaudit as root)")
	fs.BoolVar(&force, "force", false, "ignore the polling intervals")
	fs.StringVar(&feeds.Azure, "azure-url", "", "Service Tags JSON `URL` (default: found on the Azure download page)")
	// Feed URLs for mirrors and tests.
	for _, h := range []struct {
		name string
		p    *string
	}{
		{"o365-url", &feeds.O365}, {"o365-instance", &feeds.O365Instance}, {"azure-page-url", &feeds.AzurePage},
		{"google-url", &feeds.Google}, {"google-cloud-url", &feeds.GoogleCloud}, {"aws-url", &feeds.AWS},
	} {
		fs.StringVar(h.p, h.name, *h.p, "feed URL override")
		_ = fs.MarkHidden(h.name)
	}
	return cmd
}

func newRangesLookupCmd(e *env) *cobra.Command {
	var (
		rf     rangeFlags
		asJSON bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "lookup IP…",
		Short: "Explain how addresses are classified: the verdict and every matching label",
		Long: `lookup prints, for each address, the verdict (class, provider, product,
confidence), the GeoIP country and ASN when databases are present, and every
list entry that contains the address with its source and date; the entry
marked * decided the verdict. A malformed address is a usage error.
--format json (or jsonl) prints one JSON object {"ip", "origin"} per
address, one per line; absent values are null.

  mailaudit ranges lookup 52.98.204.101
  mailaudit ranges lookup --format json 52.98.204.101 2001:db8::1
` + exitHelp,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("ranges lookup needs at least one IP address")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := parseFormat(format, report.Table, report.JSON, report.JSONL)
			if err != nil {
				return err
			}
			if asJSON {
				if cmd.Flags().Changed("format") && f == report.Table {
					return usagef("--json is --format json: not with --format %s", f)
				}
				f = report.JSON
			}
			addrs := make([]netip.Addr, len(args))
			for i, a := range args {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					return usagef("lookup: %q is not an IP address", a)
				}
				addrs[i] = ip
			}
			c, err := rf.classifier()
			rf.printWarnings(e.stderr)
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			for i, a := range addrs {
				o := c.Classify(a)
				if f != report.Table {
					if err := json.NewEncoder(out).Encode(struct {
						IP     string     `json:"ip"`
						Origin originJSON `json:"origin"`
					}{args[i], newOriginJSON(o)}); err != nil {
						return err
					}
					continue
				}
				if err := explain(out, args[i], o); err != nil {
					return err
				}
			}
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "table", formatHelp(report.Table, report.JSON, report.JSONL))
	cmd.Flags().BoolVar(&asJSON, "json", false, "the same as --format json")
	_ = cmd.Flags().MarkHidden("json")
	return cmd
}

// explain writes a person-readable account of an Origin.
func explain(w io.Writer, ip string, o ipranges.Origin) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", ip, o.Class)
	if o.Provider != "" {
		fmt.Fprintf(&b, ", %s", o.Provider)
	}
	if o.Product != "" {
		fmt.Fprintf(&b, ", %s", o.Product)
	}
	fmt.Fprintf(&b, " (confidence %s)\n", o.Confidence)
	if o.ASN != 0 || o.Country != "" {
		var geo []string
		if o.ASN != 0 {
			geo = append(geo, fmt.Sprintf("AS%d %s", o.ASN, o.ASOrg))
		}
		if o.Country != "" {
			geo = append(geo, "country "+o.Country)
		}
		fmt.Fprintf(&b, "  geoip: %s\n", strings.Join(geo, ", "))
	}
	if len(o.Labels) == 0 {
		b.WriteString("  no list matched\n")
	}
	for i, l := range o.Labels {
		mark := "  "
		if i == 0 {
			mark = "* " // the label that decided the verdict
		}
		fmt.Fprintf(&b, "  %s%s %s", mark, l.Name, l.Prefix)
		if l.Detail != "" {
			fmt.Fprintf(&b, " (%s)", l.Detail)
		}
		fmt.Fprintf(&b, "\n      from %s", l.Source)
		if l.Date != "" {
			fmt.Fprintf(&b, ", %s", l.Date)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func newRangesListCmd(e *env) *cobra.Command {
	var (
		rf     rangeFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show each range source in use, its date and prefix count",
		Long: `list shows every source the classifier uses: the built-in table, the
downloaded feeds in the cache directory, your --ranges files and the GeoIP
databases, with their data date, prefix count and origin.
` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseFormat(format, report.Table, report.JSON, report.JSONL)
			if err != nil {
				return err
			}
			c, err := rf.classifier()
			rf.printWarnings(e.stderr)
			if err != nil {
				return err
			}
			defer c.Close()
			if f != report.Table {
				return writeSourcesJSON(cmd.OutOrStdout(), c.Sources(), f == report.JSONL)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SOURCE\tDATE\tPREFIXES\tFETCHED\tFROM")
			for _, s := range c.Sources() {
				fetched, n := "-", "-"
				if !s.Fetched.IsZero() {
					fetched = s.Fetched.UTC().Format(time.DateTime)
				}
				if !strings.HasPrefix(s.Name, "geoip-") {
					n = fmt.Sprint(s.Prefixes)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.Name, orDash(s.Date), n, fetched, s.URL)
			}
			return w.Flush()
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "table", formatHelp(report.Table, report.JSON, report.JSONL))
	return cmd
}

// sourceJSON is one range source in JSON; absent values are null.
type sourceJSON struct {
	Name     string  `json:"name"`
	Date     *string `json:"date"`
	Prefixes *int    `json:"prefixes"`
	Fetched  *string `json:"fetched"`
	URL      *string `json:"url"`
}

// writeSourcesJSON writes the sources as one array, or one object per
// line.
func writeSourcesJSON(w io.Writer, sources []ipranges.SourceInfo, lines bool) error {
	rows := make([]sourceJSON, 0, len(sources))
	for _, s := range sources {
		r := sourceJSON{Name: s.Name, Date: nullable(s.Date), URL: nullable(s.URL)}
		if !strings.HasPrefix(s.Name, "geoip-") {
			n := s.Prefixes
			r.Prefixes = &n
		}
		if !s.Fetched.IsZero() {
			r.Fetched = nullable(s.Fetched.UTC().Format(time.RFC3339))
		}
		rows = append(rows, r)
	}
	enc := json.NewEncoder(w)
	if !lines {
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// originJSON is an Origin in JSON with null for every absent value, as in
// the event records (and the AS organisation).
type originJSON struct {
	Class      *string     `json:"class"`
	Provider   *string     `json:"provider"`
	Product    *string     `json:"product"`
	Labels     []labelJSON `json:"labels"`
	Confidence *string     `json:"confidence"`
	ASN        *uint32     `json:"asn"`
	ASOrg      *string     `json:"as_org"`
	Country    *string     `json:"country"`
}

type labelJSON struct {
	Name   *string `json:"name"`
	Prefix *string `json:"prefix"`
	Source *string `json:"source"`
	Date   *string `json:"date"`
	Detail *string `json:"detail"`
}

// nullable returns nil for "", else &s.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func newOriginJSON(o ipranges.Origin) originJSON {
	j := originJSON{
		Class: nullable(string(o.Class)), Provider: nullable(o.Provider), Product: nullable(o.Product),
		Labels: []labelJSON{}, Confidence: nullable(string(o.Confidence)), ASOrg: nullable(o.ASOrg),
		Country: nullable(o.Country),
	}
	if o.ASN != 0 {
		asn := o.ASN
		j.ASN = &asn
	}
	for _, l := range o.Labels {
		j.Labels = append(j.Labels, labelJSON{nullable(l.Name), nullable(l.Prefix), nullable(l.Source), nullable(l.Date), nullable(l.Detail)})
	}
	return j
}
