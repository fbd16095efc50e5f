package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

// newAdoptCmd: start brokle's history from golang-migrate's, goose's or dbmate's.
func newAdoptCmd(a *app, o *migrateOpts) *cobra.Command {
	var from, table string
	cmd := &cobra.Command{
		Use:         "adopt",
		Annotations: oneDatabaseOnly(),
		Short:       "Start the history from golang-migrate's, goose's or dbmate's, keeping their times",
		Long: `Reads the history another tool kept in the database (golang-migrate's schema_migrations,
goose's goose_db_version, dbmate's schema_migrations) and records every version it applied as
applied in brokle's history, with the checksum of the migration file as it is now, the tool's
applied time where it kept one, and "TOOL (adopted by user@host)" as the author. Nothing runs; the
other tool's table is only read. Refused, writing nothing, when brokle already keeps a history
there, when the tool's history is dirty, or when an applied version has no migration file.`,
		Example: `  brokle migrate adopt --db postgres --dry-run
  brokle migrate adopt --db postgres --from goose
  brokle migrate adopt --db clickhouse --from golang-migrate --table schema_migrations`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(append([]string{"auto"}, migrate.Tools...), from) {
				return usagef("--from %q: want golang-migrate, goose, dbmate or auto", from)
			}
			if cmd.Flags().Changed("table") && strings.TrimSpace(table) == "" {
				return usagef("--table is empty: name the other tool's history table")
			}
			t, err := a.openOne(cmd, o)
			if err != nil {
				return err
			}
			defer t.close()
			ad, err := t.engine.Adopt(cmd.Context(), from, table, o.dryRun)
			if err != nil {
				return err
			}
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "adopted": ad})
			}
			w := a.streams.Out
			verb, dry := "adopted", ""
			if ad.DryRun {
				verb, dry = "would adopt", "; dry run: nothing is written"
			}
			fmt.Fprintf(w, "%s at %s: %s %d version(s) from %s (%s)%s\n", ad.Database, ad.Address, verb, len(ad.Versions), ad.From, ad.Table, dry)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  VERSION\tAPPLIED AT\tFILE")
			for _, v := range ad.Versions {
				at := v.AppliedAt.Local().Format("2006-01-02 15:04:05")
				if !v.TimeKept {
					at = "(not kept)"
				}
				fmt.Fprintf(tw, "  %d\t%s\t%s\n", v.Version, at, v.File)
			}
			tw.Flush()
			if ad.Note != "" {
				fmt.Fprintf(w, "  %s\n", ad.Note)
			}
			fmt.Fprintf(w, "  %s's table %s is left as it was\n", ad.From, ad.Table)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "auto", "the tool whose history to adopt: golang-migrate, goose, dbmate or auto (the one found)")
	cmd.Flags().StringVar(&table, "table", "", "the tool's history table, when not its default (goose_db_version, schema_migrations)")
	_ = cmd.RegisterFlagCompletionFunc("from", cobra.FixedCompletions(append([]string{"auto"}, migrate.Tools...), cobra.ShellCompDirectiveNoFileComp))
	o.addFlags(cmd, flagDir, flagOutput, flagDryRun, flagLockTimeout)
	return cmd
}

