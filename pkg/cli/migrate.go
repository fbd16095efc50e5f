package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/brokle-ai/brokle/migrations"
	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	chm "github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
	"github.com/brokle-ai/brokle/pkg/prompt"
	"github.com/brokle-ai/brokle/pkg/scrub"
	"github.com/brokle-ai/brokle/pkg/target"
)

// Database names as --db takes them.
const (
	dbPostgres   = "postgres"
	dbClickHouse = "clickhouse"
	dbAll        = "all"
)

// migrateOpts are the flags every migrate command shares.
type migrateOpts struct {
	db              string
	dir             string
	output          string
	dryRun          bool
	yes             bool
	allowDrift      bool
	allowOutOfOrder bool
	verbose         bool
	quiet           bool
	// lazy: read only the migration files the command uses (down and redo: the ones they roll
	// back); the folder's names are checked all the same.
	lazy bool
	// gooseCheck: goose parses every file at load (validate), not only those a command runs.
	gooseCheck bool
}

func newMigrateCmd(a *app) *cobra.Command {
	o := &migrateOpts{output: "text"}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back and inspect schema migrations",
		Example: "  brokle migrate up\n  brokle migrate status --fail-pending\n  brokle migrate down --db postgres --yes\n" +
			"  brokle migrate create --db clickhouse --name add_events",
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flags().Lookup("dir"); f != nil && f.Changed && strings.TrimSpace(o.dir) == "" {
				return usagef("--dir is empty: name the migrations folder (an unset variable?)")
			}
			oneShotGC()
			return nil
		},
	}
	// Only --db is shared by every migrate command; each command declares the other flags that
	// apply to it (addFlags).
	cmd.PersistentFlags().StringVar(&o.db, "db", dbAll, "database: postgres, clickhouse or all (postgres first)")
	// --db completes to what the command accepts: all only where it works on both.
	_ = cmd.RegisterFlagCompletionFunc("db", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		if acceptsAll(c) {
			return []string{dbPostgres, dbClickHouse, dbAll}, cobra.ShellCompDirectiveNoFileComp
		}
		return []string{dbPostgres, dbClickHouse}, cobra.ShellCompDirectiveNoFileComp
	})

	cmd.AddCommand(
		newChangeCmd(a, o, "up", "Apply pending migrations", true),
		newChangeCmd(a, o, "down", "Roll back the latest migrations, 1 by default (asks for confirmation)", true),
		newChangeCmd(a, o, "redo", "Roll back the latest migration and apply it again (asks for confirmation)", false),
		newChangeCmd(a, o, "reset", "Roll back every migration, then apply them all (asks for confirmation)", false),
		newStatusCmd(a, o),
		newForceCmd(a, o),
		newDropCmd(a, o),
		newCreateCmd(a, o),
		newFixCmd(a, o),
		newInfoCmd(a, o),
		newValidateCmd(a, o),
		newVerifyCmd(a, o),
		newUnlockCmd(a, o),
		newAdoptCmd(a, o),
		newBaselineCmd(a, o),
		newRehashCmd(a, o),
		newHistoryCmd(a, o),
	)
	return cmd
}

// oneDatabase annotates a migrate command that works on one database at a time: --db all is
// refused (configFor, check) and not offered (completion).
const oneDatabase = "brokle/one-database"

func oneDatabaseOnly() map[string]string { return map[string]string{oneDatabase: "true"} }

// acceptsAll reports whether cmd accepts --db all.
func acceptsAll(cmd *cobra.Command) bool { return cmd.Annotations[oneDatabase] == "" }

// oneShotGC: a migrate command lives for milliseconds to seconds and holds little (its
// migrations, a history): the collector runs only if the heap reaches 128 MiB, unless the user
// set GOGC or GOMEMLIMIT. With the default one, a one-step down spent a third of its CPU in two
// collections of goose's 4 MiB parse buffers, which a command that collects nothing also reuses
// from one migration to the next.
func oneShotGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(128 << 20)
	debug.SetGCPercent(-1)
}

// check validates the shared flags and returns the databases to work on, in order.
func (o *migrateOpts) check(allowAll bool) ([]string, error) {
	if err := checkOutput(o.output); err != nil {
		return nil, err
	}
	var dbs []string
	switch o.db {
	case dbPostgres, dbClickHouse:
		dbs = []string{o.db}
	case dbAll:
		if !allowAll {
			return nil, usagef("--db all: this command works on one database; pass --db postgres or --db clickhouse")
		}
		dbs = []string{dbPostgres, dbClickHouse}
	default:
		return nil, usagef("--db %q: want postgres, clickhouse or all", o.db)
	}
	if o.dir != "" && len(dbs) > 1 {
		return nil, usagef("--dir %s: pass --db postgres or --db clickhouse with it (each database has its own folder)", o.dir)
	}
	return dbs, nil
}

