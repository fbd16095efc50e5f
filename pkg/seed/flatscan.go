package seed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unicode/utf8"
)

// scanFlat is the first pass over the whole text from start (after a byte order mark). It
// returns errDecline for text it leaves to yaml.v3, or a read error. A large file is cut into
// pieces at rows' first lines, read on every core and put together (the server waits meanwhile).
func scanFlat(path string, src Source, start int64) (*File, error) {
	pieces := 1
	if src.Size()-start >= parallelScanMin {
		pieces = runtime.GOMAXPROCS(0)
	}
	return scanPieces(path, src, start, pieces)
}

func scanPieces(path string, src Source, start int64, pieces int) (*File, error) {
	f, err := scanInPieces(path, src, start, pieces)
	if err == errDecline && pieces > 1 { // maybe a piece began inside the clickhouse: section
		f, err = scanInPieces(path, src, start, 1)
	}
	return f, err
}

func scanInPieces(path string, src Source, start int64, pieces int) (*File, error) {
	bounds := []int64{start}
	if pieces > 1 {
		for k := 1; k < pieces; k++ {
			off := start + (src.Size()-start)*int64(k)/int64(pieces)
			if off <= bounds[len(bounds)-1] {
				continue
			}
			b, err := rowBoundary(src, off)
			if err != nil {
				return nil, err
			}
			if b > bounds[len(bounds)-1] && b < src.Size() {
				bounds = append(bounds, b)
			}
		}
	}
	bounds = append(bounds, src.Size())
	// A piece that begins after the clickhouse: line is read as the section's rows (its first
	// table goes on with the previous piece's last one): that is checked when the pieces are put
	// together, and anything else there sends the text to one piece.
	chAt := int64(-1)
	if len(bounds) > 2 {
		var err error
		if chAt, err = sectionLine(src, start, ClickHouseKey); err != nil {
			return nil, err
		}
	}
	segs := make([]*segment, len(bounds)-1)
	errs := make([]error, len(segs))
	var wg sync.WaitGroup
	for k := range segs {
		inCH := k > 0 && chAt >= 0 && bounds[k] > chAt
		wg.Go(func() { segs[k], errs[k] = scanSegment(src, bounds[k], bounds[k+1], k == 0, inCH) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && err != errDecline {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	// Put the pieces together: line numbers shift by the lines before each piece; a piece's first
	// table, when it has no name, goes on with the previous piece's last one.
	f := &File{Path: path}
	seen := map[string]bool{}
	lines := 0
	var ch *chSection
	for k, sg := range segs {
		if sg.ch != nil && sg.ch.cont {
			// The piece was read as going on with the section: it must have begun inside it.
			if k == 0 || !segs[k-1].endsInCH || ch == nil || ch.start != chAt {
				if sg.ch.empty() && (k == 0 || !segs[k-1].endsInCH) {
					sg.ch = nil // it began on a top-level line: nothing was read as the section's
				} else {
					return nil, errDecline
				}
			} else {
				for _, t := range sg.ch.tables {
					t.Line += lines
					t.lazy.firstLine += lines
				}
				if !ch.join(sg.ch) {
					return nil, errDecline
				}
				sg.ch = nil
			}
		} else if k > 0 && segs[k-1].endsInCH {
			return nil, errDecline // a piece began inside the section: read the text in one piece
		}
		if sg.ch != nil {
			if ch != nil {
				return nil, errDecline
			}
			ch = sg.ch
			ch.line += lines
			for _, t := range ch.tables {
				t.Line += lines
				t.lazy.firstLine += lines
			}
		}
		for i, t := range sg.tables {
			t.Line += lines
			t.lazy.firstLine += lines
			if i == 0 && t.Name == "" {
				if len(f.Postgres) == 0 {
					if t.lazy.rows > 0 {
						return nil, errDecline // rows before any table
					}
					continue
				}
				if !f.Postgres[len(f.Postgres)-1].lazy.absorb(t.lazy) {
					return nil, errDecline
				}
				continue
			}
			if seen[t.Name] {
				return nil, errDecline // listed twice: yaml.v3's reading says where
			}
			seen[t.Name] = true
			f.Postgres = append(f.Postgres, t)
		}
		lines += sg.lines
	}
	if ch != nil {
		if ch.flat() {
			f.ClickHouse = ch.tables
			return f, nil
		}
		tables, ok := parseCH(path, src, ch)
		if !ok {
			return nil, errDecline
		}
		f.ClickHouse = tables
	}
	return f, nil
}

// parallelScanMin is the file size from which the first pass reads pieces on every core.
const parallelScanMin = 8 << 20

// rowBoundary returns the offset of the first line at or after off that starts a row or a
// table (the end of the text if none is near).
func rowBoundary(src Source, off int64) (int64, error) {
	const window = 1 << 20
	lr := newLineReader(src, off, min(off+window, src.Size()), 1, nil)
	var before [1]byte
	if _, err := src.ReadAt(before[:], off-1); err != nil {
		return 0, err
	}
	partial := before[0] != '\n' // off is inside a line: start after it
	for {
		line, ok := lr.next()
		if !ok {
			return src.Size(), lr.err
		}
		if partial {
			partial = false
			continue
		}
		lead := leadingSpaces(line)
		if lead == len(line) || line[lead] == '#' || line[lead] == '\r' {
			continue
		}
		if lead == 0 && line[0] != '-' || line[lead] == '-' && lead+1 < len(line) && line[lead+1] == ' ' {
			return lr.lineOff, nil
		}
	}
}

// segment is what the first pass found in a piece of the text: its tables (the first has no
// name when the piece begins inside a table) with line numbers counted from the piece's start.
type segment struct {
	tables   []*Table
	lines    int
	ch       *chSection
	endsInCH bool // the piece ends inside the clickhouse: section
}

// sectionLine returns the offset of the first line of the text from start that is "key:" at the
// top level (-1 if none). It may be wrong (inside a quoted or block scalar, which the flat reader
// declines anyway): the pieces are checked against it.
func sectionLine(src Source, start int64, key string) (int64, error) {
	pat := []byte("\n" + key + ":")
	buf := make([]byte, 1<<20)
	for off := start; off < src.Size(); {
		n, err := src.ReadAt(buf[:min(int64(len(buf)), src.Size()-off)], off)
		if err != nil && err != io.EOF {
			return -1, err
		}
		chunk := buf[:n]
		if off == start && bytes.HasPrefix(chunk, pat[1:]) {
			return start, nil
		}
		if i := bytes.Index(chunk, pat); i >= 0 {
			return off + int64(i) + 1, nil
		}
		if n < len(pat) || off+int64(n) >= src.Size() {
			break
		}
		off += int64(n - len(pat) + 1) // a match across the chunks' seam is found in the next
	}
	return -1, nil
}

// scanSegment reads the piece [from, to); inCH: the piece begins inside the clickhouse: section.
func scanSegment(src Source, from, to int64, first, inCH bool) (*segment, error) {
	sg := &segment{}
	lr := newLineReader(src, from, to, 1, nil)
	var (
		t  *lazyTable
		rs *rowScanner
		ch *chSection // open while its lines go by
	)
	if inCH {
		ch = &chSection{start: from, line: 1, indent: -1, cont: true}
		sg.ch = ch
	}
	open := func(name string, line int, start int64) {
		t = &lazyTable{src: src, start: start, firstLine: line + 1, index: map[string]int{}, shapeOf: map[uint64]int{}}
		sg.tables = append(sg.tables, &Table{Name: name, Line: line, lazy: t})
		rs = newRowScanner(t, true, nil)
	}
	finish := func(end int64) error {
		if ch != nil {
			ch.end = end
			ch.close(end)
			ch = nil
		}
		if rs == nil {
			return nil
		}
		t.end = end
		t.indent = rs.indent
		err := rs.finish()
		t, rs = nil, nil
		return err
	}
	if !first && !inCH { // the piece begins with a row of the table before
		open("", 0, from)
	}
	for {
		line, ok := lr.next()
		if !ok {
			break
		}
		if ch != nil && (len(line) == 0 || line[0] == ' ' || line[0] == '#' || line[0] == '\r') {
			ch.feed(src, line, lr)
			continue
		}
		line, ok = cleanLine(line)
		if !ok {
			return nil, errDecline
		}
		lead := leadingSpaces(line)
		if lead == len(line) || line[lead] == '#' {
			continue
		}
		if lead == 0 && line[0] != '-' { // a table: "name:"
			if err := finish(lr.lineOff); err != nil {
				return nil, err
			}
			name, ok := tableLine(line)
			if !ok {
				return nil, errDecline
			}
			if name == ClickHouseKey {
				if sg.ch != nil {
					return nil, errDecline
				}
				ch = &chSection{start: lr.lineOff, line: lr.lineNo, indent: -1}
				sg.ch = ch
				continue
			}
			open(name, lr.lineNo, lr.off-int64(lr.w-lr.r))
			continue
		}
		if rs == nil {
			return nil, errDecline
		}
		if err := rs.feed(line, lead, lr.lineNo); err != nil {
			return nil, err
		}
	}
	if lr.err != nil {
		return nil, lr.err
	}
	sg.endsInCH = ch != nil
	if err := finish(to); err != nil {
		return nil, err
	}
	sg.lines = lr.lineNo // every line of a piece but the last ends with a line break
	return sg, nil
}

// chSection is where the clickhouse: section is. Its tables of flat rows are read as the
// top-level ones are (lazy tables, a row at a time); a section with anything else (bad is set)
// goes to yaml.v3 whole.
type chSection struct {
	start, end int64
	line       int

	indent int // of its table names; -1 before the first
	tables []*Table
	t      *lazyTable
	rs     *rowScanner
	bad    bool
	// cont: a piece of the section after its first: it begins with rows of the table before
	// (its first table, with no name) and learns the section's indent from a table line, if any.
	cont  bool
	lines bool // cont: some line was read
}

func (ch *chSection) empty() bool { return !ch.lines && len(ch.tables) == 0 }

// join adds the next piece of the section (read with cont), its line numbers already shifted.
func (ch *chSection) join(p *chSection) bool {
	ch.end = p.end
	if p.bad || ch.bad {
		ch.bad = true
		return true // yaml.v3 reads the section
	}
	if p.indent >= 0 {
		if ch.indent >= 0 && ch.indent != p.indent {
			ch.bad = true
			return true
		}
		ch.indent = p.indent
	}
	for i, t := range p.tables {
		if i == 0 && t.Name == "" {
			if len(ch.tables) == 0 || !ch.tables[len(ch.tables)-1].lazy.absorb(t.lazy) {
				ch.bad = true
				return true
			}
			continue
		}
		for _, u := range ch.tables {
			if u.Name == t.Name {
				ch.bad = true // listed twice: yaml.v3's reading says where
				return true
			}
		}
		ch.tables = append(ch.tables, t)
	}
	return true
}

// flat reports whether the flat reader read the whole section.
func (ch *chSection) flat() bool { return !ch.bad && ch.indent >= 0 }

// feed takes one line inside the section (indented, blank or a comment).
func (ch *chSection) feed(src Source, line []byte, lr *lineReader) {
	if ch.bad {
		return
	}
	line, ok := cleanLine(line)
	if !ok {
		ch.bad = true
		return
	}
	lead := leadingSpaces(line)
	if lead == len(line) || line[lead] == '#' {
		return
	}
	if ch.cont && ch.indent < 0 {
		// Rows of the previous piece's table come first; a line that is no row and not inside
		// one names the next table, at the section's indent (handled below).
		ch.lines = true
		if line[lead] == '-' || ch.rs != nil && lead > ch.rs.indent {
			if ch.rs == nil {
				if len(ch.tables) > 0 {
					ch.bad = true
					return
				}
				ch.t = &lazyTable{src: src, start: ch.start, firstLine: 1, index: map[string]int{}, shapeOf: map[uint64]int{}}
				ch.tables = append(ch.tables, &Table{lazy: ch.t})
				ch.rs = newRowScanner(ch.t, true, nil)
			}
			if ch.rs.feed(line, lead, lr.lineNo) != nil {
				ch.bad = true
			}
			return
		}
		ch.indent = lead
	}
	if ch.indent < 0 {
		if line[lead] == '-' {
			ch.bad = true
			return
		}
		ch.indent = lead
	}
	switch {
	case lead < ch.indent:
		ch.bad = true
	case lead == ch.indent && line[lead] != '-': // a table: "  name:"
		if ch.close(lr.lineOff) != nil {
			return
		}
		name, ok := tableLine(line[lead:])
		if !ok {
			ch.bad = true
			return
		}
		for _, t := range ch.tables {
			if t.Name == name {
				ch.bad = true // listed twice: yaml.v3's reading says where
				return
			}
		}
		ch.t = &lazyTable{src: src, start: lr.off - int64(lr.w-lr.r), firstLine: lr.lineNo + 1, index: map[string]int{}, shapeOf: map[uint64]int{}}
		ch.tables = append(ch.tables, &Table{Name: name, Line: lr.lineNo, lazy: ch.t})
		ch.rs = newRowScanner(ch.t, true, nil)
	case ch.rs == nil:
		ch.bad = true
	default:
		if ch.rs.feed(line, lead, lr.lineNo) != nil {
			ch.bad = true
		}
	}
}

// close ends the section's current table at end.
func (ch *chSection) close(end int64) error {
	if ch.rs == nil {
		return nil
	}
	ch.t.end, ch.t.indent = end, ch.rs.indent
	err := ch.rs.finish()
	ch.t, ch.rs = nil, nil
	if err != nil {
		ch.bad = true
	}
	return err
}

// parseCH reads the clickhouse: section with yaml.v3, alone but at its place (line numbers):
// what yaml.v3 gives for the section in the whole file. ok is false if it is not just tables of
// ClickHouse rows, and then yaml.v3 reads the whole file.
func parseCH(path string, src Source, ch *chSection) ([]*Table, bool) {
	text := make([]byte, int64(ch.line-1)+ch.end-ch.start)
	for i := 0; i < ch.line-1; i++ {
		text[i] = '\n'
	}
	if _, err := src.ReadAt(text[ch.line-1:], ch.start); err != nil {
		return nil, false
	}
	f, err := parseDoc(path, text)
	if err != nil || len(f.Postgres) > 0 {
		return nil, false
	}
	return f.ClickHouse, true
}

// absorb adds the rows of the same table's next piece, read on their own: its columns, counts,
// shapes and order.
func (t *lazyTable) absorb(p *lazyTable) bool {
	if t.indent >= 0 && p.indent >= 0 && t.indent != p.indent {
		return false
	}
	if t.indent < 0 {
		t.indent = p.indent
	}
	remap := make([]int, len(p.cols))
	for i, name := range p.cols {
		c, ok := t.index[name]
		if !ok {
			if len(t.cols) == maxFlatColumns {
				return false
			}
			c = len(t.cols)
			t.index[name] = c
			t.cols = append(t.cols, name)
			t.stats = append(t.stats, colStat{})
		}
		remap[i] = c
		a, b := &t.stats[c], &p.stats[i]
		a.count += b.count
		a.nulls += b.nulls
		a.kinds |= b.kinds
		a.maxLen = max(a.maxLen, b.maxLen)
		a.notText |= b.notText
		switch {
		case a.unordered:
		case b.unordered, a.seen && b.seen && !greater(b.first, a.last):
			a.unorder()
		case !b.seen:
		default:
			if !a.seen {
				a.first = b.first
			}
			a.last, a.seen = b.last, true
		}
	}
	if t.parts == nil {
		t.parts = []lazyPart{{t.start, t.end, t.firstLine, t.rows}}
	}
	t.parts = append(t.parts, lazyPart{p.start, p.end, p.firstLine, p.rows})
	for _, sh := range p.shapes {
		var mask uint64
		cols := make([]int, len(sh.cols))
		for i, c := range sh.cols {
			cols[i] = remap[c]
			mask |= 1 << remap[c]
		}
		si, ok := t.shapeOf[mask]
		if !ok {
			si = len(t.shapes)
			t.shapeOf[mask] = si
			t.shapes = append(t.shapes, rowShape{mask: mask, cols: cols})
		}
		t.shapes[si].rows += sh.rows
	}
	t.rows += p.rows
	t.end = p.end
	return true
}

// greater orders a column's values by length, then bytes: any order will do to tell that no
// value repeats; this one also puts 9 before 10.
func greater(a, b []byte) bool {
	return len(a) > len(b) || len(a) == len(b) && bytes.Compare(a, b) > 0
}

// tableLine reads "name:" (trailing spaces allowed).
func tableLine(line []byte) (string, bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 || !isPlainKey(string(line[:i])) {
		return "", false
	}
	for _, c := range line[i+1:] {
		if c != ' ' {
			return "", false
		}
	}
	return string(line[:i]), true
}

// cleanLine drops a line's carriage return and reports whether the line holds only what the
// flat reader takes: printable characters as YAML defines them, no tab, and no character YAML
// reads as a line break (CR alone, NEL, LS, PS).
func cleanLine(line []byte) ([]byte, bool) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	i := 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		const lo, hi = 0x0101010101010101, 0x8080808080808080
		// a byte >= 0x80, < 0x20 or == 0x7f sends the word to the exact check
		if x&hi != 0 || (x-0x20*lo)&^x&hi != 0 || ((x^0x7f*lo)-lo)&^(x^0x7f*lo)&hi != 0 {
			break
		}
	}
	for i < len(line) {
		c := line[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return nil, false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(line[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == 0x85, r == 0x2028, r == 0x2029, r == 0xFEFF:
			return nil, false
		case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return nil, false
		}
		i += size
	}
	return line, true
}

func leadingSpaces(b []byte) int {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func isPlainKey(s string) bool {
	if s == "" || len(s) > 1000 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isKeyByte(s[i], i) {
			return false
		}
	}
	return true
}

func isKeyByte(c byte, i int) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
}
