package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailaudit/mailaudit/baseline"
	"github.com/mailaudit/mailaudit/report"
	"github.com/mailaudit/mailaudit/rules"
)

// stateDir returns the directory that holds mailaudit's state (the
// baseline database, resume offsets): flag when set, /var/lib/mailaudit as
// root, else $XDG_STATE_HOME/mailaudit, else ~/.local/state/mailaudit.
func stateDir(flag string) (string, error) {
	return stateDirFor(flag, os.Geteuid(), os.Getenv, os.UserHomeDir)
}

func stateDirFor(flag string, euid int, getenv func(string) string, home func() (string, error)) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if euid == 0 {
		return "/var/lib/mailaudit", nil
	}
	// The XDG spec says relative paths are invalid and must be ignored.
	if x := getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "mailaudit"), nil
	}
	h, err := home()
	if err != nil || h == "" {
		return "", fmt.Errorf("no state directory: set --state-dir or $XDG_STATE_HOME (%v)", err)
	}
	return filepath.Join(h, ".local", "state", "mailaudit"), nil
}

// baselinePath returns the baseline database's path for --state-dir flag.
func baselinePath(flag string) (string, error) {
	dir, err := stateDir(flag)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, baseline.FileName), nil
}

// openExistingBaseline opens the baseline database for inspection; it
// returns nil and no error when none was created yet.
func openExistingBaseline(flag string) (*baseline.DB, string, error) {
	p, err := baselinePath(flag)
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, p, nil
	}
	db, err := baseline.Open(p)
	return db, p, err
}

func newBaselineCmd(e *env) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "baseline",
		Short: "Inspect and correct the devices learned per user",
		Long: `mailaudit learns, across runs, the devices each user logs in from successfully:
address, network (/24 or /48), ASN and country. The new-device rule compares
logins against them. The baseline lives in an SQLite database, baseline.db,
in the state directory: --state-dir, /var/lib/mailaudit as root, else
$XDG_STATE_HOME/mailaudit, else ~/.local/state/mailaudit.
` + exitHelp,
		Args: cobra.ArbitraryArgs,
		RunE: needSubcommand,
	}
	c.PersistentFlags().StringVar(&dir, "state-dir", "", "state `DIR` holding baseline.db")
	c.AddCommand(newBaselineListCmd(e, &dir), newBaselineForgetCmd(e, &dir), newBaselineConfirmCmd(e, &dir))
	return c
}

func newBaselineListCmd(e *env, dir *string) *cobra.Command {
	var user, format string
	var width widthFlag
	c := &cobra.Command{
		Use:   "list [--user USER] [--format table|json|jsonl|csv]",
		Short: "List the learned devices, of one user or of all",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseFormat(format, report.Table, report.JSON, report.JSONL, report.CSV)
			if err != nil {
				return err
			}
			db, p, err := openExistingBaseline(*dir)
			if err != nil {
				return err
			}
			var entries []baseline.Entry
			var held []baseline.QuarantineEntry
			if db == nil {
				fmt.Fprintf(e.stderr, "mailaudit: no baseline yet at %s\n", p)
			} else {
				entries, err = db.List(canonical(user))
				if err == nil {
					held, err = db.ListQuarantine(canonical(user))
				}
				if cerr := db.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
			}
			switch f {
			case report.JSON, report.JSONL:
				return writeBaselineJSON(e, entries, held, f == report.JSONL)
			case report.CSV:
				return writeBaselineCSV(e, entries, held)
			}
			return writeBaselineTable(e, &width, entries, held)
		},
	}
	c.Flags().StringVar(&user, "user", "", "only this `USER` (case and surrounding spaces do not matter, as in the rules)")
	c.Flags().StringVar(&format, "format", "table", formatHelp(report.Table, report.JSON, report.JSONL, report.CSV))
	width.register(c.Flags())
	return c
}

// baselineRow is one learned or quarantined device in JSON; unknown
// values are null.
type baselineRow struct {
	User      string  `json:"user"`
	Kind      string  `json:"kind"`
	Value     string  `json:"value"`
	FirstSeen *string `json:"first_seen"`
	LastSeen  *string `json:"last_seen"`
	Count     int64   `json:"count"`
	// Status is "learned", or "quarantined" with the Rule that kept it
	// out.
	Status string  `json:"status"`
	Rule   *string `json:"rule"`
}

func baselineRows(entries []baseline.Entry, held []baseline.QuarantineEntry) []baselineRow {
	stamp := func(t time.Time) *string {
		if t.IsZero() {
			return nil
		}
		s := t.UTC().Format(time.RFC3339)
		return &s
	}
	rows := make([]baselineRow, 0, len(entries)+len(held))
	for _, en := range entries {
		rows = append(rows, baselineRow{en.User, string(en.Facet), en.Value, stamp(en.FirstSeen), stamp(en.LastSeen), en.Count, "learned", nil})
	}
	for _, q := range held {
		rule := q.Rule
		rows = append(rows, baselineRow{q.User, string(q.Facet), q.Value, stamp(q.FirstSeen), stamp(q.LastSeen), q.Count, "quarantined", &rule})
	}
	return rows
}

