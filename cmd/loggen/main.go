// Command loggen writes a deterministic, realistic mail-server syslog
// (Postfix and Dovecot, logins mixed in) for benchmarks and demos:
//
//	go run ./cmd/loggen -n 1000000 -seed 1 > big.log
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mailaudit/mailaudit/loggen"
)

func main() {
	n := flag.Int("n", 1000, "number of lines")
	seed := flag.Int64("seed", 1, "random seed; the same seed gives the same log")
	start := flag.String("start", "2025-11-22T00:00:00Z", "time of the first line (RFC 3339)")
	flag.Parse()
	t, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loggen: -start:", err)
		os.Exit(2)
	}
	if err := loggen.New(*seed, t).WriteLines(os.Stdout, *n); err != nil {
		fmt.Fprintln(os.Stderr, "loggen:", err)
		os.Exit(1)
	}
}
