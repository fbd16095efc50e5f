package seed

import (
	"bytes"
	"errors"
	"sync"

	"gopkg.in/yaml.v3"
)

// The flat reader reads the shape large seeds have, tables of rows, a value a line or a row a
// line as one flow mapping:
//
//	users:
//	  - id: 1
//	    email: a@example.com
//	    name: "Ann \"A\" Smith"
//	    created_at: '2026-11-24 10:00:00'
//	    settings: {theme: dark, tags: [a, b]}
//	  - {id: 2, email: b@example.com}
//
// line by line, an order of magnitude faster than a YAML parser, and without holding the file: a
// first pass checks the syntax and keeps, per table, where its rows are and what its columns hold
// (counts, NULLs, lists, mappings, whether the values only grow, the sets of columns rows give);
// later passes read the rows again, one at a time, to check them in detail (only where the
// statistics show a problem) or to write them. Values are plain scalars (tags resolved by yaml.v3
// itself), quoted scalars on one line, and flow lists and mappings on one line. The clickhouse:
// section goes to yaml.v3 alone, its rows kept in memory. Anything else (block scalars, anchors,
// tags, comments after values, nested blocks ...) makes the reader decline, and yaml.v3 reads the
// whole file, reporting every error: what the flat reader takes, it reads exactly as yaml.v3 does
// (flat_test.go and FuzzParse check this value by value).

// errDecline: the flat reader leaves this text to yaml.v3.
var errDecline = errors.New("not for the flat reader")

// maxFlatColumns bounds a table's distinct columns (a row's columns are a bit set).
const maxFlatColumns = 64

// lazyTable is a table the flat reader read: where its rows are and what they hold.
type lazyTable struct {
	src       Source
	start     int64 // the first byte after the table's line
	end       int64
	firstLine int // the line number of the byte at start
	indent    int // spaces before "- " (-1: no row)
	rows      int
	cols      []string // in order of appearance
	index     map[string]int
	stats     []colStat
	shapes    []rowShape
	shapeOf   map[uint64]int
	parts     []lazyPart // nil: one part, the whole table
}

// colStat is what one column's values hold, over the whole table.
type colStat struct {
	count, nulls int
	kinds        uint8 // kindScalar | kindList | kindMap
	maxLen       int   // the longest scalar's text, in bytes as written
	// notText: the classes of text (textClasses) some non-null scalar is not of; a ClickHouse
	// column of a number or DateTime type whose values are all of its class needs no check.
	notText uint8
	// unordered: the column's non-null values are not strictly increasing (by length, then
	// bytes). While a key column is ordered its keys cannot repeat, which saves the check.
	unordered bool
	seen      bool // a non-null value: the first in first, the last in last
	first     []byte
	last      []byte
}

func (st *colStat) unorder() { st.unordered, st.seen, st.first, st.last = true, false, nil, nil }

const (
	kindScalar = 1 << iota
	kindList
	kindMap
)

// rowShape is one set of columns rows give: each is one statement (or COPY) whose missing
// columns take their defaults.
type rowShape struct {
	mask uint64
	cols []int // in the order of the shape's first row
	rows int
}

// value kinds
const (
	vPlain byte = iota
	vSingle
	vDouble
	vSeq
	vMap
)

// flatVal is one value of a row: a scalar's text (decoded) or a flow collection's text and tokens.
type flatVal struct {
	col, line  int
	kind       byte
	start, end int // in flatRow.buf
	tok0       int // in flatRow.toks: a collection's first token
}

func (v *flatVal) scalar() bool { return v.kind <= vDouble }

// flatRow is one row; the reader reuses it for the next one.
type flatRow struct {
	line int
	mask uint64
	vals []flatVal
	pos  []int // pos[c]: the index in vals of column c, when mask has c
	buf  []byte
	toks []flowTok
}

func (r *flatRow) text(v *flatVal) []byte { return r.buf[v.start:v.end] }

