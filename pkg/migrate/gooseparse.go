package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mfridman/interpolate"

	"github.com/brokle-ai/brokle/internal/lazyre"
)

// This file reads goose-format text the way goose's own parser does (its statement splitting,
// StatementBegin/End, NO TRANSACTION and ENVSUB), but keeps where each statement starts and says
// where a problem is: goose's errors carry neither our file name nor a line. FuzzLoad holds this
// reading to goose's own; goose itself parses at load only what this one cannot vouch for
// (Migration.mayDiffer), every file for validate (LoadOptions.GooseCheck), and each migration
// again as it plans or runs it: goose's statements are what runs.

type gooseState int

const (
	stStart gooseState = iota
	stUp
	stBeginUp
	stEndUp
	stDown
	stBeginDown
	stEndDown
)

func (s gooseState) up() bool   { return s == stUp || s == stBeginUp || s == stEndUp }
func (s gooseState) down() bool { return s == stDown || s == stBeginDown || s == stEndDown }

// isGooseAnnotation is goose's test for an annotation line: a comment that mentions +goose.
func isGooseAnnotation(line string) bool {
	return strings.HasPrefix(strings.TrimSpace(line), "--") && strings.Contains(line, "+goose")
}

var gooseAnnotations = []string{"Up", "Down", "StatementBegin", "StatementEnd", "NO TRANSACTION", "ENVSUB ON", "ENVSUB OFF"}

