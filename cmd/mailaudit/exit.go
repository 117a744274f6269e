package main

import (
	"context"
	"errors"
	"fmt"
)

// The exit codes, mapped from errors in exitCode and nowhere else.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
	exitError    = 3
	exitSignal   = 130
)

// errFindings is returned by check when a finding at or above the
// threshold exists; it maps to exit code 1 and prints nothing more.
var errFindings = errors.New("findings at or above the threshold")

// usageError marks a mistake in the command line (exit 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// inputError collects errors that did not stop the run (a missing file among
// several, a truncated .gz): the run goes on and exits 3 at the end.
type inputError struct{ errs []error }

func (e *inputError) Error() string   { return errors.Join(e.errs...).Error() }
func (e *inputError) Unwrap() []error { return e.errs }

// exitCode maps the error a command returned to the process exit status.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitSignal
	case errors.Is(err, errFindings):
		// Input errors win over findings: a check that could not read
		// everything must not look like an ordinary failing check.
		// So do notifications that could not be delivered.
		var in *inputError
		var de deliveryError
		if errors.As(err, &in) || errors.As(err, &de) {
			return exitError
		}
		return exitFindings
	}
	return exitError
}
