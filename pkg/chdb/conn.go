package chdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// ErrClosed is returned by Exec and Query on a closed connection.
var ErrClosed = errors.New("chdb: connection is closed")

// ErrOtherPath is returned (wrapped) by Open when the process already has the
// engine open on another data directory: libchdb holds one per process.
var ErrOtherPath = errors.New("chdb: libchdb holds one data directory per process")

// ErrLocked is returned (wrapped) by Open when another process has the data
// directory open.
var ErrLocked = errors.New("data directory in use by another process")

// Error is an error reported by the engine. Message is the engine's text,
// e.g. "Code: 62. DB::Exception: Syntax error: ... (SYNTAX_ERROR)".
type Error struct {
	Code    int    // ClickHouse error code, 0 when the message carries none
	Name    string // symbolic name such as "SYNTAX_ERROR", "" when absent
	Message string
}

func (e *Error) Error() string { return e.Message }

func newError(msg string) *Error {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		msg = "chdb: query failed without a message"
	}
	e := &Error{Message: msg}
	if rest, ok := strings.CutPrefix(msg, "Code: "); ok {
		if i := strings.IndexByte(rest, '.'); i > 0 {
			e.Code, _ = strconv.Atoi(rest[:i])
		}
	}
	first, _, _ := strings.Cut(msg, "\n")
	// The symbolic name closes the first line: "... (SYNTAX_ERROR)".
	if first = strings.TrimSpace(first); strings.HasSuffix(first, ")") {
		if i := strings.LastIndexByte(first, '('); i >= 0 {
			name := first[i+1 : len(first)-1]
			if name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" && name[0] >= 'A' && name[0] <= 'Z' {
				e.Name = name
			}
		}
	}
	return e
}

// engine tracks the process-wide state of libchdb: which data directory it
// has open and how many connections use it.
var engine struct {
	mu   sync.Mutex
	path string // absolute data directory of the open connections
	temp bool   // path is our own temporary directory, removed with the last Close
	refs int
	lock *os.File // flock on path, held while refs > 0
}

// Conn is one libchdb connection (a session: SET and USE persist on it).
// It is safe for concurrent use; statements on one Conn run one at a time.
type Conn struct {
	l    *lib
	sem  chan struct{}  // one statement at a time; select-able, unlike a mutex
	pp   unsafe.Pointer // chdb_connection*
	conn unsafe.Pointer // chdb_connection (*pp)
	pin  runtime.Pinner // argv handed to chdb_connect, kept until Close
	path string
	open bool
}

// Open connects to the embedded engine with its data in dir, created if
// needed. dir == "" gives a throw-away database in a temporary directory
// shared by every such connection of the process and removed when the last
// one closes. The library is loaded on the first call.
func Open(dir string) (*Conn, error) {
	l, err := load()
	if err != nil {
		return nil, err
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()

	mem := dir == ""
	var path string
	switch {
	case mem && engine.refs > 0 && engine.temp:
		path = engine.path
	case mem:
		if engine.refs > 0 {
			return nil, fmt.Errorf("%w: %s is open, so an in-memory database cannot be; close it first", ErrOtherPath, engine.path)
		}
		path, err = os.MkdirTemp("", "brokle-chdb-")
		if err != nil {
			return nil, fmt.Errorf("chdb: temporary data directory: %w", err)
		}
	default:
		path, err = filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("chdb: data directory %q: %w", dir, err)
		}
		if engine.refs > 0 && engine.path != path {
			what := engine.path
			if engine.temp {
				what = "an in-memory database"
			}
			return nil, fmt.Errorf("%w: %s is open, so %s cannot be; close it first", ErrOtherPath, what, path)
		}
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("chdb: data directory: %w", err)
		}
	}
	if engine.refs == 0 {
		lock, err := lockDir(path)
		if err != nil {
			if mem {
				os.RemoveAll(path)
			}
			return nil, fmt.Errorf("chdb: %s: %w", path, err)
		}
		engine.lock = lock
	}
	cleanup := func() {
		if engine.refs == 0 {
			if mem {
				os.RemoveAll(path)
			}
			if engine.lock != nil {
				engine.lock.Close()
				engine.lock = nil
			}
		}
	}

	c := &Conn{l: l, sem: make(chan struct{}, 1), path: path}
	args := []string{"brokle", "--path=" + path}
	argv := cArgv(args, &c.pin)
	sigs := saveSignals()
	c.pp = l.connect(int32(len(args)), argv)
	restoreSignals(sigs)
	if c.pp == nil || *(*unsafe.Pointer)(c.pp) == nil {
		c.pin.Unpin()
		cleanup()
		return nil, fmt.Errorf("chdb: libchdb could not open the data directory %s", path)
	}
	c.conn = *(*unsafe.Pointer)(c.pp)
	c.open = true
	engine.path, engine.temp = path, mem
	engine.refs++

	// Timestamps leave the engine as Unix time so that they decode to the
	// exact instant whatever the time zone (see Query).
	if r := l.rawQuery(c.conn, "SET date_time_output_format = 'unix_timestamp'", "TabSeparated"); r.hasErr {
		err := newError(r.errMsg)
		c.closeLocked()
		return nil, err
	}
	return c, nil
}

