package migrate

import "context"

// StatementTracker counts the statements a migration has sent, so a failure can name the one at
// fault. A database whose connection can count (ClickHouse's) fills it in from the context.
type StatementTracker struct {
	N    int    // statements sent so far, the failing one included
	Last string // the last statement sent
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
