package migrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/brokle-ai/brokle/internal/lazyre"
)

// ErrDirty: a migration outside a transaction failed or was killed part-way.
type ErrDirty struct {
	Database string
	Version  int64
	File     string
}

func (e *ErrDirty) Error() string {
	return fmt.Sprintf("%s is dirty at version %d (%s): it failed or was killed part-way; check the schema, then run `brokle migrate force --db %s --version V --yes` with V=%d if it took effect or the version before it if not",
		e.Database, e.Version, e.File, e.Database, e.Version)
}

// ErrDrift: an applied migration's text changed, or its file is gone.
type ErrDrift struct {
	Database string
	Version  int64
	File     string // empty when the file is missing
}

func (e *ErrDrift) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%s: version %d is applied but has no migration file; restore it, or pass --allow-drift", e.Database, e.Version)
	}
	return fmt.Sprintf("%s: %s (version %d) changed since it was applied; restore its text, or record the new text with `brokle migrate rehash --db %s --version %d` (audited), or pass --allow-drift", e.Database, e.File, e.Version, e.Database, e.Version)
}

// ErrOutOfOrder: a pending version is lower than one already applied.
type ErrOutOfOrder struct {
	Database string
	Version  int64
	File     string
	Current  int64
}

func (e *ErrOutOfOrder) Error() string {
	return fmt.Sprintf("%s: %s (version %d) is pending but version %d is already applied; rename it above %d, or pass --allow-out-of-order",
		e.Database, e.File, e.Version, e.Current, e.Current)
}

// ErrMigration: a migration's SQL failed.
type ErrMigration struct {
	Database  string
	Version   int64
	File      string
	Direction string
	Dirty     bool
	Err       error
	// Statement is the 1-based index of the failing statement, when the connection counts them.
	Statement     int
	StatementText string
	// StatementFile and StatementLine are where the failing statement starts; ErrorLine is the
	// line of the file the server's error points at (0: it points nowhere).
	StatementFile string
	StatementLine int
	ErrorLine     int
}

// serverLineRE is where ClickHouse's errors point, within the statement it was sent.
var serverLineRE = lazyre.New(`\(line (\d+), col (\d+)\)`)

func (e *ErrMigration) Error() string {
	state := "rolled back, nothing recorded"
	if e.Dirty {
		state = fmt.Sprintf("version %d is now dirty", e.Version)
	}
	at := ""
	if e.Statement > 0 {
		first, _, _ := strings.Cut(strings.TrimSpace(e.StatementText), "\n")
		where := ""
		if e.StatementLine > 0 {
			where = fmt.Sprintf(", line %d", e.StatementLine)
		}
		at = fmt.Sprintf(" at statement %d%s (%s)", e.Statement, where, first)
	}
	msg := e.Err.Error()
	var pg *pgconn.PgError
	isPG := errors.As(e.Err, &pg)
	if e.ErrorLine > 0 {
		// The server counts lines within the statement; the user reads the file.
		if isPG {
			msg += fmt.Sprintf(" at %s:%d", e.StatementFile, e.ErrorLine)
		} else {
			msg = serverLineRE.ReplaceAllString(msg, fmt.Sprintf("(%s:%d, col $2)", e.StatementFile, e.ErrorLine))
		}
	}
	if isPG {
		// PostgreSQL's own DETAIL and HINT lines, as psql shows them.
		if pg.Detail != "" {
			msg += "\nDETAIL:  " + pg.Detail
		}
		if pg.Hint != "" {
			msg += "\nHINT:  " + pg.Hint
		}
	}
	return fmt.Sprintf("%s: %s %s failed%s (%s): %s", e.Database, e.File, e.Direction, at, state, msg)
}

