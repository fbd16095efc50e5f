package migrate

import (
	"context"
	"fmt"
	"io"
)

// Verify outcomes, one per migration.
const (
	VerifyOK            = "ok"
	VerifyDownDiffers   = "down leaves a difference"
	VerifyUpFails       = "up fails"
	VerifyDownFails     = "down fails"
	VerifyNotRepeatable = "up not repeatable"
	VerifyNoDown        = "no down section: not checked"
	VerifyNotRun        = "not verified (an earlier Up fails)"
)

// VerifyStep is what verify found for one migration.
type VerifyStep struct {
	Version int64       `json:"version"`
	File    string      `json:"file"`
	Result  string      `json:"result"`
	Failed  bool        `json:"failed"`
	Diff    *SchemaDiff `json:"difference"`
	Error   *string     `json:"error"`
}

// Scratch is a fresh, empty database made for verify alone (nobody else knows its name, so it
// takes no lock).
type Scratch struct {
	DB   Database
	Snap Snapshotter
	// Drop removes it.
	Drop func()
}

// Verify replays every migration of src, in order, in scratch databases that fresh makes: for
// each, schema S0, Up, S1, Down, S2 (must equal S0), Up again, S3 (must equal S1). A migration
// that leaves the scratch database in a state that is not its Up's (a Down that differs or fails,
// an Up that cannot run twice) gets a new scratch database with every Up before it replayed, so
// each migration is judged on its own. An Up that fails on a clean database ends verify: what
// follows cannot be reached. each gets every step as it is known. The last scratch database is
// returned (for a seed to be loaded into it); the caller drops it.
func Verify(ctx context.Context, src *Source, opts Options, fresh func(ctx context.Context) (*Scratch, error), each func(VerifyStep)) (*Scratch, []VerifyStep, error) {
	opts.Progress = io.Discard
	var out []VerifyStep
	emit := func(s VerifyStep) {
		out = append(out, s)
		if each != nil {
			each(s)
		}
	}
	errText := func(err error) *string { s := err.Error(); return &s }
	var sc *Scratch
	var e *Engine
	open := func(replay []*Migration) error {
		if sc != nil {
			sc.Drop()
		}
		var err error
		if sc, err = fresh(ctx); err != nil {
			return err
		}
		if e, err = New(sc.DB, src, opts); err != nil {
			return err
		}
		h := sc.DB.History()
		if err := h.Prepare(ctx, sc.DB.DB()); err != nil {
			return err
		}
		if err := h.Init(ctx, sc.DB.DB()); err != nil {
			return fmt.Errorf("%s: create history table: %w", sc.DB.Name(), err)
		}
		for _, m := range replay {
			if err := e.step(ctx, m, true); err != nil {
				return fmt.Errorf("replaying %s in a new scratch database: %w", m.File(), err)
			}
		}
		return nil
	}
	if err := open(nil); err != nil {
		return sc, nil, err
	}
	tainted, stop := false, false
	for i, m := range src.Migrations {
		step := VerifyStep{Version: m.Version, File: m.File(), Result: VerifyOK}
		if stop {
			step.Result = VerifyNotRun
			emit(step)
			continue
		}
		if tainted {
			if err := open(src.Migrations[:i]); err != nil {
				return sc, out, err
			}
			tainted = false
		}
		s0, err := sc.Snap.Snapshot(ctx)
		if err != nil {
			return sc, out, err
		}
		if err := e.step(ctx, m, true); err != nil {
			if ctx.Err() != nil {
				return sc, out, err
			}
			step.Result, step.Failed, step.Error, stop = VerifyUpFails, true, errText(err), true
			emit(step)
			continue
		}
		s1, err := sc.Snap.Snapshot(ctx)
		if err != nil {
			return sc, out, err
		}
		if !m.HasDown {
			step.Result = VerifyNoDown
			emit(step)
			continue
		}
		if err := e.step(ctx, m, false); err != nil {
			if ctx.Err() != nil {
				return sc, out, err
			}
			step.Result, step.Failed, step.Error, tainted = VerifyDownFails, true, errText(err), true
			emit(step)
			continue
		}
		s2, err := sc.Snap.Snapshot(ctx)
		if err != nil {
			return sc, out, err
		}
		if d := Diff(s0, s2); !d.Empty() {
			// The state is not the one before Up: the next migration gets a clean one.
			step.Result, step.Failed, step.Diff, tainted = VerifyDownDiffers, true, &d, true
			emit(step)
			continue
		}
		if err := e.step(ctx, m, true); err != nil {
			if ctx.Err() != nil {
				return sc, out, err
			}
			step.Result, step.Failed, step.Error, tainted = VerifyNotRepeatable, true, errText(err), true
			emit(step)
			continue
		}
		s3, err := sc.Snap.Snapshot(ctx)
		if err != nil {
			return sc, out, err
		}
		if d := Diff(s1, s3); !d.Empty() {
			step.Result, step.Failed, step.Diff, tainted = VerifyNotRepeatable, true, &d, true
		}
		emit(step)
	}
	if tainted && !stop {
		// Leave the last scratch database as the last Up left it, for a seed.
		if err := open(src.Migrations); err != nil {
			return sc, out, err
		}
	}
	return sc, out, nil
}

// step applies one migration, up or down, in a scratch database (no lock: nobody else knows it).
func (e *Engine) step(ctx context.Context, m *Migration, up bool) error {
	if err := e.ready([]*Migration{m}); err != nil {
		return err
	}
	return e.run(ctx, func(context.Context) error { return nil }, []*Migration{m}, up)
}
