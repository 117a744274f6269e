package rules

import (
	"fmt"
	"slices"
	"strings"
)

// The rule names, as they appear in findings and in --fail-on.
const (
	RuleBruteForce           = "brute-force"
	RuleStaleCredentials     = "stale-credentials"
	RulePasswordSpray        = "password-spray"
	RuleSprayCampaign        = "spray-campaign"
	RuleAccountCompromise    = "account-compromise"
	RuleDistributedAttack    = "distributed-attack"
	RuleSuccessAfterFailures = "success-after-failures"
	RuleNewDevice            = "new-device"
	RuleImpossibleTravel     = "impossible-travel"
	RuleCleartextAuth        = "cleartext-auth"
	RuleCloudIntermediary    = "cloud-intermediary"
	RuleNotAllowlisted       = "not-allowlisted"
)

// RuleNames returns every rule name, sorted.
func RuleNames() []string {
	names := []string{RuleBruteForce, RuleStaleCredentials, RulePasswordSpray,
		RuleSprayCampaign, RuleAccountCompromise,
		RuleDistributedAttack, RuleSuccessAfterFailures, RuleNewDevice,
		RuleImpossibleTravel, RuleCleartextAuth, RuleCloudIntermediary, RuleNotAllowlisted}
	slices.Sort(names)
	return names
}

// Threshold decides which findings fail a check. The zero Threshold
// matches nothing.
type Threshold struct {
	min   Severity // 0: no severity given
	rules []string
}

// DefaultThreshold returns the threshold of "check" without --fail-on:
// a successful login from outside the allowlist.
func DefaultThreshold() Threshold { return Threshold{rules: []string{RuleNotAllowlisted}} }

// ParseThreshold parses a --fail-on value: a comma-separated list of
// severity names and rule names. A finding matches when its severity is at
// or above the lowest severity listed, or its rule is listed. So "high"
// matches high and critical findings, "brute-force,cleartext-auth" those two
// rules, and "critical,not-allowlisted" both.
func ParseThreshold(s string) (Threshold, error) {
	var t Threshold
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return Threshold{}, fmt.Errorf("empty item in %q", s)
		}
		if sev, err := ParseSeverity(item); err == nil {
			if t.min == 0 || sev < t.min {
				t.min = sev
			}
			continue
		}
		name := strings.ToLower(item)
		if !slices.Contains(RuleNames(), name) {
			return Threshold{}, fmt.Errorf("%q is neither a severity (info, low, medium, high, critical) nor a rule (%s)",
				item, strings.Join(RuleNames(), ", "))
		}
		if !slices.Contains(t.rules, name) {
			t.rules = append(t.rules, name)
		}
	}
	slices.Sort(t.rules)
	return t, nil
}

// Matches reports whether f is at or above t.
func (t Threshold) Matches(f Finding) bool {
	if t.min != 0 && f.Severity >= t.min {
		return true
	}
	return slices.Contains(t.rules, f.Rule)
}

// Rules returns the rule names t lists, sorted; nil when it lists none.
func (t Threshold) Rules() []string { return slices.Clone(t.rules) }

// String returns t in ParseThreshold's syntax.
func (t Threshold) String() string {
	var items []string
	if t.min != 0 {
		items = append(items, t.min.String())
	}
	return strings.Join(append(items, t.rules...), ",")
}
