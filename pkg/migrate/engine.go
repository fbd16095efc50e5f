// Package migrate is brokle's migration engine: sources, plans, runs, history and status. goose's
// Provider runs each migration; the engine adds dirty marks, checksums, drift, locking and plans.
package migrate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
)

// Options tune an Engine.
type Options struct {
	AllowDrift      bool
	AllowOutOfOrder bool
	AppliedBy       string    // user@host
	Progress        io.Writer // one line per migration; nil for none
	// LockTimeout bounds the wait for another run's lock; 0: do not wait.
	LockTimeout time.Duration
	// LockCheck is how often a running run checks, in the background, that it still holds its
	// lock (besides before each migration and each history write). Default one second.
	LockCheck time.Duration
	// Phase, when set, is told what the run is doing, for a message if it is interrupted.
	Phase func(string)
	// Warnings receives "warning: ..." lines (a migration with an empty Up applied as a no-op);
	// nil for none.
	Warnings io.Writer
	// Verbose prints each statement of a migration on Progress as it completes, with its duration.
	Verbose bool
}

// Engine migrates one database from one source.
type Engine struct {
	db        Database
	src       *Source
	opts      Options
	provider  *goose.Provider // made by ready, over the migrations read so far
	provides  int             // how many migrations the provider knows
	confirmed *Plan           // the plan the user said yes to: the run must be exactly it
	running   string          // the migration being applied, for messages: "dir/000002_x.sql (up)"
	report    *Run            // what the current run did so far
	applied   map[int64]bool  // the applied versions as the run goes, for the report's To
}

// RunStep is one migration a run applied or rolled back.
type RunStep struct {
	Version    int64   `json:"version"`
	File       string  `json:"file"`
	Direction  string  `json:"direction"`
	DurationMs float64 `json:"duration_ms"`
}

// Run is what up, down, redo or reset did to one database, also when it failed part-way.
type Run struct {
	Database string
	Address  string
	Action   string
	// From and To are the current version before and after; nil when the history was not read.
	From, To *int64
	Total    int       // the migrations the run meant to apply or roll back
	Steps    []RunStep // those it did
	Duration time.Duration
}

// begin starts the report of a run of n migrations on state st.
func (e *Engine) begin(st *state, n int) {
	from := st.current()
	to := from
	e.report.From, e.report.To, e.report.Total = &from, &to, n
	e.applied = map[int64]bool{}
	for _, r := range st.records {
		if r.Applied {
			e.applied[r.Version] = true
		}
	}
}

// newRun is the report every change starts with; Duration is set when it ends.
func (e *Engine) newRun(action string) (*Run, time.Time) {
	e.report = &Run{Database: e.db.Name(), Address: e.db.Address(), Action: action, Steps: []RunStep{}}
	return e.report, time.Now()
}

// Confirmed makes the next change run only if, read under the lock, it is exactly plan: the one
// shown to the user and confirmed.
func (e *Engine) Confirmed(p *Plan) { e.confirmed = p }

// agree checks the migrations about to run against the confirmed plan.
func (e *Engine) agree(ms []*Migration, up []bool) error {
	if e.confirmed == nil {
		return nil
	}
	var got, want []string
	for i, m := range ms {
		got = append(got, fmt.Sprintf("%d/%v", m.Version, up[i]))
	}
	for _, s := range e.confirmed.Steps {
		want = append(want, fmt.Sprintf("%d/%v", s.Version, s.Direction == "up"))
	}
	if !slices.Equal(got, want) {
		return &ErrPlanChanged{Database: e.db.Name()}
	}
	return nil
}

func dirs(n int, up bool) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = up
	}
	return out
}

// New builds an engine. The source may be empty.
func New(db Database, src *Source, opts Options) (*Engine, error) {
	e := &Engine{db: db, src: src, opts: opts}
	if opts.Progress == nil {
		e.opts.Progress = io.Discard
	}
	if opts.Phase == nil {
		e.opts.Phase = func(string) {}
	}
	if opts.Warnings == nil {
		e.opts.Warnings = io.Discard
	}
	if opts.LockCheck <= 0 {
		e.opts.LockCheck = time.Second
	}
	return e, nil
}

