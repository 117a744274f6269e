package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// flushAt is the buffer size at which streaming writers hand their buffer
// to the io.Writer.
const flushAt = 64 << 10

// An EventWriter writes event records. Write may buffer (JSONL and JSON in
// 64 KiB pieces); Flush hands what is buffered to the io.Writer, for follow
// mode, where a record is only useful once it is out (a table cannot be
// drawn before Close, so Flush does nothing there). Close flushes and
// finishes the document (the closing ] of a JSON array, the table itself),
// but never closes the underlying io.Writer. After an error every later
// call returns that error; Write after Close is an error, a second Close
// does nothing. An EventWriter is not safe for concurrent use.
type EventWriter interface {
	Write(ev parse.Event, o ipranges.Origin) error
	Flush() error
	Close() error
}

// NewEventWriter returns an EventWriter writing to w in format f:
//   - [JSONL]: one event record per line (the contract of
//     `mailaudit scan --events --format jsonl`);
//   - [JSON]: the same records as one JSON array, streamed;
//   - [CSV]: a header row, then one row per event; the origin object is
//     flattened into origin_* columns, null becomes an empty cell;
//   - [Table]: a table for a person, rendered at Close. It keeps every row
//     in memory until then, so prefer JSONL for large inputs.
//
// [GitHub] and unknown formats give an error.
func NewEventWriter(w io.Writer, f Format) (EventWriter, error) {
	switch f {
	case JSONL:
		return &jsonEventWriter{w: w, buf: make([]byte, 0, flushAt+4096)}, nil
	case JSON:
		return &jsonEventWriter{w: w, buf: make([]byte, 0, flushAt+4096), array: true}, nil
	case CSV:
		return &csvEventWriter{cw: csv.NewWriter(w)}, nil
	case Table:
		return &tableEventWriter{w: w}, nil
	}
	return nil, fmt.Errorf("format %q cannot show events (want table, json, jsonl or csv)", string(f))
}

