package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailaudit/mailaudit/internal/atomicfile"
	"github.com/mailaudit/mailaudit/report"
)

// usersFile is the file in the state directory where the recurring runs
// (--state, --follow) keep the last logins per user.
const usersFile = "users.json"

// loadUsersRecord reads the users record in dir; a missing file is an
// empty record (ok false).
func loadUsersRecord(dir string) (report.UsersRecord, bool, error) {
	path := filepath.Join(dir, usersFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return report.UsersRecord{Version: 1}, false, nil
	}
	if err != nil {
		return report.UsersRecord{}, false, err
	}
	var rec report.UsersRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return report.UsersRecord{}, false, fmt.Errorf("%s: %w", path, err)
	}
	if rec.Version != 1 {
		return report.UsersRecord{}, false, fmt.Errorf("%s: version %d, want 1", path, rec.Version)
	}
	return rec, true, nil
}

// saveUsers merges what u learned into the record in dir and writes it
// atomically.
func saveUsers(dir string, u *report.Users) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	old, _, err := loadUsersRecord(dir)
	if err != nil {
		return err
	}
	all := report.NewUsers()
	all.Merge(old)
	all.Merge(u.Record())
	data, err := json.Marshal(all.Record())
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, usersFile), append(data, '\n'), 0o600)
}

// usersOptions are the flags of `report users`.
type usersOptions struct {
	input    inputFlags
	ranges   rangeFlags
	filter   filterFlags
	width    widthFlag
	format   string
	inactive string
	stateDir string
	now      func() time.Time
}

func newReportUsersCmd(e *env) *cobra.Command {
	var o usersOptions
	cmd := &cobra.Command{
		Use:   "users [flags] [FILE…]",
		Short: "When each user last logged in, by IMAP/POP and by SMTP; inactive accounts",
		Long: `users lists one row per user that logged in: the last successful login,
the last per service (imap, pop3, smtp, submission, managesieve), the
logins, distinct addresses and own devices, the cloud intermediaries, the
SASL mechanisms, whether the logins used TLS (all, some, none), and the
last failed login and failed attempts. Names that only failed are not
listed: they are chosen by whoever connects.

The recurring runs (scan or check with --state, scan --follow) keep these
per user in users.json in the state directory (--state-dir, /var/lib/
mailaudit as root, else $XDG_STATE_HOME/mailaudit, else ~/.local/state/
mailaudit), across runs and log rotations. Without FILE, users answers from
that record; with FILE and --state-dir, from both (times are the latest,
counts add up: give the FILEs the runs have not read); with FILE alone,
from the FILEs.

--inactive 90d lists only the users whose last login is older than that.

  mailaudit report users /var/log/mail.log*
  mailaudit report users --inactive 90d
  mailaudit report users --format csv --state-dir /var/lib/mailaudit > users.csv
`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReportUsers(e, &o, args, cmd.Flags().Changed("state-dir"))
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.format, "format", "table", formatHelp(reportFormats...))
	fs.StringVar(&o.inactive, "inactive", "", "only users whose last login is older than `DURATION` (90d, 12w, 2160h)")
	fs.StringVar(&o.stateDir, "state-dir", "", "`DIR` of the record the recurring runs keep (default: as for the baseline)")
	o.width.register(fs)
	o.input.register(fs)
	o.ranges.register(fs)
	o.filter.register(fs)
	return cmd
}

func runReportUsers(e *env, o *usersOptions, args []string, stateGiven bool) error {
	f, err := parseFormat(o.format, reportFormats...)
	if err != nil {
		return err
	}
	var cutoff time.Time
	if o.inactive != "" {
		d, ok := parseAgo(o.inactive)
		if !ok || d <= 0 {
			return usagef("--inactive must be a duration such as 90d, 12w or 2160h, not %q", o.inactive)
		}
		now := time.Now
		if o.now != nil {
			now = o.now
		}
		cutoff = now().Add(-d)
	}
	users := report.NewUsers()
	title := "Users"
	var runErr error
	if len(args) == 0 || stateGiven {
		dir, err := stateDir(o.stateDir)
		if err != nil {
			return err
		}
		rec, ok, err := loadUsersRecord(dir)
		if err != nil {
			return err
		}
		if !ok && len(args) == 0 {
			return fmt.Errorf("no record of logins yet in %s (the runs with --state or --follow keep it): give log FILEs", dir)
		}
		users.Merge(rec)
		title += " (with the record in " + dir + ")"
	}
	if len(args) > 0 {
		p, done, err := newPipeline(e, &o.input, nil, &o.ranges, &o.filter, false, true)
		if err != nil {
			return err
		}
		defer done()
		p.observe = users.Add
		runErr = p.scanFiles(args, e.stdin)
		if errors.Is(runErr, context.Canceled) {
			return runErr
		}
		p.prog.finish()
	}
	if !cutoff.IsZero() {
		title = fmt.Sprintf("Users without a login since %s", cutoff.Format("2006-01-02 15:04"))
	}
	bw := bufio.NewWriterSize(e.stdout, 64<<10)
	out, err := o.width.page(e, bw)
	if err != nil {
		return err
	}
	if err := report.WriteUsers(out, f, users.Rows(cutoff), title); err != nil {
		return errors.Join(err, runErr)
	}
	return errors.Join(bw.Flush(), runErr)
}
