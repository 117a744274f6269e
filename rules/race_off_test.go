//go:build !race

package rules_test

// raceEnabled reports a -race build: the scoring runs one smaller day.
const raceEnabled = false
