package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tools whose history adopt reads.
const (
	ToolGolangMigrate = "golang-migrate"
	ToolGoose         = "goose"
	ToolDbmate        = "dbmate"
)

// Tools lists the tools adopt reads, as --from names them.
var Tools = []string{ToolGolangMigrate, ToolGoose, ToolDbmate}

// Foreign is another tool's history, as read where that tool keeps it.
type Foreign struct {
	Tool  string // ToolGolangMigrate, ToolGoose or ToolDbmate
	Table string // the table it was read from, as the database names it
	// Applied lists the versions the tool says are applied (goose, dbmate), by version.
	Applied []ForeignVersion
	// Upto, for golang-migrate, is its one version: every migration up to it is applied, in the
	// order of the files (0: none).
	Upto *ForeignVersion
	// Times are the applied times golang-migrate's log implies (ClickHouse), by version.
	Times map[int64]time.Time
	// Dirty is the version golang-migrate left dirty (a migration that failed half-way), if any.
	Dirty *int64
	// NoTime says why the tool kept no applied time, when it kept none.
	NoTime string
}

// ForeignVersion is one version of another tool's history.
type ForeignVersion struct {
	Version int64
	Raw     string    // as the tool wrote it (dbmate keeps text: "001")
	At      time.Time // zero when the tool kept no time
}

// ForeignReader is a Database that reads other tools' histories and knows its own tables.
type ForeignReader interface {
	// ForeignHistories reads the histories of tool ("": every tool adopt knows) found in the
	// database, from table ("": each tool's default table).
	ForeignHistories(ctx context.Context, tool, table string) ([]*Foreign, error)
	// UserTables lists the tables and views the database holds besides brokle's own.
	UserTables(ctx context.Context) ([]string, error)
}

// Adoption is what adopt records (or, with --dry-run, would record).
type Adoption struct {
	Database string    `json:"database"`
	Address  string    `json:"address"`
	From     string    `json:"from"`
	Table    string    `json:"table"`
	DryRun   bool      `json:"dry_run"`
	Versions []Adopted `json:"versions"`
	// TimesKept is false when the tool kept no applied time: the adoption's time is recorded.
	TimesKept bool   `json:"times_kept"`
	Note      string `json:"note"`
}

// Adopted is one version adopt records.
type Adopted struct {
	Version   int64     `json:"version"`
	File      string    `json:"file"`
	AppliedAt time.Time `json:"applied_at"`
	TimeKept  bool      `json:"time_kept"`
	AppliedBy string    `json:"applied_by"`
	Checksum  string    `json:"checksum"`
}

// noHistory refuses when brokle already keeps history for the database: adopt and baseline only
// start a history, never add to or overwrite one.
func (e *Engine) noHistory(ctx context.Context, what string) error {
	h, db := e.db.History(), e.db.DB()
	st, err := e.readState(ctx)
	if err != nil {
		return err
	}
	if !st.exists {
		return nil
	}
	audit, err := h.Audit(ctx, db, 0)
	if err != nil {
		return fmt.Errorf("%s at %s: read history: %w", e.db.Name(), e.db.Address(), err)
	}
	if len(st.records) == 0 && len(audit) == 0 {
		return nil
	}
	applied, dirty := 0, ""
	for _, r := range st.records {
		switch {
		case r.Dirty:
			dirty = fmt.Sprintf(", version %d dirty", r.Version)
		case r.Applied:
			applied++
		}
	}
	return fmt.Errorf("%s at %s: brokle already keeps a history here (%d version(s) applied, current %d%s): %s only starts a history; see `brokle migrate history --db %s`",
		e.db.Name(), e.db.Address(), applied, st.current(), dirty, what, e.db.Name())
}

