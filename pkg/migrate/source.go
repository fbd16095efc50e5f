package migrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"
	"unicode/utf8"

	"github.com/brokle-ai/brokle/internal/lazyre"
)

// Format is the dialect a migration file was written in.
type Format string

const (
	// FormatMigrate is one file with "-- +migrate Up" / "-- +migrate Down" sections (what create writes).
	FormatMigrate Format = "migrate"
	// FormatGoose is goose's own "-- +goose Up" / "-- +goose Down" file.
	FormatGoose Format = "goose"
	// FormatPair is golang-migrate's NNN_name.up.sql + NNN_name.down.sql.
	FormatPair Format = "pair"
)

// Statement is one statement of a migration as goose sends it, with where it starts.
type Statement struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Text string `json:"text"`
}

// Migration is one versioned migration as found on disk, already translated to goose's format
// and parsed, in both directions, the way goose parses it.
type Migration struct {
	Version  int64
	Name     string   // the part of the file name after the version, without extensions
	Files    []string // the files it came from, relative to the source folder's display path
	Format   Format
	Checksum string // SHA-256 of the text (up file then down file for pairs), BOM and CRLF normalized
	// RawChecksum is the SHA-256 of the bytes as they are on disk; a history row holding it (what
	// brokle recorded before it normalized) is no drift either.
	RawChecksum string
	NoTx        bool // runs outside a transaction
	// Template: the file is still exactly as `migrate create` wrote it. status lists it as
	// pending with a warning; up refuses it, so nobody records a migration they forgot to write.
	Template bool
	HasDown  bool
	UpLine   int         // line of the Up marker in Files[0] (1 for pairs)
	Texts    [][]byte    // the original text of each of Files
	Up, Down []Statement // what goose sends, in order

	gooseName string
	gooseText []byte
	// mirrorDiffers: brokle's reading of the file split it otherwise than goose did (goose's
	// statements are used; the lines may be off). Tests and fuzzing keep it false.
	mirrorDiffers bool
	// rewritten: opts.Rewrite changed the text goose runs.
	rewritten bool

	paths   []string // the files' names in the source's fs.FS
	loaded  bool     // read, checksummed and parsed (a lazy source reads on demand)
	checked bool     // goose parsed it too, both ways, and its statements are the ones above
}

// File is the migration's main file, for messages.
func (m *Migration) File() string { return m.Files[0] }

// FileFor is the file that holds the statements of one direction: a golang-migrate pair's
// .down.sql for down, else the migration's one file.
func (m *Migration) FileFor(up bool) string {
	if !up && len(m.Files) > 1 {
		return m.Files[1]
	}
	return m.Files[0]
}

// Statements are the statements of one direction.
func (m *Migration) Statements(up bool) []Statement {
	if up {
		return m.Up
	}
	return m.Down
}

// Source is a folder of migrations for one database.
type Source struct {
	Display    string       // how the folder is named in messages: "migrations/" or "embedded:migrations/"
	BuiltIn    bool         // the set built into the binary, not a folder on disk
	Note       string       // why the built-in set is used: "no folder at migrations"
	Migrations []*Migration // sorted by version; with LoadOptions.Lazy, read when Load asks
	byVersion  map[int64]*Migration
	fsys       fs.FS
	opts       LoadOptions
}

// Lookup returns the migration with the version, or nil.
func (s *Source) Lookup(v int64) *Migration { return s.byVersion[v] }

// Latest is the highest version, 0 when there is none.
func (s *Source) Latest() int64 {
	if len(s.Migrations) == 0 {
		return 0
	}
	return s.Migrations[len(s.Migrations)-1].Version
}

// GooseFS is the folder as goose reads it: one goose-format .sql file per version read.
func (s *Source) GooseFS() fs.FS { return gooseFS(s.Migrations) }

