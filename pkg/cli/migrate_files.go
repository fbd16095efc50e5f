package cli

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/internal/lazyre"
	"github.com/brokle-ai/brokle/pkg/chdb"
	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	chm "github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
)

var snakeCaseRE = lazyre.New(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// createFolder is the folder create writes to: --dir, else the configured folder, the one status
// and up read. A configured folder that does not exist is refused: the built-in set is in use,
// and a file there would replace it.
func (o *migrateOpts) createFolder(cfg *config.Config, db string) (string, error) {
	if o.dir != "" {
		if st, err := os.Stat(o.dir); err != nil || !st.IsDir() {
			return "", usagef("--dir %s: no such folder (create it first; a typo would otherwise make one)", o.dir)
		}
		return o.dir, nil
	}
	dir, missing, err := o.migrationsFolder(cfg, db)
	if err != nil {
		return "", err
	}
	key := db + ".migrations_dir"
	switch {
	case dir != "":
		return dir, nil
	case missing == "":
		return "", usagef("create --db %s: %s is empty (from %s), so only the built-in migrations are used: set it, or pass --dir", db, key, cfg.Origin(key))
	}
	return "", usagef("create --db %s: no folder at %s (%s, from %s), so the built-in migrations are in use and a file there would replace them all: make the folder to start a set of your own (mkdir -p %s), or pass --dir", db, missing, key, cfg.Origin(key), missing)
}

func newCreateCmd(a *app, o *migrateOpts) *cobra.Command {
	var name string
	var timestamp bool
	cmd := &cobra.Command{
		Use:         "create",
		Annotations: oneDatabaseOnly(),
		Short:       "Write the next migration file from a template and print its path",
		Long: "Write the next migration file of a database's folder from a template and print its path.\n" +
			"The version is the next sequential one (000013_name.sql), or the current UTC time with\n" +
			"--timestamp or migrate.versioning: timestamp (20260102150405_name.sql), so that branches\n" +
			"do not collide; `brokle migrate fix` renumbers timestamps into sequential versions.",
		Example: "  brokle migrate create --db postgres --name add_users_email_index\n" +
			"  brokle migrate create --db clickhouse --name create_events --timestamp\n" +
			"  brokle migrate create --db clickhouse --name create_events -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("db") && !cmd.Parent().PersistentFlags().Changed("db") {
				return usagef("create needs --db postgres or --db clickhouse: each database has its own folder and template")
			}
			dbs, err := o.check(acceptsAll(cmd))
			if err != nil {
				return err
			}
			if name == "" {
				return usagef("create needs --name NAME (snake_case, such as add_users_email_index)")
			}
			if !snakeCaseRE.MatchString(name) {
				return usagef("--name %q: want snake_case: lower-case letters, digits and underscores, starting with a letter", name)
			}
			dir, err := o.createFolder(cfg, dbs[0])
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("timestamp") {
				timestamp = cfg.Versioning == config.VersioningTimestamp
			}
			path, err := createMigration(dir, name, dbs[0], timestamp, time.Now())
			if err != nil {
				return err
			}
			if o.output == "json" {
				var version any
				if sm := leadingVersionRE.FindStringSubmatch(filepath.Base(path)); sm != nil {
					version, _ = strconv.ParseInt(sm[1], 10, 64)
				}
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "database": dbs[0], "file": path, "version": version})
			}
			fmt.Fprintln(a.streams.Out, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the migration's name, snake_case")
	cmd.Flags().BoolVar(&timestamp, "timestamp", false, "version the file with the current UTC time (default: migrate.versioning)")
	o.addFlags(cmd, flagDir, flagOutput)
	return cmd
}

var leadingVersionRE = lazyre.New(`^(\d+)_`)

