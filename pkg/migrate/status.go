package migrate

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Migration states as status reports them.
const (
	StateApplied = "applied"
	StatePending = "pending"
	StateDirty   = "dirty"
	StateRunning = "running" // outside a transaction, by a run that still holds the lock
	StateDrifted = "drifted" // applied, but the file's text changed since
	StateMissing = "missing" // applied, but no file has its version
)

// MigrationStatus is one row of status.
type MigrationStatus struct {
	Version    int64      `json:"version"`
	File       string     `json:"file,omitempty"`
	State      string     `json:"state"`
	AppliedAt  *time.Time `json:"applied_at,omitempty"`
	AppliedBy  string     `json:"applied_by,omitempty"`
	DurationMs float64    `json:"duration_ms,omitempty"`
}

// Status is the health of one database's migrations.
type Status struct {
	Database string `json:"database"`
	Address  string `json:"address"`
	// Source is the migrations used: a folder, or the set built into the binary (BuiltIn).
	Source     string  `json:"source"`
	BuiltIn    bool    `json:"built_in"`
	SourceNote *string `json:"source_note"` // why the built-in set: "no folder at migrations"
	// Warnings are problems that do not make the database unhealthy (an untouched template).
	Warnings      []string `json:"warnings"`
	Reachable     bool     `json:"reachable"`
	Error         string   `json:"error,omitempty"`
	ServerVersion string   `json:"server_version,omitempty"`
	RTTMs         float64  `json:"rtt_ms,omitempty"`
	Current       int64    `json:"current_version"`
	Dirty         *int64   `json:"dirty_version"`
	Running       *int64   `json:"running_version"`
	RunningBy     string   `json:"running_by,omitempty"` // the lock holder: pid, host, since
	Applied       int      `json:"applied"`
	Pending       int      `json:"pending"`
	Drifted       int      `json:"drifted"`
	Missing       int      `json:"missing"`
	Healthy       bool     `json:"healthy"`
	// Unmanaged says, for a database with tables but no brokle history, why up would refuse and
	// what to run instead (adopt, baseline).
	Unmanaged string `json:"unmanaged,omitempty"`
	// Cluster is, in ClickHouse cluster mode, the cluster's name and each node's state.
	Cluster    any               `json:"cluster,omitempty"`
	Migrations []MigrationStatus `json:"migrations"`
	// Known: the history was read, so the version and the counts are facts, not zeros.
	Known bool `json:"-"`
}

// Status reads the database's history, read-only, and compares it with the source.
func (e *Engine) Status(ctx context.Context) *Status {
	s := &Status{Database: e.db.Name(), Address: e.db.Address(), Source: e.src.Display, BuiltIn: e.src.BuiltIn, Migrations: make([]MigrationStatus, 0, len(e.src.Migrations)), Warnings: []string{}}
	if e.src.Note != "" {
		note := e.src.Note
		s.SourceNote = &note
	}
	start := time.Now()
	ver, err := e.db.ServerVersion(ctx)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.RTTMs = float64(time.Since(start).Microseconds()) / 1000
	s.Reachable, s.ServerVersion = true, ver
	st, err := e.readState(ctx)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Current, s.Known = st.current(), true
	for _, m := range e.src.Migrations {
		ms := MigrationStatus{Version: m.Version, File: m.File(), State: StatePending}
		if r, ok := st.byVer[m.Version]; ok {
			ms.State = StateApplied
			switch {
			case r.Dirty:
				ms.State = StateDirty
				v := r.Version
				s.Dirty = &v
			case !m.Matches(r.Checksum):
				ms.State = StateDrifted
				s.Drifted++
			}
			if r.Applied {
				s.Applied++
				at := r.AppliedAt
				ms.AppliedAt, ms.AppliedBy = &at, r.AppliedBy
				ms.DurationMs = float64(r.Duration.Microseconds()) / 1000
			}
		} else {
			s.Pending++
			if m.Template {
				s.Warnings = append(s.Warnings, m.File()+" is still the template `migrate create` wrote: up refuses it until its SQL is written")
			}
		}
		s.Migrations = append(s.Migrations, ms)
	}
	for _, r := range st.records {
		if e.src.Lookup(r.Version) != nil {
			continue
		}
		at := r.AppliedAt
		ms := MigrationStatus{Version: r.Version, State: StateMissing, AppliedAt: &at, AppliedBy: r.AppliedBy}
		if r.Dirty {
			v := r.Version
			s.Dirty = &v
			ms.State = StateDirty
		}
		s.Missing++
		s.Migrations = append(s.Migrations, ms)
	}
	slices.SortFunc(s.Migrations, func(a, b MigrationStatus) int { return cmpInt64(a.Version, b.Version) })
	if s.Dirty != nil {
		// A version marked dirty whose run still holds the lock is being applied right now.
		if holder, err := e.db.LockHolder(ctx); err == nil && holder != "" {
			s.Running, s.RunningBy, s.Dirty = s.Dirty, holder, nil
			for i := range s.Migrations {
				if s.Migrations[i].Version == *s.Running {
					s.Migrations[i].State = StateRunning
				}
			}
		}
	}
	s.Healthy = s.Dirty == nil && s.Drifted == 0 && s.Missing == 0
	var un *ErrUnmanaged
	if err := e.checkUnmanaged(ctx, st); errors.As(err, &un) {
		s.Unmanaged, s.Healthy = un.Msg, false
	}
	if c, ok := e.db.(interface {
		ClusterInfo(ctx context.Context) (any, bool, error)
	}); ok {
		info, healthy, err := c.ClusterInfo(ctx)
		if err != nil {
			s.Error = err.Error()
		}
		if info != nil {
			s.Cluster = info
			s.Healthy = s.Healthy && healthy
		}
	}
	return s
}