func (r *flatRow) reset(line int) {
	r.line, r.mask = line, 0
	r.vals, r.buf, r.toks = r.vals[:0], r.buf[:0], r.toks[:0]
}

// isNullWord reports a plain scalar yaml.v3 resolves to null ("" cannot occur here).
func isNullWord(s []byte) bool {
	switch string(s) {
	case "~", "null", "Null", "NULL":
		return true
	}
	return false
}

// boolWord returns the spelling PostgreSQL and JSON want of a plain scalar yaml.v3 resolves to a
// boolean (only these six: yes, on ... are strings in yaml.v3).
func boolWord(s []byte) (string, bool) {
	switch string(s) {
	case "true", "True", "TRUE":
		return "true", true
	case "false", "False", "FALSE":
		return "false", true
	}
	return "", false
}

// rowScanner turns a table's lines into rows. The first pass learns the columns and keeps the
// table's statistics; a later pass (learn false) reads the same rows again.
type rowScanner struct {
	t       *lazyTable
	learn   bool
	emit    func(*flatRow) error
	indent  int // spaces before "- ", -1 before the first row
	inRow   bool
	flowRow bool
	rows    int
	row     flatRow
	fp      flowParser
}

func newRowScanner(t *lazyTable, learn bool, emit func(*flatRow) error) *rowScanner {
	return &rowScanner{t: t, learn: learn, emit: emit, indent: -1}
}

// feed takes one non-blank, non-comment line of the table.
func (rs *rowScanner) feed(line []byte, lead, lineNo int) error {
	trimmed := line[lead:]
	if trimmed[0] == '-' { // a row: "- key: value" or "- {key: value, ...}"
		if len(trimmed) < 3 || trimmed[1] != ' ' || trimmed[2] == ' ' || (rs.indent >= 0 && lead != rs.indent) {
			return errDecline
		}
		rs.indent = lead
		if err := rs.endRow(); err != nil {
			return err
		}
		rs.inRow = true
		rs.row.reset(lineNo)
		rest := trimRight(trimmed[2:])
		if rest[0] == '{' {
			rs.flowRow = true
			return rs.flowPairs(rest, lineNo)
		}
		rs.flowRow = false
		return rs.pair(rest, lineNo)
	}
	if !rs.inRow || rs.flowRow || lead != rs.indent+2 { // the row goes on: "key: value"
		return errDecline
	}
	return rs.pair(trimRight(trimmed), lineNo)
}

