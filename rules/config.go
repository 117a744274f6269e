package rules

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config holds every threshold, window and severity of the rules. The zero
// Config is not useful: start from DefaultConfig, or load a file with
// LoadConfig, which fills in defaults for keys the file does not set.
//
// Windows are TOML strings in time.ParseDuration syntax ("10m", "24h").
// Counts of failures are counts of attempts: a login line that logs
// "3 attempts" counts 3.
type Config struct {
	// EvidenceCap is the most "file:line" entries a finding keeps.
	EvidenceCap int `toml:"evidence_cap"`
	// MaxAddresses is the most addresses a multi-address finding lists
	// (never more than 1000, the most distinct addresses or users one
	// finding counts: its message then says "1000+").
	MaxAddresses int `toml:"max_addresses"`
	// MaxFindings is the most findings one rule keeps, so that hostile
	// logs (millions of user names or addresses) cannot exhaust memory.
	// Once a rule keeps that many, events that would open a further
	// finding of it are counted in one overflow finding of the same rule
	// and severity, with no user and no address; kept findings still
	// aggregate their own later events.
	MaxFindings int `toml:"max_findings"`
	// IPv4Prefix and IPv6Prefix size the "network" of an address: the
	// network facet a baseline learns, which new-device reports and which
	// explains a user's failures from there.
	IPv4Prefix int `toml:"ipv4_prefix"`
	IPv6Prefix int `toml:"ipv6_prefix"`
	// MaxSources caps the sources (addresses, IPv6 /64s) whose attack
	// state is tracked at once; past it the longest idle are evicted and
	// counted (Engine.NotTracked). Failing (user, source) pairs and users
	// are capped at half of it, the least recently active dropped first.
	MaxSources int `toml:"max_sources"`
	// Retention is how long an accused source stays accused: a login
	// from it within that time is still account-compromise.
	Retention time.Duration `toml:"retention"`

	Attribution          AttributionConfig        `toml:"attribution"`
	BruteForce           BruteForceRule           `toml:"brute_force"`
	StaleCredentials     CountRule                `toml:"stale_credentials"`
	PasswordSpray        SprayRule                `toml:"password_spray"`
	SprayCampaign        CampaignRule             `toml:"spray_campaign"`
	AccountCompromise    SimpleRule               `toml:"account_compromise"`
	DistributedAttack    DistributedRule          `toml:"distributed_attack"`
	SuccessAfterFailures SuccessAfterFailuresRule `toml:"success_after_failures"`
	NewDevice            NewDeviceRule            `toml:"new_device"`
	ImpossibleTravel     TravelRule               `toml:"impossible_travel"`
	CleartextAuth        SimpleRule               `toml:"cleartext_auth"`
	CloudIntermediary    SimpleRule               `toml:"cloud_intermediary"`
	NotAllowlisted       SimpleRule               `toml:"not_allowlisted"`
}

// SimpleRule configures a rule that fires on one event.
type SimpleRule struct {
	// Enabled turns the rule on; every rule is on by default.
	Enabled bool `toml:"enabled"`
	// Severity is given to the rule's findings.
	Severity Severity `toml:"severity"`
}

// CountRule configures a rule that fires when Failures failed attempts
// fall within Window.
type CountRule struct {
	Enabled  bool     `toml:"enabled"`  // as in SimpleRule
	Severity Severity `toml:"severity"` // as in SimpleRule
	// Window is how far back failures count, on event time.
	Window time.Duration `toml:"window"`
	// Failures is the least number of failed attempts that fires.
	Failures int `toml:"failures"`
}

// AttributionConfig configures how failures are attributed before any
// attack rule counts them. A failure waits up to Window for an
// explanation: the same user's success from the same source (a typo), the
// source being in the user's baseline (familiar), or, for a failure that
// names no user, a success from the source or the source being some
// user's known address (a shared gateway). A source with successful logins
// of at least SharedUsers distinct users within a day tolerates Tolerance
// unexplained failures a day per such user (a busy office). Everything
// else is hostile, and only hostile failures feed the attack rules.
type AttributionConfig struct {
	Window      time.Duration `toml:"window"`
	SharedUsers int           `toml:"shared_users"`
	Tolerance   int           `toml:"tolerance"`
}

// BruteForceRule configures brute-force: Failures hostile attempts from
// one source within Window (a burst), or SlowFailures within SlowWindow
// (low-and-slow guessing).
type BruteForceRule struct {
	Enabled      bool          `toml:"enabled"`       // as in SimpleRule
	Severity     Severity      `toml:"severity"`      // as in SimpleRule
	Window       time.Duration `toml:"window"`        // as in CountRule
	Failures     int           `toml:"failures"`      // as in CountRule
	SlowWindow   time.Duration `toml:"slow_window"`   // the slow guessing window
	SlowFailures int           `toml:"slow_failures"` // attempts within SlowWindow that fire
}

