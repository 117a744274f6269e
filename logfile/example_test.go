package logfile_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/mailaudit/mailaudit/logfile"
)

func ExampleSortOldestFirst() {
	fmt.Println(logfile.SortOldestFirst([]string{"mail.log", "mail.log.1", "mail.log.2.gz", "other.log"}))
	// Output: [mail.log.2.gz mail.log.1 mail.log other.log]
}

// Example_resume shows a cron run: lock, load the state, read what is
// new in each log, write the output, then save the state.
func Example_resume() {
	dir, err := os.MkdirTemp("", "logfile-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "mail.log")
	statePath := filepath.Join(dir, "state.json")

	run := func() error {
		lk, err := logfile.Lock(statePath)
		if err != nil {
			return err // errors.Is(err, logfile.ErrLocked): still running
		}
		defer lk.Unlock()
		st, err := logfile.LoadState(statePath)
		if err != nil {
			return err
		}
		rs, err := logfile.Resume(logPath, st.Entry(logPath))
		if err != nil {
			return err
		}
		defer rs.Close()
		for {
			line, err := rs.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			fmt.Printf("%s:%d: %s\n", filepath.Base(rs.Name()), rs.LineNo(), line)
		}
		st.Set(logPath, rs.Commit())
		return st.Save(statePath) // after the output: at-least-once
	}

	os.WriteFile(logPath, []byte("first\nsecond\nhalf-writ"), 0o644)
	if err := run(); err != nil {
		log.Fatal(err)
	}
	// logrotate: rename and create.
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("ten\n")
	f.Close()
	os.Rename(logPath, logPath+".1")
	os.WriteFile(logPath, []byte("third\n"), 0o644)
	if err := run(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// mail.log:1: first
	// mail.log:2: second
	// mail.log.1:3: half-written
	// mail.log:1: third
}