// source loads a database's migrations: --dir, else the configured folder, else the built-in ones.
func (o *migrateOpts) source(cfg *config.Config, db string) (*migrate.Source, error) {
	src, errs, err := o.sourceAll(cfg, db)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return src, nil
}

// migrationsFolder is the folder a database's migrations come from: --dir, else the configured
// folder (found from the project root); "" for the built-in set, with where a folder was looked
// for (missing: "" when the setting is empty). Only the default folder may be missing (the
// built-in set then); a folder set to anything else must exist.
func (o *migrateOpts) migrationsFolder(cfg *config.Config, db string) (dir, missing string, err error) {
	if o.dir != "" {
		st, err := os.Stat(o.dir)
		if err != nil || !st.IsDir() {
			return "", "", usagef("migrations folder %s: not a folder", o.dir)
		}
		return o.dir, "", nil
	}
	configured, key := cfg.PostgresDir, "postgres.migrations_dir"
	if db == dbClickHouse {
		configured, key = cfg.ClickHouseDir, "clickhouse.migrations_dir"
	}
	if configured == "" {
		return "", "", nil
	}
	st, err := os.Stat(configured)
	switch {
	case errors.Is(err, fs.ErrNotExist) && cfg.IsDefault(key):
		return "", configured, nil // the default folder: a project without its own migrations
	case errors.Is(err, fs.ErrNotExist):
		// A folder someone named: a typo must not run the built-in migrations instead.
		return "", "", usagef("migrations folder %s (%s, from %s): no such folder", configured, key, cfg.Origin(key))
	case err != nil:
		return "", "", usagef("migrations folder %s (%s, from %s): %v", configured, key, cfg.Origin(key), err)
	case !st.IsDir():
		return "", "", usagef("migrations folder %s (%s, from %s): not a folder", configured, key, cfg.Origin(key))
	}
	return configured, "", nil
}

// sourceAll loads a database's migrations with every problem of its files; err is a problem
// with the folder itself.
func (o *migrateOpts) sourceAll(cfg *config.Config, db string) (*migrate.Source, migrate.SourceErrors, error) {
	dir, missing, err := o.migrationsFolder(cfg, db)
	if err != nil {
		return nil, nil, err
	}
	lo := migrate.LoadOptions{WrapDollarQuoted: db == dbPostgres, Lazy: o.lazy, GooseCheck: o.gooseCheck}
	if db == dbClickHouse {
		lo.AllNoTx, lo.Rewrite = true, clusterRewrite(cfg.ClickHouseCluster)
	}
	if dir != "" {
		src, errs := migrate.LoadAll(migrate.DirFS(dir), filepath.ToSlash(filepath.Clean(dir)), lo)
		return src, errs, nil
	}
	fsys, display := embeddedSource(db)
	src, errs := migrate.LoadAll(fsys, display, lo)
	src.BuiltIn = true
	if missing != "" {
		src.Note = "no folder at " + filepath.ToSlash(missing)
	} else {
		src.Note = "migrations_dir is empty"
	}
	return src, errs, nil
}

func embeddedSource(db string) (fs.FS, string) {
	if db == dbClickHouse {
		sub, _ := fs.Sub(migrations.FS, "clickhouse")
		return sub, "migrations/clickhouse"
	}
	return migrations.FS, "migrations"
}

// opened is one opened database with its engine.
type opened struct {
	db     migrate.Database
	engine *migrate.Engine
	src    *migrate.Source
	close  func()
}