// prepared runs fn under the migration lock with the history settled (an older layout carried
// over) and, when init, its tables created.
func (e *Engine) prepared(ctx context.Context, init bool, fn func(ctx context.Context) error) error {
	return e.locked(ctx, func(ctx context.Context, _ func(context.Context) error) error {
		h := e.db.History()
		if err := h.Prepare(ctx, e.db.DB()); err != nil {
			return e.stopped(ctx, fmt.Errorf("%s at %s: read history: %w", e.db.Name(), e.db.Address(), err), nil)
		}
		if up, ok := h.(interface {
			Upgrade(ctx context.Context, db *sql.DB) error
		}); ok {
			if err := up.Upgrade(ctx, e.db.DB()); err != nil {
				return e.stopped(ctx, fmt.Errorf("%s: %w", e.db.Name(), err), nil)
			}
		}
		if init {
			if err := h.Init(ctx, e.db.DB()); err != nil {
				return e.stopped(ctx, fmt.Errorf("%s: create history table: %w", e.db.Name(), err), nil)
			}
		}
		if err := fn(ctx); err != nil {
			return e.stopped(ctx, err, nil)
		}
		return nil
	})
}

// Adopt starts brokle's history from another tool's: every version the tool applied is recorded
// as applied, with its file's checksum now, the tool's time where it kept one, and "TOOL (adopted
// by user@host)" as its author. It refuses, writing nothing, when brokle already has a history
// here, when the tool's history is dirty, or when an applied version has no file. The other
// tool's table is only read. from is a tool name or "auto"; table "" is the tool's default.
func (e *Engine) Adopt(ctx context.Context, from, table string, dryRun bool) (*Adoption, error) {
	fr, ok := e.db.(ForeignReader)
	if !ok {
		return nil, fmt.Errorf("%s: adopt cannot read other tools' histories here", e.db.Name())
	}
	var out *Adoption
	plan := func(ctx context.Context) error {
		if err := e.noHistory(ctx, "adopt"); err != nil {
			return err
		}
		tool := from
		if tool == "auto" {
			tool = ""
		}
		found, err := fr.ForeignHistories(ctx, tool, table)
		if err != nil {
			return fmt.Errorf("%s at %s: %w", e.db.Name(), e.db.Address(), err)
		}
		f, err := e.pickForeign(found, tool, table)
		if err != nil {
			return err
		}
		out, err = e.adoption(f)
		if err != nil {
			return err
		}
		out.DryRun = dryRun
		return nil
	}
	if dryRun {
		return out, plan(ctx)
	}
	err := e.prepared(ctx, false, func(ctx context.Context) error {
		if err := plan(ctx); err != nil {
			return err
		}
		h := e.db.History()
		if err := h.Init(ctx, e.db.DB()); err != nil {
			return fmt.Errorf("%s: create history table: %w", e.db.Name(), err)
		}
		recs := make([]Record, len(out.Versions))
		for i, v := range out.Versions {
			recs[i] = Record{Version: v.Version, Applied: true, AppliedAt: v.AppliedAt, AppliedBy: v.AppliedBy, Checksum: v.Checksum}
		}
		if len(recs) == 0 {
			recs = []Record{{Version: 0, AppliedBy: fmt.Sprintf("%s (adopted by %s)", out.From, e.opts.AppliedBy)}}
		}
		note := fmt.Sprintf("adopted from %s (%s)", out.From, out.Table)
		if !out.TimesKept {
			note += ": " + out.Note
		}
		if err := h.Record(ctx, e.db.DB(), recs, "adopted", note); err != nil {
			return fmt.Errorf("%s: record the adopted versions: %w", e.db.Name(), err)
		}
		return nil
	})
	return out, err
}

// pickForeign chooses the history to adopt among those found.
func (e *Engine) pickForeign(found []*Foreign, tool, table string) (*Foreign, error) {
	where := fmt.Sprintf("%s at %s", e.db.Name(), e.db.Address())
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && tool != "":
		t := table
		if t == "" {
			t = DefaultForeignTable(tool)
		}
		return nil, fmt.Errorf("%s: no %s history: table %s does not exist (another name? pass --table)", where, tool, t)
	case len(found) == 0:
		return nil, fmt.Errorf("%s: no history of golang-migrate, goose or dbmate here (looked for goose_db_version and schema_migrations; another name? pass --from and --table)", where)
	}
	var names []string
	for _, f := range found {
		names = append(names, f.Tool+" ("+f.Table+")")
	}
	return nil, fmt.Errorf("%s: the histories of %s are both here: pass --from to say which to adopt", where, strings.Join(names, " and "))
}

