// Package rules turns time-ordered events into findings an admin acts on:
// brute force, spraying, success after failures, new devices, cleartext
// logins, cloud intermediaries, logins outside an allowlist. Rules run on
// event time, never on the wall clock, so replays are deterministic.
//
// # Rules
//
// Every finding names one of these rules. Defaults are those of
// DefaultConfig; each rule has a TOML section (in parentheses) with
// "enabled", "severity" and the keys named below.
//
//   - success-after-failures (success_after_failures), critical: a
//     successful login after at least 5 failed attempts (failures) from the
//     same address or its /24 (/48) network within 1h (window): likely a
//     guessed password. With ignore_known (default true), failures of that
//     same user only, from an address or network in the user's baseline,
//     are the user's own device and do not count. When the success comes
//     from a cloud intermediary, whose networks carry all its users'
//     logins, only that user's failures count.
//   - brute-force (brute_force), high: at least 10 failed attempts from one
//     address within 10m. Not raised when the address fails for one user
//     whose baseline knows the address or network (a phone with a stale
//     password), nor when password-spray covers it.
//   - password-spray (password_spray), high: failures for at least 5
//     distinct users from one address within 1h. The finding has no user.
//   - distributed-attack (distributed_attack), high: failures for one user
//     from at least 10 distinct addresses within 1h; the finding lists the
//     addresses and has no rip. The addresses of one cloud intermediary
//     count as one (Outlook retrying a stale password comes from many).
//   - stale-credentials (stale_credentials), low: at least 10 failed
//     attempts for one user from one address within 24h that are not
//     brute force: a device with an outdated password, or a slow attack.
//   - not-allowlisted (not_allowlisted), high: a successful login from
//     outside the allowlist (only when an Allowlist is given). This is the
//     default --fail-on of check.
//   - new-device (new_device), low, or medium (country_severity) when the
//     country is new: a successful login from a network, ASN or country
//     (report; "address" may be added) that the user's baseline does not
//     know. A user's first login ever is learned silently. Not raised for
//     private space, cloud intermediaries, or allowlisted logins.
//   - impossible-travel (impossible_travel), medium: two successful logins
//     of one user from different countries (GeoIP) less than 1h apart.
//     Origin carries no coordinates, so this is country-level only.
//   - cleartext-auth (cleartext_auth), medium: a successful login without
//     TLS that is neither loopback nor Dovecot "secured" (trusted
//     network), with a mechanism that sends the password (not CRAM-MD5,
//     DIGEST-MD5, SCRAM-*, NTLM, GSSAPI, EXTERNAL). Lines that cannot tell
//     (Postfix) raise nothing.
//   - cloud-intermediary (cloud_intermediary), info: successful logins of
//     one user through one cloud provider (Microsoft, Google, …), which
//     therefore holds the password. One finding per user and provider,
//     listing the addresses; none when the allowlist allows the login.
//
// For brute-force and password-spray an IPv6 "address" is its /64, which
// one client owns: the finding has the address as RemoteIP while one
// address took part, else no RemoteIP and the addresses in Addresses.
// Neither rule counts cloud intermediary addresses (class intermediary),
// which all the provider's users share; their failures still count for
// stale-credentials and distributed-attack.
//
// # Users
//
// User names are compared in their CanonicalUser form (surrounding space
// removed, lower case), as Dovecot's default auth_username_format looks
// them up: "ALICE " is alice for every rule, the baseline (so it is no
// first login) and the allowlist. Findings show that form.
//
// # Events
//
// Only KindLogin and KindSASL events count; KindAuth lines are detail and
// are ignored, so an attempt is never counted twice. A failure counts its
// Attempts ("3 attempts" counts 3, at most 1000 per line). Aborted events
// (no credential verdict, such as "no auth attempts") are not failures. A
// Refused event (connection limit) had its credentials accepted and counts
// as a success. Loopback addresses, and Dovecot "secured" connections from
// private space (webmail, trusted proxies that do not forward the client
// address), are excluded from the per-address rules, new-device and
// impossible-travel; a "secured" login from a public address is the
// client a trusted proxy forwarded and counts as that client. No secured
// or loopback login raises cleartext-auth.
//
// # Findings
//
// There is one finding per rule and subject: (user, address) for most
// rules, the address for brute-force and password-spray, the user for
// distributed-attack, (user, provider) for cloud-intermediary. Later events
// of the same subject update its Count, Last and Evidence (at most
// Config.EvidenceCap "file:line" entries). Count is in attempts for
// failure rules and in logins for success rules; success-after-failures
// counts both.
//
// Each rule keeps at most Config.MaxFindings findings (10000). Past that,
// an event that would open a new finding of the rule is counted in one
// overflow finding of the same rule and severity, with no user and no
// address, whose message names max_findings; so an attacker cannot
// exhaust memory with millions of names or addresses, nor push a finding
// out of a check.
//
// # Windows and memory
//
// Windows slide on the latest event time seen, so events a little out of
// order across files are counted, and events older than a window at
// arrival are not; a Reorder in front of the Engine puts a whole run's
// events (several files, journald and files) in time order first, as
// check does. Each window keeps at most max(4096, 2×threshold) entries and
// counts at most 10000 distinct users or addresses; idle state is dropped
// as time advances. At most 262144 addresses, networks, users and
// (user, address) pairs each are tracked at once: during a flood of more
// distinct subjects within one window, the new ones are not counted until
// room is freed, while those already tracked still are. Findings are kept
// until Flush, within MaxFindings.
package rules