// AppendEvent appends the JSON event record of ev and its origin o to b,
// without a newline, and returns the extended buffer. Keys, always all
// present and in this order: time, host, program, kind, service, result,
// user, rip, lip, tls, method, session, attempts, reason, file, line,
// origin, secured, refused. time is RFC 3339 in the event's own zone with
// a fraction only when there is one, null when zero; host, service, lip,
// method, session, reason are null when empty; user is null when !HasUser
// (and "" for user=<>); tls is true, false or null (unknown); attempts is
// null when 0; kind and result are null only for invalid values. origin
// is null for the zero Origin, else {class, provider, product, labels,
// confidence, asn, country}: empty strings and a zero ASN are null, labels
// is [] when none, each label {name, prefix, source, date}. The AS
// organisation is not in it (it is in the CSV and the tables). A record of
// kind "client" (result null) has one more key after refused: client, the
// program name the connection sent with IMAP ID; no other record has it.
func AppendEvent(b []byte, ev parse.Event, o ipranges.Origin) []byte {
	b = append(b, `{"time":`...)
	b = appendTime(b, ev.Time)
	b = append(b, `,"host":`...)
	b = appendStringOrNull(b, ev.Host)
	b = append(b, `,"program":`...)
	b = appendString(b, ev.Program)
	b = append(b, `,"kind":`...)
	b = appendStringOrNull(b, ev.Kind.String())
	b = append(b, `,"service":`...)
	b = appendStringOrNull(b, ev.Service)
	b = append(b, `,"result":`...)
	b = appendStringOrNull(b, ev.Result.String())
	b = append(b, `,"user":`...)
	if ev.HasUser {
		b = appendString(b, ev.User)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"rip":`...)
	b = appendString(b, ev.RemoteIP)
	b = append(b, `,"lip":`...)
	b = appendStringOrNull(b, ev.LocalIP)
	b = append(b, `,"tls":`...)
	switch ev.TLS {
	case parse.TLSYes:
		b = append(b, "true"...)
	case parse.TLSNo:
		b = append(b, "false"...)
	default:
		b = append(b, "null"...)
	}
	b = append(b, `,"method":`...)
	b = appendStringOrNull(b, ev.Method)
	b = append(b, `,"session":`...)
	b = appendStringOrNull(b, ev.Session)
	b = append(b, `,"attempts":`...)
	if ev.Attempts == 0 {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, int64(ev.Attempts))
	}
	b = append(b, `,"reason":`...)
	b = appendStringOrNull(b, ev.Reason)
	b = append(b, `,"file":`...)
	b = appendString(b, ev.File)
	b = append(b, `,"line":`...)
	b = appendInt(b, int64(ev.Line))
	b = append(b, `,"origin":`...)
	b = appendOrigin(b, o)
	b = append(b, `,"secured":`...)
	b = appendBool(b, ev.Secured)
	b = append(b, `,"refused":`...)
	b = appendBool(b, ev.Refused)
	if ev.Kind == parse.KindClient {
		b = append(b, `,"client":`...)
		b = appendString(b, ev.Client)
	}
	return append(b, '}')
}

// jsonEventWriter writes JSONL, or a JSON array when array is set.
type jsonEventWriter struct {
	w      io.Writer
	buf    []byte
	array  bool
	n      int
	err    error
	closed bool
}

func (j *jsonEventWriter) Write(ev parse.Event, o ipranges.Origin) error {
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return errClosed
	}
	if j.array {
		if j.n == 0 {
			j.buf = append(j.buf, "[\n"...)
		} else {
			j.buf = append(j.buf, ",\n"...)
		}
	}
	j.n++
	j.buf = AppendEvent(j.buf, ev, o)
	if !j.array {
		j.buf = append(j.buf, '\n')
	}
	if len(j.buf) >= flushAt {
		return j.flush()
	}
	return nil
}

func (j *jsonEventWriter) Flush() error {
	if j.err != nil {
		return j.err
	}
	return j.flush()
}

func (j *jsonEventWriter) flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	_, err := j.w.Write(j.buf)
	j.buf = j.buf[:0]
	if err != nil {
		j.err = err
	}
	return err
}

func (j *jsonEventWriter) Close() error {
	if j.err != nil || j.closed {
		return j.err
	}
	j.closed = true
	if j.array {
		if j.n == 0 {
			j.buf = append(j.buf, "[]\n"...)
		} else {
			j.buf = append(j.buf, "\n]\n"...)
		}
	}
	return j.flush()
}

// eventColumns is the header of the CSV and table event outputs.
var eventColumns = []string{
	"time", "host", "program", "kind", "service", "result", "user", "rip", "lip", "tls",
	"method", "session", "attempts", "reason", "file", "line",
	"origin_class", "origin_provider", "origin_product", "origin_labels",
	"origin_confidence", "origin_asn", "origin_country", "secured", "refused",
}

// csvEventWriter writes one CSV row per event.
type csvEventWriter struct {
	cw     *csv.Writer
	header bool
	closed bool
	err    error
}

func (c *csvEventWriter) Write(ev parse.Event, o ipranges.Origin) error {
	if c.err != nil {
		return c.err
	}
	if c.closed {
		return errClosed
	}
	if !c.header {
		c.header = true
		if err := c.cw.Write(eventColumns); err != nil {
			c.err = err
			return err
		}
	}
	row := []string{
		csvTime(ev.Time), csvCell(ev.Host), csvCell(ev.Program), ev.Kind.String(),
		csvCell(ev.Service), ev.Result.String(), csvCell(ev.User), csvCell(ev.RemoteIP),
		csvCell(ev.LocalIP), tlsCell(ev.TLS), csvCell(ev.Method), csvCell(ev.Session),
		intOrEmpty(ev.Attempts), csvCell(reasonOrClient(ev)), csvCell(ev.File), strconv.Itoa(ev.Line),
	}
	row = append(row, originCSV(o)...)
	row = append(row, strconv.FormatBool(ev.Secured), strconv.FormatBool(ev.Refused))
	if err := c.cw.Write(row); err != nil {
		c.err = err
		return err
	}
	return nil
}

func (c *csvEventWriter) Flush() error {
	if c.err != nil {
		return c.err
	}
	c.cw.Flush()
	c.err = c.cw.Error()
	return c.err
}

func (c *csvEventWriter) Close() error {
	if c.err != nil || c.closed {
		return c.err
	}
	c.closed = true
	if !c.header {
		c.header = true
		if err := c.cw.Write(eventColumns); err != nil {
			c.err = err
			return err
		}
	}
	c.cw.Flush()
	c.err = c.cw.Error()
	return c.err
}

// tableEventWriter keeps rows and renders them as one table at Close.
type tableEventWriter struct {
	w      io.Writer
	rows   [][]string
	closed bool
	err    error
}

// eventTableColumns is the header of the event table: the columns a person
// reads; the rest is in the JSON output.
var eventTableColumns = []string{"time", "kind", "service", "result", "user", "rip", "tls", "method", "origin", "reason", "where"}

func (t *tableEventWriter) Write(ev parse.Event, o ipranges.Origin) error {
	if t.err != nil {
		return t.err
	}
	if t.closed {
		return errClosed
	}
	t.rows = append(t.rows, eventRow(ev, o))
	return nil
}

// eventRow is one event as the cells of eventTableColumns, sanitized.
func eventRow(ev parse.Event, o ipranges.Origin) []string {
	return []string{
		tableTime(ev.Time), ev.Kind.String(), dash(Sanitize(ev.Service)), ev.Result.String(),
		tableUser(ev.User, ev.HasUser), dash(Sanitize(ev.RemoteIP)), tlsWord(ev.TLS),
		dash(Sanitize(ev.Method)), originCell(o), dash(Sanitize(reasonOrClient(ev))), where(ev.File, ev.Line),
	}
}

// reasonOrClient is the reason cell of CSV and table rows: the reason, or
// for a client-kind event (which has none) "client NAME", so those formats
// keep their columns.
func reasonOrClient(ev parse.Event) string {
	if ev.Kind == parse.KindClient {
		return "client " + ev.Client
	}
	return ev.Reason
}

func (t *tableEventWriter) Flush() error { return t.err }

func (t *tableEventWriter) Close() error {
	if t.err != nil || t.closed {
		return t.err
	}
	t.closed = true
	t.err = renderTable(t.w, eventTableColumns, t.rows, nil)
	t.rows = nil
	return t.err
}

// tlsCell is the CSV form of a TLS state: true, false or empty.
func tlsCell(v parse.TLS) string {
	switch v {
	case parse.TLSYes:
		return "true"
	case parse.TLSNo:
		return "false"
	}
	return ""
}

// tlsWord is the table form of a TLS state: yes, no or -.
func tlsWord(v parse.TLS) string {
	switch v {
	case parse.TLSYes:
		return "yes"
	case parse.TLSNo:
		return "no"
	}
	return "-"
}

// intOrEmpty formats n, or gives "" for 0.
func intOrEmpty(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