// Locate fills in where the failing statement (the nth of m's statements in that direction,
// sent as text) is in its file, and the file line the server's error points at.
func (e *ErrMigration) Locate(m *Migration, up bool) {
	sts := m.Statements(up)
	if e.Statement < 1 || e.Statement > len(sts) {
		return
	}
	st := sts[e.Statement-1]
	e.StatementFile, e.StatementLine = st.File, st.Line
	sm := serverLineRE.FindStringSubmatch(e.Err.Error())
	var pg *pgconn.PgError
	if sm == nil && errors.As(e.Err, &pg) && pg.Position > 0 {
		// PostgreSQL points at a character of the statement: its line within the text sent.
		runes := []rune(e.StatementText)
		if int(pg.Position) <= len(runes) {
			sm = []string{"", strconv.Itoa(1 + strings.Count(string(runes[:pg.Position-1]), "\n"))}
		}
	}
	if sm == nil {
		return
	}
	n, _ := strconv.Atoi(sm[1])
	sent := strings.Split(e.StatementText, "\n")
	e.ErrorLine = st.Line + n - 1
	if n < 1 || n > len(sent) {
		return
	}
	// The text sent may start otherwise than the file (a comment, a blank line): find the line
	// the server means in the file, from a little before the statement's start.
	want := strings.TrimSpace(sent[n-1])
	for i, f := range m.Files {
		if f != st.File || i >= len(m.Texts) || want == "" {
			continue
		}
		lines := strings.Split(string(m.Texts[i]), "\n")
		for l := max(st.Line-len(sent), 1); l <= len(lines); l++ {
			if strings.TrimSpace(lines[l-1]) == want {
				e.ErrorLine = l
				return
			}
		}
	}
}

func (e *ErrMigration) Unwrap() error { return e.Err }

// ErrInput is bad input from the user (a version that does not exist, a bad step count).
type ErrInput struct{ Msg string }

func (e *ErrInput) Error() string { return e.Msg }

// IsInput reports whether err is the user's input at fault (exit code 2).
func IsInput(err error) bool {
	var in *ErrInput
	var se *SourceError
	var te *ErrTemplate
	return errors.As(err, &in) || errors.As(err, &se) || errors.As(err, &te)
}

// ErrLockLost: the run no longer holds the migration lock (its session ended, its lease ran out
// or was taken). The run stops at the next boundary.
type ErrLockLost struct {
	Database string
	Reason   error
	Version  int64  // the migration that was running, if any
	File     string //
	Dirty    bool   // that migration is left dirty
}

func (e *ErrLockLost) Error() string {
	switch {
	case e.File != "" && e.Dirty:
		return fmt.Sprintf("%s: lost the migration lock while applying %s (%v); stopped: version %d is dirty: make sure no other run is working on it, check the schema, then run `brokle migrate force --db %s --version V --yes`",
			e.Database, e.File, e.Reason, e.Version, e.Database)
	case e.File != "":
		return fmt.Sprintf("%s: lost the migration lock while applying %s (%v); stopped: it was rolled back, nothing recorded", e.Database, e.File, e.Reason)
	}
	return fmt.Sprintf("%s: lost the migration lock (%v); stopped before the next migration, nothing is dirty", e.Database, e.Reason)
}

func (e *ErrLockLost) Unwrap() error { return e.Reason }

// ErrInterrupted: a signal (or the caller) ended the run.
type ErrInterrupted struct {
	Database string
	During   string // what was going on: "waiting for the migration lock", "applying 000003_x.sql"
	Cause    error  // what ended it (a signal), when known
	Version  int64
	Dirty    bool
}

func (e *ErrInterrupted) Error() string {
	cause := "interrupted"
	if e.Cause != nil && !errors.Is(e.Cause, context.Canceled) {
		cause = e.Cause.Error()
	}
	switch {
	case e.Version != 0 && e.Dirty:
		return fmt.Sprintf("%s: %s while %s; version %d is dirty: check the schema, then run `brokle migrate force --db %s --version V --yes`", e.Database, cause, e.During, e.Version, e.Database)
	case e.Version != 0:
		return fmt.Sprintf("%s: %s while %s; it was rolled back, nothing recorded", e.Database, cause, e.During)
	}
	return fmt.Sprintf("%s: %s while %s; stopped there, nothing is dirty", e.Database, cause, e.During)
}

func (e *ErrInterrupted) Unwrap() error { return e.Cause }

// ErrPlanChanged: the database changed between the plan the user confirmed and the run.
type ErrPlanChanged struct{ Database string }

func (e *ErrPlanChanged) Error() string {
	return fmt.Sprintf("%s: the database changed since the plan was shown (another run?); nothing was done: run the command again to see the new plan", e.Database)
}

// ErrAlreadyPast: up --version N on a database already past N, with nothing pending below it.
type ErrAlreadyPast struct {
	Database string
	Target   int64
	Current  int64
}

func (e *ErrAlreadyPast) Error() string {
	return fmt.Sprintf("%s is already at version %d, past --version %d: nothing to apply (to go back to %d: `brokle migrate down --db %s --version %d`)",
		e.Database, e.Current, e.Target, e.Target, e.Database, e.Target)
}