// ready makes ms ready to run: read and parsed (a lazy source reads only what a command runs),
// so a problem with any of them stops the run before anything runs, and known to goose's
// provider. goose parses each again as it runs it, the way it reads every file.
func (e *Engine) ready(ms []*Migration) error {
	if len(ms) == 0 {
		return nil
	}
	if err := e.src.Load(ms); err != nil {
		return err
	}
	known := 0
	for _, m := range e.src.Migrations {
		if m.loaded {
			known++
		}
	}
	if e.provider != nil && known == e.provides {
		return nil
	}
	p, err := goose.NewProvider(goose.DialectCustom, e.db.DB(), e.src.GooseFS(),
		goose.WithStore(e.db.History()), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("%s: %w", e.db.Name(), err)
	}
	e.provider, e.provides = p, known
	return nil
}

// Step is one migration of a plan.
type Step struct {
	Version    int64    `json:"version"`
	File       string   `json:"file"`
	Direction  string   `json:"direction"`
	InTx       bool     `json:"transaction"`
	Statements []string `json:"statements"`
}

// Plan is what a changing command does to one database.
type Plan struct {
	Database string   `json:"database"`
	Address  string   `json:"address"`
	Action   string   `json:"action"`
	Setup    []string `json:"setup"` // brokle's own tables, created first when missing
	Steps    []Step   `json:"steps"`
	Extra    []string `json:"statements"` // statements outside migrations (drop, force)
	// Changes is, for force, how many versions' records change (force runs no migration).
	Changes int `json:"-"`
}

// MarshalJSON writes every list, empty ones as [] (docs/json.md: the fields are always there).
func (p Plan) MarshalJSON() ([]byte, error) {
	type plain Plan
	q := plain(p)
	for _, l := range []*[]string{&q.Setup, &q.Extra} {
		if *l == nil {
			*l = []string{}
		}
	}
	if q.Steps == nil {
		q.Steps = []Step{}
	}
	for i := range q.Steps {
		if q.Steps[i].Statements == nil {
			q.Steps[i].Statements = []string{}
		}
	}
	return json.Marshal(q)
}

type state struct {
	exists  bool
	records []Record // by version, only rows that are applied or dirty
	byVer   map[int64]Record
}

func (s *state) applied(v int64) bool { r, ok := s.byVer[v]; return ok && r.Applied }

// appliedDesc lists applied versions, the latest applied first (the order down undoes them).
func (s *state) appliedDesc() []Record {
	var out []Record
	for _, r := range s.records {
		if r.Applied {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		if c := cmpInt64(b.Seq, a.Seq); c != 0 {
			return c
		}
		return cmpInt64(b.Version, a.Version)
	})
	return out
}

func (s *state) current() int64 {
	var max int64
	for _, r := range s.records {
		if r.Applied && r.Version > max {
			max = r.Version
		}
	}
	return max
}

func (s *state) dirty() *Record {
	for i := range s.records {
		if s.records[i].Dirty {
			return &s.records[i]
		}
	}
	return nil
}

func (e *Engine) readState(ctx context.Context) (*state, error) {
	h, db := e.db.History(), e.db.DB()
	if err := h.Prepare(ctx, db); err != nil {
		return nil, fmt.Errorf("%s at %s: read history: %w", e.db.Name(), e.db.Address(), err)
	}
	exists, err := h.TableExists(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: read history: %w", e.db.Name(), e.db.Address(), err)
	}
	st := &state{exists: exists, byVer: map[int64]Record{}}
	if !exists {
		return st, nil
	}
	recs, err := h.Records(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: read history: %w", e.db.Name(), e.db.Address(), err)
	}
	st.records, st.byVer = make([]Record, 0, len(recs)), make(map[int64]Record, len(recs))
	for _, r := range recs {
		if r.Applied || r.Dirty {
			st.records = append(st.records, r)
			st.byVer[r.Version] = r
		}
	}
	return st, nil
}

func (e *Engine) fileOf(v int64) string {
	if m := e.src.Lookup(v); m != nil {
		return m.File()
	}
	return fmt.Sprintf("version %d (no file)", v)
}

// checkRunnable refuses to change a dirty database, or, when drift is set, one whose applied
// migrations drifted (what up and reset build on: every applied migration).
func (e *Engine) checkRunnable(st *state, drift bool) error {
	if d := st.dirty(); d != nil {
		return &ErrDirty{Database: e.db.Name(), Version: d.Version, File: e.fileOf(d.Version)}
	}
	if !drift {
		return nil
	}
	var applied []*Migration
	for _, r := range st.records {
		m := e.src.Lookup(r.Version)
		if m == nil {
			if e.opts.AllowDrift {
				continue
			}
			return &ErrDrift{Database: e.db.Name(), Version: r.Version}
		}
		applied = append(applied, m)
	}
	return e.checkDrift(st, applied)
}