// gooseAnnotation is goose's reading of an annotation line.
func gooseAnnotation(line string) (string, error) {
	// The usual line, "-- +goose Up", read without the general case's copies (the same answer:
	// with no other - or +goose on the line, removing "--" and "+goose" leaves the rest).
	if rest, ok := strings.CutPrefix(line, "-- +goose "); ok && !strings.Contains(rest, "-") && !strings.Contains(rest, "+goose") {
		cmd := strings.TrimSpace(rest)
		for _, a := range gooseAnnotations {
			if strings.EqualFold(a, cmd) {
				return a, nil
			}
		}
	}
	if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
		return "", errors.New("an annotation must start at the beginning of the line")
	}
	cmd := strings.ReplaceAll(line, "--", "")
	cmd = strings.Replace(cmd, "+goose", "", 1)
	if strings.Contains(cmd, "+goose") {
		return "", errors.New("two +goose annotations on one line")
	}
	cmd = strings.TrimSpace(cmd)
	if cmd == "" {
		return "", errors.New("an empty -- +goose annotation")
	}
	for _, a := range gooseAnnotations {
		if strings.EqualFold(a, cmd) {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown annotation -- +goose %s: want Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON or ENVSUB OFF (a comment must not mention +goose)", cmd)
}

// endsWithSemicolon is goose's end-of-statement test: the last word before a -- comment ends
// with a semicolon.
func endsWithSemicolon(line string) bool {
	prev := ""
	for w := range strings.FieldsSeq(line) {
		if strings.HasPrefix(w, "--") {
			break
		}
		prev = w
	}
	return strings.HasSuffix(prev, ";")
}

type envLookup struct{}

func (envLookup) Get(key string) (string, bool) { return os.LookupEnv(key) }

// parseGoose splits doc's statements of one direction as goose does.
func parseGoose(doc *gooseDoc, up bool) (stmts []Statement, useTx bool, err *SourceError) {
	useTx = true
	envsub := false
	state := stStart
	var buf bytes.Buffer // as goose's: Reset keeps its room, and every line of the other direction is written and reset
	var at origin
	failAt := func(o origin, format string, args ...any) *SourceError {
		return &SourceError{File: o.file, Line: o.line, Msg: fmt.Sprintf(format, args...)}
	}
	stmts = []Statement{}
	beginAt := origin{}
	emit := func() {
		stmts = append(stmts, Statement{File: at.file, Line: at.line, Text: strings.TrimSpace(buf.String())})
		buf.Reset()
	}
	unfinished := func() *SourceError {
		return failAt(at, "this statement has no final semicolon: end it with ; (goose splits statements at a ; that ends a line)")
	}
	for i, line := range doc.lines {
		o := doc.origins[i]
		line = strings.TrimSuffix(line, "\r") // goose reads the text with bufio's ScanLines too
		if state == stStart && strings.TrimSpace(line) == "" {
			continue
		}
		if isGooseAnnotation(line) {
			cmd, aerr := gooseAnnotation(line)
			if aerr != nil {
				return nil, false, failAt(o, "%v", aerr)
			}
			switch cmd {
			case "Up":
				if state != stStart {
					return nil, false, failAt(o, "a second Up section")
				}
				state = stUp
				continue
			case "Down":
				switch state {
				case stUp, stEndUp:
					if strings.TrimSpace(buf.String()) != "" {
						return nil, false, unfinished()
					}
					state = stDown
				case stStart:
					return nil, false, failAt(o, "Down section before the Up section")
				case stBeginUp, stBeginDown:
					return nil, false, failAt(o, "Down section inside a StatementBegin block (opened at line %d): close it with StatementEnd first", beginAt.line)
				default:
					return nil, false, failAt(o, "a second Down section")
				}
				continue
			case "StatementBegin":
				switch state {
				case stUp, stEndUp:
					state = stBeginUp
				case stDown, stEndDown:
					state = stBeginDown
				case stStart:
					return nil, false, failAt(o, "StatementBegin before the Up section")
				default:
					return nil, false, failAt(o, "StatementBegin inside another StatementBegin block (opened at line %d)", beginAt.line)
				}
				beginAt = o
				continue
			case "StatementEnd":
				switch state {
				case stBeginUp:
					state = stEndUp
				case stBeginDown:
					state = stEndDown
				default:
					return nil, false, failAt(o, "StatementEnd without StatementBegin")
				}
			case "NO TRANSACTION":
				useTx = false
				continue
			case "ENVSUB ON":
				envsub = true
				continue
			case "ENVSUB OFF":
				envsub = false
				continue
			}
		}
		if buf.Len() == 0 {
			if strings.HasPrefix(strings.TrimSpace(line), "--") || line == "" {
				continue
			}
		}
		if state != stEndUp && state != stEndDown {
			if envsub {
				expanded, ierr := interpolate.Interpolate(envLookup{}, line)
				if ierr != nil {
					return nil, false, failAt(o, "ENVSUB: %v", ierr)
				}
				line = expanded
			}
			if buf.Len() == 0 {
				at = o
			}
			buf.WriteString(line)
			buf.WriteByte('\n')
		}
		switch {
		case state.up():
			if !up {
				buf.Reset()
				continue
			}
		case state.down():
			if up {
				buf.Reset()
				continue
			}
		default:
			return nil, false, failAt(o, "SQL before the Up section: move it below the Up annotation")
		}
		switch state {
		case stUp, stDown:
			if endsWithSemicolon(line) {
				emit()
			}
		case stEndUp, stEndDown:
			if strings.TrimSpace(buf.String()) == "" {
				// goose would send an empty statement, and drop this line.
				return nil, false, failAt(beginAt, "the StatementBegin/StatementEnd block holds no SQL")
			}
			emit()
			if state == stEndUp {
				state = stUp
			} else {
				state = stDown
			}
		}
	}
	switch state {
	case stStart:
		return nil, false, &SourceError{File: firstFile(doc), Line: 1, Msg: "no Up section"}
	case stBeginUp, stBeginDown:
		return nil, false, failAt(beginAt, "StatementBegin without StatementEnd")
	}
	if strings.TrimSpace(buf.String()) != "" {
		return nil, false, unfinished()
	}
	return stmts, useTx, nil
}

func firstFile(doc *gooseDoc) string {
	for _, o := range doc.origins {
		if o.file != "" {
			return o.file
		}
	}
	return ""
}

// txControlWords are the first words of txControlRE's statements.
var txControlWords = []string{"BEGIN", "COMMIT", "END", "ABORT", "ROLLBACK", "START", "PREPARE"}

var txControlRE = lazyre.New(`(?i)^(BEGIN|COMMIT|END|ABORT|ROLLBACK|START\s+TRANSACTION|PREPARE\s+TRANSACTION)\b`)

// txControl returns the transaction control a statement starts with (COMMIT, BEGIN...), "" if
// none. ROLLBACK TO SAVEPOINT stays inside the transaction and is not control.
func txControl(stmt string) string {
	s := skipComments(stmt)
	// Most statements start with another word (CREATE, ALTER...): the expression is the judge
	// only of those that start with a control word.
	word := s[:len(s)-len(strings.TrimLeft(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))]
	if !slices.ContainsFunc(txControlWords, func(w string) bool { return strings.EqualFold(w, word) }) {
		return ""
	}
	m := txControlRE.FindString(s)
	if m == "" {
		return ""
	}
	if strings.EqualFold(m, "ROLLBACK") {
		rest := strings.TrimSpace(skipComments(s[len(m):]))
		if len(rest) >= 2 && strings.EqualFold(rest[:2], "TO") {
			return ""
		}
	}
	return strings.ToUpper(strings.Join(strings.Fields(m), " "))
}

// skipComments drops leading whitespace and comments.
func skipComments(s string) string {
	for {
		s = strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = s[i+2:]
				continue
			}
			return ""
		}
		return s
	}
}