func trimRight(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

func (rs *rowScanner) finish() error { return rs.endRow() }

func (rs *rowScanner) endRow() error {
	if !rs.inRow {
		return nil
	}
	rs.inRow = false
	rs.rows++
	if rs.learn {
		rs.learnRow(&rs.row)
		return nil
	}
	return rs.emit(&rs.row)
}

// learnRow adds a row to the table's statistics.
func (rs *rowScanner) learnRow(r *flatRow) {
	t := rs.t
	t.rows++
	for i := range r.vals {
		v := &r.vals[i]
		st := &t.stats[v.col]
		st.count++
		switch v.kind {
		case vSeq:
			st.kinds |= kindList
			st.unorder()
		case vMap:
			st.kinds |= kindMap
			st.unorder()
		default:
			st.kinds |= kindScalar
			text := r.text(v)
			st.maxLen = max(st.maxLen, len(text))
			if v.kind == vPlain && isNullWord(text) {
				st.nulls++
				continue
			}
			if st.notText != allTextClasses {
				st.notText |= ^textClasses(text) & allTextClasses
			}
			if !st.unordered {
				switch {
				case !st.seen:
					st.first = append([]byte(nil), text...)
					st.last, st.seen = append(st.last[:0], text...), true
				case greater(text, st.last):
					st.last = append(st.last[:0], text...)
				default:
					st.unorder()
				}
			}
		}
	}
	si, ok := t.shapeOf[r.mask]
	if !ok {
		si = len(t.shapes)
		t.shapeOf[r.mask] = si
		cols := make([]int, len(r.vals))
		for i := range r.vals {
			cols[i] = r.vals[i].col
		}
		t.shapes = append(t.shapes, rowShape{mask: r.mask, cols: cols})
	}
	t.shapes[si].rows++
}

// column finds (or, learning, adds) a column by name.
func (rs *rowScanner) column(key []byte) (int, error) {
	t := rs.t
	// Rows mostly give their columns in the same order: try the column at this position first.
	if n := len(rs.row.vals); n < len(t.cols) {
		if guess := n; t.cols[guess] == string(key) {
			return guess, nil
		}
	}
	if c, ok := t.index[string(key)]; ok {
		return c, nil
	}
	if !rs.learn {
		return 0, errChanged
	}
	if len(t.cols) == maxFlatColumns {
		return 0, errDecline
	}
	name := string(key)
	t.index[name] = len(t.cols)
	t.cols = append(t.cols, name)
	t.stats = append(t.stats, colStat{})
	return len(t.cols) - 1, nil
}

// errChanged: a later pass found other rows than the first.
var errChanged = errors.New("the seed file changed while it was read")

// pair reads "key: value".
func (rs *rowScanner) pair(b []byte, lineNo int) error {
	i := 0
	for i < len(b) && isKeyByte(b[i], i) {
		i++
	}
	if i == 0 || i > 1000 || i+2 >= len(b) || b[i] != ':' || b[i+1] != ' ' {
		return errDecline
	}
	c, err := rs.column(b[:i])
	if err != nil {
		return err
	}
	v := b[i+2+leadingSpaces(b[i+2:]):]
	switch v[0] {
	case '\'', '"':
		end, ok := quotedEnd(v, 0)
		if !ok || end+1 != len(v) {
			return errDecline
		}
		kind := vSingle
		if v[0] == '"' {
			kind = vDouble
		}
		return rs.addScalar(c, lineNo, kind, v[1:end])
	case '[', '{':
		if !rs.fp.parse(v) {
			return errDecline
		}
		return rs.addFlow(c, lineNo, v, rs.fp.toks, 0)
	}
	if !isPlainValue(v) {
		return errDecline
	}
	return rs.addScalar(c, lineNo, vPlain, v)
}

// flowPairs reads a row written as one flow mapping.
func (rs *rowScanner) flowPairs(b []byte, lineNo int) error {
	if !rs.fp.parse(b) || rs.fp.toks[0].kind != vMap {
		return errDecline
	}
	toks := rs.fp.toks
	for i := 1; i < len(toks); {
		k := toks[i]
		if k.kind != vPlain || !isPlainKey(string(b[k.start:k.end])) {
			return errDecline
		}
		c, err := rs.column(b[k.start:k.end])
		if err != nil {
			return err
		}
		vi := k.next
		v := toks[vi]
		if v.kind <= vDouble {
			err = rs.addScalar(c, lineNo, v.kind, b[v.start:v.end])
		} else {
			err = rs.addFlow(c, lineNo, b, toks, vi)
		}
		if err != nil {
			return err
		}
		i = v.next
	}
	return nil
}

func (rs *rowScanner) addScalar(c, lineNo int, kind byte, raw []byte) error {
	r := &rs.row
	if r.mask&(1<<c) != 0 {
		return errDecline // given twice: yaml.v3's reading says where
	}
	start := len(r.buf)
	switch kind {
	case vSingle:
		r.buf = appendSingle(r.buf, raw)
	case vDouble:
		r.buf = appendDouble(r.buf, raw)
	default:
		r.buf = append(r.buf, raw...)
	}
	rs.addVal(flatVal{col: c, line: lineNo, kind: kind, start: start, end: len(r.buf)})
	return nil
}

// addFlow keeps the flow collection toks[i] of text: its text and its tokens.
func (rs *rowScanner) addFlow(c, lineNo int, text []byte, toks []flowTok, i int) error {
	r := &rs.row
	if r.mask&(1<<c) != 0 {
		return errDecline
	}
	coll := toks[i]
	start := len(r.buf)
	r.buf = append(r.buf, text[coll.start:coll.end]...)
	t0 := len(r.toks)
	shift := start - coll.start
	for _, tk := range toks[i:coll.next] {
		r.toks = append(r.toks, flowTok{kind: tk.kind, start: tk.start + shift, end: tk.end + shift, next: tk.next - i + t0})
	}
	rs.addVal(flatVal{col: c, line: lineNo, kind: coll.kind, start: start, end: len(r.buf), tok0: t0})
	return nil
}

func (rs *rowScanner) addVal(v flatVal) {
	r := &rs.row
	r.mask |= 1 << v.col
	for len(r.pos) <= v.col {
		r.pos = append(r.pos, 0)
	}
	r.pos[v.col] = len(r.vals)
	r.vals = append(r.vals, v)
}

// isPlainValue accepts what YAML reads, in a block, as a plain scalar meaning exactly its text.
func isPlainValue(v []byte) bool {
	if len(v) == 0 || string(v) == "<<" || v[len(v)-1] == ':' {
		return false
	}
	switch v[0] {
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '-':
		if len(v) == 1 || v[1] == ' ' || bytes.HasPrefix(v, []byte("---")) {
			return false
		}
	}
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case ':':
			if v[i+1] == ' ' { // v does not end with ':'
				return false
			}
		case '#':
			if v[i-1] == ' ' {
				return false
			}
		}
	}
	return true
}