// checkDrift reads ms and refuses to run when one of them is applied with another text than its
// file's (down and redo check the migrations they roll back: their text is what runs).
func (e *Engine) checkDrift(st *state, ms []*Migration) error {
	if err := e.src.Load(ms); err != nil {
		return err
	}
	if e.opts.AllowDrift {
		return nil
	}
	for _, m := range ms {
		if r, ok := st.byVer[m.Version]; ok && !m.Matches(r.Checksum) {
			return &ErrDrift{Database: e.db.Name(), Version: r.Version, File: m.File()}
		}
	}
	return nil
}

// checkTarget refuses a --version no migration has, before anything is touched.
func (e *Engine) checkTarget(target int64, up bool) error {
	if target <= 0 || e.src.Lookup(target) != nil {
		return nil
	}
	if up {
		return &ErrInput{Msg: fmt.Sprintf("%s: --version %d: no migration has that version in %s (latest: %d)", e.db.Name(), target, e.src.Display, e.src.Latest())}
	}
	return nil
}

func (e *Engine) planUp(st *state, steps int, target int64) ([]*Migration, error) {
	if err := e.checkTarget(target, true); err != nil {
		return nil, err
	}
	cur := st.current()
	var pending []*Migration
	for _, m := range e.src.Migrations {
		if st.applied(m.Version) {
			continue
		}
		if target > 0 && m.Version > target {
			break
		}
		if m.Version < cur && !e.opts.AllowOutOfOrder {
			return nil, &ErrOutOfOrder{Database: e.db.Name(), Version: m.Version, File: m.File(), Current: cur}
		}
		pending = append(pending, m)
	}
	if steps > 0 && len(pending) > steps {
		pending = pending[:steps]
	}
	return pending, nil
}

func (e *Engine) planDown(st *state, steps int, target int64, all bool) ([]*Migration, error) {
	if !all && steps == 0 && target > 0 && e.src.Lookup(target) == nil && !st.applied(target) {
		return nil, &ErrInput{Msg: fmt.Sprintf("%s: --version %d: no migration has that version in %s (0 rolls back everything)", e.db.Name(), target, e.src.Display)}
	}
	var out []*Migration
	for _, r := range st.appliedDesc() {
		if !all && steps > 0 && len(out) == steps {
			break
		}
		if !all && steps == 0 && r.Version <= target {
			break
		}
		m := e.src.Lookup(r.Version)
		if m == nil {
			return nil, &ErrDrift{Database: e.db.Name(), Version: r.Version}
		}
		out = append(out, m)
	}
	return out, nil
}

// lock takes the database's migration lock and reports a wait on the progress writer.
func (e *Engine) lock(ctx context.Context) (Lock, error) {
	e.opts.Phase(fmt.Sprintf("connecting to %s at %s and taking the migration lock", e.db.Name(), e.db.Address()))
	l, err := e.db.Lock(ctx, e.opts.LockTimeout, func(holder string) {
		fmt.Fprintf(e.opts.Progress, "%s: waiting for the migration lock (held by %s)\n", e.db.Name(), holder)
	})
	if err != nil && ctx.Err() != nil {
		return nil, &ErrInterrupted{Database: e.db.Name(), During: "waiting for the migration lock", Cause: context.Cause(ctx)}
	}
	return l, err
}

// lockFresh is how long a check that found the lock held answers for: far below the lease's
// renewal period (a third of migrate.lock_lease, 20 s by default) and the background check's (1 s).
const lockFresh = 100 * time.Millisecond