// FindForeign reads each tool's history (tool "": every tool's) from its table (table "": each
// tool's default one, each table once) with read, which returns nil when the table is not there.
func FindForeign(ctx context.Context, tool, table string, read func(ctx context.Context, tool, table string) (*Foreign, error)) ([]*Foreign, error) {
	var out []*Foreign
	tried := map[string]bool{}
	for _, t := range Tools {
		if tool != "" && t != tool {
			continue
		}
		name := table
		if name == "" {
			name = DefaultForeignTable(t)
		}
		if tried[name] {
			continue
		}
		tried[name] = true
		f, err := read(ctx, tool, name)
		if err != nil {
			return nil, err
		}
		if f != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// DefaultForeignTable is the table a tool keeps its history in by default.
func DefaultForeignTable(tool string) string {
	if tool == ToolGoose {
		return "goose_db_version"
	}
	return "schema_migrations"
}

// adoption maps a foreign history onto the migration files.
func (e *Engine) adoption(f *Foreign) (*Adoption, error) {
	where := fmt.Sprintf("%s at %s", e.db.Name(), e.db.Address())
	if f.Dirty != nil {
		return nil, fmt.Errorf("%s: %s's history (%s) is dirty at version %d: a migration failed half-way, so what took effect is unknown; repair the schema by hand, run `migrate force V` with %s (V: the last version that fully took effect), then adopt",
			where, f.Tool, f.Table, *f.Dirty, f.Tool)
	}
	now := time.Now()
	by := fmt.Sprintf("%s (adopted by %s)", f.Tool, e.opts.AppliedBy)
	a := &Adoption{Database: e.db.Name(), Address: e.db.Address(), From: f.Tool, Table: f.Table, TimesKept: f.NoTime == "", Note: f.NoTime}
	add := func(v ForeignVersion) error {
		m := e.src.Lookup(v.Version)
		if m == nil {
			raw := ""
			if v.Raw != "" && v.Raw != fmt.Sprint(v.Version) {
				raw = fmt.Sprintf(" (%q)", v.Raw)
			}
			return fmt.Errorf("%s: %s's history (%s) has version %d%s applied, but no file in %s has that version: add its migration file (same version), then adopt",
				where, f.Tool, f.Table, v.Version, raw, e.src.Display)
		}
		at, kept := v.At, !v.At.IsZero()
		if !kept {
			at = now
		}
		a.Versions = append(a.Versions, Adopted{Version: v.Version, File: m.File(), AppliedAt: at, TimeKept: kept, AppliedBy: by, Checksum: m.Checksum})
		return nil
	}
	if f.Upto != nil {
		if f.Upto.Version > 0 && e.src.Lookup(f.Upto.Version) == nil {
			return nil, add(*f.Upto)
		}
		for _, m := range e.src.Migrations {
			if m.Version > f.Upto.Version {
				break
			}
			if err := add(ForeignVersion{Version: m.Version, At: f.Times[m.Version]}); err != nil {
				return nil, err
			}
		}
	} else {
		raws := map[int64]string{}
		for _, v := range f.Applied {
			if r, ok := raws[v.Version]; ok && r != v.Raw {
				return nil, fmt.Errorf("%s: %s's history (%s) has both %q and %q applied, which are one version (%d) to brokle: %s took them for two migrations; remove the row of the one that is not a migration, then adopt",
					where, f.Tool, f.Table, r, v.Raw, v.Version, f.Tool)
			}
			raws[v.Version] = v.Raw
			if err := add(v); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(a.Versions, func(x, y Adopted) int { return cmpInt64(x.Version, y.Version) })
	a.Versions = slices.CompactFunc(a.Versions, func(x, y Adopted) bool { return x.Version == y.Version })
	if len(a.Versions) == 0 {
		// Everything rolled back (goose reset, migrate down -all): the history starts empty and
		// every migration is pending, as it is for the tool.
		a.Note = "the tool has no version applied: the history starts empty, every migration pending"
		a.TimesKept = false
		return a, nil
	}
	if !a.TimesKept {
		for _, v := range a.Versions {
			if v.TimeKept {
				a.TimesKept = true // partly: golang-migrate's log on ClickHouse
				break
			}
		}
	}
	return a, nil
}

// Baseline starts the history of a database whose schema exists: the versions up to version are
// recorded as applied, running nothing, as a baseline. It refuses when brokle already has a
// history here. Version 0 starts an empty history (the database's tables are not brokle's).
func (e *Engine) Baseline(ctx context.Context, version int64, dryRun bool) (*Plan, error) {
	if version != 0 && e.src.Lookup(version) == nil {
		return nil, &ErrInput{Msg: fmt.Sprintf("%s: --version %d: no migration has that version in %s (latest: %d)", e.db.Name(), version, e.src.Display, e.src.Latest())}
	}
	var recs []Record
	plan := &Plan{Database: e.db.Name(), Address: e.db.Address(), Action: "baseline"}
	now := time.Now()
	for _, m := range e.src.Migrations {
		if m.Version > version {
			break
		}
		recs = append(recs, Record{Version: m.Version, Applied: true, AppliedAt: now, AppliedBy: e.opts.AppliedBy, Checksum: m.Checksum})
		plan.Extra = append(plan.Extra, fmt.Sprintf("record %s (version %d) as applied, running nothing", m.File(), m.Version))
	}
	if len(recs) == 0 {
		plan.Extra = append(plan.Extra, "start an empty history: every migration stays pending")
	}
	if dryRun {
		st, err := e.readState(ctx)
		if err != nil {
			return nil, err
		}
		if !st.exists {
			plan.Setup = e.db.History().SetupStatements()
		}
		return plan, e.noHistory(ctx, "baseline")
	}
	err := e.prepared(ctx, false, func(ctx context.Context) error {
		if err := e.noHistory(ctx, "baseline"); err != nil {
			return err
		}
		h := e.db.History()
		if err := h.Init(ctx, e.db.DB()); err != nil {
			return fmt.Errorf("%s: create history table: %w", e.db.Name(), err)
		}
		if len(recs) == 0 { // version 0: the audit entry is what says the history was started on purpose
			recs = []Record{{Version: 0, AppliedBy: e.opts.AppliedBy}}
			return h.Record(ctx, e.db.DB(), recs, "baseline", "baseline at version 0: an empty history started, every migration pending")
		}
		return h.Record(ctx, e.db.DB(), recs, "baseline", fmt.Sprintf("baseline at version %d: recorded, not run", version))
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// Rehash records the current checksum of one applied version whose file was edited on purpose,
// keeping its applied time and author; the audit trail keeps the old and new checksums. It
// returns the old checksum ("" with changed false when the file already matches).
func (e *Engine) Rehash(ctx context.Context, version int64, dryRun bool) (old string, changed bool, err error) {
	m := e.src.Lookup(version)
	if m == nil {
		return "", false, &ErrInput{Msg: fmt.Sprintf("%s: --version %d: no migration has that version in %s", e.db.Name(), version, e.src.Display)}
	}
	check := func(ctx context.Context) error {
		st, err := e.readState(ctx)
		if err != nil {
			return err
		}
		if !st.exists {
			return fmt.Errorf("%s at %s: brokle keeps no history here: nothing to rehash", e.db.Name(), e.db.Address())
		}
		r, ok := st.byVer[version]
		if ok && r.Dirty {
			return fmt.Errorf("%s: %s (version %d) is dirty: settle it with `brokle migrate force` first", e.db.Name(), m.File(), version)
		}
		if !ok || !r.Applied {
			return fmt.Errorf("%s: %s (version %d) is not applied: only an applied version has a checksum to rehash", e.db.Name(), m.File(), version)
		}
		old, changed = r.Checksum, !m.Matches(r.Checksum)
		return nil
	}
	if dryRun {
		return old, changed, check(ctx)
	}
	// Nothing is created before the check: a refused rehash leaves the database as it was.
	err = e.prepared(ctx, false, func(ctx context.Context) error {
		if err := check(ctx); err != nil || !changed {
			return err
		}
		h := e.db.History()
		if err := h.Init(ctx, e.db.DB()); err != nil { // the audit trail, for a history older than it
			return fmt.Errorf("%s: create the audit trail: %w", e.db.Name(), err)
		}
		return h.Rehash(ctx, e.db.DB(), version, m.Checksum, e.opts.AppliedBy)
	})
	return old, changed, err
}

// History is the audit trail of one version (0: every version), oldest first. Versions a brokle
// older than the audit trail applied appear once, as their history row says.
func (e *Engine) History(ctx context.Context, version int64) ([]AuditEntry, error) {
	st, err := e.readState(ctx)
	if err != nil {
		return nil, err
	}
	if !st.exists {
		return nil, nil
	}
	entries, err := e.db.History().Audit(ctx, e.db.DB(), version)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: read the audit trail: %w", e.db.Name(), e.db.Address(), err)
	}
	seen := map[int64]bool{}
	for _, a := range entries {
		seen[a.Version] = true
	}
	var old []AuditEntry
	for _, r := range st.records {
		if seen[r.Version] || (version != 0 && r.Version != version) {
			continue
		}
		ev := "applied"
		if r.Dirty {
			ev = "marked dirty"
		}
		old = append(old, AuditEntry{Version: r.Version, Event: ev, At: r.AppliedAt, By: r.AppliedBy, Checksum: r.Checksum, Note: "recorded before the audit trail"})
	}
	return append(old, entries...), nil
}

// checkUnmanaged refuses to start a history by running migration 1 on a database that already
// has tables: they were made by something else (another tool, psql, a restore), and running the
// migrations again fails half-way or, on ClickHouse, doubles data.
func (e *Engine) checkUnmanaged(ctx context.Context, st *state) error {
	if st.exists && len(st.records) > 0 {
		return nil
	}
	fr, ok := e.db.(ForeignReader)
	if !ok {
		return nil
	}
	if st.exists {
		// A history with no version in it counts only if something started it on purpose (an
		// audit entry: baseline --version 0, an adopt, a migration run and rolled back); an empty
		// one left behind by an interrupted or refused command is no history.
		audit, err := e.db.History().Audit(ctx, e.db.DB(), 0)
		if err != nil {
			return fmt.Errorf("%s at %s: read history: %w", e.db.Name(), e.db.Address(), err)
		}
		if len(audit) > 0 {
			return nil
		}
	}
	tables, err := fr.UserTables(ctx)
	if err != nil {
		return fmt.Errorf("%s at %s: list tables: %w", e.db.Name(), e.db.Address(), err)
	}
	if len(tables) == 0 {
		return nil
	}
	found, _ := fr.ForeignHistories(ctx, "", "")
	shown := tables
	if len(shown) > 5 {
		shown = append(slices.Clone(shown[:5]), "...")
	}
	msg := fmt.Sprintf("%s at %s has %d table(s) (%s) but no brokle history: running migration 1 on it would fail or double data", e.db.Name(), e.db.Address(), len(tables), strings.Join(shown, ", "))
	if len(found) > 1 {
		var names []string
		for _, f := range found {
			names = append(names, f.Tool+" ("+f.Table+")")
		}
		return &ErrUnmanaged{Msg: msg + fmt.Sprintf("; the histories of %s are here: run `brokle migrate adopt --db %s --from TOOL` to take one over", strings.Join(names, " and "), e.db.Name())}
	}
	if len(found) > 0 {
		return &ErrUnmanaged{Msg: msg + fmt.Sprintf("; %s's history is here: run `brokle migrate adopt --db %s` to take it over", found[0].Tool, e.db.Name())}
	}
	return &ErrUnmanaged{Msg: msg + fmt.Sprintf("; if the schema is the migrations' up to version N, run `brokle migrate baseline --db %s --version N`; if another tool migrated it, `brokle migrate adopt --db %s`; if these tables are not the migrations', `brokle migrate baseline --db %s --version 0` starts an empty history", e.db.Name(), e.db.Name(), e.db.Name())}
}

// ErrUnmanaged: up on a database with tables but no brokle history.
type ErrUnmanaged struct{ Msg string }

func (e *ErrUnmanaged) Error() string { return e.Msg }

// ParseForeignVersion reads a version another tool kept as text (dbmate: "001").
func ParseForeignVersion(raw string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("version %q is not a whole number above 0 (brokle's versions are)", raw)
	}
	return v, nil
}
