package logfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpus reads the shared sample logs plain and gzip-compressed and
// checks both give the same lines as a plain split. The corpus is
// optional: a user's clone has none.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "*.log"))
	if len(files) == 0 {
		t.Skip("no shared corpus")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.Count(data, []byte{'\n'})
			if len(data) > 0 && data[len(data)-1] != '\n' {
				want++
			}
			gzPath := filepath.Join(t.TempDir(), "sample")
			writeFile(t, gzPath, gz(t, string(data)))
			for _, path := range []string{file, gzPath} {
				in, err := Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				lr := NewLineReader(in)
				var got bytes.Buffer
				n := 0
				for {
					line, err := lr.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got.Write(line)
					n++
				}
				in.Close()
				if n != want || lr.Long() != 0 {
					t.Errorf("%s: %d lines (%d long), want %d", path, n, lr.Long(), want)
				}
				if stripped := strings.NewReplacer("\r\n", "", "\n", "").Replace(string(data)); got.String() != stripped {
					t.Errorf("%s: content differs", path)
				}
			}
		})
	}
}