// locked runs fn while holding the lock: the lock is checked in the background, before each
// history write and wherever fn asks (guard), and the run's context ends as soon as it is lost.
func (e *Engine) locked(ctx context.Context, fn func(ctx context.Context, guard func(context.Context) error) error) error {
	l, err := e.lock(ctx)
	if err != nil {
		return err
	}
	defer l.Unlock()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var lost error
	var mu sync.Mutex
	checked := time.Now() // the last check that found the lock held: taking it is one
	guard := func(c context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if lost != nil {
			return lost
		}
		// A check is good for lockFresh: the boundary before a migration, its dirty mark and the
		// record of the migration before it come within a few milliseconds of each other and
		// share one read of the lock; a migration that runs longer is checked again after it.
		if !checked.IsZero() && time.Since(checked) < lockFresh {
			return nil
		}
		if err := l.Check(c); err != nil {
			lost = &ErrLockLost{Database: e.db.Name(), Reason: err}
			cancel(lost)
			return lost
		}
		checked = time.Now()
		return nil
	}
	h := e.db.History()
	h.SetGuard(guard)
	defer h.SetGuard(nil)
	watch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(e.opts.LockCheck)
		defer t.Stop()
		for {
			select {
			case <-watch:
				return
			case <-t.C:
				if guard(runCtx) != nil {
					return
				}
			}
		}
	}()
	err = fn(runCtx, guard)
	close(watch)
	<-done
	return err
}

// change runs fn under the lock with the current state, after the dirty check and, with drift,
// the drift check of every applied migration (fn checks the ones it rolls back otherwise).
func (e *Engine) change(ctx context.Context, drift bool, fn func(ctx context.Context, st *state, guard func(context.Context) error) error) error {
	return e.locked(ctx, func(ctx context.Context, guard func(context.Context) error) error {
		h := e.db.History()
		if up, ok := h.(interface {
			Upgrade(ctx context.Context, db *sql.DB) error
		}); ok {
			if err := h.Prepare(ctx, e.db.DB()); err != nil {
				return e.stopped(ctx, fmt.Errorf("%s at %s: read history: %w", e.db.Name(), e.db.Address(), err), nil)
			}
			if err := up.Upgrade(ctx, e.db.DB()); err != nil {
				return e.stopped(ctx, fmt.Errorf("%s: %w", e.db.Name(), err), nil)
			}
		}
		st, err := e.readState(ctx)
		if err != nil {
			return e.stopped(ctx, err, nil)
		}
		if err := e.checkRunnable(st, drift); err != nil {
			return err
		}
		if err := e.checkUnmanaged(ctx, st); err != nil {
			return err
		}
		if err := e.db.History().Init(ctx, e.db.DB()); err != nil {
			return e.stopped(ctx, fmt.Errorf("%s: create history table: %w", e.db.Name(), err), nil)
		}
		return fn(ctx, st, guard)
	})
}

// stopped turns an error that came from the run's context ending into what ended it: a lost lock
// or an interrupt, with what was going on (m, when a migration was running).
func (e *Engine) stopped(ctx context.Context, err error, m *Migration) error {
	cause := context.Cause(ctx)
	if cause == nil {
		var ll *ErrLockLost
		if errors.As(err, &ll) {
			cause = ll
		} else {
			return err
		}
	}
	var ll *ErrLockLost
	if errors.As(cause, &ll) {
		c := *ll
		if m != nil {
			c.Version, c.File, c.Dirty = m.Version, e.running, m.NoTx
		}
		return &c
	}
	ie := &ErrInterrupted{Database: e.db.Name(), During: "reading the history", Cause: cause}
	if m != nil {
		ie.During, ie.Version, ie.Dirty = "applying "+e.running, m.Version, m.NoTx
	}
	return ie
}

// Up applies pending migrations: all, the next steps, or up to target. A target below the
// current version, with nothing pending up to it, is ErrAlreadyPast.
func (e *Engine) Up(ctx context.Context, steps int, target int64) (*Run, error) {
	run, start := e.newRun("up")
	if err := e.checkTarget(target, true); err != nil {
		return run, err
	}
	if e.hasTemplates() {
		// Refused before the lock and the history table are touched: bad input changes nothing.
		st, err := e.readState(ctx)
		if err != nil {
			return run, err
		}
		ms, err := e.planUp(st, steps, target)
		if err != nil {
			return run, err
		}
		if err := e.refuseTemplates(ms); err != nil {
			return run, err
		}
	}
	err := e.change(ctx, true, func(ctx context.Context, st *state, guard func(context.Context) error) error {
		ms, err := e.planUp(st, steps, target)
		if err != nil {
			return err
		}
		if err := e.ready(ms); err != nil {
			return err
		}
		if err := e.refuseTemplates(ms); err != nil {
			return err
		}
		e.begin(st, len(ms))
		if len(ms) == 0 && target > 0 && st.current() > target {
			return &ErrAlreadyPast{Database: e.db.Name(), Target: target, Current: st.current()}
		}
		return e.run(ctx, guard, ms, true)
	})
	run.Duration = time.Since(start)
	return run, err
}

