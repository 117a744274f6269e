package rules

import (
	"fmt"
	"strings"
)

// ParseSeverity returns the Severity named s ("info", "low", "medium",
// "high" or "critical", in any case).
func ParseSeverity(s string) (Severity, error) {
	for v := Info; v <= Critical; v++ {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", s)
}

// UnmarshalText sets s from its contract name, so that configuration files
// can name severities.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText returns the contract name of s.
func (s Severity) MarshalText() ([]byte, error) {
	if s.String() == "" {
		return nil, fmt.Errorf("invalid severity %d", uint8(s))
	}
	return []byte(s.String()), nil
}
