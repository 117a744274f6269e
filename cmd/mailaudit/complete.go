package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/rules"
)

// severities are the severity names, lowest first.
var severities = []string{"info", "low", "medium", "high", "critical"}

// formatsOf lists the --format values of each command, by command path.
var formatsOf = map[string][]string{
	"mailaudit scan":  {"table", "json", "jsonl", "csv", "html"},
	"mailaudit check": {"table", "json", "jsonl", "csv", "github"},
}

// registerCompletions makes the shells complete flag values: formats,
// rules and severities, providers, and the words of the other enumerated
// flags. It walks every command, so a flag added later is completed
// wherever it appears.
func registerCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		fixed := func(name string, values []string, directive cobra.ShellCompDirective) {
			if c.Flags().Lookup(name) == nil {
				return
			}
			_ = c.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return values, directive
			})
		}
		if f := c.Flags().Lookup("format"); f != nil {
			values, ok := formatsOf[c.CommandPath()]
			if !ok {
				values = formatsFromUsage(f.Usage)
			}
			fixed("format", values, cobra.ShellCompDirectiveNoFileComp)
		}
		fixed("notify-min", severities, cobra.ShellCompDirectiveNoFileComp)
		fixed("progress", []string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp)
		fixed("baseline", []string{"auto", "memory", "state"}, cobra.ShellCompDirectiveNoFileComp)
		fixed("provider", ipranges.Providers(), cobra.ShellCompDirectiveNoFileComp)
		fixed("notify", []string{"mailto:", "https://", "http://"}, cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace)
		for _, dir := range []string{"state-dir", "cache-dir"} {
			if c.Flags().Lookup(dir) != nil {
				_ = c.MarkFlagDirname(dir)
			}
		}
		if c.Flags().Lookup("fail-on") != nil {
			_ = c.RegisterFlagCompletionFunc("fail-on", completeFailOn)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeFailOn completes --fail-on: a severity, or a comma-separated
// list of rule names and severities (the last element is completed).
func completeFailOn(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	i := strings.LastIndexByte(toComplete, ',')
	prefix := toComplete[:i+1]
	var out []string
	for _, w := range append(append([]string(nil), severities...), rules.RuleNames()...) {
		out = append(out, prefix+w)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// formatsFromUsage reads the values a --format usage lists after
// "FORMAT: " ("table, json, jsonl, csv" or "table or json").
func formatsFromUsage(usage string) []string {
	_, list, ok := strings.Cut(usage, "FORMAT`: ")
	if !ok {
		return nil
	}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ReplaceAll(list, " or ", ","), func(r rune) bool { return r == ',' || r == ' ' }) {
		if w == "" || strings.ContainsAny(w, "()") {
			break
		}
		out = append(out, w)
	}
	return out
}
