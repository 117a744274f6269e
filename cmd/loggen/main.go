// Command loggen writes a deterministic, realistic mail-server syslog
// (Postfix and Dovecot, logins mixed in) for benchmarks and demos:
//
//	go run ./cmd/loggen -n 1000000 -seed 1 > big.log
//
// With -stress hostile or -stress crowd it writes n login lines of a
// worst case for memory instead (see loggen.WriteStress):
//
//	go run ./cmd/loggen -stress hostile -n 1000000 > hostile.log
//
// With -day it writes a scenario day instead (users' devices, offices,
// cloud intermediaries, stale devices, brute force, sprays, a compromise;
// see loggen.WriteDay) and, with -truth, a JSON file saying what is in it:
//
//	go run ./cmd/loggen -day -truth day.json > day.log
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mailaudit/mailaudit/loggen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command; it returns the exit status: 0 ok, 1 error, 2 usage.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loggen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1000, "number of lines (with -day: about that many, default 1000000)")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same log")
	start := fs.String("start", "2025-11-22T00:00:00Z", "time of the first line (RFC 3339; with -day default 2026-03-02T06:00:00Z)")
	day := fs.Bool("day", false, "write a scenario day with attacks and legitimate users")
	truth := fs.String("truth", "", "with -day: write what the day holds as JSON to `FILE`")
	users := fs.Int("users", 200, "with -day: number of mailboxes (at least 60)")
	dur := fs.Duration("duration", 32*time.Hour, "with -day: length of the day")
	stress := fs.String("stress", "", "write `KIND` worst-case login lines instead: hostile (failures, distinct random names and addresses) or crowd (logins of distinct users from distinct addresses)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "loggen: unexpected argument", fs.Arg(0))
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *stress != "" {
		if *day {
			fmt.Fprintln(stderr, "loggen: -stress and -day do not go together")
			return 2
		}
		if *stress != string(loggen.Hostile) && *stress != string(loggen.Crowd) {
			fmt.Fprintf(stderr, "loggen: -stress %q: want hostile or crowd\n", *stress)
			return 2
		}
	}
	if !*day {
		for _, name := range []string{"truth", "users", "duration"} {
			if set[name] {
				fmt.Fprintf(stderr, "loggen: -%s needs -day\n", name)
				return 2
			}
		}
	}
	var t time.Time
	if set["start"] || !*day {
		var err error
		if t, err = time.Parse(time.RFC3339, *start); err != nil {
			fmt.Fprintln(stderr, "loggen: -start:", err)
			return 2
		}
	}
	if *stress != "" {
		if err := loggen.WriteStress(stdout, loggen.Stress(*stress), *n, *seed, t); err != nil {
			fmt.Fprintln(stderr, "loggen:", err)
			return 1
		}
		return 0
	}
	if !*day {
		if err := loggen.New(*seed, t).WriteLines(stdout, *n); err != nil {
			fmt.Fprintln(stderr, "loggen:", err)
			return 1
		}
		return 0
	}
	cfg := loggen.DayConfig{Seed: *seed, Start: t, Duration: *dur, Users: *users}
	if set["n"] {
		cfg.Lines = *n
	}
	if cfg.Seed == 0 || cfg.Lines == 0 && set["n"] {
		fmt.Fprintln(stderr, "loggen: -seed and -n must not be 0 with -day")
		return 2
	}
	var tf *os.File
	if *truth != "" {
		var err error
		if tf, err = os.Create(*truth); err != nil {
			fmt.Fprintln(stderr, "loggen:", err)
			return 1
		}
		defer tf.Close()
	}
	tr, err := loggen.WriteDay(stdout, cfg)
	if errors.Is(err, loggen.ErrDayConfig) {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "loggen:", err)
		return 1
	}
	if tf != nil {
		bw := bufio.NewWriter(tf)
		if err := tr.WriteJSON(bw); err != nil {
			fmt.Fprintln(stderr, "loggen:", *truth+":", err)
			return 1
		}
		if err := bw.Flush(); err != nil {
			fmt.Fprintln(stderr, "loggen:", *truth+":", err)
			return 1
		}
		if err := tf.Close(); err != nil {
			fmt.Fprintln(stderr, "loggen:", *truth+":", err)
			return 1
		}
	}
	return 0
}
