package migrate

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DirFS is the folder dir as a migration source: os.DirFS, whose files are read with the fewest
// system calls the platform allows (status reads every file of a folder of thousands).
func DirFS(dir string) fs.FS {
	// filepath.Join(dir, name) of a valid path is this prefix and name.
	return dirFS{FS: os.DirFS(dir), dir: dir, prefix: strings.TrimSuffix(filepath.Join(dir, "x"), "x")}
}

type dirFS struct {
	fs.FS  // os.DirFS's: it also lists and stats without opening (fs.Stat would open a FIFO)
	dir    string
	prefix string
}

func (d dirFS) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(d.FS, name) }
func (d dirFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(d.FS, name) }

// ReadFile reads a file of the folder: one that is not a regular file is refused, never waited on.
func (d dirFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	return readRegular(d.prefix + filepath.FromSlash(name))
}

// reader is how Source.read reads many files of one source: a DirFS opens its folder once and
// opens each file relative to it (the kernel then looks up one name, not the whole path).
func reader(fsys fs.FS) (readFile func(name string) ([]byte, error), done func()) {
	if d, ok := fsys.(dirFS); ok {
		if readAt, closeDir, err := openDir(d.dir); err == nil {
			return func(name string) ([]byte, error) {
				if !fs.ValidPath(name) {
					return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
				}
				return readAt(filepath.FromSlash(name))
			}, closeDir
		}
	}
	return func(name string) ([]byte, error) { return fs.ReadFile(fsys, name) }, func() {}
}