// node builds the yaml.v3 node of a value, as yaml.v3's parser would (for checks, errors and
// the few values the writers leave to yaml.v3).
func (r *flatRow) node(v *flatVal) *yaml.Node {
	if v.scalar() {
		return scalarNode(v.kind, string(r.text(v)), v.line)
	}
	n, _ := flowNode(r.buf, r.toks, v.tok0, v.line)
	return n
}

func scalarNode(kind byte, text string, line int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: text, Line: line}
	switch kind {
	case vSingle:
		n.Style, n.Tag = yaml.SingleQuotedStyle, "!!str"
	case vDouble:
		n.Style, n.Tag = yaml.DoubleQuotedStyle, "!!str"
	default:
		n.Tag = n.ShortTag() // yaml.v3's own resolution: !!str, !!int, !!bool, !!null, !!timestamp ...
	}
	return n
}

// flowNode builds the node of toks[i] and returns it and the index after it.
func flowNode(text []byte, toks []flowTok, i, line int) (*yaml.Node, int) {
	tk := toks[i]
	switch tk.kind {
	case vPlain:
		return scalarNode(vPlain, string(text[tk.start:tk.end]), line), i + 1
	case vSingle:
		return scalarNode(vSingle, string(appendSingle(nil, text[tk.start:tk.end])), line), i + 1
	case vDouble:
		return scalarNode(vDouble, string(appendDouble(nil, text[tk.start:tk.end])), line), i + 1
	}
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Tag: "!!seq", Line: line}
	if tk.kind == vMap {
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
	}
	n.Content = []*yaml.Node{}
	for j := i + 1; j < tk.next; {
		var c *yaml.Node
		c, j = flowNode(text, toks, j, line)
		n.Content = append(n.Content, c)
	}
	if len(n.Content) == 0 {
		n.Content = nil
	}
	return n, tk.next
}

// lazyPart is a stretch of a table's rows the first pass read on its own (a piece of the text):
// later passes read the parts at once.
type lazyPart struct {
	start, end      int64
	firstLine, rows int
}

// each reads the table's rows again, in file order.
func (t *lazyTable) each(fn func(*flatRow) error) error {
	return t.eachRange(lazyPart{t.start, t.end, t.firstLine, t.rows}, fn)
}