// selected picks the databases a command works on: an explicit --db must be configured (exit 2
// naming the setting); with --db all, one that is not configured at all is skipped, said on
// stderr, and at least one must be.
func (a *app) selected(cfg *config.Config, o *migrateOpts, dbs []string) ([]string, error) {
	if len(dbs) == 1 {
		if err := targetErr(cfg, dbs[0]); err != nil {
			return nil, err
		}
		return dbs, nil
	}
	var out []string
	var firstErr error
	for _, d := range dbs {
		err := targetErr(cfg, d)
		var te *target.Error
		if errors.As(err, &te) && te.NotConfigured {
			a.note(o.output, d, noteSkipped, fmt.Sprintf("not configured (%s is empty, from %s): skipped", te.Origin.Key, te.Origin.Source))
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}

// targetErr is why a database's target cannot be used, nil when it can.
func targetErr(cfg *config.Config, db string) error {
	var err error
	switch db {
	case dbPostgres:
		_, err = cfg.Postgres()
	case dbClickHouse:
		_, err = cfg.ClickHouse()
	}
	return err
}

// open connects to db (read-only for dry runs and status) and builds its engine.
func (a *app) open(cfg *config.Config, o *migrateOpts, db string, readOnly bool, progress io.Writer) (*opened, error) {
	a.setPhase("reading the " + db + " migrations")
	src, err := o.source(cfg, db)
	if err != nil {
		return nil, err
	}
	d, closeFn, err := openDB(cfg, db, readOnly)
	if err != nil {
		return nil, err
	}
	eng, err := migrate.New(d, src, a.engineOptions(cfg, o, db, progress))
	if err != nil {
		closeFn()
		return nil, err
	}
	return &opened{db: d, engine: eng, src: src, close: closeFn}, nil
}

// openDB opens a database (read-only for dry runs and status): nothing is sent until the first
// query; the embedded ClickHouse engine starts here.
func openDB(cfg *config.Config, db string, readOnly bool) (migrate.Database, func(), error) {
	switch db {
	case dbPostgres:
		t, err := cfg.Postgres()
		if err != nil {
			return nil, nil, err
		}
		pg, err := postgres.Open(t, postgres.Options{ReadOnly: readOnly})
		if err != nil {
			return nil, nil, err
		}
		return pg, func() { pg.Close() }, nil
	case dbClickHouse:
		return openClickHouse(cfg, readOnly)
	}
	return nil, nil, fmt.Errorf("no database %q", db)
}

func (a *app) engineOptions(cfg *config.Config, o *migrateOpts, db string, progress io.Writer) migrate.Options {
	var warnings io.Writer = a.streams.Err
	switch {
	case o.output == "json":
		warnings = &noteLines{a: a, database: db} // a JSON note each, not text among JSON
	case progress == io.Discard:
		warnings = io.Discard
	}
	return migrate.Options{
		AllowDrift: o.allowDrift, AllowOutOfOrder: o.allowOutOfOrder,
		AppliedBy: a.appliedBy, Progress: progress, LockTimeout: cfg.LockTimeout, Phase: a.setPhase,
		Warnings: warnings,
		Verbose:  o.verbose,
	}
}

// status reads a database's status, read-only, while its migrations are read: the two take
// about as long with thousands of migrations. A problem with the files comes first, as when the
// files are read before anything connects.
func (a *app) status(ctx context.Context, cfg *config.Config, o *migrateOpts, db string) (*migrate.Status, error) {
	a.setPhase("reading the " + db + " migrations and status")
	load := func() (*migrate.Source, error) { return o.source(cfg, db) }
	d, closeFn, err := openDB(cfg, db, true)
	if err != nil {
		if _, lerr := load(); lerr != nil {
			return nil, lerr
		}
		return nil, err
	}
	defer closeFn()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, _, err := migrate.StatusWhileLoading(ctx, d, a.engineOptions(cfg, o, db, io.Discard), load)
	return st, err
}

// stepsFlag is --steps: def when it was not given.
func stepsFlag(cmd *cobra.Command, def int) (int, error) {
	if n, ok := intValue(cmd, "steps"); ok {
		return int(n), nil
	}
	return def, nil
}

// versionFlag is --version; ok is false when it was not given.
func versionFlag(cmd *cobra.Command) (v int64, ok bool, err error) {
	v, ok = intValue(cmd, "version")
	return v, ok, nil
}

// newChangeCmd builds up, down, redo and reset.
func newChangeCmd(a *app, o *migrateOpts, action, short string, withSteps bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:     action,
		Short:   short,
		Long:    changeLong[action],
		Example: changeExamples[action],
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runChange(cmd, o, action)
		},
	}
	if withSteps {
		addStepsFlag(cmd, map[string]string{"up": "apply only the next N pending migrations (default: all)", "down": "roll back the latest N migrations (default 1)"}[action])
		usage := "apply the pending migrations up to and including this version"
		if action == "down" {
			usage = "roll back every migration above this version; this version itself stays applied (0: roll back all)"
		}
		addVersionFlag(cmd, usage)
		_ = cmd.RegisterFlagCompletionFunc("version", a.completeVersions(o))
	}
	names := []string{flagDir, flagOutput, flagDryRun}
	if action != "up" {
		names = append(names, flagYes)
	}
	names = append(names, flagAllowDrift)
	if action == "up" {
		names = append(names, flagAllowOutOfOrder)
	}
	o.addFlags(cmd, append(names, flagLockTimeout, flagVerbose, flagQuiet)...)
	return cmd
}

