package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/target"
)

// errFixApplied: fix would renumber a version a database already records; exit 1.
type errFixApplied struct{ msgs []string }

func (e *errFixApplied) Error() string {
	msg := "fix: " + e.msgs[0]
	if len(e.msgs) > 1 {
		msg += fmt.Sprintf(" (and %d more)\n%s", len(e.msgs)-1, strings.Join(e.msgs[1:], "\n"))
	}
	return msg
}

func newFixCmd(a *app, o *migrateOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fix",
		Short: "Renumber timestamp migrations into the next sequential versions (renames files)",
		Long: "Renumber the timestamp versions of each migrations folder (20260102150405_x.sql, what\n" +
			"create --timestamp writes on a branch) into the next sequential versions after the highest\n" +
			"sequential one, oldest first, as goose fix does. The plan is printed first; --dry-run renames\n" +
			"nothing. fix refuses, renaming nothing, when a database it can reach (the configured\n" +
			"PostgreSQL or ClickHouse) already records a version it would rename or create: renumbering an\n" +
			"applied migration would make it run again.",
		Example: "  brokle migrate fix --dry-run\n  brokle migrate fix --db postgres",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dbs, err := a.configFor(cmd, o)
			if err != nil {
				return err
			}
			type dbPlan struct {
				db, dir, display string
				plan             []migrate.Rename
			}
			var plans []dbPlan
			for _, db := range dbs {
				dir, _, err := o.migrationsFolder(cfg, db)
				if err != nil {
					return err
				}
				if dir == "" {
					if len(dbs) == 1 {
						return usagef("fix --db %s: no migrations folder (the built-in migrations are in use): nothing on disk to renumber", db)
					}
					a.note(o.output, db, noteSkipped, "no migrations folder (built-in migrations): skipped")
					continue
				}
				src, err := o.source(cfg, db)
				if err != nil {
					return err
				}
				plans = append(plans, dbPlan{db: db, dir: dir, display: src.Display, plan: migrate.PlanFix(dir, src.Display, src)})
			}
			// Every database that can be reached is asked before any file is renamed.
			var conflicts []string
			for _, p := range plans {
				if len(p.plan) == 0 {
					continue
				}
				msgs, err := a.fixConflicts(cmd.Context(), cfg, o, p.db, p.plan)
				if err != nil {
					return err
				}
				conflicts = append(conflicts, msgs...)
			}
			if len(conflicts) > 0 {
				return &errFixApplied{msgs: conflicts}
			}
			type jsonRename struct {
				Database string `json:"database"`
				migrate.Rename
			}
			renames := []jsonRename{}
			w := a.streams.Out
			for _, p := range plans {
				if len(p.plan) == 0 {
					if o.output == "text" {
						fmt.Fprintf(w, "%-10s nothing to fix: no timestamp versions in %s\n", p.db, p.display)
					}
					continue
				}
				for _, r := range p.plan {
					renames = append(renames, jsonRename{Database: p.db, Rename: r})
					if o.output == "text" {
						fmt.Fprintf(w, "%-10s rename %s -> %s\n", p.db, r.From, r.To)
					}
				}
			}
			if o.dryRun {
				if o.output == "json" {
					return writeJSON(w, map[string]any{"schema": 1, "dry_run": true, "renames": renames})
				}
				if len(renames) > 0 {
					fmt.Fprintln(w, "dry run: nothing is renamed")
				}
				return nil
			}
			for _, p := range plans {
				if _, err := migrate.ApplyFix(p.dir, p.plan); err != nil {
					return err
				}
			}
			if o.output == "json" {
				return writeJSON(w, map[string]any{"schema": 1, "dry_run": false, "renames": renames})
			}
			if len(renames) > 0 {
				fmt.Fprintf(w, "renamed %d file(s)\n", len(renames))
			}
			return nil
		},
	}
	o.addFlags(cmd, flagDir, flagOutput, flagDryRun)
	return cmd
}

// fixConflicts asks a database, read-only, whether it records a version the plan renames (it
// would run again under its new number) or one the plan gives out (the new file would pass for
// applied). A database that is not configured or not reachable cannot be asked: said on stderr.
func (a *app) fixConflicts(ctx context.Context, cfg *config.Config, o *migrateOpts, db string, plan []migrate.Rename) ([]string, error) {
	if err := targetErr(cfg, db); err != nil {
		var te *target.Error
		if errors.As(err, &te) && te.NotConfigured {
			a.note(o.output, db, noteNotChecked, "not configured: no history to check")
			return nil, nil
		}
		return nil, err
	}
	t, err := a.open(cfg, o, db, true, io.Discard)
	if err != nil {
		return nil, err
	}
	defer t.close()
	a.setPhase("reading the " + db + " history")
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st := t.engine.Status(sctx)
	cancel()
	if cause := context.Cause(ctx); cause != nil {
		return nil, cause
	}
	if !st.Reachable || st.Error != "" {
		a.note(o.output, db, noteNotChecked, fmt.Sprintf("at %s: not checked: %s", st.Address, firstLine(st.Error)))
		return nil, nil
	}
	recorded := map[int64]string{}
	for _, m := range st.Migrations {
		if m.State != migrate.StatePending {
			recorded[m.Version] = m.State
		}
	}
	var out []string
	seen := map[int64]bool{}
	for _, r := range plan {
		if seen[r.OldVersion] {
			continue
		}
		seen[r.OldVersion] = true
		if state, ok := recorded[r.OldVersion]; ok {
			out = append(out, fmt.Sprintf("%s at %s records version %d (%s) as %s: renumbered, it would run again; roll it back there first (brokle migrate down --db %s), or keep timestamps (migrate.versioning: timestamp)",
				db, st.Address, r.OldVersion, r.From, state, db))
		}
		if state, ok := recorded[r.NewVersion]; ok {
			out = append(out, fmt.Sprintf("%s at %s records version %d as %s, the version fix would give %s: another branch's migration was applied under it; restore that file first",
				db, st.Address, r.NewVersion, state, r.From))
		}
	}
	return out, nil
}