// Down rolls back the latest applied migrations: steps of them, or down to target (exclusive).
func (e *Engine) Down(ctx context.Context, steps int, target int64) (*Run, error) {
	run, start := e.newRun("down")
	err := e.change(ctx, false, func(ctx context.Context, st *state, guard func(context.Context) error) error {
		ms, err := e.planDown(st, steps, target, false)
		if err != nil {
			return err
		}
		if err := e.agree(ms, dirs(len(ms), false)); err != nil {
			return err
		}
		if err := e.checkDrift(st, ms); err != nil {
			return err
		}
		if err := e.ready(ms); err != nil {
			return err
		}
		e.begin(st, len(ms))
		return e.run(ctx, guard, ms, false)
	})
	run.Duration = time.Since(start)
	return run, err
}

// Redo rolls back the latest applied migration and applies it again.
func (e *Engine) Redo(ctx context.Context) (*Run, error) {
	run, start := e.newRun("redo")
	err := e.change(ctx, false, func(ctx context.Context, st *state, guard func(context.Context) error) error {
		ms, err := e.planDown(st, 1, 0, false)
		if err != nil {
			return err
		}
		if err := e.checkDrift(st, ms); err != nil {
			return err
		}
		e.begin(st, 2*len(ms))
		if len(ms) == 0 {
			return nil
		}
		if err := e.agree(append(ms, ms...), []bool{false, true}); err != nil {
			return err
		}
		if err := e.ready(ms); err != nil {
			return err
		}
		if err := e.run(ctx, guard, ms, false); err != nil {
			return err
		}
		return e.run(ctx, guard, ms, true)
	})
	run.Duration = time.Since(start)
	return run, err
}

// Reset rolls everything back, then applies everything.
func (e *Engine) Reset(ctx context.Context) (*Run, error) {
	run, start := e.newRun("reset")
	if err := e.src.Load(e.src.Migrations); err != nil {
		return run, err
	}
	if err := e.refuseTemplates(e.src.Migrations); err != nil {
		return run, err
	}
	err := e.change(ctx, true, func(ctx context.Context, st *state, guard func(context.Context) error) error {
		down, err := e.planDown(st, 0, 0, true)
		if err != nil {
			return err
		}
		if err := e.agree(append(slices.Clone(down), e.src.Migrations...), append(dirs(len(down), false), dirs(len(e.src.Migrations), true)...)); err != nil {
			return err
		}
		if err := e.ready(e.src.Migrations); err != nil {
			return err
		}
		e.begin(st, len(down)+len(e.src.Migrations))
		if err := e.run(ctx, guard, down, false); err != nil {
			return err
		}
		return e.run(ctx, guard, e.src.Migrations, true)
	})
	run.Duration = time.Since(start)
	return run, err
}

func (e *Engine) hasTemplates() bool {
	for _, m := range e.src.Migrations {
		if m.Template {
			return true
		}
	}
	return false
}

// refuseTemplates refuses to apply a migration still exactly as create wrote it.
func (e *Engine) refuseTemplates(ms []*Migration) error {
	for _, m := range ms {
		if m.Template {
			return &ErrTemplate{Database: e.db.Name(), File: m.File()}
		}
	}
	return nil
}