var changeLong = map[string]string{
	"up": "Apply pending migrations in order, each in a transaction where it can be (PostgreSQL), one line per\n" +
		"migration with a [n/N] counter and its duration, then a summary. Refused while a database is\n" +
		"dirty or drifted. --db all (the default) runs PostgreSQL first, then ClickHouse.",
	"down": "Roll back the latest applied migrations (1 by default; --steps N: the latest N; --version N:\n" +
		"every one above N, while N stays applied; --version 0: all). Asks for confirmation, showing the\n" +
		"migrations to roll back; --yes confirms without a terminal.",
	"redo": "Roll back the latest applied migration and apply it again. Asks for confirmation; --yes\n" +
		"confirms without a terminal.",
	"reset": "Roll back every applied migration, then apply every migration. Asks for confirmation; --yes\n" +
		"confirms without a terminal.",
}

var changeExamples = map[string]string{
	"up": "  brokle migrate up\n  brokle migrate up --db postgres --steps 1\n  brokle migrate up --db postgres --version 5\n" +
		"  brokle migrate up --dry-run --db clickhouse\n  brokle migrate up -o json",
	"down": "  brokle migrate down --db postgres\n  brokle migrate down --db postgres --steps 2 --yes\n" +
		"  brokle migrate down --db clickhouse --version 0 --yes\n  brokle migrate down --db postgres --dry-run",
	"redo":  "  brokle migrate redo --db postgres\n  brokle migrate redo --db postgres --yes -v",
	"reset": "  brokle migrate reset --db postgres --dry-run\n  brokle migrate reset --db postgres --yes",
}

