package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// EnvLibrary names the environment variable that points at libchdb.so.
const EnvLibrary = "BROKLE_LIBCHDB"

// LibraryVersion is the libchdb release scripts/libchdb.sh fetches; the
// binding looks for it in the cache before anywhere else.
const LibraryVersion = "26.5.3"

// ErrNoLibrary is returned (wrapped in a *LoadError) by every entry point when
// libchdb.so cannot be found or loaded. Test with errors.Is.
var ErrNoLibrary = errors.New("the embedded ClickHouse engine needs libchdb.so: get it with `npm pack @chdb/lib-linux-x64-gnu` (or `pip install chdb-core`) and set BROKLE_LIBCHDB=/path/libchdb.so")

// LoadError says why libchdb could not be loaded. Its message is one line;
// it unwraps to ErrNoLibrary.
type LoadError struct {
	Tried  []string // paths tried, in order
	Reason string   // the dynamic loader's complaint about the first existing candidate, if any
}

func (e *LoadError) Error() string {
	msg := ErrNoLibrary.Error()
	if e.Reason != "" {
		msg += " (" + oneLine(e.Reason) + ")"
	}
	return msg
}

func (e *LoadError) Unwrap() error { return ErrNoLibrary }

// lib holds the bound C entry points. Handles are opaque C pointers.
type lib struct {
	path string

	connect      func(argc int32, argv unsafe.Pointer) unsafe.Pointer // chdb_connection *chdb_connect(int, char**)
	closeConn    func(conn unsafe.Pointer)                            // void chdb_close_conn(chdb_connection *)
	queryN       func(conn unsafe.Pointer, q unsafe.Pointer, qlen uintptr, f unsafe.Pointer, flen uintptr) unsafe.Pointer
	resultBuffer func(r unsafe.Pointer) unsafe.Pointer
	resultLength func(r unsafe.Pointer) uintptr
	resultError  func(r unsafe.Pointer) unsafe.Pointer
	resultElapse func(r unsafe.Pointer) float64
	resultRows   func(r unsafe.Pointer) uint64
	resultBytes  func(r unsafe.Pointer) uint64
	destroy      func(r unsafe.Pointer)
}

var (
	loadOnce sync.Once
	theLib   *lib
	loadErr  error
)

// load opens libchdb on first use; nothing happens at package init.
func load() (*lib, error) {
	loadOnce.Do(func() { theLib, loadErr = loadLibrary(candidates()) })
	return theLib, loadErr
}

// LibraryPath loads the library if needed and returns the path it came from.
func LibraryPath() (string, error) {
	l, err := load()
	if err != nil {
		return "", err
	}
	return l.path, nil
}

// Available reports whether libchdb can be loaded (loading it if needed).
func Available() bool {
	_, err := load()
	return err == nil
}

// candidates lists where to look, in order. BROKLE_LIBCHDB, when set, is the
// only candidate.
func candidates() []string {
	if p := os.Getenv(EnvLibrary); p != "" {
		return []string{p}
	}
	var c []string
	// The cache of scripts/libchdb.sh: ${BROKLE_CACHE:-$HOME/.cache/brokle}.
	var caches []string
	if d := os.Getenv("BROKLE_CACHE"); d != "" {
		caches = append(caches, d)
	} else {
		if h, err := os.UserHomeDir(); err == nil {
			caches = append(caches, filepath.Join(h, ".cache", "brokle"))
		}
		if d, err := os.UserCacheDir(); err == nil {
			caches = append(caches, filepath.Join(d, "brokle"))
		}
	}
	for _, d := range caches {
		p := filepath.Join(d, "libchdb", LibraryVersion, "libchdb.so")
		if !slices.Contains(c, p) {
			c = append(c, p)
		}
	}
	if exe, err := os.Executable(); err == nil {
		c = append(c, filepath.Join(filepath.Dir(exe), "libchdb.so"))
	}
	c = append(c, "/usr/local/lib/libchdb.so", "/usr/lib/libchdb.so", "libchdb.so")
	return c
}

func loadLibrary(paths []string) (*lib, error) {
	if unsupported != "" {
		return nil, &LoadError{Tried: paths, Reason: unsupported}
	}
	le := &LoadError{Tried: paths}
	for _, p := range paths {
		if strings.ContainsRune(p, '/') {
			if _, err := os.Stat(p); err != nil {
				continue
			}
		}
		h, err := dlopen(p)
		if err != nil {
			// A bare name that the loader cannot find is the normal "absent" case.
			if strings.ContainsRune(p, '/') && le.Reason == "" {
				le.Reason = err.Error()
				if !strings.Contains(le.Reason, p) {
					le.Reason = p + ": " + le.Reason
				}
			}
			continue
		}
		l, err := bind(h)
		if err != nil {
			if le.Reason == "" {
				le.Reason = p + ": " + err.Error()
			}
			continue
		}
		l.path = p
		if abs, err := filepath.Abs(p); err == nil && strings.ContainsRune(p, '/') {
			l.path = abs
		}
		return l, nil
	}
	return nil, le
}

func bind(h uintptr) (*lib, error) {
	l := &lib{}
	required := []struct {
		fn   any
		name string
	}{
		{&l.connect, "chdb_connect"},
		{&l.closeConn, "chdb_close_conn"},
		{&l.queryN, "chdb_query_n"},
		{&l.resultBuffer, "chdb_result_buffer"},
		{&l.resultLength, "chdb_result_length"},
		{&l.resultError, "chdb_result_error"},
		{&l.resultElapse, "chdb_result_elapsed"},
		{&l.resultRows, "chdb_result_rows_read"},
		{&l.resultBytes, "chdb_result_bytes_read"},
		{&l.destroy, "chdb_destroy_query_result"},
	}
	for _, r := range required {
		sym, err := dlsym(h, r.name)
		if err != nil || sym == 0 {
			return nil, fmt.Errorf("symbol %s missing: not a libchdb with the chdb_* C API", r.name)
		}
		register(r.fn, sym)
	}
	return l, nil
}

// goString copies a NUL-terminated C string.
func goString(p unsafe.Pointer) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