// gooseFS is ms as goose reads them, those read.
func gooseFS(ms []*Migration) fs.FS {
	m := make(fstest.MapFS, len(ms))
	for _, mig := range ms {
		if mig.loaded {
			m[mig.gooseName] = &fstest.MapFile{Data: mig.gooseText, Mode: 0o444}
		}
	}
	return m
}

// SourceError is a problem with a migration file. It names the file and, when known, the line.
type SourceError struct {
	File string
	Line int
	Msg  string
}

func (e *SourceError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// SourceErrors are every problem of a folder, in file and line order.
type SourceErrors []*SourceError

func (es SourceErrors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	return fmt.Sprintf("%s (and %d more problem(s): `brokle migrate validate` lists them all)", es[0].Error(), len(es)-1)
}

// Unwrap lets errors.As find the first SourceError.
func (es SourceErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// LoadOptions tune how files are translated for a database.
type LoadOptions struct {
	// AllNoTx marks every migration as running outside a transaction, each statement sent on its
	// own (ClickHouse has no transactions and runs one statement per query).
	AllNoTx bool
	// WrapDollarQuoted sends a golang-migrate file that holds dollar-quoted bodies as one
	// statement, the way golang-migrate itself sends it (PostgreSQL functions).
	WrapDollarQuoted bool
	// Rewrite, when set, changes the text goose runs (not the text checksummed), such as
	// ClickHouse's {cluster} placeholder.
	Rewrite func(string) string
	// Lazy lists the folder and checks the names only: a migration's files are read, checksummed
	// and parsed when the engine prepares it (down and redo read the ones they roll back).
	Lazy bool
	// GooseCheck has goose parse every file at load, both ways (validate). Otherwise goose parses
	// at load only the files brokle's own reading cannot vouch for (Migration.mayDiffer): for
	// every other one brokle's reading is goose's (FuzzLoad holds it to that), and goose parses a
	// migration again as it plans or runs it.
	GooseCheck bool
}

var (
	fileNameRE   = lazyre.New(`(?i)^(\d+)_(.*?)(\.up|\.down)?\.sql$`)
	sqlExtRE     = lazyre.New(`(?i)\.sql$`)
	migrateMark  = lazyre.New(`^--\s*\+migrate\s+(\S+)(.*)$`)
	dollarQuote  = lazyre.New(`\$[A-Za-z_]*\$`)
	noVersionMsg = "file name has no version: want NNNNNN_name.sql (or NNNNNN_name.up.sql with NNNNNN_name.down.sql)"
	utf8BOM      = []byte("\xef\xbb\xbf")
)

// Load reads every .sql file at the top of fsys (sub-folders belong to other databases) and
// returns the migrations sorted by version, or every problem found (SourceErrors), each naming
// its file and line. Every file is read, checksummed and parsed in both directions, the way goose
// parses it, before anything connects.
func Load(fsys fs.FS, display string, opts LoadOptions) (*Source, error) {
	src, errs := LoadAll(fsys, display, opts)
	if len(errs) > 0 {
		return nil, errs
	}
	return src, nil
}

// LoadAll is Load that returns what loaded along with every problem. With opts.Lazy it lists the
// folder and checks the names only; the engine reads the migrations a command needs.
func LoadAll(fsys fs.FS, display string, opts LoadOptions) (*Source, SourceErrors) {
	src, errs := scan(fsys, display, opts)
	if !opts.Lazy {
		errs = append(errs, src.read(src.Migrations)...)
		kept := src.Migrations[:0]
		for _, m := range src.Migrations {
			if m.loaded {
				kept = append(kept, m)
			} else {
				delete(src.byVersion, m.Version)
			}
		}
		clear(src.Migrations[len(kept):])
		src.Migrations = kept
		if opts.GooseCheck {
			errs = append(errs, src.check(src.Migrations)...)
		}
	}
	errs = sortErrs(errs)
	if len(errs) == 0 {
		return src, nil
	}
	return src, errs
}

// sortErrs puts problems in file and line order, each once (both directions may find the same).
func sortErrs(errs SourceErrors) SourceErrors {
	slices.SortStableFunc(errs, func(a, b *SourceError) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return slices.CompactFunc(errs, func(a, b *SourceError) bool { return *a == *b })
}

// scan lists the folder: every migration's version, name and files, and every problem with the
// names, without reading a file.
func scan(fsys fs.FS, display string, opts LoadOptions) (*Source, SourceErrors) {
	src := &Source{Display: display, byVersion: map[int64]*Migration{}, fsys: fsys, opts: opts}
	var errs SourceErrors
	fail := func(file string, line int, format string, args ...any) {
		errs = append(errs, &SourceError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		fail(display, 0, "cannot read the migrations folder: %v", unwrapPathErr(err))
		return src, errs
	}
	type pairParts struct{ up, down, name string }
	pairs := map[int64]*pairParts{}
	seen := make(map[int64]string, len(entries))
	src.byVersion = make(map[int64]*Migration, len(entries))
	src.Migrations = make([]*Migration, 0, len(entries))
	claim := func(v int64, file string) bool {
		if other, ok := seen[v]; ok {
			fail(path.Join(display, file), 0, "version %d is used twice: also by %s", v, path.Join(display, other))
			return false
		}
		seen[v] = file
		return true
	}
	// path.Join(display, name) for an entry's name (one element, never . or ..), made once.
	prefix := strings.TrimSuffix(path.Join(display, "x"), "x")
	// ReadDir returns the entries sorted by name.
	for _, e := range entries {
		name := e.Name()
		if !hasSQLExt(name) {
			continue
		}
		file := prefix + name
		if e.IsDir() {
			fail(file, 0, "a folder named like a migration file: rename it")
			continue
		}
		sm := splitFileName(name)
		if sm == nil {
			fail(file, 0, "%s", noVersionMsg)
			continue
		}
		v, err := strconv.ParseInt(sm[1], 10, 64)
		if err != nil || v < 1 {
			fail(file, 0, "version %s: want a whole number from 1 to %d", sm[1], int64(1<<63-1))
			continue
		}
		if sm[2] == "" {
			fail(file, 0, "no name after the version: want %s_create_something%s", sm[1], name[len(sm[1])+1:])
			continue
		}
		if strings.Contains(sm[2], ".") {
			fail(file, 0, "the name holds a dot: want %s_name.sql (or .up.sql / .down.sql)", sm[1])
			continue
		}
		// The listing says what an entry is; only a link is looked up. (A FIFO would block a read.)
		if t := e.Type(); !t.IsRegular() {
			if t&fs.ModeSymlink == 0 {
				fail(file, 0, "not a regular file: a migration must be a plain file")
				continue
			}
			if st, err := fs.Stat(fsys, name); err != nil || !st.Mode().IsRegular() {
				fail(file, 0, "not a regular file: a migration must be a plain file")
				continue
			}
		}
		switch strings.ToLower(sm[3]) {
		case ".up", ".down":
			p := pairs[v]
			if p == nil {
				p = &pairParts{name: sm[2]}
				pairs[v] = p
			}
			if strings.ToLower(sm[3]) == ".up" {
				if claim(v, name) {
					p.up, p.name = name, sm[2]
				}
			} else {
				if p.down != "" {
					fail(file, 0, "version %d has two down files: also %s", v, path.Join(display, p.down))
					continue
				}
				p.down = name
			}
		default:
			if claim(v, name) {
				src.add(&Migration{Version: v, Name: sm[2], Files: []string{file}, paths: []string{name}})
			}
		}
	}
	for v, p := range pairs {
		if p.up == "" {
			if _, taken := seen[v]; !taken {
				fail(path.Join(display, p.down), 0, "down file without its up file: want %s", strings.Replace(p.down, ".down.", ".up.", 1))
			}
			continue
		}
		m := &Migration{Version: v, Name: p.name, Format: FormatPair, Files: []string{path.Join(display, p.up)}, paths: []string{p.up}}
		if p.down != "" {
			m.Files = append(m.Files, path.Join(display, p.down))
			m.paths = append(m.paths, p.down)
		}
		src.add(m)
	}
	slices.SortFunc(src.Migrations, func(a, b *Migration) int { return cmpInt64(a.Version, b.Version) })
	return src, errs
}

// read reads, checksums and parses the migrations of ms not read yet; a migration that fails
// stays unread, and its problems are returned. goose parses those of them whose reading brokle
// cannot vouch for (mayDiffer) right away. A large set is read by one goroutine per processor.
func (s *Source) read(ms []*Migration) SourceErrors {
	var todo []*Migration
	for _, m := range ms {
		if !m.loaded {
			todo = append(todo, m)
		}
	}
	ferrs := make([]SourceErrors, len(todo))
	readFile, done := reader(s.fsys)
	defer done()
	readRange := func(from, to int) {
		for i := from; i < to; i++ {
			ferrs[i] = s.readOne(todo[i], readFile)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo)/parallelReadMin)
	if workers > 1 {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { readRange(w*len(todo)/workers, (w+1)*len(todo)/workers) })
		}
		wg.Wait()
	} else {
		readRange(0, len(todo))
	}
	var errs SourceErrors
	var unsure []*Migration
	for i, m := range todo {
		errs = append(errs, ferrs[i]...)
		if m.loaded && m.mayDiffer() {
			unsure = append(unsure, m)
		}
	}
	return append(errs, s.check(unsure)...)
}

// parallelReadMin is the fewest files a goroutine of read is given: below it one goroutine
// reads faster than several start.
const parallelReadMin = 256

// readOne reads, checksums and parses one migration in place; one that fails stays as the
// listing made it.
func (s *Source) readOne(m *Migration, readFile func(string) ([]byte, error)) SourceErrors {
	listed := *m
	var got *Migration
	var errs SourceErrors
	if m.Format == FormatPair {
		down := ""
		if len(m.paths) > 1 {
			down = m.paths[1]
		}
		got, errs = parsePair(readFile, s.Display, m.Version, m.paths[0], down, s.opts)
	} else {
		data, err := readFile(m.paths[0])
		if err != nil {
			return SourceErrors{{File: m.File(), Msg: fmt.Sprintf("cannot read it: %v", unwrapPathErr(err))}}
		}
		got, errs = parseSingle(m, data, s.opts)
	}
	if got == nil {
		*m = listed
		return errs
	}
	if got != m {
		*m = *got
	}
	m.paths, m.loaded = listed.paths, true
	return errs
}

// Load reads, checksums and parses the migrations of ms not read yet (a lazy source reads only
// what a command uses); the error is every problem of theirs (SourceErrors).
func (s *Source) Load(ms []*Migration) error {
	if errs := sortErrs(s.read(ms)); len(errs) > 0 {
		return errs
	}
	return nil
}

// hasSQLExt is sqlExtRE: the name ends in .sql, in any case.
func hasSQLExt(name string) bool {
	if !isASCII(name) {
		return sqlExtRE.MatchString(name) // (?i) folds some letters that are not ASCII into s, q, l
	}
	return len(name) >= 4 && strings.EqualFold(name[len(name)-4:], ".sql")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// splitFileName is fileNameRE.FindStringSubmatch: the whole name, the version's digits, the
// name, and .up or .down (or ""); nil when it is not a migration's name. Loading thousands of
// files, it costs a fraction of the expression's time (TestSplitFileName holds them equal).
func splitFileName(file string) []string {
	if !isASCII(file) {
		return fileNameRE.FindStringSubmatch(file)
	}
	if !hasSQLExt(file) {
		return nil
	}
	rest := file[:len(file)-4]
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	if digits == 0 || digits == len(rest) || rest[digits] != '_' {
		return nil
	}
	name, ext := rest[digits+1:], ""
	for _, e := range []string{".up", ".down"} {
		if len(name) >= len(e) && strings.EqualFold(name[len(name)-len(e):], e) {
			name, ext = name[:len(name)-len(e)], name[len(name)-len(e):]
			break
		}
	}
	return []string{file, rest[:digits], name, ext}
}

// reSpace is what \s matches in Go's regular expressions.
const reSpace = "\t\n\f\r "

// migrateMarkOf is migrateMark.FindStringSubmatch of a trimmed line (the line, the command, the
// rest; nil when it is not a -- +migrate annotation), at a fraction of the expression's cost
// (TestMigrateMarkOf holds them equal).
func migrateMarkOf(line string) (sm [3]string, ok bool) {
	rest, ok := strings.CutPrefix(line, "--")
	if !ok {
		return sm, false
	}
	if rest, ok = strings.CutPrefix(strings.TrimLeft(rest, reSpace), "+migrate"); !ok {
		return sm, false
	}
	cmd := strings.TrimLeft(rest, reSpace)
	if len(cmd) == len(rest) || cmd == "" {
		return sm, false
	}
	end := strings.IndexAny(cmd, reSpace)
	if end < 0 {
		end = len(cmd)
	}
	return [3]string{line, cmd[:end], cmd[end:]}, true
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (s *Source) add(m *Migration) {
	s.Migrations = append(s.Migrations, m)
	s.byVersion[m.Version] = m
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// normalize is a file's text as its checksum sees it: without a UTF-8 BOM, with LF line ends, so
// a Windows checkout of the same migration is the same migration.
func normalize(b []byte) []byte {
	b = bytes.TrimPrefix(b, utf8BOM)
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// Matches reports whether a checksum a history recorded is this migration's text.
func (m *Migration) Matches(sum string) bool {
	return sum == "" || sum == m.Checksum || sum == m.RawChecksum
}

// sums are the checksums of a migration's texts, normalized and as they are on disk: one hash
// when normalizing changes nothing (the common case), since both are then the same.
func sums(texts ...[]byte) (sum, raw string) {
	norm := make([][]byte, len(texts))
	same := true
	for i, t := range texts {
		norm[i] = normalize(t)
		same = same && len(norm[i]) == len(t)
	}
	sum = checksum(norm...)
	if same {
		return sum, sum
	}
	return sum, checksum(texts...)
}

func checksum(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// origin is where a line of the goose text came from.
type origin struct {
	file string
	line int // 0 for a line brokle added
}

// gooseDoc is a goose-format text being built, line by line, with each line's origin.
type gooseDoc struct {
	lines   []string
	origins []origin
}

func (d *gooseDoc) add(line string, o origin) {
	d.lines = append(d.lines, line)
	d.origins = append(d.origins, o)
}

func (d *gooseDoc) prepend(line string) {
	d.lines = append([]string{line}, d.lines...)
	d.origins = append([]origin{{}}, d.origins...)
}

func (d *gooseDoc) text() []byte {
	n := len(d.lines)
	for _, l := range d.lines {
		n += len(l)
	}
	var b bytes.Buffer
	b.Grow(n)
	for _, l := range d.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// parseSingle reads a file in the -- +migrate or -- +goose format.
// m is the migration as the listing made it (version, name, file), filled in place.
func parseSingle(m *Migration, data []byte, opts LoadOptions) (*Migration, SourceErrors) {
	file := m.File()
	m.Texts = [][]byte{data}
	m.Checksum, m.RawChecksum = sums(data)
	m.Template = isTemplate(normalize(data))
	data = bytes.TrimPrefix(data, utf8BOM)
	lines := splitLines(data)
	var errs SourceErrors
	fail := func(line int, format string, args ...any) {
		errs = append(errs, &SourceError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	if n := invalidUTF8Line(lines); n > 0 {
		fail(n, "not valid UTF-8 text (a binary file, or another encoding): save it as UTF-8")
		return nil, errs
	}
	doc := &gooseDoc{lines: make([]string, 0, len(lines)+1), origins: make([]origin, 0, len(lines)+1)}
	upLine, downLine := 0, 0
	for i, line := range lines {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		at := origin{file, n}
		if !strings.HasPrefix(trimmed, "--") {
			doc.add(line, at) // neither annotation: SQL, or nothing
			continue
		}
		if sm, ok := migrateMarkOf(trimmed); ok {
			if m.Format == FormatGoose {
				fail(n, "mixes -- +migrate and -- +goose annotations")
				return nil, errs
			}
			m.Format = FormatMigrate
			arg := strings.ToLower(strings.TrimSpace(sm[2]))
			switch strings.ToLower(sm[1]) {
			case "up":
				if upLine != 0 {
					fail(n, "second Up section (first at line %d)", upLine)
					return nil, errs
				}
				switch arg {
				case "":
				case "notransaction":
					m.NoTx = true
				default:
					fail(n, "unknown argument %q to -- +migrate Up: the only one is notransaction", strings.TrimSpace(sm[2]))
				}
				upLine = n
				doc.add("-- +goose Up", at)
			case "down":
				if downLine != 0 {
					fail(n, "second Down section (first at line %d)", downLine)
					return nil, errs
				}
				if upLine == 0 {
					fail(n, "Down section before the Up section")
					return nil, errs
				}
				if arg != "" {
					fail(n, "unknown argument %q to -- +migrate Down: it takes none", strings.TrimSpace(sm[2]))
				}
				downLine = n
				doc.add("-- +goose Down", at)
			case "statementbegin", "statementend":
				if arg != "" {
					fail(n, "unknown argument %q to -- +migrate %s: it takes none", strings.TrimSpace(sm[2]), sm[1])
				}
				if strings.ToLower(sm[1]) == "statementbegin" {
					doc.add("-- +goose StatementBegin", at)
				} else {
					doc.add("-- +goose StatementEnd", at)
				}
			case "no":
				if arg != "transaction" {
					fail(n, "unknown annotation %q: want Up, Down, StatementBegin, StatementEnd or NO TRANSACTION", trimmed)
					continue
				}
				m.NoTx = true
				doc.add("", at)
			default:
				fail(n, "unknown annotation %q: want Up, Down, StatementBegin, StatementEnd or NO TRANSACTION", trimmed)
			}
			continue
		}
		if isGooseAnnotation(line) {
			if m.Format == FormatMigrate {
				fail(n, "mixes -- +migrate and -- +goose annotations")
				return nil, errs
			}
			m.Format = FormatGoose
			a, err := gooseAnnotation(line)
			if err == nil {
				switch a {
				case "Up":
					if upLine == 0 {
						upLine = n
					}
				case "Down":
					if downLine == 0 {
						downLine = n
					}
				case "NO TRANSACTION":
					m.NoTx = true
				}
			}
		}
		doc.add(line, at)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if upLine == 0 {
		fail(1, "no Up section: want a line `-- +migrate Up` (or `-- +goose Up`) before the SQL")
		return nil, errs
	}
	if m.NoTx && m.Format == FormatMigrate || opts.AllNoTx && !m.NoTx {
		doc.prepend("-- +goose NO TRANSACTION")
		m.NoTx = true
	}
	m.HasDown = downLine != 0
	m.UpLine = upLine
	return finish(m, doc, opts, upLine)
}

// parsePair reads a golang-migrate up/down pair.
func parsePair(readFile func(string) ([]byte, error), display string, v int64, upName, downName string, opts LoadOptions) (*Migration, SourceErrors) {
	upFile := path.Join(display, upName)
	var errs SourceErrors
	up, err := readFile(upName)
	if err != nil {
		return nil, SourceErrors{{File: upFile, Msg: fmt.Sprintf("cannot read it: %v", unwrapPathErr(err))}}
	}
	var down []byte
	files, texts := []string{upFile}, [][]byte{up}
	if downName != "" {
		downFile := path.Join(display, downName)
		if down, err = readFile(downName); err != nil {
			return nil, SourceErrors{{File: downFile, Msg: fmt.Sprintf("cannot read it: %v", unwrapPathErr(err))}}
		}
		files = append(files, downFile)
		texts = append(texts, down)
	}
	sum, raw := sums(up, down)
	up, down = bytes.TrimPrefix(up, utf8BOM), bytes.TrimPrefix(down, utf8BOM)
	for i, text := range [][]byte{up, down} {
		if n := invalidUTF8Line(splitLines(text)); n > 0 {
			return nil, SourceErrors{{File: files[i], Line: n, Msg: "not valid UTF-8 text (a binary file, or another encoding): save it as UTF-8"}}
		}
	}
	for i, text := range [][]byte{up, down} {
		for n, line := range splitLines(text) {
			t := strings.TrimSpace(line)
			if isGooseAnnotation(line) || migrateMark.MatchString(t) {
				errs = append(errs, &SourceError{File: files[i], Line: n + 1, Msg: "a .up.sql or .down.sql file holds plain SQL, not -- +goose or -- +migrate annotations"})
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	name := strings.TrimSuffix(upName, upName[len(upName)-len(".up.sql"):])
	name = name[strings.Index(name, "_")+1:]
	m := &Migration{
		Version: v, Name: name, Files: files, Texts: texts, Format: FormatPair,
		Checksum: sum, RawChecksum: raw, HasDown: hasSQL(down), UpLine: 1,
	}
	doc := &gooseDoc{}
	doc.add("-- +goose Up", origin{})
	if hasSQL(up) {
		writePairBody(doc, up, upFile, opts)
	}
	doc.add("-- +goose Down", origin{})
	if m.HasDown {
		writePairBody(doc, down, files[1], opts)
	}
	// golang-migrate never wraps a file in a transaction, so its files may hold their own BEGIN
	// and COMMIT: such a pair runs as golang-migrate runs it, outside brokle's transaction (and
	// is marked dirty while it runs).
	if opts.AllNoTx || pairManagesTx(doc) {
		doc.prepend("-- +goose NO TRANSACTION")
		m.NoTx = true
	}
	return finish(m, doc, opts, 1)
}

// pairManagesTx reports whether a pair's statements hold top-level transaction control.
func pairManagesTx(doc *gooseDoc) bool {
	for _, up := range []bool{true, false} {
		stmts, _, err := parseGoose(doc, up)
		if err != nil {
			return false
		}
		for _, s := range stmts {
			if txControl(s.Text) != "" {
				return true
			}
		}
	}
	return false
}

// writePairBody gives goose a golang-migrate file: goose splits statements at semicolons that end
// a line, and golang-migrate files may leave the last one off. Dollar-quoted bodies hold inner
// semicolons, so such a file goes as one statement, as golang-migrate sends it.
func writePairBody(doc *gooseDoc, body []byte, file string, opts LoadOptions) {
	lines := splitLines(body)
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return
	}
	last := len(lines) - 1
	lines[last] = strings.TrimRight(lines[last], " \t")
	if code, _, _ := strings.Cut(lines[last], "--"); !strings.HasSuffix(strings.TrimSpace(code), ";") {
		if strings.Contains(lines[last], "--") {
			lines = append(lines, ";")
		} else {
			lines[last] += ";"
		}
	}
	wrap := opts.WrapDollarQuoted && dollarQuote.Match(body)
	if wrap {
		doc.add("-- +goose StatementBegin", origin{})
	}
	for i, l := range lines {
		doc.add(l, origin{file, min(i+1, last+1)})
	}
	if wrap {
		doc.add("-- +goose StatementEnd", origin{})
	}
}

// finish parses the goose text both ways, checks each statement, and sets the goose file.
func finish(m *Migration, doc *gooseDoc, opts LoadOptions, upLine int) (*Migration, SourceErrors) {
	var errs SourceErrors
	for _, up := range []bool{true, false} {
		stmts, useTx, err := parseGoose(doc, up)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if up {
			// An empty Up is a migration like any other, applied as a no-op and recorded, as goose
			// and sql-migrate apply it.
			m.Up = stmts
			if useTx == m.NoTx {
				m.NoTx = !useTx
			}
		} else {
			m.Down = stmts
		}
		for _, s := range stmts {
			if !m.NoTx {
				if tc := txControl(s.Text); tc != "" {
					errs = append(errs, &SourceError{File: s.File, Line: s.Line, Msg: fmt.Sprintf(
						"%s inside a migration that runs in a transaction: brokle begins and commits it; remove it, or mark the migration `-- +migrate NO TRANSACTION` (goose: `-- +goose NO TRANSACTION`) to control transactions yourself", tc)})
				}
			}
			if line, what := unterminated(s, !opts.AllNoTx); what != "" {
				errs = append(errs, &SourceError{File: s.File, Line: line, Msg: fmt.Sprintf(
					"this statement ends inside %s opened here: a ; at the end of a line inside it ended the statement early; close it, or wrap the statement in StatementBegin/StatementEnd", what)})
				continue
			}
			if opts.AllNoTx {
				if line, ok := secondStatement(s); ok {
					errs = append(errs, &SourceError{File: s.File, Line: line, Msg: "a second statement inside one: ClickHouse runs one statement per query; end each statement with ; at the end of a line, outside StatementBegin/StatementEnd"})
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	m.gooseName = strconv.FormatInt(m.Version, 10) + "_" + m.Name + ".sql"
	text := doc.text()
	m.gooseText = rewrite(text, opts)
	m.rewritten = opts.Rewrite != nil && !bytes.Equal(text, m.gooseText)
	if opts.Rewrite != nil {
		for _, ss := range [][]Statement{m.Up, m.Down} {
			for i := range ss {
				ss[i].Text = opts.Rewrite(ss[i].Text)
			}
		}
	}
	return m, nil
}

// mirrorLineLimit: goose reads a file a line at a time with a 4 MiB buffer and refuses a longer
// line; brokle's reading has no such limit. Below a quarter of it the two readings are the same
// (FuzzLoad holds brokle's to goose's).
const mirrorLineLimit = 1 << 20

// mayDiffer reports whether goose might read the migration otherwise than brokle did: a line near
// goose's limit, or a text that Rewrite changed after brokle read it. goose parses such a file as
// soon as it is read; every other one when a run or a plan uses it.
func (m *Migration) mayDiffer() bool {
	if m.rewritten {
		return true
	}
	for text := m.gooseText; len(text) >= mirrorLineLimit; {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			i = len(text)
		}
		if i >= mirrorLineLimit {
			return true
		}
		text = text[min(i+1, len(text)):]
	}
	return false
}

// invalidUTF8Line is the first line that is not UTF-8, 0 when all are.
func invalidUTF8Line(lines []string) int {
	for i, l := range lines {
		if !utf8.ValidString(l) {
			return i + 1
		}
	}
	return 0
}

func hasSQL(b []byte) bool {
	for _, line := range splitLines(b) {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "--") {
			return true
		}
	}
	return false
}

// splitLines reads b as bufio.ScanLines does (goose reads its files that way): lines end at \n,
// one \r before it is dropped, a last line without \n counts. The lines share one string.
func splitLines(b []byte) []string {
	s := string(b)
	lines := make([]string, 0, strings.Count(s, "\n")+1)
	for len(s) > 0 {
		line, rest, _ := strings.Cut(s, "\n")
		lines = append(lines, strings.TrimSuffix(line, "\r"))
		s = rest
	}
	return lines
}

func rewrite(text []byte, opts LoadOptions) []byte {
	if opts.Rewrite == nil {
		return text
	}
	return []byte(opts.Rewrite(string(text)))
}
