package migrate

import (
	"context"
	"errors"
	"slices"
	"strings"
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

// why is err without the "postgres at host:port/db: " its message starts with: a status names
// the database and its address on its own.
func (e *Engine) why(err error) string {
	return strings.TrimPrefix(err.Error(), e.db.Name()+" at "+e.db.Address()+": ")
}

// Status reads the database's history, read-only, and compares it with the source.
func (e *Engine) Status(ctx context.Context) *Status { return e.statusOf(e.readStatus(ctx)) }

// StatusWhileLoading is Status of the source that load reads, read at the same time as the
// database: with thousands of migrations the files and the database each take tens of
// milliseconds. A problem with the source is the error (the database's reading is then given up).
func StatusWhileLoading(ctx context.Context, db Database, opts Options, load func() (*Source, error)) (*Status, *Source, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type loaded struct {
		src *Source
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		src, err := load()
		if err != nil {
			cancel()
		}
		done <- loaded{src, err}
	}()
	e, err := New(db, &Source{byVersion: map[int64]*Migration{}}, opts)
	if err != nil {
		return nil, nil, err
	}
	d := e.readStatus(ctx)
	l := <-done
	if l.err != nil {
		return nil, nil, l.err
	}
	e.src = l.src
	return e.statusOf(d), l.src, nil
}

// dbStatus is what status reads from the database, before any comparison with the files.
type dbStatus struct {
	err           error
	reachable     bool
	version       string
	rtt           time.Duration
	st            *state
	holder        string // the run holding the lock, read when a version is dirty
	unmanaged     error
	cluster       any
	clusterOK     bool
	clusterErr    error
	clusterProbed bool
}

// readStatus reads what status shows of the database itself, read-only.
func (e *Engine) readStatus(ctx context.Context) *dbStatus {
	d := &dbStatus{}
	start := time.Now()
	if d.version, d.err = e.db.ServerVersion(ctx); d.err != nil {
		return d
	}
	d.reachable, d.rtt = true, time.Since(start)
	if d.st, d.err = e.readState(ctx); d.err != nil {
		return d
	}
	if d.st.dirty() != nil {
		// A version marked dirty whose run still holds the lock is being applied right now.
		if holder, err := e.db.LockHolder(ctx); err == nil {
			d.holder = holder
		}
	}
	d.unmanaged = e.checkUnmanaged(ctx, d.st)
	if c, ok := e.db.(interface {
		ClusterInfo(ctx context.Context) (any, bool, error)
	}); ok {
		d.cluster, d.clusterOK, d.clusterErr = c.ClusterInfo(ctx)
		d.clusterProbed = true
	}
	return d
}

// statusOf compares what was read of the database with the source.
func (e *Engine) statusOf(d *dbStatus) *Status {
	s := &Status{Database: e.db.Name(), Address: e.db.Address(), Source: e.src.Display, BuiltIn: e.src.BuiltIn, Migrations: make([]MigrationStatus, 0, len(e.src.Migrations)), Warnings: []string{}}
	if e.src.Note != "" {
		note := e.src.Note
		s.SourceNote = &note
	}
	if !d.reachable {
		s.Error = e.why(d.err)
		return s
	}
	s.RTTMs = float64(d.rtt.Microseconds()) / 1000
	s.Reachable, s.ServerVersion = true, d.version
	if d.err != nil {
		s.Error = e.why(d.err)
		return s
	}
	st := d.st
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
	if s.Dirty != nil && d.holder != "" {
		s.Running, s.RunningBy, s.Dirty = s.Dirty, d.holder, nil
		for i := range s.Migrations {
			if s.Migrations[i].Version == *s.Running {
				s.Migrations[i].State = StateRunning
			}
		}
	}
	s.Healthy = s.Dirty == nil && s.Drifted == 0 && s.Missing == 0
	var un *ErrUnmanaged
	if errors.As(d.unmanaged, &un) {
		s.Unmanaged, s.Healthy = un.Msg, false
	}
	if d.clusterProbed {
		if d.clusterErr != nil {
			s.Error = d.clusterErr.Error()
		}
		if d.cluster != nil {
			s.Cluster = d.cluster
			s.Healthy = s.Healthy && d.clusterOK
		}
	}
	return s
}