func writeBaselineJSON(e *env, entries []baseline.Entry, held []baseline.QuarantineEntry, lines bool) error {
	rows := baselineRows(entries, held)
	enc := json.NewEncoder(e.stdout)
	if lines {
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// writeBaselineCSV writes the rows as CSV, the JSON keys as columns,
// null as an empty cell, values safe from formula injection.
func writeBaselineCSV(e *env, entries []baseline.Entry, held []baseline.QuarantineEntry) error {
	cw := csv.NewWriter(e.stdout)
	_ = cw.Write([]string{"user", "kind", "value", "first_seen", "last_seen", "count", "status", "rule"})
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	for _, r := range baselineRows(entries, held) {
		_ = cw.Write([]string{report.CSVCell(r.User), r.Kind, report.CSVCell(r.Value), deref(r.FirstSeen), deref(r.LastSeen),
			strconv.FormatInt(r.Count, 10), r.Status, report.CSVCell(deref(r.Rule))})
	}
	cw.Flush()
	return cw.Error()
}

func writeBaselineTable(e *env, width *widthFlag, entries []baseline.Entry, held []baseline.QuarantineEntry) error {
	page, err := width.page(e, e.stdout)
	if err != nil {
		return err
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	var rows [][]string
	for _, en := range entries {
		rows = append(rows, []string{report.Sanitize(en.User), string(en.Facet), report.Sanitize(en.Value),
			stamp(en.FirstSeen), stamp(en.LastSeen), strconv.FormatInt(en.Count, 10), "learned"})
	}
	for _, q := range held {
		rows = append(rows, []string{report.Sanitize(q.User), string(q.Facet), report.Sanitize(q.Value),
			stamp(q.FirstSeen), stamp(q.LastSeen), strconv.FormatInt(q.Count, 10), "quarantined (" + report.Sanitize(q.Rule) + ")"})
	}
	return report.WriteTable(page, []string{"user", "kind", "value", "first seen", "last seen", "count", "status"}, rows, []int{5})
}

func newBaselineConfirmCmd(e *env, dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "confirm USER VALUE…",
		Short: "Learn quarantined devices after all (you checked them with the user)",
		Long: `confirm learns devices that a finding of high or above kept out of USER's
baseline ("quarantined" in baseline list): an address, a network, an ASN
(AS8075), a country code or a provider (microsoft). Confirm only what the
user confirmed: a quarantined address is usually the attacker's.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || slices.Contains(args[1:], "") {
				return usagef("confirm needs USER and at least one VALUE")
			}
			db, p, err := openExistingBaseline(*dir)
			if err != nil {
				return err
			}
			if db == nil {
				return fmt.Errorf("no baseline yet at %s: nothing to confirm", p)
			}
			user, total := canonical(args[0]), 0
			for _, v := range args[1:] {
				n, cerr := db.Confirm(user, v)
				if cerr != nil {
					err = cerr
					break
				}
				if n == 0 {
					fmt.Fprintf(e.stderr, "mailaudit: %s is not quarantined for %s\n", report.Sanitize(v), report.Sanitize(args[0]))
				}
				total += n
			}
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "confirmed %d entries of %s\n", total, report.Sanitize(args[0]))
			return nil
		},
	}
}

func newBaselineForgetCmd(e *env, dir *string) *cobra.Command {
	var allFor string
	c := &cobra.Command{
		Use:   "forget USER VALUE… | forget --all-for USER",
		Short: "Forget learned devices, so that they are reported again",
		Long: `forget deletes learned devices of USER by value: an address, a network
(203.0.113.0/24), an ASN (AS8075) or a country code (DE). --all-for USER
deletes everything learned for USER: the next login is learned silently again.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var user string
			var values []string
			switch {
			case cmd.Flags().Changed("all-for") && len(args) > 0:
				return usagef("--all-for takes no other arguments")
			case cmd.Flags().Changed("all-for"):
				if allFor == "" {
					return usagef("--all-for needs a user name")
				}
				user, values = allFor, []string{""}
			case len(args) < 2:
				return usagef("forget needs USER and at least one VALUE, or --all-for USER")
			default:
				user, values = args[0], args[1:]
				if slices.Contains(values, "") {
					return usagef("empty VALUE")
				}
			}
			db, p, err := openExistingBaseline(*dir)
			if err != nil {
				return err
			}
			if db == nil {
				fmt.Fprintf(e.stderr, "mailaudit: no baseline yet at %s: nothing to forget\n", p)
				return nil
			}
			total := 0
			for _, v := range values {
				n, ferr := db.Forget(canonical(user), v)
				if ferr != nil {
					err = ferr
					break
				}
				if n == 0 && v != "" {
					fmt.Fprintf(e.stderr, "mailaudit: %s was not learned for %s\n", report.Sanitize(v), report.Sanitize(user))
				}
				total += n
			}
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "forgot %d entries of %s\n", total, report.Sanitize(user))
			return nil
		},
	}
	c.Flags().StringVar(&allFor, "all-for", "", "forget everything learned for `USER`")
	return c
}

// canonical is the user name as the rules learn it; "" stays "" (all users).
func canonical(user string) string {
	if user == "" {
		return ""
	}
	return rules.CanonicalUser(user)
}
