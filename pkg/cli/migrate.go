package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/migrations"
	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	chm "github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
	"github.com/brokle-ai/brokle/pkg/prompt"
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
}

func newMigrateCmd(a *app) *cobra.Command {
	o := &migrateOpts{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back and inspect schema migrations",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flags().Lookup("dir"); f != nil && f.Changed && strings.TrimSpace(o.dir) == "" {
				return usagef("--dir is empty: name the migrations folder (an unset variable?)")
			}
			return nil
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.db, "db", dbAll, "database: postgres, clickhouse or all (postgres first)")
	pf.StringVar(&o.dir, "dir", "", "read migrations from this folder instead of the ones built in (needs --db postgres or clickhouse)")
	pf.StringVar(&o.output, "output", "text", "output format for status, info and --dry-run: text or json")
	pf.BoolVar(&o.dryRun, "dry-run", false, "print the plan and the exact statements; change nothing")
	pf.BoolVar(&o.yes, "yes", false, "confirm destructive commands without asking")
	pf.BoolVar(&o.allowDrift, "allow-drift", false, "run even if applied migrations changed or are missing")
	pf.BoolVar(&o.allowOutOfOrder, "allow-out-of-order", false, "apply pending versions lower than the current one")
	pf.String("lock-timeout", "", "how long to wait for another run's lock (default 5m)")
	_ = cmd.RegisterFlagCompletionFunc("db", cobra.FixedCompletions([]string{dbPostgres, dbClickHouse, dbAll}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))

	cmd.AddCommand(
		newChangeCmd(a, o, "up", "Apply pending migrations", true),
		newChangeCmd(a, o, "down", "Roll back the latest migrations (1 by default)", true),
		newChangeCmd(a, o, "redo", "Roll back the latest migration and apply it again", false),
		newChangeCmd(a, o, "reset", "Roll back every migration, then apply them all", false),
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

// check validates the shared flags and returns the databases to work on, in order.
func (o *migrateOpts) check(allowAll bool) ([]string, error) {
	if o.output != "text" && o.output != "json" {
		return nil, usagef("--output %q: want text or json", o.output)
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
// folder (found from the project root) when it exists on disk; "" for the built-in set, with
// where a folder was looked for (missing: "" when the setting is empty).
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
	case errors.Is(err, fs.ErrNotExist):
		return "", configured, nil
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
	lo := migrate.LoadOptions{WrapDollarQuoted: db == dbPostgres}
	if db == dbClickHouse {
		lo.AllNoTx, lo.Rewrite = true, clusterRewrite(cfg.ClickHouseCluster)
	}
	if dir != "" {
		src, errs := migrate.LoadAll(os.DirFS(dir), filepath.ToSlash(filepath.Clean(dir)), lo)
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
			fmt.Fprintf(a.streams.Err, "%-10s not configured (%s is empty, from %s): skipped\n", d, te.Origin.Key, te.Origin.Source)
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
	var warnings io.Writer = a.streams.Err
	if progress == io.Discard {
		warnings = io.Discard
	}
	var d migrate.Database
	var closeFn func()
	switch db {
	case dbPostgres:
		t, err := cfg.Postgres()
		if err != nil {
			return nil, err
		}
		pg, err := postgres.Open(t, postgres.Options{ReadOnly: readOnly})
		if err != nil {
			return nil, err
		}
		d, closeFn = pg, func() { pg.Close() }
	case dbClickHouse:
		ch, closer, err := openClickHouse(cfg, readOnly)
		if err != nil {
			return nil, err
		}
		d, closeFn = ch, closer
	}
	eng, err := migrate.New(d, src, migrate.Options{
		AllowDrift: o.allowDrift, AllowOutOfOrder: o.allowOutOfOrder,
		AppliedBy: a.appliedBy, Progress: progress, LockTimeout: cfg.LockTimeout, Phase: a.setPhase,
		Warnings: warnings,
	})
	if err != nil {
		closeFn()
		return nil, err
	}
	return &opened{db: d, engine: eng, src: src, close: closeFn}, nil
}

// stepsFlag parses --steps: empty means def.
func stepsFlag(cmd *cobra.Command, def int) (int, error) {
	s, _ := cmd.Flags().GetString("steps")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usagef("--steps %q: want a whole number, 1 or more", s)
	}
	return n, nil
}

// versionFlag parses --version; ok is false when it was not given.
func versionFlag(cmd *cobra.Command) (v int64, ok bool, err error) {
	s, _ := cmd.Flags().GetString("version")
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, false, usagef("--version %q: want a migration version (a whole number, 0 or more)", s)
	}
	return v, true, nil
}

// newChangeCmd builds up, down, redo and reset.
func newChangeCmd(a *app, o *migrateOpts, action, short string, withSteps bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   action,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runChange(cmd, o, action)
		},
	}
	if withSteps {
		cmd.Flags().String("steps", "", "how many migrations (up: all pending by default; down: 1)")
		verb := "up to and including"
		if action == "down" {
			verb = "down to, not including,"
		}
		cmd.Flags().String("version", "", "migrate "+verb+" this version")
		_ = cmd.RegisterFlagCompletionFunc("version", a.completeVersions(o))
	}
	return cmd
}

