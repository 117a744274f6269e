package parse

import "time"

// stampKind says how much a timestamp told.
type stampKind uint8

const (
	stampNone     stampKind = iota
	stampYearless           // "Nov  2 07:05:09": month, day and clock; year and zone inferred
	stampCivil              // "2024-12-31T06:56:17.784598+01:00" or "2013-08-11 03:56:40"
	stampUnix               // TAI64N and journald: an instant
)

// stamp is a timestamp as decoded from a line, before it becomes a
// time.Time (which only lines that yield an event pay for).
type stamp struct {
	kind                 stampKind
	year, month, day     int
	hour, min, sec, nsec int
	hasZone              bool
	zoneOff              int // seconds east of UTC, when hasZone
	unixSec, unixNsec    int64
}

// monthOf returns the month for an English three-letter abbreviation, 0 if none.
func monthOf(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	switch string(b[:3]) { // no allocation: the compiler switches on the bytes
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// daysIn returns the number of days of month in year; year 0 stands for
// a leap year (a year-less stamp may be Feb 29).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year == 0 || isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// digits2 reads two decimal digits at b[i:].
func digits2(b []byte, i int) (int, bool) {
	if i+2 > len(b) || !isDigit(b[i]) || !isDigit(b[i+1]) {
		return 0, false
	}
	return int(b[i]-'0')*10 + int(b[i+1]-'0'), true
}

// clock reads "hh:mm:ss" at b[i:] and an optional ".fraction" (or ",fraction"),
// returning the index after it.
func clock(b []byte, i int, st *stamp) (int, bool) {
	h, ok1 := digits2(b, i)
	m, ok2 := digits2(b, i+3)
	s, ok3 := digits2(b, i+6)
	if !ok1 || !ok2 || !ok3 || b[i+2] != ':' || b[i+5] != ':' || h > 23 || m > 59 || s > 60 {
		return 0, false
	}
	st.hour, st.min, st.sec = h, m, s
	i += 8
	if i < len(b) && (b[i] == '.' || b[i] == ',') && i+1 < len(b) && isDigit(b[i+1]) {
		i++
		scale := 100000000
		for ; i < len(b) && isDigit(b[i]); i++ {
			st.nsec += int(b[i]-'0') * scale
			scale /= 10
		}
	}
	return i, true
}

// bsdStamp decodes an RFC 3164 / Dovecot log_timestamp / postlog stamp
// "Mmm dd hh:mm:ss" (day space-padded, zero-padded or bare, optional
// fraction) at the start of b and returns the length consumed, excluding the
// following space.
func bsdStamp(b []byte, st *stamp) (int, bool) {
	mon := monthOf(b)
	if mon == 0 || len(b) < 14 || b[3] != ' ' {
		return 0, false
	}
	i := 4
	if b[i] == ' ' { // space-padded day
		i++
	}
	if i >= len(b) || !isDigit(b[i]) {
		return 0, false
	}
	day := int(b[i] - '0')
	i++
	if i < len(b) && isDigit(b[i]) {
		day = day*10 + int(b[i]-'0')
		i++
	}
	if day < 1 || day > daysIn(mon, 0) || i >= len(b) || b[i] != ' ' {
		return 0, false
	}
	i++
	if i+8 > len(b) {
		return 0, false
	}
	n, ok := clock(b, i, st)
	if !ok {
		return 0, false
	}
	st.kind, st.month, st.day = stampYearless, mon, day
	return n, true
}

// isoStamp decodes "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm|±hh]" at the
// start of b and returns the length consumed.
func isoStamp(b []byte, st *stamp) (int, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') {
		return 0, false
	}
	y1, ok1 := digits2(b, 0)
	y2, ok2 := digits2(b, 2)
	mo, ok3 := digits2(b, 5)
	d, ok4 := digits2(b, 8)
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y1*100+y2) {
		return 0, false
	}
	i, ok := clock(b, 11, st)
	if !ok {
		return 0, false
	}
	st.kind, st.year, st.month, st.day = stampCivil, y1*100+y2, mo, d
	if i >= len(b) {
		return i, true
	}
	switch b[i] {
	case 'Z':
		st.hasZone = true
		return i + 1, true
	case '+', '-':
		sign := 1
		if b[i] == '-' {
			sign = -1
		}
		hh, okh := digits2(b, i+1)
		if !okh || hh > 23 {
			return 0, false
		}
		j := i + 3
		mm := 0
		if j < len(b) && b[j] == ':' {
			var okm bool
			if mm, okm = digits2(b, j+1); !okm {
				return 0, false
			}
			j += 3
		} else if m, okm := digits2(b, j); okm {
			mm = m
			j += 2
		}
		if mm > 59 {
			return 0, false
		}
		st.hasZone, st.zoneOff = true, sign*(hh*3600+mm*60)
		return j, true
	}
	return i, true
}

