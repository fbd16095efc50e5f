package migrate

import (
	"fmt"
	"strings"

	"github.com/brokle-ai/brokle/internal/lazyre"
)

// Severities of a finding: an error fails validate (exit 1), a warning does not.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Finding is one problem validate reports, at a file and line.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Msg      string `json:"message"`
}

func (f Finding) String() string {
	sev := ""
	if f.Severity == SeverityWarning {
		sev = "warning: "
	}
	if f.Line <= 0 { // about the file as a whole
		return fmt.Sprintf("%s: %s%s (%s)", f.File, sev, f.Msg, f.Rule)
	}
	return fmt.Sprintf("%s:%d: %s%s (%s)", f.File, f.Line, sev, f.Msg, f.Rule)
}

var (
	createTableRE = lazyre.New(`(?i)\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+|UNLOGGED\s+)?TABLE\s+(.*)$`)
	ifNotExistsRE = lazyre.New(`(?i)^IF\s+NOT\s+EXISTS\b`)
	dropRE        = lazyre.New(`(?i)^\s*DROP\s+(TABLE|VIEW|MATERIALIZED\s+VIEW|INDEX|TYPE|SEQUENCE|FUNCTION|PROCEDURE|SCHEMA|DOMAIN|DICTIONARY|DATABASE|TRIGGER)\s+(?:CONCURRENTLY\s+)?(.*)$`)
	ifExistsRE    = lazyre.New(`(?i)^IF\s+EXISTS\b`)
)

// SQLLine is one line of SQL code in a migration file (not a comment, not an annotation).
type SQLLine struct {
	File string
	Line int
	Text string
	Up   bool
}

// CodeLines walks the SQL lines of a migration's files, with the section each belongs to.
func (m *Migration) CodeLines() []SQLLine {
	var out []SQLLine
	for i, text := range m.Texts {
		up := true
		if m.Format == FormatPair && i == 1 {
			up = false
		}
		inBlockComment := false
		for n, line := range splitLines(text) {
			t := strings.TrimSpace(line)
			if m.Format != FormatPair {
				if sm := migrateMark.FindStringSubmatch(t); sm != nil {
					if strings.EqualFold(sm[1], "down") {
						up = false
					}
					continue
				}
				if isGooseAnnotation(line) {
					if a, _ := gooseAnnotation(line); a == "Down" {
						up = false
					}
					continue
				}
			}
			if inBlockComment {
				if _, after, ok := strings.Cut(t, "*/"); ok {
					inBlockComment = false
					t = strings.TrimSpace(after)
				} else {
					continue
				}
			}
			if strings.HasPrefix(t, "/*") && !strings.Contains(t, "*/") {
				inBlockComment = true
				continue
			}
			if code, _, _ := strings.Cut(t, "--"); strings.TrimSpace(code) != "" {
				out = append(out, SQLLine{File: m.Files[i], Line: n + 1, Text: strings.TrimSpace(code), Up: up})
			}
		}
	}
	return out
}

// Lint checks what every database's migrations share: a Down for each, IF NOT EXISTS on CREATE
// TABLE and IF EXISTS on DROP, so a half-applied migration can be run again.
func Lint(src *Source) []Finding {
	var out []Finding
	for _, m := range src.Migrations {
		switch {
		case m.Template:
			out = append(out, Finding{File: m.File(), Line: m.UpLine, Rule: "template", Severity: SeverityWarning,
				Msg: "still the template `migrate create` wrote: up refuses it until its SQL is written"})
		case len(m.Up) == 0:
			out = append(out, Finding{File: m.File(), Line: m.UpLine, Rule: "empty-up", Severity: SeverityWarning,
				Msg: "the Up section is empty: up records it as applied, running nothing"})
		}
		if !m.HasDown {
			out = append(out, Finding{File: m.File(), Line: m.UpLine, Rule: "down-missing", Severity: SeverityError,
				Msg: "no Down section: this migration cannot be rolled back"})
		}
		for _, l := range m.CodeLines() {
			if sm := createTableRE.FindStringSubmatch(l.Text); sm != nil && !ifNotExistsRE.MatchString(sm[1]) {
				out = append(out, Finding{File: l.File, Line: l.Line, Rule: "create-if-not-exists", Severity: SeverityError,
					Msg: "CREATE TABLE without IF NOT EXISTS"})
			}
			if sm := dropRE.FindStringSubmatch(l.Text); sm != nil && !ifExistsRE.MatchString(sm[2]) {
				out = append(out, Finding{File: l.File, Line: l.Line, Rule: "drop-if-exists", Severity: SeverityError,
					Msg: fmt.Sprintf("DROP %s without IF EXISTS", strings.ToUpper(sm[1]))})
			}
		}
	}
	return out
}