func (e *Engine) run(ctx context.Context, guard func(context.Context) error, ms []*Migration, up bool) error {
	h, db := e.db.History(), e.db.DB()
	dir := "down"
	if up {
		dir = "up"
	}
	defer h.ExpectThen(Meta{})
	for i, m := range ms {
		// A boundary: an interrupt or a lost lock stops the run here, with nothing dirty (a dirty
		// mark written early for m, with the record of the one before, is taken back).
		stop := ctx.Err()
		if stop == nil {
			stop = guard(ctx)
		}
		if stop != nil {
			if u, ok := h.(interface{ Unmark(context.Context) error }); ok {
				if err := u.Unmark(ctx); err != nil {
					fmt.Fprintf(e.opts.Warnings, "warning: %s: version %d stays marked dirty, though it did not start: %v\n", e.db.Name(), m.Version, err)
				}
			}
			err := e.stopped(ctx, stop, nil)
			var ie *ErrInterrupted
			if errors.As(err, &ie) && i > 0 {
				ie.During = fmt.Sprintf("starting %s (%s), the migrations before it recorded", path.Base(m.FileFor(up)), dir)
			}
			return err
		}
		then := Meta{}
		if up && m.NoTx && i+1 < len(ms) && ms[i+1].NoTx {
			then = Meta{Version: ms[i+1].Version, AppliedBy: e.opts.AppliedBy, Checksum: ms[i+1].Checksum}
		}
		h.ExpectThen(then)
		file := m.FileFor(up)
		e.running = fmt.Sprintf("%s (%s)", file, dir)
		e.opts.Phase(fmt.Sprintf("applying %s %s on %s", path.Base(file), dir, e.db.Name()))
		h.Expect(Meta{Version: m.Version, AppliedBy: e.opts.AppliedBy, Checksum: m.Checksum, Start: time.Now(), Known: true, Applied: !up})
		if m.NoTx {
			if err := h.MarkDirty(ctx, db, m.Version, !up); err != nil {
				if ctx.Err() != nil {
					return e.stopped(ctx, err, nil)
				}
				return fmt.Errorf("%s: mark version %d dirty: %w", e.db.Name(), m.Version, err)
			}
		}
		start := time.Now()
		tr := &StatementTracker{}
		if e.opts.Verbose {
			tr.OnStatement = e.printStatement
		}
		_, err := e.provider.ApplyVersion(WithTracker(ctx, tr), m.Version, up)
		if err != nil {
			var pe *goose.PartialError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			if ctx.Err() != nil || isLockLost(err) {
				return e.stopped(ctx, err, m)
			}
			me := &ErrMigration{Database: e.db.Name(), Version: m.Version, File: file, Direction: dir, Dirty: m.NoTx, Err: err}
			if pe != nil && tr.N > 0 {
				me.Statement, me.StatementText = tr.N, tr.Last
				me.Locate(m, up)
			}
			return me
		}
		took := time.Since(start)
		if e.report == nil {
			e.report = &Run{}
		}
		r := e.report
		r.Steps = append(r.Steps, RunStep{Version: m.Version, File: file, Direction: dir, DurationMs: float64(took.Microseconds()) / 1000})
		if e.applied != nil {
			e.applied[m.Version] = up
			to := int64(0)
			for v, ok := range e.applied {
				if ok && v > to {
					to = v
				}
			}
			r.To = &to
		}
		total := max(r.Total, len(r.Steps))
		w := len(strconv.Itoa(total))
		fmt.Fprintf(e.opts.Progress, "%-10s [%*d/%d] %-4s %s (%s)\n", e.db.Name(), w, len(r.Steps), total, dir, path.Base(file), roundDuration(took))
		if up && len(m.Up) == 0 {
			fmt.Fprintf(e.opts.Warnings, "warning: %s: %s: the Up section is empty: recorded as applied, nothing was run\n", e.db.Name(), file)
		}
	}
	return nil
}

// printStatement is -v: a statement of the running migration, with its duration. brokle's own
// history statements are left out.
func (e *Engine) printStatement(query string, took time.Duration, err error) {
	if isOwnStatement(query) {
		return
	}
	state := roundDuration(took).String()
	if err != nil {
		state += ", failed"
	}
	fmt.Fprintf(e.opts.Progress, "%-10s   -- statement (%s)\n", e.db.Name(), state)
	for _, l := range strings.Split(strings.TrimSpace(query), "\n") {
		fmt.Fprintf(e.opts.Progress, "%-10s   %s\n", "", strings.TrimRight(l, " \t\r"))
	}
}

// isOwnStatement: a statement on brokle's own tables (history, lock, audit), not a migration's.
func isOwnStatement(q string) bool {
	return strings.Contains(q, "brokle_schema_migrations") || strings.Contains(q, "brokle_migration_")
}