// tai64n decodes "@4000000004c91b044077a9e94" (daemontools multilog) at the
// start of b. multilog writes 2^62 + 10 + the Unix time (taia_now), so the
// ten seconds are taken off again.
func tai64n(b []byte, st *stamp) (int, bool) {
	if len(b) < 25 || b[0] != '@' {
		return 0, false
	}
	var sec, nsec uint64
	for i := 1; i < 25; i++ {
		c := b[i]
		var v byte
		switch {
		case isDigit(c):
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		if i <= 16 {
			sec = sec<<4 | uint64(v)
		} else {
			nsec = nsec<<4 | uint64(v)
		}
	}
	const base = 1<<62 + 10
	if sec < base || nsec >= 1e9 {
		return 0, false
	}
	st.kind, st.unixSec, st.unixNsec = stampUnix, int64(sec-base), int64(nsec)
	return 25, true
}

// loc returns the Parser's zone for zone-less stamps.
func (p *Parser) loc() *time.Location {
	if p.Location != nil {
		return p.Location
	}
	return time.Local
}

// fixedZone returns a zone for a numeric offset, reusing the last one so a
// file in one zone does not allocate a Location per event.
func (p *Parser) fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if p.zone == nil || p.zoneOff != off {
		p.zone, p.zoneOff = time.FixedZone("", off), off
	}
	return p.zone
}

// time turns a decoded stamp into a time.Time, inferring the year of
// year-less stamps.
func (p *Parser) time(st *stamp) time.Time {
	switch st.kind {
	case stampYearless:
		y := p.yearFor(st)
		if st.month == 2 && st.day == 29 {
			// Only a leap year has one: a year inferred (or set) wrong
			// must not turn it into Mar 1. Take the last leap year.
			for !isLeap(y) {
				y--
			}
		}
		return time.Date(y, time.Month(st.month), st.day, st.hour, st.min, st.sec, st.nsec, p.loc())
	case stampCivil:
		loc := p.loc()
		if st.hasZone {
			loc = p.fixedZone(st.zoneOff)
		}
		return time.Date(st.year, time.Month(st.month), st.day, st.hour, st.min, st.sec, st.nsec, loc)
	case stampUnix:
		return time.Unix(st.unixSec, st.unixNsec).In(p.loc())
	}
	return time.Time{}
}

// yearFor infers the year of a year-less stamp. With Parser.Year set, that
// year is used. Otherwise the first stamp takes the year of Now, or the one
// before when the stamp would lie more than a day in Now's future; later
// stamps keep that year, moving to the next one when the month drops by six
// or more (Dec -> Jan), and reading a stamp that jumps forward by six months
// or more (a late line from the old year) as the year before, without
// changing the state. Whatever the months do (logs joined with cat, several
// hosts), a stamp is never placed more than a day after Now: a roll-over
// that would do so is not made, and such a stamp is read as the year
// before.
func (p *Parser) yearFor(st *stamp) int {
	if p.Year != 0 {
		return p.Year
	}
	if p.curYear == 0 {
		now := p.now()
		y := now.Year()
		if p.future(y, st, now) {
			y--
		}
		for st.month == 2 && st.day == 29 && !isLeap(y) {
			y-- // the stamp can only be from a leap year
		}
		p.curYear, p.lastMonth = y, st.month
		return y
	}
	y := p.curYear
	switch d := st.month - p.lastMonth; {
	case d <= -6:
		if !p.future(y+1, st, p.now()) {
			p.curYear++
			y++
		}
	case d >= 6:
		return y - 1
	}
	p.lastMonth = st.month
	if p.future(y, st, p.now()) {
		return y - 1
	}
	return y
}

// now returns Parser.Now() or the current time, in the Parser's zone.
func (p *Parser) now() time.Time {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	return now.In(p.loc())
}

// future reports whether st in year y lies more than a day (clock skew)
// after now.
func (p *Parser) future(y int, st *stamp, now time.Time) bool {
	t := time.Date(y, time.Month(st.month), st.day, st.hour, st.min, st.sec, 0, p.loc())
	return t.After(now.Add(24 * time.Hour))
}