// secondStatement finds, in a ClickHouse statement, a second statement after a semicolon
// (outside quotes and comments), and the line of the file where it starts.
func secondStatement(st Statement) (int, bool) {
	s := st.Text
	line := st.Line
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			line++
		case c == '\'' || c == '"' || c == '`':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' {
					i++
				} else if s[i] == '\n' {
					line++
				}
			}
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			i--
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return 0, false
			}
			line += strings.Count(s[i:i+2+j], "\n")
			i += j + 3
		case c == ';':
			rest := s[i+1:]
			tail := skipComments(rest)
			if strings.Trim(tail, "; \t\r\n") != "" {
				return line + strings.Count(rest[:len(rest)-len(tail)], "\n"), true
			}
			return 0, false
		}
	}
	return 0, false
}

var gooseFileRE = lazyre.New(`(failed to parse )?\d+_[^ :]*\.sql:? ?`)

// check has goose parse each of ms both ways, offline, unless it did already: what goose refuses
// is an error at the file's Up line; what it splits differently from brokle's reading wins, since
// goose runs.
func (s *Source) check(ms []*Migration) SourceErrors {
	var todo []*Migration
	for _, m := range ms {
		if m.loaded && !m.checked {
			todo = append(todo, m)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	x, err := newExplainer(todo)
	if err != nil {
		return SourceErrors{&SourceError{File: s.Display, Msg: "goose cannot read the set: " + err.Error()}}
	}
	defer x.close()
	var errs SourceErrors
	failed := map[*Migration]bool{}
	for _, up := range []bool{true, false} {
		for _, m := range todo {
			step, err := x.step(context.Background(), m, up)
			if err != nil {
				var se *SourceError
				msg := err.Error()
				if errors.As(err, &se) {
					msg = se.Msg
				}
				msg = gooseFileRE.ReplaceAllString(msg, "")
				errs = append(errs, &SourceError{File: m.File(), Line: m.UpLine, Msg: "goose cannot read it: " + msg})
				failed[m] = true
				continue
			}
			ours := m.Statements(up)
			theirs := step.Statements
			for i := range ours {
				if i >= len(theirs) || ours[i].Text != theirs[i] {
					m.mirrorDiffers = true
				}
			}
			if len(theirs) != len(ours) {
				m.mirrorDiffers = true
				fixed := make([]Statement, len(theirs))
				for i, t := range theirs {
					fixed[i] = Statement{File: m.File(), Line: m.UpLine, Text: t}
				}
				ours = fixed
			}
			for i := range ours {
				ours[i].Text = theirs[i]
			}
			if up {
				m.Up = ours
			} else {
				m.Down = ours
			}
			if up && step.InTx == m.NoTx {
				m.NoTx = !step.InTx
			}
		}
	}
	for _, m := range todo {
		m.checked = !failed[m]
	}
	return errs
}

// unterminated finds a string, quoted name, block comment or (PostgreSQL) dollar-quoted body
// that a statement opens and does not close: goose split the statement at a ; inside it. It
// returns the line where it opens and what it is.
func unterminated(st Statement, postgres bool) (int, string) {
	s := st.Text
	line := st.Line
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			line++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			i--
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			start, depth := line, 1
			for i += 2; i < len(s) && depth > 0; i++ {
				switch {
				case s[i] == '\n':
					line++
				case postgres && s[i] == '/' && i+1 < len(s) && s[i+1] == '*':
					depth++
					i++
				case s[i] == '*' && i+1 < len(s) && s[i+1] == '/':
					depth--
					i++
				}
			}
			i--
			if depth > 0 {
				return start, "a /* comment"
			}
		case c == '\'' || c == '"' || c == '`':
			start := line
			escapes := !postgres || c == '\'' && i > 0 && (s[i-1] == 'E' || s[i-1] == 'e')
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '\n' {
					line++
				}
				if escapes && s[i] == '\\' {
					i++
					continue
				}
				if s[i] == c {
					if i+1 < len(s) && s[i+1] == c { // a doubled quote stands for itself
						i++
						continue
					}
					closed = true
					break
				}
			}
			if !closed {
				what := map[byte]string{'\'': "a 'string", '"': "a \"quoted name", '`': "a `quoted name"}[c]
				return start, what
			}
		case postgres && c == '$':
			m := dollarQuote.FindString(s[i:])
			if m == "" || !strings.HasPrefix(s[i:], m) {
				continue
			}
			start := line
			end := strings.Index(s[i+len(m):], m)
			if end < 0 {
				return start, "a " + m + " body"
			}
			line += strings.Count(s[i:i+len(m)+end], "\n")
			i += len(m) + end + len(m) - 1
		}
	}
	return 0, ""
}
