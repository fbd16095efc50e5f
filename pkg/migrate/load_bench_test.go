package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad5000 reads a folder of 5,000 migrations the way status does (every file read,
// checksummed and parsed; goose parses none of them, since status runs none).
func BenchmarkLoad5000(b *testing.B) {
	dir := b.TempDir()
	for i := 1; i <= 5000; i++ {
		text := fmt.Sprintf("-- +migrate Up\nCREATE TABLE t%d (id bigint PRIMARY KEY, name text NOT NULL);\n-- +migrate Down\nDROP TABLE t%d;\n", i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%06d_t%d.sql", i, i)), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := LoadAll(DirFS(dir), dir, LoadOptions{WrapDollarQuoted: true}); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