func (a *app) runChange(cmd *cobra.Command, o *migrateOpts, action string) error {
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	dbs, err := o.check(true)
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
	ctx := cmd.Context()
	out := a.streams.Out
	// Every database is opened, and its files read, before anything changes.
	var ts []*opened
	defer func() {
		for _, t := range ts {
			t.close()
		}
	}()
	for _, name := range dbs {
		t, err := a.open(cfg, o, name, o.dryRun, out)
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
		return printPlans(out, o.output, plans)
	}
	if action != "up" {
		// What will be undone is shown, per database, before the question; the run then checks
		// under its lock that it is still exactly that.
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
		if err := a.confirmPlans(o, "run migrate "+action+" on "+strings.Join(dbs, " and "), plans); err != nil {
			return err
		}
	}
	for _, t := range ts {
		name := t.db.Name()
		var n int
		switch action {
		case "up":
			n, err = t.engine.Up(ctx, steps, target)
		case "down":
			n, err = t.engine.Down(ctx, steps, target)
		case "redo":
			n, err = t.engine.Redo(ctx)
		case "reset":
			n, err = t.engine.Reset(ctx)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintf(out, "%-10s nothing to %s\n", name, action)
		}
	}
	return nil
}

// confirmPlans shows what the plans change and asks; with --yes it goes ahead, and with neither
// a terminal nor --yes it refuses, naming what it would have done.
func (a *app) confirmPlans(o *migrateOpts, action string, plans []*migrate.Plan) error {
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
	return prompt.Confirm(a.raw, false, action, a.scrub.String(q))
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
		return writeJSON(w, map[string]any{"dry_run": true, "plans": plans})
	}
	for _, p := range plans {
		n := len(p.Steps)
		fmt.Fprintf(w, "-- %s at %s: %s, %d migration(s), dry run: nothing is changed\n", p.Database, p.Address, p.Action, n)
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newStatusCmd(a *app, o *migrateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each database's migrations; exit 1 when dirty, drifted or unreachable",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			dbs, err := o.check(true)
			if err != nil {
				return err
			}
			if dbs, err = a.selected(cfg, o, dbs); err != nil {
				return err
			}
			var all []*migrate.Status
			for _, name := range dbs {
				t, err := a.open(cfg, o, name, true, io.Discard)
				if err != nil {
					return err
				}
				a.setPhase("reading the " + name + " status")
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				st := t.engine.Status(ctx)
				cancel()
				t.close()
				all = append(all, st)
				if cause := context.Cause(cmd.Context()); cause != nil {
					return cause
				}
			}
			if o.output == "json" {
				if err := writeJSON(a.streams.Out, map[string]any{"databases": all}); err != nil {
					return err
				}
			} else {
				printStatus(a.streams.Out, all)
			}
			for _, st := range all {
				if !st.Reachable || !st.Healthy {
					return &exitError{code: ExitFailed}
				}
			}
			return nil
		},
	}
}

func printStatus(w io.Writer, all []*migrate.Status) {
	for i, s := range all {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if !s.Reachable {
			fmt.Fprintf(w, "%s at %s: unreachable: %s\n", s.Database, s.Address, firstLine(s.Error))
			continue
		}
		fmt.Fprintf(w, "%s at %s: server %s, round trip %.1fms\n", s.Database, s.Address, s.ServerVersion, s.RTTMs)
		fmt.Fprintf(w, "  migrations: %s\n", describeSource(s.Source, s.BuiltIn, s.SourceNote))
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
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  VERSION\tSTATE\tAPPLIED AT\tBY\tFILE")
		for _, m := range s.Migrations {
			at := "-"
			if m.AppliedAt != nil {
				at = m.AppliedAt.Local().Format("2006-01-02 15:04:05")
			}
			by := m.AppliedBy
			if by == "" {
				by = "-"
			}
			file := m.File
			if file == "" {
				file = "(no file)"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", m.Version, m.State, at, by, file)
		}
		tw.Flush()
		for _, warn := range s.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", warn)
		}
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
		Use:   "force",
		Short: "Record exactly the versions <= --version as applied and clear dirty (runs no migration SQL)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			dbs, err := o.check(false)
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
				if err := a.confirmPlans(o, "force the version of "+dbs[0], []*migrate.Plan{p}); err != nil {
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
			fmt.Fprintf(a.streams.Out, "%-10s forced to version %d; dirty mark cleared\n", dbs[0], v)
			return nil
		},
	}
	cmd.Flags().String("version", "", "the last version that took effect (0: none)")
	_ = cmd.RegisterFlagCompletionFunc("version", a.completeVersions(o))
	return cmd
}

func newDropCmd(a *app, o *migrateOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "drop",
		Short: "Drop every table, view and type of the database, the history table included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			dbs, err := o.check(true)
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
			if err := a.confirmPlans(o, "drop "+strings.Join(dbs, " and "), plans); err != nil {
				return err
			}
			for i, t := range ts {
				t.engine.Confirmed(plans[i])
				p, err := t.engine.Drop(cmd.Context(), false)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.streams.Out, "%-10s dropped %d object(s)\n", t.db.Name(), len(p.Extra))
			}
			return nil
		},
	}
}