// newBaselineCmd: record versions 1..N as applied on a database whose schema already exists.
func newBaselineCmd(a *app, o *migrateOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:         "baseline",
		Annotations: oneDatabaseOnly(),
		Short:       "Start the history of a database whose schema exists: versions <= --version recorded as applied, none run",
		Long: `For a database whose schema was made without brokle (by psql, a restore, another tool with no
history to adopt): records every migration up to --version as applied, marked as a baseline,
running none of them. Refused when brokle already keeps a history there. --version 0 starts an
empty history: the database's tables are not the migrations', and up may run migration 1.`,
		Example: `  brokle migrate baseline --db postgres --version 12
  brokle migrate baseline --db clickhouse --version 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, ok, err := versionFlag(cmd)
			if err != nil {
				return err
			}
			if !ok {
				return usagef("baseline needs --version N: the last migration the schema already has (0: none)")
			}
			t, err := a.openOne(cmd, o)
			if err != nil {
				return err
			}
			defer t.close()
			p, err := t.engine.Baseline(cmd.Context(), v, o.dryRun)
			if err != nil {
				return err
			}
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "dry_run": o.dryRun, "plans": []*migrate.Plan{p}})
			}
			w := a.streams.Out
			if o.dryRun {
				fmt.Fprintf(w, "-- %s at %s: baseline at version %d, dry run: nothing is changed\n", p.Database, p.Address, v)
				for _, l := range p.Extra {
					fmt.Fprintf(w, "-- %s\n", l)
				}
				return nil
			}
			n := 0
			if v > 0 {
				n = len(p.Extra)
			}
			fmt.Fprintf(w, "%-10s baseline at version %d: %d version(s) recorded as applied, none run\n", p.Database, v, n)
			return nil
		},
	}
	addVersionFlag(cmd, "the last migration the schema already has (0: none)")
	_ = cmd.RegisterFlagCompletionFunc("version", a.completeVersions(o))
	o.addFlags(cmd, flagDir, flagOutput, flagDryRun, flagLockTimeout)
	return cmd
}

// newRehashCmd: accept an edited migration's text without rewriting its history.
func newRehashCmd(a *app, o *migrateOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:         "rehash",
		Annotations: oneDatabaseOnly(),
		Short:       "Record the current checksum of an applied migration edited on purpose (keeps its time and author)",
		Long: `An applied migration whose file was edited on purpose (a comment, a fix that changes nothing
already applied) shows as drifted and up refuses. rehash records the file's checksum as it is
now, keeping the version's applied time and author, and writes an audit entry with who, when,
and the old and new checksums (see migrate history).`,
		Example: `  brokle migrate rehash --db postgres --version 7`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, ok, err := versionFlag(cmd)
			if err != nil {
				return err
			}
			if !ok {
				return usagef("rehash needs --version N: the applied migration whose file was edited")
			}
			if v == 0 {
				return usagef("--version 0: version 0 is the empty history, with no file to rehash: give the applied migration whose file was edited")
			}
			t, err := a.openOne(cmd, o)
			if err != nil {
				return err
			}
			defer t.close()
			old, changed, err := t.engine.Rehash(cmd.Context(), v, o.dryRun)
			if err != nil {
				return err
			}
			m := t.src.Lookup(v)
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "database": t.db.Name(), "version": v, "file": m.File(),
					"changed": changed, "old_checksum": old, "checksum": m.Checksum, "dry_run": o.dryRun})
			}
			switch {
			case !changed:
				fmt.Fprintf(a.streams.Out, "%-10s %s (version %d) already matches its recorded checksum: nothing to do\n", t.db.Name(), m.File(), v)
			case o.dryRun:
				fmt.Fprintf(a.streams.Out, "%-10s would record checksum %s for %s (version %d), was %s (dry run: nothing is written)\n", t.db.Name(), short(m.Checksum), m.File(), v, short(old))
			default:
				fmt.Fprintf(a.streams.Out, "%-10s recorded checksum %s for %s (version %d), was %s; applied time and author kept\n", t.db.Name(), short(m.Checksum), m.File(), v, short(old))
			}
			return nil
		},
	}
	addVersionFlag(cmd, "the applied migration whose file was edited")
	_ = cmd.RegisterFlagCompletionFunc("version", a.completeVersions(o))
	o.addFlags(cmd, flagDir, flagOutput, flagDryRun, flagLockTimeout)
	return cmd
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	if sum == "" {
		return "(none)"
	}
	return sum
}

// newHistoryCmd: the audit trail.
func newHistoryCmd(a *app, o *migrateOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show the audit trail: every change of the history (applied, rolled back, dirty, forced, adopted, rehashed)",
		Example: `  brokle migrate history --db postgres
  brokle migrate history --db clickhouse --version 3 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			v, _, err := versionFlag(cmd)
			if err != nil {
				return err
			}
			dbs, err := o.check(acceptsAll(cmd))
			if err != nil {
				return err
			}
			if dbs, err = a.selected(cfg, o, dbs); err != nil {
				return err
			}
			type dbHistory struct {
				Database string               `json:"database"`
				Address  string               `json:"address"`
				Entries  []migrate.AuditEntry `json:"entries"`
			}
			var all []dbHistory
			for _, name := range dbs {
				t, err := a.open(cfg, o, name, true, io.Discard)
				if err != nil {
					return err
				}
				a.setPhase("reading the " + name + " history")
				es, err := t.engine.History(cmd.Context(), v)
				t.close()
				if err != nil {
					return err
				}
				if es == nil {
					es = []migrate.AuditEntry{}
				}
				all = append(all, dbHistory{Database: t.db.Name(), Address: t.db.Address(), Entries: es})
			}
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "databases": all})
			}
			w := a.streams.Out
			for i, h := range all {
				if i > 0 {
					fmt.Fprintln(w)
				}
				what := "every version"
				if v != 0 {
					what = fmt.Sprintf("version %d", v)
				}
				fmt.Fprintf(w, "%s at %s: %d entr%s, %s\n", h.Database, h.Address, len(h.Entries), plural(len(h.Entries), "y", "ies"), what)
				if len(h.Entries) == 0 {
					continue
				}
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "  AT\tVERSION\tEVENT\tBY\tCHECKSUM\tNOTE")
				for _, e := range h.Entries {
					fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05.000"), e.Version, e.Event, dash(e.By), short(e.Checksum), e.Note)
				}
				tw.Flush()
			}
			return nil
		},
	}
	addVersionFlag(cmd, "only this version's entries")
	_ = cmd.RegisterFlagCompletionFunc("version", a.completeVersions(o))
	o.addFlags(cmd, flagDir, flagOutput)
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// openOne opens the one database a command works on (--db postgres or clickhouse).
func (a *app) openOne(cmd *cobra.Command, o *migrateOpts) (*opened, error) {
	cfg, dbs, err := a.configFor(cmd, o)
	if err != nil {
		return nil, err
	}
	if dbs, err = a.selected(cfg, o, dbs); err != nil {
		return nil, err
	}
	return a.open(cfg, o, dbs[0], o.dryRun, a.streams.Out)
}
