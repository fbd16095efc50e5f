// Package chdb is a thin binding over libchdb, ClickHouse as an in-process
// library (npm @chdb/lib-linux-x64-gnu 26.5.3, engine version 26.5.1.1; also
// tested with 26.7.3-stable.1), without cgo: the library is loaded at run time
// with purego, so `CGO_ENABLED=0 go build` works and nothing happens at init.
//
// # Finding the library
//
// The first Open loads libchdb.so from $BROKLE_LIBCHDB when set (and only
// there), else from the cache of scripts/libchdb.sh
// (${BROKLE_CACHE:-$HOME/.cache/brokle}/libchdb/<LibraryVersion>/), next to
// the executable, /usr/local/lib, /usr/lib, and the loader's path
// ("libchdb.so"). When none loads, every call returns an error that
// errors.Is(err, ErrNoLibrary) and whose message is one line saying how to
// get it.
//
// Loading needs Linux or macOS. Importing purego makes a CGO_ENABLED=0 Linux
// binary dynamically linked against glibc (ld-linux, libc.so.6): it no
// longer runs on musl or in a scratch image. The build tag nochdb leaves the
// loader out (Open then always returns ErrNoLibrary) and keeps such a binary
// static; Windows and other systems get the same stub.
//
// # API
//
//	c, err := chdb.Open(dir)      // dir == "": throw-away database
//	err = c.Exec(ctx, "CREATE TABLE ...")
//	res, err := c.Query(ctx, "SELECT ...") // res.Columns, res.Types, res.Rows
//	out, err := c.QueryRaw(ctx, "SELECT ...", "JSONEachRow")
//	formatted, err := c.Parse(ctx, stmt) // the engine's parser, nothing runs
//	err = c.Close()
//
// Engine errors are *Error: Message is the engine's text ("Code: 62.
// DB::Exception: Syntax error: ... (SYNTAX_ERROR)"), Code and Name parsed
// from it. Data for INSERT goes inline, in any input format:
// `INSERT INTO t FORMAT JSONEachRow {"a":1}` or `INSERT INTO t VALUES (...)`
// with Quote for string literals; the query is passed with its length
// (chdb_query_n), so it may hold any bytes.
//
// # Values
//
// Query reads TabSeparatedWithNamesAndTypes and decodes it by the column
// types. Every String byte sequence round-trips (NUL, tab, newline, quotes,
// backslashes, invalid UTF-8).
//
//	String, FixedString(N)          string (FixedString keeps its NUL padding)
//	Int8..Int64, Interval*          int64
//	UInt8..UInt64                   uint64
//	Int128/256, UInt128/256         *big.Int
//	Float32                         float32
//	Float64, BFloat16               float64 (inf, -inf, NaN included)
//	Decimal(P, S)                   string, exact, as the engine prints it ("12.34")
//	Bool                            bool
//	Date, Date32                    time.Time, midnight UTC
//	DateTime, DateTime64(p)         time.Time, the exact instant, in the column's
//	                                time zone when the type names one and Go
//	                                knows it, else UTC
//	UUID, IPv4, IPv6, Enum8/16      string
//	Nullable(T)                     nil or T's value
//	LowCardinality(T)               T's value
//	Array(T)                        []any
//	Tuple(...)                      []any
//	Map(K, V)                       Map ([]MapEntry in the engine's order)
//	Nothing                         nil
//	anything else (JSON, Dynamic,   string: the engine's text for it
//	Variant, Time, AggregateFunction)
//
// Timestamps are exact because Open sets date_time_output_format =
// 'unix_timestamp' on the session: the engine prints Unix time, so no time
// zone database and no DST ambiguity is involved. (The engine prints a
// DateTime64 between -1 s and 0 wrongly, e.g. -0.123 as "0./.-"; the decoder
// reads that back exactly.)
//
// # Constraints, measured on libchdb 26.5.3 and 26.7.3-stable.1
//
//   - One data directory per process. Any number of connections to that
//     directory may be open at once; they share the data, keep their own
//     settings and run statements in parallel. Opening another directory
//     while one is open is refused (libchdb's connect fails; Open returns
//     ErrOtherPath); once every connection is closed another directory opens
//     in 20-50 ms.
//   - libchdb does not stop a second process from opening the same
//     directory; Open takes an flock on it and returns ErrLocked.
//   - dir == "" makes a temporary directory (os.TempDir()/brokle-chdb-*)
//     shared by every in-memory connection of the process and removed with the
//     last Close. (libchdb's own ":memory:" default is also a directory on disk,
//     /tmp/clickhouse-embedded-<uuid>, that it never removes.)
//   - A Conn is safe for concurrent use; its statements run one at a time
//     (libchdb runs one statement per connection). Use several Conns to the
//     same directory for parallelism.
//   - After Close, Exec and Query return ErrClosed without calling libchdb
//     (which would answer "Unexpected null connection", not crash).
//   - Cancellation: the chdb_query call itself cannot be interrupted. A ctx
//     that is done already returns ctx.Err() at once, also while waiting for
//     the connection. When ctx ends while a statement runs, the binding opens
//     a second connection and sends KILL QUERY WHERE query = '<text>' ASYNC
//     every 200 ms until the statement stops (about 0.5 s for a SELECT; the
//     error wraps ctx.Err() and the engine's QUERY_WAS_CANCELLED; the same text
//     running on another connection would be killed too). KILL ... SYNC
//     hangs in libchdb. A statement that does not check for cancellation
//     (some DDL) runs to its end.
//   - Footprint: loading the library (560 MB file) adds about 140 MB RSS; the
//     first Open takes 0.3-0.7 s with the file in the page cache (about 3 s
//     cold) and brings the process to about 190 MB RSS; the engine runs about
//     10-20 threads of its own. A trivial statement costs 1-2 ms. Each time
//     the last connection closes and a new Open boots the engine again, about
//     5 threads and 2 MB stay behind: keep a connection open rather than
//     cycling.
//   - Session state: SET and USE persist on the connection; SETTINGS on a
//     statement applies to that statement only. chdb_connect takes
//     --name=value arguments too (--max_threads=2 took effect,
//     --date_time_output_format did not); the binding passes only --path.
//   - Multi-statement text ("SELECT 1; SELECT 2") is not refused: libchdb runs
//     every statement and concatenates their outputs (which Query cannot
//     decode). Send one statement per call. (formatQuery, and so Parse,
//     refuses several statements.)
//   - A statement that fails after producing some output (or a batch whose
//     later statement fails) leaves that output in libchdb, which prepends it
//     to the next statement's result; the binding runs a draining SELECT 1
//     after every error so the next result is clean.
//   - chdb_connect replaces the process's handlers for SIGILL, SIGTRAP,
//     SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGTSTP and SIGSYS (and
//     chdb_set_signal_handlers_enabled(0) only resets them to the default):
//     with them a nil dereference in Go hangs or kills the process instead of
//     panicking. Open puts the Go runtime's handlers back after connecting;
//     the engine keeps signal 34 (glibc's SIGRTMIN), which Go leaves alone.
//     SIGINT and SIGTERM are untouched, so signal.Notify works.
//
// # Parsing without running
//
// Parse runs SELECT formatQuery('<stmt>'), a pure function over the engine's
// parser: nothing is executed and names are not resolved. A syntax error is
// Code 62 with the 1-based byte offset in the statement, and "(line L, col
// C)" when the statement spans lines:
//
//	Code: 62. DB::Exception: Syntax error: failed at position 27 (=) (line 3,
//	col 11): = 1. Expected one of: ... (SYNTAX_ERROR)
//
// EXPLAIN AST <stmt> parses too, but it is itself a statement: with a ';' in
// the text it runs what follows.
package chdb
