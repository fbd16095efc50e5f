package migrate

import (
	"errors"
	"fmt"
	"strings"
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
	return fmt.Sprintf("%s: %s (version %d) changed since it was applied; restore its text, or pass --allow-drift", e.Database, e.File, e.Version)
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
}

func (e *ErrMigration) Error() string {
	state := "rolled back, nothing recorded"
	if e.Dirty {
		state = fmt.Sprintf("version %d is now dirty", e.Version)
	}
	at := ""
	if e.Statement > 0 {
		first, _, _ := strings.Cut(strings.TrimSpace(e.StatementText), "\n")
		at = fmt.Sprintf(" at statement %d (%s)", e.Statement, first)
	}
	return fmt.Sprintf("%s: %s %s failed%s (%s): %v", e.Database, e.File, e.Direction, at, state, e.Err)
}

func (e *ErrMigration) Unwrap() error { return e.Err }

// ErrInput is bad input from the user (a version that does not exist, a bad step count).
type ErrInput struct{ Msg string }

func (e *ErrInput) Error() string { return e.Msg }

// IsInput reports whether err is the user's input at fault (exit code 2).
func IsInput(err error) bool {
	var in *ErrInput
	var se *SourceError
	return errors.As(err, &in) || errors.As(err, &se)
}
