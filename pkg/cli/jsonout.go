package cli

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

// The JSON documents brokle writes, one per command, each with "schema": 1; docs/json.md lists
// their fields and TestJSONSchemas checks every command's output against it. A value brokle
// does not know is null, never 0 or "".

// nullable is v, or nil when it is the zero value.
func nullable[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

// statusJSON is one database of `migrate status -o json`.
func statusJSON(s *migrate.Status) map[string]any {
	known := func(v any) any {
		if !s.Known {
			return nil
		}
		return v
	}
	var rtt, server any
	if s.Reachable {
		rtt, server = s.RTTMs, s.ServerVersion
	}
	ms := make([]map[string]any, 0, len(s.Migrations))
	for _, m := range s.Migrations {
		var dur any
		if m.AppliedAt != nil && m.State != migrate.StatePending {
			dur = m.DurationMs
		}
		ms = append(ms, map[string]any{
			"version": m.Version, "file": nullable(m.File), "state": m.State,
			"applied_at": timeOrNil(m.AppliedAt), "applied_by": nullable(m.AppliedBy), "duration_ms": dur,
		})
	}
	var dirty, running any
	if s.Dirty != nil {
		dirty = *s.Dirty
	}
	if s.Running != nil {
		running = *s.Running
	}
	var cluster any
	if s.Cluster != nil {
		cluster = s.Cluster
	}
	return map[string]any{
		"database": s.Database, "address": s.Address, "reachable": s.Reachable,
		"error": nullable(s.Error), "server_version": server, "rtt_ms": rtt,
		"current_version": known(s.Current), "dirty_version": dirty,
		"running_version": running, "running_by": nullable(s.RunningBy),
		"applied": known(s.Applied), "pending": known(s.Pending), "drifted": known(s.Drifted), "missing": known(s.Missing),
		"healthy": s.Healthy, "unmanaged": nullable(s.Unmanaged), "cluster": cluster,
		"source": s.Source, "built_in": s.BuiltIn, "source_note": s.SourceNote, "warnings": s.Warnings,
		"migrations": ms,
	}
}

// runJSON is one database of up, down, redo or reset with -o json; errMsg is the error that
// stopped it, or nil.
func runJSON(r *migrate.Run, errMsg any) map[string]any {
	var from, to any
	if r.From != nil {
		from = *r.From
	}
	if r.To != nil {
		to = *r.To
	}
	steps := r.Steps
	if steps == nil {
		steps = []migrate.RunStep{}
	}
	return map[string]any{
		"database": r.Database, "address": r.Address, "from_version": from, "to_version": to,
		"count": len(steps), "duration_ms": float64(r.Duration.Microseconds()) / 1000,
		"migrations": steps, "error": errMsg,
	}
}

// Kinds of note.
const (
	noteSkipped    = "skipped"     // a database the command leaves out (not configured, no folder)
	noteNotChecked = "not checked" // a database the command could not ask
	noteWaiting    = "waiting"     // the command waits (for a lock)
	noteWarning    = "warning"     // something the user should look at (an empty Up applied)
)

// noteLines is where the engine's "warning: DB: ..." lines go under --output json: each line
// becomes a note of kind warning.
type noteLines struct {
	a        *app
	database string
	buf      []byte
}

func (n *noteLines) Write(p []byte) (int, error) {
	n.buf = append(n.buf, p...)
	for {
		i := bytes.IndexByte(n.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimPrefix(string(n.buf[:i]), "warning: ")
		line = strings.TrimPrefix(line, n.database+": ")
		n.buf = n.buf[i+1:]
		n.a.note("json", n.database, noteWarning, line)
	}
}

// note tells the user something about one database that is not an error: a line on stderr, or,
// with --output json, a document there (docs/json.md, "notes"), so that a script reading JSON
// never meets text on either stream.
func (a *app) note(output, database, kind, msg string) {
	if output == "json" {
		_ = writeJSON(a.streams.Err, map[string]any{"schema": 1, "note": map[string]any{"database": database, "kind": kind, "message": msg}})
		return
	}
	fmt.Fprintf(a.streams.Err, "%-10s %s\n", database, msg)
}
