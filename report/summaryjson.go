package report

// appendSummary writes the "summary" object of `scan --format json`; its
// keys are documented on WriteScan.
func appendSummary(bw *bufWriter, s *Summary) {
	b := bw.buf
	b = append(b, `{"intermediaries": [`...)
	inter := s.Intermediaries()
	for i, r := range inter {
		b = sep(b, i)
		b = appendIntermediary(b, r)
		bw.buf = b
		bw.maybeFlush()
		b = bw.buf
	}
	b = endList(b, len(inter) > 0)
	b = append(b, `,`+"\n"+`"logins": [`...)
	i := 0
	for l := range s.AllLogins() {
		b = sep(b, i)
		i++
		b = appendLogin(b, l)
		bw.buf = b
		bw.maybeFlush()
		b = bw.buf
	}
	b = endList(b, i > 0)
	b = append(b, `,`+"\n"+`"failures": [`...)
	i = 0
	for f := range s.AllFailures() {
		b = sep(b, i)
		i++
		b = appendFailure(b, f)
		bw.buf = b
		bw.maybeFlush()
		b = bw.buf
	}
	b = endList(b, i > 0)
	mal, total := s.Malformed()
	b = append(b, `,`+"\n"+`"malformed": {"total":`...)
	b = appendInt(b, total)
	b = append(b, `,"lines":[`...)
	for i, m := range mal {
		b = sep(b, i)
		b = appendMalformed(b, m)
	}
	b = endList(b, len(mal) > 0)
	b = append(b, "},\n"+`"totals": `...)
	b = appendTotals(b, s.Totals())
	b = append(b, '}')
	bw.buf = b
}

// appendUser appends a user name, or null when the line had none or an
// empty one (user=<> names no user).
func appendUser(b []byte, u string, has bool) []byte {
	if !has || u == "" {
		return append(b, "null"...)
	}
	return appendString(b, u)
}

// sep starts the i-th element of a list written one element per line.
func sep(b []byte, i int) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	return append(b, '\n')
}

// endList closes a list written by sep: on its own line when it has
// elements.
func endList(b []byte, nonEmpty bool) []byte {
	if nonEmpty {
		b = append(b, '\n')
	}
	return append(b, ']')
}

// appendLogin appends one row of the logins list.
func appendLogin(b []byte, l Login) []byte {
	b = append(b, `{"user":`...)
	b = appendUser(b, l.User, l.HasUser)
	b = append(b, `,"rip":`...)
	b = appendString(b, l.RemoteIP)
	b = append(b, `,"count":`...)
	b = appendInt(b, l.Count)
	b = append(b, `,"refused":`...)
	b = appendInt(b, l.Refused)
	b = append(b, `,"first":`...)
	b = appendTime(b, l.First)
	b = append(b, `,"last":`...)
	b = appendTime(b, l.Last)
	b = append(b, `,"services":`...)
	b = appendStrings(b, l.Services)
	b = append(b, `,"tls":`...)
	b = appendString(b, l.TLS)
	b = append(b, `,"origin":`...)
	b = appendOrigin(b, l.Origin)
	b = append(b, '}')
	return b
}

// appendFailure appends one row of the failures list.
func appendFailure(b []byte, f AddressFailures) []byte {
	b = append(b, `{"rip":`...)
	b = appendString(b, f.RemoteIP)
	b = append(b, `,"count":`...)
	b = appendInt(b, f.Count)
	b = append(b, `,"probes":`...)
	b = appendInt(b, f.Probes)
	b = append(b, `,"events":`...)
	b = appendInt(b, f.Events)
	b = append(b, `,"users":`...)
	b = appendInt(b, int64(f.Users))
	b = append(b, `,"user_examples":`...)
	b = appendStrings(b, f.UserExamples)
	b = append(b, `,"first":`...)
	b = appendTime(b, f.First)
	b = append(b, `,"last":`...)
	b = appendTime(b, f.Last)
	b = append(b, `,"services":`...)
	b = appendStrings(b, f.Services)
	b = append(b, `,"origin":`...)
	b = appendOrigin(b, f.Origin)
	b = append(b, '}')
	return b
}

// appendMalformed appends one malformed line.
func appendMalformed(b []byte, m Malformed) []byte {
	b = append(b, `{"file":`...)
	b = appendString(b, m.File)
	b = append(b, `,"line":`...)
	b = appendInt(b, int64(m.Line))
	b = append(b, `,"program":`...)
	b = appendStringOrNull(b, m.Program)
	b = append(b, `,"reason":`...)
	b = appendStringOrNull(b, m.Reason)
	b = append(b, '}')
	return b
}

// appendTotals appends the totals object.
func appendTotals(b []byte, t Totals) []byte {
	b = append(b, `{"lines":`...)
	b = appendInt(b, t.Lines)
	b = append(b, `,"long_lines_skipped":`...)
	b = appendInt(b, t.LongLines)
	b = append(b, `,"files":`...)
	b = appendInt(b, int64(t.Files))
	b = append(b, `,"input_errors":`...)
	b = appendInt(b, int64(t.InputErrors))
	b = append(b, `,"malformed":`...)
	b = appendInt(b, t.Malformed)
	b = append(b, `,"probes":`...)
	b = appendInt(b, t.Probes)
	b = append(b, `,"events":{`...)
	for i, kc := range []struct {
		name string
		rc   ResultCounts
	}{{"login", t.Logins}, {"sasl", t.SASL}, {"auth", t.AuthDetails}, {"other", t.Other}} {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, kc.name)
		b = append(b, `:{"success":`...)
		b = appendInt(b, kc.rc.Success)
		b = append(b, `,"failure":`...)
		b = appendInt(b, kc.rc.Failure)
		b = append(b, `,"aborted":`...)
		b = appendInt(b, kc.rc.Aborted)
		b = append(b, `,"other":`...)
		b = appendInt(b, kc.rc.Other)
		b = append(b, '}')
	}
	return append(b, "}}"...)
}
