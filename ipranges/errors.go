package ipranges

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A ParseError reports malformed input: a bad line in a user list or a bad
// value in a downloaded feed or cache file. It prints as
// `file:line: text: err` or `file: $.json.path: "text": err`.
type ParseError struct {
	File string // file name or URL
	Line int    // 1-based line number, 0 when unknown
	Path string // JSON path such as "$.values[3].properties.addressPrefixes[0]", "" for line formats
	Text string // the offending text, "" when none
	Err  error
}

// Error implements error.
func (e *ParseError) Error() string {
	var b bytes.Buffer
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	if e.Text != "" {
		b.WriteString(strconv.Quote(clip(e.Text)) + ": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("malformed")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// clip makes hostile or huge text from a feed or file fit for messages
// and terminals: control characters and invalid UTF-8 become U+FFFD, and
// text longer than 80 bytes is cut at a character boundary.
func clip(s string) string {
	const max = 80
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, s)
	if len(s) > max {
		i := max
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return s[:i] + "…"
	}
	return s
}

// lineOf returns the 1-based line number of byte offset off in data.
func lineOf(data []byte, off int64) int {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// decodeJSON unmarshals data into v, turning decoder errors into
// ParseErrors that carry the line and, where known, the JSON path.
func decodeJSON(name string, data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &ParseError{File: name, Line: lineOf(data, syn.Offset), Err: fmt.Errorf("invalid JSON: %w", err)}
	case errors.As(err, &typ):
		p := "$"
		if typ.Field != "" {
			p += "." + typ.Field
		}
		return &ParseError{File: name, Line: lineOf(data, typ.Offset), Path: p,
			Err: fmt.Errorf("%s where %s expected", typ.Value, jsonKind(typ.Type))}
	}
	return &ParseError{File: name, Err: err}
}

// jsonKind names the JSON value a Go type decodes from, so that messages
// say "object" rather than the name of an internal type.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}
