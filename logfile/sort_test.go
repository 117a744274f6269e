package logfile

import (
	"slices"
	"testing"
)

func TestSortOldestFirst(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{name: "empty", in: nil, want: []string{}},
		{name: "numbered", in: []string{"mail.log", "mail.log.1", "mail.log.2.gz", "mail.log.3.gz"},
			want: []string{"mail.log.3.gz", "mail.log.2.gz", "mail.log.1", "mail.log"}},
		{name: "numbered shell order", in: []string{"mail.log", "mail.log.1", "mail.log.10.gz", "mail.log.2.gz", "mail.log.9.gz"},
			want: []string{"mail.log.10.gz", "mail.log.9.gz", "mail.log.2.gz", "mail.log.1", "mail.log"}},
		{name: "dated", in: []string{"mail.log", "mail.log-20261108", "mail.log-20261101"},
			want: []string{"mail.log-20261101", "mail.log-20261108", "mail.log"}},
		{name: "dated compressed", in: []string{"mail.log-20261108", "mail.log-20261101.gz", "mail.log"},
			want: []string{"mail.log-20261101.gz", "mail.log-20261108", "mail.log"}},
		{name: "rhel maillog", in: []string{"maillog", "maillog-20261124", "maillog-20261117.gz"},
			want: []string{"maillog-20261117.gz", "maillog-20261124", "maillog"}},
		{name: "dateformat with hour", in: []string{"mail.log", "mail.log-2026112410", "mail.log-2026112409"},
			want: []string{"mail.log-2026112409", "mail.log-2026112410", "mail.log"}},
		{name: "dateformat epoch", in: []string{"mail.log-1795600000", "mail.log", "mail.log-999999999"},
			want: []string{"mail.log-999999999", "mail.log-1795600000", "mail.log"}},
		// Regression: these dateformats were not recognised, so their
		// generations were neither ordered nor found by Resume.
		{name: "dateformat with dashes", in: []string{"mail.log", "mail.log-2026-11-24.gz", "mail.log-2026-11-17.gz"},
			want: []string{"mail.log-2026-11-17.gz", "mail.log-2026-11-24.gz", "mail.log"}},
		{name: "dateformat date and epoch", in: []string{"mail.log-20261124-1795600000", "mail.log", "mail.log-20261124-1795500000"},
			want: []string{"mail.log-20261124-1795500000", "mail.log-20261124-1795600000", "mail.log"}},
		{name: "newsyslog", in: []string{"mail.log", "mail.log.0.bz2", "mail.log.1.bz2"},
			want: []string{"mail.log.1.bz2", "mail.log.0.bz2", "mail.log"}},
		{name: "with directories", in: []string{"/var/log/mail.log", "/var/log/mail.log.1"},
			want: []string{"/var/log/mail.log.1", "/var/log/mail.log"}},
		{name: "unrelated keep order", in: []string{"b.txt", "a.txt", "mail.log", "c", "mail.log.1"},
			want: []string{"b.txt", "a.txt", "mail.log.1", "mail.log", "c"}},
		{name: "two logs", in: []string{"mail.log", "mail.err", "mail.err.1", "mail.log.1"},
			want: []string{"mail.log.1", "mail.log", "mail.err.1", "mail.err"}},
		{name: "same dir different dirs", in: []string{"a/mail.log", "b/mail.log.1", "a/mail.log.1"},
			want: []string{"a/mail.log.1", "a/mail.log", "b/mail.log.1"}},
		{name: "dot digits in dir only", in: []string{"v1.2/x", "v1.2/x.1"}, want: []string{"v1.2/x.1", "v1.2/x"}},
		{name: "short dash number is a name", in: []string{"app-12", "app"}, want: []string{"app-12", "app"}},
		{name: "hidden numbered", in: []string{".1", "x"}, want: []string{".1", "x"}},
		{name: "duplicates stable", in: []string{"mail.log", "mail.log.1", "mail.log"},
			want: []string{"mail.log.1", "mail.log", "mail.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := SortOldestFirst(in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("SortOldestFirst(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Errorf("input modified: %q", in)
			}
		})
	}
}

func TestCurrentOnly(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"glob", []string{"/var/log/mail.log", "/var/log/mail.log.1", "/var/log/mail.log.2.gz"}, []string{"/var/log/mail.log"}},
		{"dated", []string{"mail.log-20261101.gz", "mail.log", "mail.err"}, []string{"mail.log", "mail.err"}},
		{"generation alone is kept", []string{"mail.log.1", "other.log"}, []string{"mail.log.1", "other.log"}},
		{"nothing rotated", []string{"a.log", "b.log"}, []string{"a.log", "b.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CurrentOnly(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("CurrentOnly(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLogOf(t *testing.T) {
	for in, want := range map[string]string{
		"/var/log/mail.log": "/var/log/mail.log", "/var/log/mail.log.2.gz": "/var/log/mail.log",
		"mail.log-20261108": "mail.log", "mail.err": "mail.err", "-": "-",
		"mail.log-2026-11-08.gz": "mail.log", "mail.log-20261108-1794355200": "mail.log", "maillog-2026110810": "maillog",
		"a-1-2-3": "a-1-2-3", "mail-log-20261124-": "mail-log-20261124-", "app-2026-11": "app-2026-11",
	} {
		if got := LogOf(in); got != want {
			t.Errorf("LogOf(%q) = %q, want %q", in, got, want)
		}
	}
}