// Path is the absolute data directory of the connection (a temporary one for
// an in-memory connection).
func (c *Conn) Path() string { return c.path }

// Close closes the connection. Closing twice is harmless.
func (c *Conn) Close() error {
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	engine.mu.Lock()
	defer engine.mu.Unlock()
	c.closeLocked()
	return nil
}

// closeLocked needs engine.mu and the statement slot.
func (c *Conn) closeLocked() {
	if !c.open {
		return
	}
	c.open = false
	c.l.closeConn(c.pp)
	c.pin.Unpin()
	c.pp, c.conn = nil, nil
	engine.refs--
	if engine.refs == 0 {
		if engine.temp {
			os.RemoveAll(engine.path)
		}
		if engine.lock != nil {
			engine.lock.Close()
			engine.lock = nil
		}
		engine.path, engine.temp = "", false
	}
}

// acquire takes the connection's statement slot, giving up when ctx ends.
func (c *Conn) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		<-c.sem
		return err
	}
	if !c.open {
		<-c.sem
		return ErrClosed
	}
	return nil
}

// run executes one statement and returns its output in format.
func (c *Conn) run(ctx context.Context, query, format string) (rawResult, error) {
	if err := c.acquire(ctx); err != nil {
		return rawResult{}, err
	}
	defer func() { <-c.sem }()

	// libchdb has no cancel call for a running statement, but the engine
	// honours KILL QUERY from another connection to the same directory.
	var watcher chan struct{}
	done := make(chan struct{})
	if ctx.Done() != nil {
		watcher = make(chan struct{})
		go func() {
			defer close(watcher)
			select {
			case <-ctx.Done():
				c.kill(query, done)
			case <-done:
			}
		}()
	}
	r := c.l.rawQuery(c.conn, query, format)
	close(done)
	if watcher != nil {
		<-watcher // a KILL under way ends before the next statement can start
	}
	if r.hasErr {
		// libchdb keeps the output a failed statement had produced so far
		// and hands it out ahead of the next statement's: drain it now.
		c.l.rawQuery(c.conn, "SELECT 1", "Null")
		err := newError(r.errMsg)
		if ctx.Err() != nil {
			return r, fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return r, err
	}
	return r, nil
}

// kill stops the statement with the text query that runs on c's engine,
// through a second, short-lived connection to the same directory, repeating
// the KILL until the statement has ended (it may not be registered yet). The
// caller holds c's statement slot, so c (and the engine) stays open.
func (c *Conn) kill(query string, done <-chan struct{}) {
	args := []string{"brokle", "--path=" + c.path}
	var pin runtime.Pinner
	defer pin.Unpin()
	argv := cArgv(args, &pin)
	sigs := saveSignals()
	pp := c.l.connect(int32(len(args)), argv)
	restoreSignals(sigs)
	if pp == nil || *(*unsafe.Pointer)(pp) == nil {
		return
	}
	defer c.l.closeConn(pp)
	// SYNC would wait forever in libchdb 26.5: ASYNC, and look again.
	stmt := "KILL QUERY WHERE query = " + Quote(query) + " ASYNC"
	for {
		c.l.rawQuery(*(*unsafe.Pointer)(pp), stmt, "Null")
		select {
		case <-done:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Exec runs one statement and discards its output. When ctx ends while the
// statement runs, the statement is killed (KILL QUERY through a second
// connection) and the error wraps ctx.Err().
func (c *Conn) Exec(ctx context.Context, query string) error {
	_, err := c.run(ctx, query, "Null")
	return err
}

// QueryRaw runs one statement and returns its output in the given
// ClickHouse output format (e.g. "JSONEachRow", "CSVWithNames") unparsed.
// DateTime values come out as Unix time unless the query says
// SETTINGS date_time_output_format = 'simple'.
func (c *Conn) QueryRaw(ctx context.Context, query, format string) ([]byte, error) {
	r, err := c.run(ctx, query, format)
	return r.data, err
}

// Result is a query's complete output.
type Result struct {
	Columns   []string // column names
	Types     []string // ClickHouse type of each column, e.g. "Nullable(DateTime64(3, 'UTC'))"
	Rows      [][]any  // values as documented in the package comment
	Elapsed   time.Duration
	RowsRead  uint64 // rows the engine reports for the result
	BytesRead uint64
}

// Query runs one statement and decodes its output (see the package comment
// for the Go type of each ClickHouse type). The statement must not carry a
// FORMAT clause of its own.
func (c *Conn) Query(ctx context.Context, query string) (*Result, error) {
	r, err := c.run(ctx, query, "TabSeparatedWithNamesAndTypes")
	if err != nil {
		return nil, err
	}
	res, err := decodeTSV(r.data)
	if err != nil {
		return nil, fmt.Errorf("chdb: decoding the result of %q: %w", abbreviate(query), err)
	}
	res.Elapsed = time.Duration(r.elapsed * float64(time.Second))
	res.RowsRead = r.rowsRead
	res.BytesRead = r.bytesRead
	return res, nil
}

// Version returns the engine version (SELECT version()).
func (c *Conn) Version(ctx context.Context) (string, error) {
	res, err := c.Query(ctx, "SELECT version()")
	if err != nil {
		return "", err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return "", fmt.Errorf("chdb: unexpected version result")
	}
	s, _ := res.Rows[0][0].(string)
	return s, nil
}

func abbreviate(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 80 {
		q = q[:77] + "..."
	}
	return q
}

// Parse asks the engine's own parser whether stmt is one well-formed
// statement, without running it, and returns the engine's formatting of it.
// It runs SELECT formatQuery('<stmt>'): a syntax error comes back as an
// *Error with Code 62 (SYNTAX_ERROR) whose message gives the 1-based byte
// position in stmt and, for a statement of several lines, "(line L, col C)".
// Several statements are refused ("Multi-statements are not allowed"); one
// trailing semicolon is accepted. Inline INSERT data (after VALUES or
// FORMAT) is not parsed. Names are not resolved: a missing table or an
// unknown engine is no error here.
func (c *Conn) Parse(ctx context.Context, stmt string) (string, error) {
	res, err := c.Query(ctx, "SELECT formatQuery("+Quote(stmt)+")")
	if err != nil {
		return "", err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return "", fmt.Errorf("chdb: unexpected formatQuery result")
	}
	s, _ := res.Rows[0][0].(string)
	return s, nil
}

// Quote returns s as a ClickHouse string literal, for any bytes.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
