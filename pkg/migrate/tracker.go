package migrate

import (
	"context"
	"strings"
	"time"
)

// StatementTracker counts the statements a migration has sent, so a failure can name the one at
// fault. A database whose connection can count (ClickHouse's) fills it in from the context.
type StatementTracker struct {
	N    int    // statements sent so far, the failing one included
	Last string // the last statement sent
	// OnStatement, when set, is told of each statement when it has run (-v).
	// Queries with arguments are brokle's and goose's own bookkeeping, not a migration's, and
	// are left out, as are transaction control statements.
	OnStatement func(query string, took time.Duration, err error)
}

// Done reports a statement that ran, with nargs arguments, to OnStatement.
func (t *StatementTracker) Done(query string, nargs int, start time.Time, err error) {
	if t == nil || t.OnStatement == nil || !IsMigrationStatement(query, nargs) {
		return
	}
	t.OnStatement(query, time.Since(start), err)
}

// IsMigrationStatement reports whether a query sent during a migration is one of its own
// statements: not bookkeeping (which has arguments) nor transaction control.
func IsMigrationStatement(query string, nargs int) bool {
	if nargs > 0 {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(query), ";"))) {
	case "begin", "commit", "rollback", "begin read write", "begin isolation level serializable":
		return false
	}
	return true
}

type trackerKey struct{}

// WithTracker returns ctx carrying t.
func WithTracker(ctx context.Context, t *StatementTracker) context.Context {
	return context.WithValue(ctx, trackerKey{}, t)
}

// TrackerFrom returns the tracker ctx carries, or nil.
func TrackerFrom(ctx context.Context) *StatementTracker {
	t, _ := ctx.Value(trackerKey{}).(*StatementTracker)
	return t
}
