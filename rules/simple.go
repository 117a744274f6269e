package rules

import (
	"fmt"
	"strings"
	"time"
)

func (e *Engine) travel(in input, f fail, out []Finding) []Finding {
	cc := strings.ToUpper(in.o.Country)
	if cc == "" {
		return out
	}
	u := e.user(f.user)
	if u == nil {
		return out
	}
	prevT, prevCC, prevAddr, had := u.lastT, u.lastCC, u.lastAddr, u.hasLastLog
	if !had || !in.t.Before(u.lastT) {
		u.lastT, u.lastCC, u.lastAddr, u.hasLastLog = in.t, cc, in.ip, true
	}
	if !had || prevCC == cc {
		return out
	}
	gap := in.t.Sub(prevT)
	if gap < 0 {
		gap = -gap
	}
	if gap >= e.cfg.ImpossibleTravel.Window {
		return out
	}
	k := aggKey{rule: RuleImpossibleTravel, user: f.user, subject: in.ip}
	return e.simple(k, e.cfg.ImpossibleTravel.Severity, in, f, out, func(a *agg) string {
		return fmt.Sprintf("login of %q from %s (%s) %s after a login from %s (%s)",
			a.f.User, a.f.RemoteIP, cc, human(gap.Round(time.Second)), prevAddr, prevCC)
	})
}
func challengeResponse(method string) bool {
	m := strings.ToUpper(method)
	return m == "CRAM-MD5" || m == "DIGEST-MD5" || strings.HasPrefix(m, "SCRAM-") ||
		m == "NTLM" || m == "GSSAPI" || m == "EXTERNAL"
}
func (e *Engine) cloud(in input, f fail, out []Finding) []Finding {
	p := strings.ToLower(in.o.Provider)
	if p == "" {
		p = "unknown"
	}
	k := aggKey{rule: RuleCloudIntermediary, user: f.user, subject: p}
	a, fresh := e.findings[k], false
	if a == nil && e.full(k.rule) {
		return e.overflow(k.rule, e.cfg.CloudIntermediary.Severity, in.t, f, out)
	}
	if a == nil {
		a, fresh = e.open(k, e.cfg.CloudIntermediary.Severity, in, in.ev.HasUser, []fail{f}), true
		a.f.RemoteIP = ""
	} else {
		a.add(f, e.cfg)
	}
	a.addAddr(in.ip, e.cfg.MaxAddresses)
	if fresh {
		product := a.f.Origin.Product
		if product == "" {
			product = p
		}
		a.msg = func(a *agg) string {
			return fmt.Sprintf("%s of %q through %s (%s) from %s: a cloud service holds this user's password",
				plural(a.f.Count, "login"), a.f.User, p, product, pluralSet(len(a.addrs), "address"))
		}
		out = append(out, e.snapshot(a))
	}
	return out
}