func (a *app) runChange(cmd *cobra.Command, o *migrateOpts, action string) error {
	cfg, dbs, err := a.configFor(cmd, o)
	if err != nil {
		return err
	}
	steps, target := 0, int64(0)
	if cmd.Flags().Lookup("steps") != nil {
		def := 0
		if action == "down" {
			def = 1
		}
		if steps, err = stepsFlag(cmd, def); err != nil {
			return err
		}
		v, ok, err := versionFlag(cmd)
		if err != nil {
			return err
		}
		if ok {
			if cmd.Flags().Changed("steps") {
				return usagef("--steps and --version: pass one of them")
			}
			steps, target = 0, v
			if action == "up" && v == 0 {
				return usagef("--version 0: up needs a version above 0")
			}
		}
	}
	if dbs, err = a.selected(cfg, o, dbs); err != nil {
		return err
	}
	if o.verbose && o.quiet {
		return usagef("--verbose and --quiet: pass one of them")
	}
	ctx := cmd.Context()
	out := a.streams.Out
	// down and redo read the files of what they roll back, not the whole folder.
	o.lazy = action == "down" || action == "redo"
	// Progress lines (and -v's statements) go to stdout, except with -q or -o json.
	progress := out
	if o.quiet || o.output == "json" {
		progress = io.Discard
	}
	// Every database is opened, and its files read, before anything changes.
	var ts []*opened
	defer func() {
		for _, t := range ts {
			t.close()
		}
	}()
	for _, name := range dbs {
		t, err := a.open(cfg, o, name, o.dryRun, progress)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	if o.dryRun {
		var plans []*migrate.Plan
		for _, t := range ts {
			p, err := t.engine.DryRun(ctx, action, steps, target)
			if err != nil {
				return err
			}
			plans = append(plans, p)
		}
		a.setPhase("writing the plan (nothing was changed)")
		return printPlans(out, o.output, plans)
	}
	if action != "up" && !(o.yes && len(ts) == 1) {
		// What will be undone is shown, per database, before the question; the run then checks
		// under its lock that it is still exactly that. With --yes and one database nobody sees a
		// plan: the run reads the state once, under its lock. (With two, both are planned first,
		// so that a refusal on the second stops the first from changing.)
		var plans []*migrate.Plan
		for _, t := range ts {
			a.setPhase("reading the " + t.db.Name() + " history")
			p, err := t.engine.DryRun(ctx, action, steps, target)
			if err != nil {
				return err
			}
			plans = append(plans, p)
			t.engine.Confirmed(p)
		}
		if err := a.confirmPlans(ctx, o, "run migrate "+action+" on "+strings.Join(dbs, " and "), plans); err != nil {
			return err
		}
	}
	var runs []*migrate.Run
	var runErr error
	for _, t := range ts {
		var run *migrate.Run
		switch action {
		case "up":
			run, runErr = t.engine.Up(ctx, steps, target)
		case "down":
			run, runErr = t.engine.Down(ctx, steps, target)
		case "redo":
			run, runErr = t.engine.Redo(ctx)
		case "reset":
			run, runErr = t.engine.Reset(ctx)
		}
		runs = append(runs, run)
		if runErr != nil {
			break
		}
		if o.output == "text" && !o.quiet {
			fmt.Fprintln(out, runSummary(run))
		}
	}
	if o.output == "json" {
		var dbs []map[string]any
		for i, r := range runs {
			var msg any
			if i == len(runs)-1 && runErr != nil {
				msg = runErr.Error()
			}
			dbs = append(dbs, runJSON(r, msg))
		}
		if err := writeJSON(out, map[string]any{"schema": 1, "action": action, "dry_run": false, "databases": dbs}); err != nil {
			return err
		}
	}
	return runErr
}

// runSummary is the line that ends a database's run: from which version to which, how many
// migrations, how long.
func runSummary(r *migrate.Run) string {
	from, to := "?", "?"
	if r.From != nil {
		from = strconv.FormatInt(*r.From, 10)
	}
	if r.To != nil {
		to = strconv.FormatInt(*r.To, 10)
	}
	took := roundTotal(r.Duration)
	if len(r.Steps) == 0 {
		return fmt.Sprintf("%-10s nothing to %s: at version %s (%s)", r.Database, r.Action, from, took)
	}
	what := map[string]string{"up": "applied", "down": "rolled back", "redo": "rolled back and applied again", "reset": "rolled back and applied"}[r.Action]
	n := len(r.Steps)
	if r.Action == "redo" {
		n = 1
	}
	if r.Action == "reset" {
		downs := 0
		for _, s := range r.Steps {
			if s.Direction == "down" {
				downs++
			}
		}
		return fmt.Sprintf("%-10s done: version %s -> %s, %d rolled back and %d applied in %s", r.Database, from, to, downs, len(r.Steps)-downs, took)
	}
	return fmt.Sprintf("%-10s done: version %s -> %s, %d migration(s) %s in %s", r.Database, from, to, n, what, took)
}

func roundTotal(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// confirmPlans shows what the plans change and asks; with --yes it goes ahead, and with neither
// a terminal nor --yes it refuses, naming what it would have done.
func (a *app) confirmPlans(ctx context.Context, o *migrateOpts, action string, plans []*migrate.Plan) error {
	var b strings.Builder
	changes := 0
	for _, p := range plans {
		n := len(p.Steps) + len(p.Extra)
		changes += n
		fmt.Fprintf(&b, "%s at %s: %s\n", p.Database, p.Address, describePlan(p))
		const show = 25
		lines := planLines(p)
		for i, l := range lines {
			if i == show {
				fmt.Fprintf(&b, "  ... and %d more\n", len(lines)-show)
				break
			}
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	if changes == 0 {
		return nil
	}
	q := "Go ahead?"
	if o.yes {
		return nil
	}
	if !prompt.IsTerminal(a.raw.In, a.raw.Err) {
		var what []string
		for _, p := range plans {
			w := fmt.Sprintf("%s at %s: %s", p.Database, p.Address, describePlan(p))
			var files []string
			for _, s := range p.Steps {
				if s.Direction == "down" || p.Action == "redo" {
					files = append(files, path.Base(s.File))
				}
			}
			files = slices.Compact(files)
			if len(files) > 0 && len(files) <= 5 {
				w += ": " + strings.Join(files, ", ")
			} else if len(files) > 5 {
				w += ": " + strings.Join(files[:5], ", ") + ", ..."
			}
			what = append(what, w)
		}
		return &prompt.ErrNoTerminal{Action: action + " (" + strings.Join(what, "; ") + ")"}
	}
	fmt.Fprint(a.streams.Err, b.String())
	a.flush()
	return a.confirm(ctx, action, q)
}

// confirm asks question on the terminal (the plan is already shown).
func (a *app) confirm(ctx context.Context, action, question string) error {
	a.setPhase("waiting for an answer at the prompt (nothing changed yet)")
	return prompt.Confirm(ctx, a.raw, false, action, a.scrub.String(question))
}

func describePlan(p *migrate.Plan) string {
	switch p.Action {
	case "down":
		return fmt.Sprintf("roll back %d migration(s)", len(p.Steps))
	case "redo":
		return "roll back and apply again the latest migration"
	case "reset":
		downs := 0
		for _, s := range p.Steps {
			if s.Direction == "down" {
				downs++
			}
		}
		return fmt.Sprintf("roll back %d migration(s), then apply %d", downs, len(p.Steps)-downs)
	case "drop":
		return fmt.Sprintf("drop %d object(s), the history table included", len(p.Extra))
	case "force":
		return "record versions as applied, running no SQL"
	case "unlock":
		return "break the migration lock"
	}
	return p.Action
}

func planLines(p *migrate.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, fmt.Sprintf("%-4s %s (version %d)", s.Direction, s.File, s.Version))
	}
	for _, s := range p.Extra {
		out = append(out, strings.TrimSuffix(s, ";"))
	}
	return out
}

func printPlans(w io.Writer, format string, plans []*migrate.Plan) error {
	if format == "json" {
		return writeJSON(w, map[string]any{"schema": 1, "dry_run": true, "plans": plans})
	}
	for _, p := range plans {
		// What the plan changes, counted as it changes it.
		count := fmt.Sprintf("%d migration(s)", len(p.Steps))
		switch p.Action {
		case "force":
			count = fmt.Sprintf("%d version(s) change", p.Changes)
		case "drop":
			count = fmt.Sprintf("%d statement(s)", len(p.Extra))
		}
		fmt.Fprintf(w, "-- %s at %s: %s, %s, dry run: nothing is changed\n", p.Database, p.Address, p.Action, count)
		if p.Action == "force" && p.Changes == 0 {
			fmt.Fprintln(w, "-- nothing changes: the history already records exactly these versions, none dirty")
		}
		if len(p.Setup) > 0 {
			fmt.Fprintln(w, "-- history table (created first: it does not exist yet)")
			for _, stmt := range p.Setup {
				fmt.Fprintf(w, "%s;\n", stmt)
			}
		}
		for _, s := range p.Steps {
			tx := "in a transaction"
			if !s.InTx {
				tx = "no transaction"
			}
			fmt.Fprintf(w, "-- %s %s (version %d, %s)\n", s.Direction, s.File, s.Version, tx)
			for _, stmt := range s.Statements {
				fmt.Fprintln(w, strings.TrimRight(stmt, "\n"))
			}
			if len(s.Statements) == 0 && s.Direction == "up" {
				fmt.Fprintln(w, "-- (the Up section is empty: recorded as applied, nothing is run)")
			}
		}
		for _, stmt := range p.Extra {
			fmt.Fprintf(w, "%s;\n", strings.TrimSuffix(stmt, ";"))
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	if sw, ok := w.(*scrub.Writer); ok {
		_, err := sw.WriteJSON(b.Bytes()) // values scrubbed, brokle's field names kept
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

func newStatusCmd(a *app, o *migrateOpts) *cobra.Command {
	var failPending bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each database's migrations; exit 1 when dirty, drifted or unreachable",
		Long: "Show, per database: reachable or not, server version and round trip, current version, dirty\n" +
			"mark, applied / pending / drifted / missing counts, and every migration with its state and\n" +
			"applied time. Exit 1 when a database is dirty, drifted, missing a file or unreachable, and\n" +
			"with --fail-pending also when a migration is pending (a deploy gate in CI).",
		Example: "  brokle migrate status\n  brokle migrate status --db postgres --fail-pending\n" +
			"  brokle migrate status -o json | jq '.databases[].pending'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dbs, err := a.configFor(cmd, o)
			if err != nil {
				return err
			}
			if dbs, err = a.selected(cfg, o, dbs); err != nil {
				return err
			}
			var all []*migrate.Status
			for _, name := range dbs {
				st, err := a.status(cmd.Context(), cfg, o, name)
				if err != nil {
					return err
				}
				all = append(all, st)
				if cause := context.Cause(cmd.Context()); cause != nil {
					return cause
				}
			}
			if o.output == "json" {
				dbs := make([]map[string]any, 0, len(all))
				for _, st := range all {
					dbs = append(dbs, statusJSON(st))
				}
				if err := writeJSON(a.streams.Out, map[string]any{"schema": 1, "databases": dbs}); err != nil {
					return err
				}
			} else {
				// One write a few thousand rows, not one per row (the scrubbing writer under it
				// writes out each whole line it gets).
				w := bufio.NewWriterSize(a.streams.Out, 64<<10)
				printStatus(w, all, a.color())
				w.Flush()
			}
			pending := 0
			for _, st := range all {
				if !st.Reachable || !st.Healthy {
					return &exitError{code: ExitFailed}
				}
				pending += st.Pending
			}
			if failPending && pending > 0 {
				if o.output == "text" {
					fmt.Fprintf(a.streams.Err, "status: %d migration(s) pending (--fail-pending)\n", pending)
				}
				return &exitError{code: ExitFailed}
			}
			return nil
		},
	}
	o.addFlags(cmd, flagDir, flagOutput)
	cmd.Flags().BoolVar(&failPending, "fail-pending", false, "exit 1 also when a migration is pending (dbmate's --exit-code)")
	return cmd
}

// color reports whether stdout gets colour: a terminal, and NO_COLOR not set to a value (no-color.org).
func (a *app) color() bool {
	if os.Getenv("NO_COLOR") != "" { // set and not empty, as no-color.org and the prompts read it
		return false
	}
	f, ok := a.raw.Out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// stateColor is the ANSI colour of a migration state on a terminal: dirty red, drifted and
// missing yellow, pending dim, the rest the default. Every code is five bytes long, so the table
// stays aligned (tabwriter counts bytes).
func stateColor(state string) string {
	switch state {
	case migrate.StateDirty:
		return "\x1b[31m"
	case migrate.StateDrifted, migrate.StateMissing:
		return "\x1b[33m"
	case migrate.StatePending:
		return "\x1b[02m"
	}
	return "\x1b[39m"
}

func printStatus(w io.Writer, all []*migrate.Status, color bool) {
	for i, s := range all {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if !s.Reachable {
			fmt.Fprintf(w, "%s at %s: unreachable: %s\n", s.Database, s.Address, firstLine(s.Error))
			continue
		}
		fmt.Fprintf(w, "%s at %s: server %s, round trip %.1fms\n", s.Database, s.Address, s.ServerVersion, s.RTTMs)
		fmt.Fprintf(w, "  migrations: %s\n", describeSource(s.Source, s.BuiltIn, deref(s.SourceNote)))
		if s.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", firstLine(s.Error))
			continue
		}
		dirty := "no"
		if s.Dirty != nil {
			dirty = fmt.Sprintf("YES, version %d", *s.Dirty)
		}
		fmt.Fprintf(w, "  current version %d, dirty: %s\n", s.Current, dirty)
		if s.Running != nil {
			fmt.Fprintf(w, "  running: version %d, by the run holding the lock (%s)\n", *s.Running, s.RunningBy)
		}
		fmt.Fprintf(w, "  applied %d, pending %d, drifted %d, missing %d\n", s.Applied, s.Pending, s.Drifted, s.Missing)
		if s.Unmanaged != "" {
			_, why, _ := strings.Cut(s.Unmanaged, " has ")
			fmt.Fprintf(w, "  NOT MANAGED: it has %s\n", why)
		}
		if c, ok := s.Cluster.(*chm.ClusterState); ok {
			fmt.Fprintf(w, "  cluster %s, %d node(s):\n", c.Name, len(c.Hosts))
			ctw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, h := range c.Hosts {
				state, hist := "up", "history table: yes"
				if !h.Reachable {
					state = "DOWN"
					if h.Error != nil {
						state += ": " + *h.Error
					}
					hist = ""
				} else if !h.HasHistory {
					hist = "history table: no"
				}
				fmt.Fprintf(ctw, "    %s\tshard %d replica %d\t%s\t%s\n", h.Address, h.Shard, h.Replica, state, hist)
			}
			ctw.Flush()
		}
		// The colour goes around the whole row, outside the cells, so the widths hold.
		head := ""
		if color {
			head = stateColor("")
		}
		rows := make([][]string, 0, len(s.Migrations)+1)
		rows = append(rows, []string{head + "  VERSION", "STATE", "APPLIED AT", "BY", "FILE"})
		for _, m := range s.Migrations {
			at := "-"
			if m.AppliedAt != nil {
				at = m.AppliedAt.Local().Format("2006-01-02 15:04:05 MST")
			}
			on, off := "", ""
			if color {
				on, off = stateColor(m.State), "\x1b[0m"
			}
			by := m.AppliedBy
			if by == "" {
				by = "-"
			}
			file := m.File
			if file == "" {
				file = "(no file)"
			}
			rows = append(rows, []string{on + "  " + strconv.FormatInt(m.Version, 10), m.State, at, by, file + off})
		}
		writeColumns(w, rows)
		for _, warn := range s.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", warn)
		}
	}
}

// writeColumns writes rows as text/tabwriter does with padding 2 (every cell but the last padded
// to its column's widest, in runes, and two spaces), without buffering every cell of a table of
// thousands of rows twice.
func writeColumns(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b []byte
	for _, r := range rows {
		b = b[:0]
		for i, c := range r[:len(r)-1] {
			b = append(b, c...)
			for n := utf8.RuneCountInString(c); n < widths[i]+2; n++ {
				b = append(b, ' ')
			}
		}
		b = append(b, r[len(r)-1]...)
		b = append(b, '\n')
		w.Write(b)
	}
}

// describeSource says which migrations a database uses: a folder on disk, or the built-in set.
func describeSource(display string, builtIn bool, note string) string {
	if builtIn {
		if note != "" {
			return "built into the binary (" + note + ")"
		}
		return "built into the binary"
	}
	return "folder " + display
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func newForceCmd(a *app, o *migrateOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:         "force",
		Annotations: oneDatabaseOnly(),
		Short:       "Record exactly the versions <= --version as applied and clear dirty, running no SQL (asks for confirmation)",
		Long: "Record exactly the versions <= --version as applied, every other one as not applied, and clear\n" +
			"the dirty mark, running no migration SQL: the way out after a migration failed part-way and\n" +
			"the schema was repaired by hand. Asks for confirmation; --yes confirms without a terminal.",
		Example: "  brokle migrate force --db clickhouse --version 3\n  brokle migrate force --db postgres --version 0 --yes\n" +
			"  brokle migrate force --db postgres --version 5 --dry-run",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dbs, err := a.configFor(cmd, o)
			if err != nil {
				return err
			}
			v, ok, err := versionFlag(cmd)
			if err != nil {
				return err
			}
			if !ok {
				return usagef("force needs --version N: the last version that took effect (0 for none)")
			}
			if dbs, err = a.selected(cfg, o, dbs); err != nil {
				return err
			}
			t, err := a.open(cfg, o, dbs[0], o.dryRun, a.streams.Out)
			if err != nil {
				return err
			}
			defer t.close()
			if !o.dryRun {
				p, err := t.engine.Force(cmd.Context(), v, true)
				if err != nil {
					return err
				}
				p.Extra = []string{fmt.Sprintf("versions <= %d recorded as applied, every other version as not applied, dirty mark cleared", v)}
				if err := a.confirmPlans(cmd.Context(), o, "force the version of "+dbs[0], []*migrate.Plan{p}); err != nil {
					return err
				}
			}
			plan, err := t.engine.Force(cmd.Context(), v, o.dryRun)
			if err != nil {
				return err
			}
			if o.dryRun {
				return printPlans(a.streams.Out, o.output, []*migrate.Plan{plan})
			}
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "database": dbs[0], "address": t.db.Address(), "version": v, "dry_run": false})
			}
			fmt.Fprintf(a.streams.Out, "%-10s forced to version %d; dirty mark cleared\n", dbs[0], v)
			return nil
		},
	}
	addVersionFlag(cmd, "the last version that took effect (0: none)")
	_ = cmd.RegisterFlagCompletionFunc("version", a.completeVersions(o))
	o.addFlags(cmd, flagDir, flagOutput, flagDryRun, flagYes, flagLockTimeout)
	return cmd
}