func isLockLost(err error) bool {
	var ll *ErrLockLost
	return errors.As(err, &ll)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Force records exactly the versions <= version as applied and clears dirty, running no SQL.
func (e *Engine) Force(ctx context.Context, version int64, dryRun bool) (*Plan, error) {
	if version != 0 && e.src.Lookup(version) == nil {
		return nil, &ErrInput{Msg: fmt.Sprintf("%s: no migration has version %d in %s", e.db.Name(), version, e.src.Display)}
	}
	var recs []Record
	now := time.Now()
	for _, m := range e.src.Migrations {
		if m.Version <= version {
			recs = append(recs, Record{Version: m.Version, Applied: true, AppliedAt: now, AppliedBy: e.opts.AppliedBy, Checksum: m.Checksum})
		}
	}
	h := e.db.History()
	plan := &Plan{Database: e.db.Name(), Address: e.db.Address(), Action: "force"}
	if dryRun {
		st, err := e.readState(ctx)
		if err != nil {
			return nil, err
		}
		if !st.exists {
			plan.Setup = h.SetupStatements()
		}
		plan.Extra = h.ForceStatements(recs, st.records)
		plan.Changes = len(ForceChanges(recs, st.records))
		return plan, nil
	}
	err := e.locked(ctx, func(ctx context.Context, _ func(context.Context) error) error {
		if err := h.Prepare(ctx, e.db.DB()); err != nil {
			return e.stopped(ctx, fmt.Errorf("%s: read history: %w", e.db.Name(), err), nil)
		}
		if err := h.Init(ctx, e.db.DB()); err != nil {
			return e.stopped(ctx, fmt.Errorf("%s: create history table: %w", e.db.Name(), err), nil)
		}
		if err := h.Force(ctx, e.db.DB(), recs); err != nil {
			return e.stopped(ctx, fmt.Errorf("%s: force version %d: %w", e.db.Name(), version, err), nil)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// Drop removes every object of the database, the history table included.
func (e *Engine) Drop(ctx context.Context, dryRun bool) (*Plan, error) {
	plan := &Plan{Database: e.db.Name(), Address: e.db.Address(), Action: "drop"}
	if dryRun {
		stmts, err := e.db.Drop(ctx, true)
		plan.Extra = stmts
		if err != nil {
			return nil, fmt.Errorf("%s: drop: %w", e.db.Name(), err)
		}
		return plan, nil
	}
	err := e.locked(ctx, func(ctx context.Context, guard func(context.Context) error) error {
		if err := guard(ctx); err != nil {
			return err
		}
		if e.confirmed != nil {
			now, err := e.db.Drop(ctx, true)
			if err != nil {
				return e.stopped(ctx, fmt.Errorf("%s: drop: %w", e.db.Name(), err), nil)
			}
			if !slices.Equal(now, e.confirmed.Extra) {
				return &ErrPlanChanged{Database: e.db.Name()}
			}
		}
		stmts, err := e.db.Drop(ctx, false)
		plan.Extra = stmts
		if err != nil {
			return e.stopped(ctx, fmt.Errorf("%s: drop: %w", e.db.Name(), err), nil)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// DryRun returns the plan of action ("up", "down", "redo", "reset") without changing anything.
func (e *Engine) DryRun(ctx context.Context, action string, steps int, target int64) (*Plan, error) {
	st, err := e.readState(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.checkRunnable(st, action == "up" || action == "reset"); err != nil {
		return nil, err
	}
	if err := e.checkUnmanaged(ctx, st); err != nil {
		return nil, err
	}
	plan := &Plan{Database: e.db.Name(), Address: e.db.Address(), Action: action}
	if !st.exists && action != "down" && action != "redo" {
		plan.Setup = e.db.History().SetupStatements()
	}
	add := func(ms []*Migration, up bool) error {
		if err := e.src.Load(ms); err != nil {
			return err
		}
		steps, err := e.explain(ctx, ms, up)
		plan.Steps = append(plan.Steps, steps...)
		return err
	}
	switch action {
	case "up":
		ms, err := e.planUp(st, steps, target)
		if err != nil {
			return nil, err
		}
		if err := e.refuseTemplates(ms); err != nil {
			return nil, err
		}
		err = add(ms, true)
		return plan, err
	case "down", "redo":
		if action == "redo" {
			steps = 1
		}
		ms, err := e.planDown(st, steps, target, false)
		if err != nil {
			return nil, err
		}
		if err := e.checkDrift(st, ms); err != nil {
			return nil, err
		}
		if err := add(ms, false); err != nil {
			return nil, err
		}
		if action == "redo" {
			err = add(ms, true)
		}
		return plan, err
	case "reset":
		ms, err := e.planDown(st, 0, 0, true)
		if err != nil {
			return nil, err
		}
		if err := add(ms, false); err != nil {
			return nil, err
		}
		if err := e.refuseTemplates(e.src.Migrations); err != nil {
			return nil, err
		}
		return plan, add(e.src.Migrations, true)
	}
	return nil, fmt.Errorf("no dry run for %q", action)
}