// createMigration writes dir/VERSION_name.sql: the next sequential version after the highest
// sequential one in dir (timestamps are left for fix to renumber), or the time now.
func createMigration(dir, name, db string, timestamp bool, now time.Time) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", dir, err)
	}
	var maxSeq, maxAny int64
	width := 6
	taken := map[int64]bool{}
	for _, e := range entries {
		sm := leadingVersionRE.FindStringSubmatch(e.Name())
		if sm == nil || !strings.HasSuffix(strings.ToLower(e.Name()), ".sql") {
			continue
		}
		v, err := strconv.ParseInt(sm[1], 10, 64)
		if err != nil {
			return "", &migrate.ErrInput{Msg: fmt.Sprintf("%s: version %s is past the largest one (%d): renumber the folder", filepath.Join(dir, e.Name()), sm[1], int64(math.MaxInt64))}
		}
		taken[v] = true
		maxAny = max(maxAny, v)
		if !migrate.IsTimestamp(sm[1]) {
			maxSeq = max(maxSeq, v)
			width = max(width, len(sm[1]))
		}
	}
	var version string
	switch {
	case timestamp:
		t := now.UTC()
		for taken[timestampVersion(t)] {
			t = t.Add(time.Second)
		}
		version = strconv.FormatInt(timestampVersion(t), 10)
	case maxSeq == 0 && maxAny > 0:
		// A folder of timestamps only goes on with timestamps' width, so the order holds.
		if maxAny == math.MaxInt64 {
			return "", &migrate.ErrInput{Msg: fmt.Sprintf("%s: the highest version is already %d, the largest there is: no next version", dir, maxAny)}
		}
		version = strconv.FormatInt(maxAny+1, 10)
	default:
		if maxSeq == math.MaxInt64 {
			return "", &migrate.ErrInput{Msg: fmt.Sprintf("%s: the highest version is already %d, the largest there is: no next version", dir, maxSeq)}
		}
		version = fmt.Sprintf("%0*d", width, maxSeq+1)
	}
	path := filepath.Join(dir, version+"_"+name+".sql")
	text := migrate.PostgresTemplate
	if db == dbClickHouse {
		text = migrate.ClickHouseTemplate
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, f.Close()
}

func timestampVersion(t time.Time) int64 {
	v, _ := strconv.ParseInt(t.Format(migrate.TimestampLayout), 10, 64)
	return v
}

func newValidateCmd(a *app, o *migrateOpts) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check migration files offline: versions, pairs, Up and Down, SQL lints",
		Long: "Check every migration file offline and report every problem at once: versions, pairs, Up\n" +
			"and Down, goose's reading of each file, lints; ClickHouse statements are parsed by the\n" +
			"ClickHouse engine itself when libchdb is there (BROKLE_LIBCHDB), else by a bundled Go\n" +
			"parser whose refusals are warnings (errors with --strict). Exit 1 when an error is found.",
		Example: "  brokle migrate validate\n  brokle migrate validate --db clickhouse --strict\n  brokle migrate validate --db postgres --dir migrations -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dbs, err := a.configFor(cmd, o)
			if err != nil {
				return err
			}
			var findings []migrate.Finding
			total := 0
			o.gooseCheck = true // validate reports what goose refuses in any file
			for _, db := range dbs {
				src, errs, err := o.sourceAll(cfg, db)
				if err != nil {
					return err
				}
				for _, se := range errs {
					findings = append(findings, migrate.Finding{File: se.File, Line: se.Line, Rule: "source", Severity: migrate.SeverityError, Msg: se.Msg})
				}
				total += len(src.Migrations)
				findings = append(findings, migrate.Lint(src)...)
				if db == dbClickHouse {
					a.setPhase("parsing the ClickHouse statements")
					var engine chm.Parser
					if _, err := chdb.LibraryPath(); err == nil {
						if c, err := chdb.Open(""); err == nil {
							defer c.Close()
							engine = c
						}
					}
					findings = append(findings, chm.Lint(cmd.Context(), src, engine, strict)...)
				}
			}
			slices.SortStableFunc(findings, func(a, b migrate.Finding) int {
				if c := strings.Compare(a.File, b.File); c != 0 {
					return c
				}
				return a.Line - b.Line
			})
			if o.output == "json" {
				if findings == nil {
					findings = []migrate.Finding{}
				}
				errs, warns := 0, 0
				for _, f := range findings {
					if f.Severity == migrate.SeverityWarning {
						warns++
					} else {
						errs++
					}
				}
				if err := writeJSON(a.streams.Out, map[string]any{"schema": 1, "databases": dbs, "migrations": total, "errors": errs, "warnings": warns, "findings": findings}); err != nil {
					return err
				}
			} else {
				for _, f := range findings {
					fmt.Fprintln(a.streams.Out, f.String())
				}
			}
			errors, warnings := 0, 0
			for _, f := range findings {
				if f.Severity == migrate.SeverityWarning {
					warnings++
				} else {
					errors++
				}
			}
			if errors > 0 {
				if o.output == "text" {
					// Counted as listed: the warnings are listed too.
					also := ""
					if warnings > 0 {
						also = fmt.Sprintf(" and %d warning(s)", warnings)
					}
					fmt.Fprintf(a.streams.Err, "validate: %d problem(s)%s in %s\n", errors, also, strings.Join(dbs, ", "))
				}
				return &exitError{code: ExitFailed}
			}
			if o.output == "text" {
				note := ""
				if warnings > 0 {
					note = fmt.Sprintf(" (%d warning(s))", warnings)
				}
				fmt.Fprintf(a.streams.Out, "validate: %d migration(s) in %s: ok%s\n", total, strings.Join(dbs, ", "), note)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "without libchdb, a statement the bundled Go parser cannot read is an error, not a warning")
	o.addFlags(cmd, flagDir, flagOutput)
	return cmd
}