func newDropCmd(a *app, o *migrateOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drop",
		Short: "Drop every table, view and type of the database, the history table included (asks for confirmation)",
		Long: "Drop every table, view, type and function of the database, brokle's history table included.\n" +
			"Asks for confirmation, listing what it drops; --yes confirms without a terminal.",
		Example: "  brokle migrate drop --db postgres --dry-run\n  brokle migrate drop --db clickhouse --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dbs, err := a.configFor(cmd, o)
			if err != nil {
				return err
			}
			if dbs, err = a.selected(cfg, o, dbs); err != nil {
				return err
			}
			var ts []*opened
			defer func() {
				for _, t := range ts {
					t.close()
				}
			}()
			for _, name := range dbs { // before anything connects
				if err := clearable(cfg, name); err != nil {
					return usagef("%v", err)
				}
			}
			var plans []*migrate.Plan
			for _, name := range dbs {
				t, err := a.open(cfg, o, name, o.dryRun, a.streams.Out)
				if err != nil {
					return err
				}
				ts = append(ts, t)
				p, err := t.engine.Drop(cmd.Context(), true)
				if err != nil {
					return err
				}
				plans = append(plans, p)
			}
			if o.dryRun {
				return printPlans(a.streams.Out, o.output, plans)
			}
			if err := a.confirmPlans(cmd.Context(), o, "drop "+strings.Join(dbs, " and "), plans); err != nil {
				return err
			}
			dropped := []map[string]any{}
			for i, t := range ts {
				t.engine.Confirmed(plans[i])
				p, err := t.engine.Drop(cmd.Context(), false)
				if err != nil {
					return err
				}
				if o.output == "json" {
					dropped = append(dropped, map[string]any{"database": t.db.Name(), "address": t.db.Address(), "dropped": len(p.Extra), "statements": p.Extra})
					continue
				}
				fmt.Fprintf(a.streams.Out, "%-10s dropped %d object(s)\n", t.db.Name(), len(p.Extra))
			}
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "dry_run": false, "databases": dropped})
			}
			return nil
		},
	}
	o.addFlags(cmd, flagDir, flagOutput, flagDryRun, flagYes, flagLockTimeout)
	return cmd
}

// clearable refuses migrate drop on a database whose objects are the server's.
func clearable(cfg *config.Config, db string) error {
	if db == dbPostgres {
		t, err := cfg.Postgres()
		if err != nil {
			return err
		}
		return t.Clearable()
	}
	t, err := cfg.ClickHouse()
	if err != nil {
		return err
	}
	return t.Clearable()
}

// deref is *p, "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