// CampaignRule configures spray-campaign: while the server-wide Window of
// hostile failures from sources that are not bursting holds at least
// Sources distinct sources and Names distinct names (each unnamed attempt
// counting as one), every such source joins one campaign.
type CampaignRule struct {
	Enabled  bool          `toml:"enabled"`  // as in SimpleRule
	Severity Severity      `toml:"severity"` // as in SimpleRule
	Window   time.Duration `toml:"window"`   // as in CountRule
	Sources  int           `toml:"sources"`
	Names    int           `toml:"names"`
}

// SprayRule configures password-spray: Users distinct user names failing
// (hostile) from one source within Window.
type SprayRule struct {
	Enabled  bool          `toml:"enabled"`  // as in SimpleRule
	Severity Severity      `toml:"severity"` // as in SimpleRule
	Window   time.Duration `toml:"window"`   // as in CountRule
	// Users is the least number of distinct failing users that fires.
	Users int `toml:"users"`
}

// DistributedRule configures distributed-attack: Addresses distinct
// addresses failing for one user within Window.
type DistributedRule struct {
	Enabled  bool          `toml:"enabled"`  // as in SimpleRule
	Severity Severity      `toml:"severity"` // as in SimpleRule
	Window   time.Duration `toml:"window"`   // as in CountRule
	// Addresses is the least number of distinct failing addresses (one
	// per cloud intermediary) that fires.
	Addresses int `toml:"addresses"`
}

// SuccessAfterFailuresRule configures success-after-failures: a successful
// login after at least Failures failed attempts from the same address or
// network within Window. With IgnoreKnown, failures of the same user from
// an address or network in that user's baseline do not count (the user's
// own phone retrying a stale password before the user fixes it).
type SuccessAfterFailuresRule struct {
	Enabled  bool          `toml:"enabled"`  // as in SimpleRule
	Severity Severity      `toml:"severity"` // as in SimpleRule
	Window   time.Duration `toml:"window"`   // as in CountRule
	Failures int           `toml:"failures"` // as in CountRule
	// IgnoreKnown skips the user's own known device failing first.
	IgnoreKnown bool `toml:"ignore_known"`
}

// NewDeviceRule configures new-device. Report lists the facets whose
// novelty raises a finding ("address", "network", "asn", "country", and
// "wide", "provider", "client"); all are always learned ("client" when the
// log has Dovecot's imap_id_log lines). A new country raises CountrySeverity, any other
// reported facet Severity.
type NewDeviceRule struct {
	Enabled  bool     `toml:"enabled"`  // as in SimpleRule
	Severity Severity `toml:"severity"` // as in SimpleRule
	// CountrySeverity replaces Severity when the country is new.
	CountrySeverity Severity `toml:"country_severity"`
	// RiskSeverity replaces Severity for a login from a hosting network.
	RiskSeverity Severity `toml:"risk_severity"`
	// Report lists the facets whose novelty fires.
	Report []string `toml:"report"`
	// LearningPeriod and LearningLogins: a user's baseline is learned
	// silently until its first login is LearningPeriod old and it holds
	// LearningLogins logins.
	LearningPeriod time.Duration `toml:"learning_period"`
	LearningLogins int           `toml:"learning_logins"`
}