func newInfoCmd(a *app, o *migrateOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "info",
		Short:   "Print the effective configuration (passwords as ***) and where each value came from",
		Example: "  brokle migrate info\n  brokle migrate info --config configs/brokle.yaml -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dbs, err := a.configFor(cmd, o)
			if err != nil {
				return err
			}
			type dbInfo struct {
				Database     string  `json:"database"`
				Migrations   *string `json:"migrations"`
				Embedded     bool    `json:"embedded"`
				Count        *int    `json:"count"`
				HistoryTable string  `json:"history_table"`
				Note         *string `json:"note"`
				Error        *string `json:"error"`
			}
			var infos []dbInfo
			for _, db := range dbs {
				in := dbInfo{Database: db, HistoryTable: postgres.HistoryTable}
				if db == dbClickHouse {
					in.HistoryTable = clickhouseHistoryTable
				}
				src, errs, err := o.sourceAll(cfg, db)
				switch {
				case err != nil:
					msg := err.Error()
					in.Error = &msg
				default:
					n := len(src.Migrations)
					in.Migrations, in.Count, in.Embedded = &src.Display, &n, src.BuiltIn
					if src.Note != "" {
						in.Note = &src.Note
					}
					if len(errs) > 0 {
						msg := errs.Error()
						in.Error = &msg
					}
				}
				infos = append(infos, in)
			}
			file := cfg.File
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "config_file": nullable(file), "environment": nullIfEmpty(cfg.Env),
					"dotenv_file": nullIfEmpty(cfg.DotEnv), "project_root": cfg.Root, "settings": cfg.Settings(), "databases": infos})
			}
			w := a.streams.Out
			fmt.Fprintf(w, "config file:  %s\n", orNone(file))
			fmt.Fprintf(w, "environment:  %s\n", orNone(cfg.Env))
			fmt.Fprintf(w, ".env file:    %s\n", orNone(cfg.DotEnv))
			fmt.Fprintf(w, "project root: %s\n\n", cfg.Root)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tVALUE\tFROM")
			for _, s := range cfg.Settings() {
				v := s.Value
				if v == "" {
					v = "(empty)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Key, v, s.Source)
			}
			tw.Flush()
			fmt.Fprintln(w)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "DATABASE\tMIGRATIONS\tCOUNT\tHISTORY TABLE")
			for _, in := range infos {
				where, count, note := "", 0, ""
				if in.Migrations != nil {
					where, count = *in.Migrations, *in.Count
				}
				if in.Note != nil {
					note = *in.Note
				}
				where = describeSource(where, in.Embedded, note)
				if in.Error != nil {
					where = "error: " + *in.Error
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", in.Database, where, count, in.HistoryTable)
			}
			return tw.Flush()
		},
	}
	o.addFlags(cmd, flagDir, flagOutput)
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// completeVersions offers the versions of the selected database's migrations for --version.
func (a *app) completeVersions(o *migrateOpts) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cfg, err := config.Load(cmd.Flags(), "")
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		db := o.db
		if db == dbAll || db == "" {
			db = dbPostgres
		}
		src, err := o.source(cfg, db)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out := []string{"0\tnothing applied"}
		for _, m := range src.Migrations {
			out = append(out, fmt.Sprintf("%d\t%s", m.Version, filepath.Base(m.File())))
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	}
}
