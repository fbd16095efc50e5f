package migrate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing/fstest"
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

// Migration is one versioned migration as found on disk, already translated to goose's format.
type Migration struct {
	Version  int64
	Name     string   // the part of the file name after the version, without extensions
	Files    []string // the files it came from, relative to the source folder's display path
	Format   Format
	Checksum string // SHA-256 of the original text (up file then down file for pairs)
	NoTx     bool   // runs outside a transaction
	HasDown  bool
	UpLine   int      // line of the Up marker in Files[0] (1 for pairs)
	Texts    [][]byte // the original text of each of Files

	gooseName string
	gooseText []byte
}

// File is the migration's main file, for messages.
func (m *Migration) File() string { return m.Files[0] }

// Source is a folder of migrations for one database.
type Source struct {
	Display    string // how the folder is named in messages: "migrations/" or "embedded:migrations/"
	Migrations []*Migration
	byVersion  map[int64]*Migration
}

// Lookup returns the migration with the version, or nil.
func (s *Source) Lookup(v int64) *Migration { return s.byVersion[v] }

// GooseFS is the folder as goose reads it: one goose-format .sql file per version.
func (s *Source) GooseFS() fs.FS {
	m := fstest.MapFS{}
	for _, mig := range s.Migrations {
		m[mig.gooseName] = &fstest.MapFile{Data: mig.gooseText, Mode: 0o444}
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

// LoadOptions tune how files are translated for a database.
type LoadOptions struct {
	// AllNoTx marks every migration as running outside a transaction (ClickHouse has none).
	AllNoTx bool
	// WrapDollarQuoted sends a golang-migrate file that holds dollar-quoted bodies as one
	// statement, the way golang-migrate itself sends it (PostgreSQL functions).
	WrapDollarQuoted bool
	// Rewrite, when set, changes the text goose runs (not the text checksummed), such as
	// ClickHouse's {cluster} placeholder.
	Rewrite func(string) string
}

var (
	fileNameRE   = regexp.MustCompile(`^(\d+)_([^.]+?)(\.up|\.down)?\.sql$`)
	migrateMark  = regexp.MustCompile(`^--\s*\+migrate\s+(\S+)(.*)$`)
	gooseMark    = regexp.MustCompile(`^--\s*\+goose\s+(.+?)\s*$`)
	dollarQuote  = regexp.MustCompile(`\$[A-Za-z_]*\$`)
	noVersionMsg = "file name has no version: want NNNNNN_name.sql (or NNNNNN_name.up.sql with NNNNNN_name.down.sql)"
)

// Load reads every .sql file at the top of fsys (sub-folders belong to other databases) and
// returns the migrations sorted by version, or the first problem found, naming file and line.
func Load(fsys fs.FS, display string, opts LoadOptions) (*Source, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations folder %s: %w", display, err)
	}
	type pairParts struct{ up, down string }
	pairs := map[int64]*pairParts{}
	src := &Source{Display: display, byVersion: map[int64]*Migration{}}
	seen := map[int64]string{}
	claim := func(v int64, file string) error {
		if other, ok := seen[v]; ok {
			return &SourceError{File: path.Join(display, file), Msg: fmt.Sprintf("version %d is used twice: also by %s", v, path.Join(display, other))}
		}
		seen[v] = file
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		sm := fileNameRE.FindStringSubmatch(name)
		if sm == nil {
			return nil, &SourceError{File: path.Join(display, name), Msg: noVersionMsg}
		}
		v, err := strconv.ParseInt(sm[1], 10, 64)
		if err != nil || v < 1 {
			return nil, &SourceError{File: path.Join(display, name), Msg: "version must be a positive integer below 2^63"}
		}
		switch sm[3] {
		case ".up", ".down":
			p := pairs[v]
			if p == nil {
				p = &pairParts{}
				pairs[v] = p
			}
			if sm[3] == ".up" {
				if err := claim(v, name); err != nil {
					return nil, err
				}
				p.up = name
			} else {
				if p.down != "" {
					return nil, &SourceError{File: path.Join(display, name), Msg: fmt.Sprintf("version %d has two down files: also %s", v, path.Join(display, p.down))}
				}
				p.down = name
			}
		default:
			if err := claim(v, name); err != nil {
				return nil, err
			}
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", path.Join(display, name), err)
			}
			m, err := parseSingle(path.Join(display, name), v, sm[2], data, opts)
			if err != nil {
				return nil, err
			}
			src.add(m)
		}
	}
	for v, p := range pairs {
		if p.up == "" {
			return nil, &SourceError{File: path.Join(display, p.down), Msg: fmt.Sprintf("down file without its up file: want %s", strings.Replace(p.down, ".down.sql", ".up.sql", 1))}
		}
		m, err := parsePair(fsys, display, v, p.up, p.down, opts)
		if err != nil {
			return nil, err
		}
		src.add(m)
	}
	slices.SortFunc(src.Migrations, func(a, b *Migration) int { return cmpInt64(a.Version, b.Version) })
	return src, nil
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

func checksum(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// parseSingle reads a file in the -- +migrate or -- +goose format.
func parseSingle(file string, v int64, name string, data []byte, opts LoadOptions) (*Migration, error) {
	m := &Migration{Version: v, Name: name, Files: []string{file}, Checksum: checksum(data), Texts: [][]byte{data}}
	lines := splitLines(data)
	var out bytes.Buffer
	section := "" // "", "up", "down"
	upLine, downLine := 0, 0
	upBody := false // the Up section holds something besides comments
	inBlock := false
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if sm := migrateMark.FindStringSubmatch(trimmed); sm != nil {
			if m.Format == FormatGoose {
				return nil, &SourceError{File: file, Line: i + 1, Msg: "mixes -- +migrate and -- +goose annotations"}
			}
			m.Format = FormatMigrate
			arg := strings.ToLower(strings.TrimSpace(sm[2]))
			switch strings.ToLower(sm[1]) {
			case "up":
				if upLine != 0 {
					return nil, &SourceError{File: file, Line: i + 1, Msg: fmt.Sprintf("second Up section (first at line %d)", upLine)}
				}
				upLine, section = i+1, "up"
				if arg == "notransaction" {
					m.NoTx = true
				}
				out.WriteString("-- +goose Up\n")
			case "down":
				if downLine != 0 {
					return nil, &SourceError{File: file, Line: i + 1, Msg: fmt.Sprintf("second Down section (first at line %d)", downLine)}
				}
				if upLine == 0 {
					return nil, &SourceError{File: file, Line: i + 1, Msg: "Down section before the Up section"}
				}
				downLine, section = i+1, "down"
				out.WriteString("-- +goose Down\n")
			case "statementbegin":
				inBlock = true
				out.WriteString("-- +goose StatementBegin\n")
			case "statementend":
				inBlock = false
				out.WriteString("-- +goose StatementEnd\n")
			case "no":
				if arg != "transaction" {
					return nil, &SourceError{File: file, Line: i + 1, Msg: fmt.Sprintf("unknown annotation %q", trimmed)}
				}
				m.NoTx = true
				out.WriteString("\n")
			default:
				return nil, &SourceError{File: file, Line: i + 1, Msg: fmt.Sprintf("unknown annotation %q: want Up, Down, StatementBegin, StatementEnd or NO TRANSACTION", trimmed)}
			}
			continue
		}
		if sm := gooseMark.FindStringSubmatch(trimmed); sm != nil {
			if m.Format == FormatMigrate {
				return nil, &SourceError{File: file, Line: i + 1, Msg: "mixes -- +migrate and -- +goose annotations"}
			}
			m.Format = FormatGoose
			switch strings.ToUpper(sm[1]) {
			case "UP":
				if upLine != 0 {
					return nil, &SourceError{File: file, Line: i + 1, Msg: fmt.Sprintf("second Up section (first at line %d)", upLine)}
				}
				upLine, section = i+1, "up"
			case "DOWN":
				if upLine == 0 {
					return nil, &SourceError{File: file, Line: i + 1, Msg: "Down section before the Up section"}
				}
				downLine, section = i+1, "down"
			case "NO TRANSACTION":
				m.NoTx = true
			case "STATEMENTBEGIN":
				inBlock = true
			case "STATEMENTEND":
				inBlock = false
			}
			out.WriteString(line + "\n")
			continue
		}
		if section == "up" && trimmed != "" && !strings.HasPrefix(trimmed, "--") {
			upBody = true
		}
		out.WriteString(line + "\n")
	}
	if upLine == 0 {
		return nil, &SourceError{File: file, Line: 1, Msg: "no Up section: want a line `-- +migrate Up` (or `-- +goose Up`) before the SQL"}
	}
	if !upBody {
		return nil, &SourceError{File: file, Line: upLine, Msg: "the Up section is empty"}
	}
	if inBlock {
		return nil, &SourceError{File: file, Line: len(lines), Msg: "StatementBegin without StatementEnd"}
	}
	m.HasDown = downLine != 0
	m.UpLine = upLine
	text := out.Bytes()
	if m.Format == FormatGoose {
		text = data
	}
	if opts.AllNoTx && !m.NoTx || m.NoTx && m.Format == FormatMigrate {
		text = append([]byte("-- +goose NO TRANSACTION\n"), text...)
		m.NoTx = true
	}
	m.gooseName = fmt.Sprintf("%d_%s.sql", v, name)
	m.gooseText = rewrite(text, opts)
	return m, nil
}

// parsePair reads a golang-migrate up/down pair.
func parsePair(fsys fs.FS, display string, v int64, upName, downName string, opts LoadOptions) (*Migration, error) {
	upFile := path.Join(display, upName)
	up, err := fs.ReadFile(fsys, upName)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", upFile, err)
	}
	var down []byte
	files, texts := []string{upFile}, [][]byte{up}
	if downName != "" {
		if down, err = fs.ReadFile(fsys, downName); err != nil {
			return nil, fmt.Errorf("read %s: %w", path.Join(display, downName), err)
		}
		files = append(files, path.Join(display, downName))
		texts = append(texts, down)
	}
	if !hasSQL(up) {
		return nil, &SourceError{File: upFile, Line: 1, Msg: "the up file holds no SQL"}
	}
	for i, line := range splitLines(up) {
		if gooseMark.MatchString(strings.TrimSpace(line)) || migrateMark.MatchString(strings.TrimSpace(line)) {
			return nil, &SourceError{File: upFile, Line: i + 1, Msg: "a .up.sql file must hold plain SQL, not -- +goose or -- +migrate annotations"}
		}
	}
	name := strings.TrimSuffix(upName, ".up.sql")
	name = name[strings.Index(name, "_")+1:]
	var out bytes.Buffer
	if opts.AllNoTx {
		out.WriteString("-- +goose NO TRANSACTION\n")
	}
	out.WriteString("-- +goose Up\n")
	writePairBody(&out, up, opts)
	out.WriteString("-- +goose Down\n")
	if hasSQL(down) {
		writePairBody(&out, down, opts)
	}
	return &Migration{
		Version: v, Name: name, Files: files, Texts: texts, Format: FormatPair,
		Checksum: checksum(up, down), NoTx: opts.AllNoTx, HasDown: hasSQL(down), UpLine: 1,
		gooseName: fmt.Sprintf("%d_%s.sql", v, name), gooseText: rewrite(out.Bytes(), opts),
	}, nil
}

// writePairBody gives goose a golang-migrate file: goose splits statements at semicolons that end
// a line, and golang-migrate files may leave the last one off. Dollar-quoted bodies hold inner
// semicolons, so such a file goes as one statement, as golang-migrate sends it.
func writePairBody(out *bytes.Buffer, body []byte, opts LoadOptions) {
	text := strings.TrimRight(string(body), " \t\r\n")
	if !strings.HasSuffix(text, ";") {
		text += ";"
	}
	if opts.WrapDollarQuoted && dollarQuote.MatchString(text) {
		out.WriteString("-- +goose StatementBegin\n" + text + "\n-- +goose StatementEnd\n")
		return
	}
	out.WriteString(text + "\n")
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

func splitLines(b []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	return lines
}

func rewrite(text []byte, opts LoadOptions) []byte {
	if opts.Rewrite == nil {
		return text
	}
	return []byte(opts.Rewrite(string(text)))
}