// eachParts reads the table's parts at once, a goroutine each, part i's rows in file order with
// the function mk(i) returns, which is called once more with nil after the part's last row. The
// error is the first part's that failed (the first in the file; a part that only stopped
// because another failed counts last); stop, if not nil, is called as soon as any part fails.
func (t *lazyTable) eachParts(mk func(part int) func(*flatRow) error, stop func()) error {
	parts := t.parts
	if len(parts) < 2 {
		parts = []lazyPart{{t.start, t.end, t.firstLine, t.rows}}
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		fn := mk(i)
		run := func() {
			err := t.eachRange(p, fn)
			if err == nil {
				err = fn(nil)
			}
			if errs[i] = err; err != nil && stop != nil {
				stop()
			}
		}
		if len(parts) == 1 {
			run()
			break
		}
		wg.Go(run)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && err != errStopped { // a part stopped for another's failure says less
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *lazyTable) eachRange(p lazyPart, fn func(*flatRow) error) error {
	lr := newLineReader(t.src, p.start, p.end, p.firstLine, nil)
	rs := newRowScanner(t, false, fn)
	for {
		line, ok := lr.next()
		if !ok {
			break
		}
		line, ok = cleanLine(line)
		if !ok {
			return errChanged
		}
		lead := leadingSpaces(line)
		if lead == len(line) || line[lead] == '#' {
			continue
		}
		if err := rs.feed(line, lead, lr.lineNo); err != nil {
			if err == errDecline {
				err = errChanged
			}
			return err
		}
	}
	if lr.err != nil {
		return lr.err
	}
	if err := rs.finish(); err != nil {
		return err
	}
	if rs.rows != p.rows {
		return errChanged
	}
	return nil
}

// row builds a row of yaml.v3 nodes.
func (t *lazyTable) row(r *flatRow) *Row {
	out := &Row{Line: r.line, Cols: make([]string, len(r.vals)), Vals: make(map[string]*yaml.Node, len(r.vals))}
	for i := range r.vals {
		v := &r.vals[i]
		name := t.cols[v.col]
		out.Cols[i] = name
		out.Vals[name] = r.node(v)
	}
	return out
}

// The classes of a scalar's text that tell, for a ClickHouse column of a number or DateTime type,
// that the value converts (chCol.cleared) without reading it again.
const (
	textUint       uint8 = 1 << iota // digits only
	textInt                          // digits, maybe after a minus
	textDecimal                      // digits, maybe after a minus, maybe with a fraction: 1.5
	textDateTime                     // 2006-01-02 15:04:05, a real date and time (localDateTime)
	allTextClasses = textUint | textInt | textDecimal | textDateTime
)

func textClasses(b []byte) uint8 {
	if len(b) == 19 && b[4] == '-' {
		// a year a DateTime holds in any time zone (1970 and 2106 only in part)
		if dateTimeText(b) && string(b[:4]) >= "1971" && string(b[:4]) <= "2105" {
			return textDateTime
		}
		return 0
	}
	i, neg := 0, len(b) > 0 && b[0] == '-'
	if neg {
		i = 1
	}
	digits := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == digits {
		return 0
	}
	if i == len(b) {
		if neg {
			return textInt | textDecimal
		}
		return textUint | textInt | textDecimal
	}
	if b[i] != '.' {
		return 0
	}
	i++
	frac := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == frac || i != len(b) {
		return 0
	}
	return textDecimal
}

// dateTimeText reports whether localDateTime reads b (19 bytes) as a date and time.
func dateTimeText(b []byte) bool {
	_, _, _, _, _, _, ok := dateTimeParts(b)
	return ok
}

// dateTimeParts reads "2006-01-02 15:04:05" (19 bytes, each field in range, a day its month has).
func dateTimeParts[T string | []byte](b T) (y, mo, d, h, mi, se int, ok bool) {
	if len(b) != 19 || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return
	}
	num := func(i, n int) int {
		v := 0
		for j := i; j < i+n; j++ {
			if b[j] < '0' || b[j] > '9' {
				return -1
			}
			v = v*10 + int(b[j]-'0')
		}
		return v
	}
	y, mo, d, h, mi, se = num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 {
		return
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mo]
	if mo == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return y, mo, d, h, mi, se, d <= days
}
