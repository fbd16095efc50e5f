package migrate

import (
	"context"
	"sort"
)

// Schema is brokle's own reading of a database's schema, normalized so that two equal schemas
// compare equal: each object ("table users", "column users.email", "index users_email_idx") with
// its definition. brokle's own tables are left out.
type Schema map[string]string

// Snapshotter reads a database's schema.
type Snapshotter interface {
	Snapshot(ctx context.Context) (Schema, error)
}

// SchemaDiff is what changed from one schema to another, each list sorted.
type SchemaDiff struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// Empty reports whether nothing changed.
func (d SchemaDiff) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// Diff is what to has that from has not, what from has that to has not, and what both have
// with another definition.
func Diff(from, to Schema) SchemaDiff {
	d := SchemaDiff{Added: []string{}, Removed: []string{}, Changed: []string{}}
	for k, v := range to {
		w, ok := from[k]
		switch {
		case !ok:
			d.Added = append(d.Added, k)
		case v != w:
			d.Changed = append(d.Changed, k)
		}
	}
	for k := range from {
		if _, ok := to[k]; !ok {
			d.Removed = append(d.Removed, k)
		}
	}
	sort.Strings(d.Added)
	sort.Strings(d.Removed)
	sort.Strings(d.Changed)
	return d
}