// TravelRule configures impossible-travel: two successful logins of one
// user from different countries less than Window apart.
type TravelRule struct {
	Enabled  bool     `toml:"enabled"`  // as in SimpleRule
	Severity Severity `toml:"severity"` // as in SimpleRule
	// Window is the least time between logins from two countries that
	// does not fire.
	Window time.Duration `toml:"window"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		EvidenceCap:  10,
		MaxAddresses: 100,
		MaxFindings:  10000,
		IPv4Prefix:   24,
		IPv6Prefix:   48,
		MaxSources:   50000,
		Retention:    30 * 24 * time.Hour,
		Attribution:  AttributionConfig{Window: 15 * time.Minute, SharedUsers: 3, Tolerance: 2},
		BruteForce: BruteForceRule{Enabled: true, Severity: Medium,
			Window: 10 * time.Minute, Failures: 10, SlowWindow: 24 * time.Hour, SlowFailures: 10},
		StaleCredentials: CountRule{Enabled: true, Severity: Low,
			Window: 24 * time.Hour, Failures: 10},
		PasswordSpray: SprayRule{Enabled: true, Severity: Medium,
			Window: 24 * time.Hour, Users: 5},
		SprayCampaign: CampaignRule{Enabled: true, Severity: High,
			Window: time.Hour, Sources: 10, Names: 10},
		AccountCompromise: SimpleRule{Enabled: true, Severity: Critical},
		DistributedAttack: DistributedRule{Enabled: true, Severity: High,
			Window: time.Hour, Addresses: 10},
		SuccessAfterFailures: SuccessAfterFailuresRule{Enabled: true, Severity: High,
			Window: time.Hour, Failures: 3, IgnoreKnown: true},
		NewDevice: NewDeviceRule{Enabled: true, Severity: Low, CountrySeverity: Medium, RiskSeverity: Medium,
			Report:         []string{string(FacetNetwork), string(FacetASN), string(FacetCountry)},
			LearningPeriod: 5 * 24 * time.Hour, LearningLogins: 10},
		ImpossibleTravel:  TravelRule{Enabled: true, Severity: Medium, Window: time.Hour},
		CleartextAuth:     SimpleRule{Enabled: true, Severity: Medium},
		CloudIntermediary: SimpleRule{Enabled: true, Severity: Info},
		NotAllowlisted:    SimpleRule{Enabled: true, Severity: High},
	}
}

// Enabled reports whether the rule named rule (a Rule* constant) is
// enabled in c; it reports false for unknown names.
func (c Config) Enabled(rule string) bool {
	switch rule {
	case RuleBruteForce:
		return c.BruteForce.Enabled
	case RuleStaleCredentials:
		return c.StaleCredentials.Enabled
	case RulePasswordSpray:
		return c.PasswordSpray.Enabled
	case RuleSprayCampaign:
		return c.SprayCampaign.Enabled
	case RuleAccountCompromise:
		return c.AccountCompromise.Enabled
	case RuleDistributedAttack:
		return c.DistributedAttack.Enabled
	case RuleSuccessAfterFailures:
		return c.SuccessAfterFailures.Enabled
	case RuleNewDevice:
		return c.NewDevice.Enabled
	case RuleImpossibleTravel:
		return c.ImpossibleTravel.Enabled
	case RuleCleartextAuth:
		return c.CleartextAuth.Enabled
	case RuleCloudIntermediary:
		return c.CloudIntermediary.Enabled
	case RuleNotAllowlisted:
		return c.NotAllowlisted.Enabled
	}
	return false
}

// LoadConfig reads a TOML configuration file over DefaultConfig. Unknown
// keys are rejected by their key path; values of the wrong type or out of
// range are rejected with their line (for type errors) or key path.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, err
	}
	defer f.Close()
	return ParseConfig(f, path)
}

// ParseConfig reads a TOML configuration from r over DefaultConfig; name
// is used in error messages.
func ParseConfig(r io.Reader, name string) (Config, error) {
	return ParseConfigExtra(r, name, nil)
}

// ParseConfigExtra is ParseConfig for a file that also holds the settings
// of other parts of the program: the same text is decoded into extra too
// (a pointer to a struct with toml tags; nil for none), and a key is
// unknown only when neither takes it.
func ParseConfigExtra(r io.Reader, name string, extra any) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	takenByExtra := map[string]bool{}
	if extra != nil {
		md, err := toml.Decode(string(data), extra)
		if err != nil {
			return Config{}, tomlError(name, err)
		}
		undecoded := map[string]bool{}
		for _, k := range md.Undecoded() {
			undecoded[k.String()] = true
		}
		for _, k := range md.Keys() {
			if !undecoded[k.String()] {
				takenByExtra[k.String()] = true
			}
		}
	}
	cfg := DefaultConfig()
	// Decoding appends to slices it finds set; start Report empty so a
	// file's list replaces the default one.
	def := cfg.NewDevice.Report
	cfg.NewDevice.Report = nil
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return Config{}, tomlError(name, err)
	}
	if !md.IsDefined("new_device", "report") {
		cfg.NewDevice.Report = def
	}
	var u []toml.Key
	for _, k := range md.Undecoded() {
		if !takenByExtra[k.String()] {
			u = append(u, k)
		}
	}
	if len(u) > 0 {
		var keys []string
		for i, k := range u {
			// Leave out a table whose keys are listed too.
			if i+1 < len(u) && strings.HasPrefix(u[i+1].String(), k.String()+".") {
				continue
			}
			keys = append(keys, k.String())
		}
		return Config{}, fmt.Errorf("%s: unknown key %s", name, strings.Join(keys, ", "))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// tomlError names the file, line and key of a TOML decoding error.
func tomlError(name string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := strings.TrimPrefix(pe.Message, "toml: ")
		if pe.LastKey != "" {
			msg = pe.LastKey + ": " + msg
		}
		return fmt.Errorf("%s:%d: %s", name, pe.Position.Line, msg)
	}
	// Type mismatches come as "toml: line N (last key "k"): …".
	return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "toml: "))
}

// Validate reports the values of c that are out of range, naming each by
// its TOML key path.
func (c Config) Validate() error {
	var errs []error
	positive := func(key string, v int) {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s = %d: must be at least 1", key, v))
		}
	}
	window := func(key string, d time.Duration) {
		if d < time.Second {
			errs = append(errs, fmt.Errorf("%s = %v: must be at least 1s (write a string such as \"10m\")", key, d))
		}
	}
	severity := func(key string, s Severity) {
		if s < Info || s > Critical {
			errs = append(errs, fmt.Errorf("%s: missing or unknown severity", key))
		}
	}
	positive("evidence_cap", c.EvidenceCap)
	positive("max_addresses", c.MaxAddresses)
	positive("max_findings", c.MaxFindings)
	if c.IPv4Prefix < 8 || c.IPv4Prefix > 32 {
		errs = append(errs, fmt.Errorf("ipv4_prefix = %d: must be between 8 and 32", c.IPv4Prefix))
	}
	if c.IPv6Prefix < 16 || c.IPv6Prefix > 128 {
		errs = append(errs, fmt.Errorf("ipv6_prefix = %d: must be between 16 and 128", c.IPv6Prefix))
	}
	positive("max_sources", c.MaxSources)
	window("retention", c.Retention)
	window("attribution.window", c.Attribution.Window)
	positive("attribution.shared_users", c.Attribution.SharedUsers)
	if c.Attribution.Tolerance < 0 {
		errs = append(errs, fmt.Errorf("attribution.tolerance = %d: must not be negative", c.Attribution.Tolerance))
	}
	window("brute_force.slow_window", c.BruteForce.SlowWindow)
	positive("brute_force.slow_failures", c.BruteForce.SlowFailures)
	severity("spray_campaign.severity", c.SprayCampaign.Severity)
	window("spray_campaign.window", c.SprayCampaign.Window)
	if c.SprayCampaign.Sources < 2 {
		errs = append(errs, fmt.Errorf("spray_campaign.sources = %d: must be at least 2", c.SprayCampaign.Sources))
	}
	if c.SprayCampaign.Names < 2 {
		errs = append(errs, fmt.Errorf("spray_campaign.names = %d: must be at least 2", c.SprayCampaign.Names))
	}
	severity("account_compromise.severity", c.AccountCompromise.Severity)
	severity("new_device.risk_severity", c.NewDevice.RiskSeverity)
	if c.NewDevice.LearningPeriod < 0 {
		errs = append(errs, fmt.Errorf("new_device.learning_period = %v: must not be negative", c.NewDevice.LearningPeriod))
	}
	if c.NewDevice.LearningLogins < 0 {
		errs = append(errs, fmt.Errorf("new_device.learning_logins = %d: must not be negative", c.NewDevice.LearningLogins))
	}
	for _, r := range []struct {
		key string
		c   CountRule
	}{{"brute_force", CountRule{Severity: c.BruteForce.Severity, Window: c.BruteForce.Window, Failures: c.BruteForce.Failures}},
		{"stale_credentials", c.StaleCredentials},
		{"success_after_failures", CountRule{Severity: c.SuccessAfterFailures.Severity,
			Window: c.SuccessAfterFailures.Window, Failures: c.SuccessAfterFailures.Failures}}} {
		severity(r.key+".severity", r.c.Severity)
		window(r.key+".window", r.c.Window)
		positive(r.key+".failures", r.c.Failures)
	}
	severity("password_spray.severity", c.PasswordSpray.Severity)
	window("password_spray.window", c.PasswordSpray.Window)
	if c.PasswordSpray.Users < 2 {
		errs = append(errs, fmt.Errorf("password_spray.users = %d: must be at least 2", c.PasswordSpray.Users))
	}
	severity("distributed_attack.severity", c.DistributedAttack.Severity)
	window("distributed_attack.window", c.DistributedAttack.Window)
	if c.DistributedAttack.Addresses < 2 {
		errs = append(errs, fmt.Errorf("distributed_attack.addresses = %d: must be at least 2", c.DistributedAttack.Addresses))
	}
	severity("new_device.severity", c.NewDevice.Severity)
	severity("new_device.country_severity", c.NewDevice.CountrySeverity)
	for _, f := range c.NewDevice.Report {
		if !Facet(f).valid() {
			errs = append(errs, fmt.Errorf("new_device.report: unknown facet %q (want address, network, wide, asn, country, provider or client)", f))
		}
	}
	severity("impossible_travel.severity", c.ImpossibleTravel.Severity)
	window("impossible_travel.window", c.ImpossibleTravel.Window)
	severity("cleartext_auth.severity", c.CleartextAuth.Severity)
	severity("cloud_intermediary.severity", c.CloudIntermediary.Severity)
	severity("not_allowlisted.severity", c.NotAllowlisted.Severity)
	return errors.Join(errs...)
}
