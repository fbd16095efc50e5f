package cli

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/chdb"
	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	chm "github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
)

var snakeCaseRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// diskDir is the folder create writes to: --dir, else the configured one, else the repo layout.
func (o *migrateOpts) diskDir(cfg *config.Config, db string) string {
	switch {
	case o.dir != "":
		return o.dir
	case db == dbClickHouse && cfg.ClickHouseDir != "":
		return cfg.ClickHouseDir
	case db == dbClickHouse:
		return filepath.Join("migrations", "clickhouse")
	case cfg.PostgresDir != "":
		return cfg.PostgresDir
	}
	return "migrations"
}

func newCreateCmd(a *app, o *migrateOpts) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Write the next migration file from a template and print its path",
		Example: "  brokle migrate create --db postgres --name add_users_email_index\n" +
			"  brokle migrate create --db clickhouse --name create_events -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("db") && !cmd.Parent().PersistentFlags().Changed("db") {
				o.db = dbPostgres
			}
			dbs, err := o.check(false)
			if err != nil {
				return err
			}
			if name == "" {
				return usagef("create needs --name NAME (snake_case, such as add_users_email_index)")
			}
			if !snakeCaseRE.MatchString(name) {
				return usagef("--name %q: want snake_case: lower-case letters, digits and underscores, starting with a letter", name)
			}
			dir := o.diskDir(cfg, dbs[0])
			if o.dir != "" {
				if st, err := os.Stat(dir); err != nil || !st.IsDir() {
					return usagef("--dir %s: no such folder (create it first; a typo would otherwise make one)", dir)
				}
			}
			path, err := createMigration(dir, name, dbs[0])
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
	o.addFlags(cmd, flagDir, flagOutput)
	return cmd
}

var leadingVersionRE = regexp.MustCompile(`^(\d+)_`)

// createMigration writes dir/NNNNNN_name.sql with the next version after the highest in dir.
func createMigration(dir, name, db string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create folder %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", dir, err)
	}
	var max int64
	width := 6
	for _, e := range entries {
		sm := leadingVersionRE.FindStringSubmatch(e.Name())
		if sm == nil || !strings.HasSuffix(strings.ToLower(e.Name()), ".sql") {
			continue
		}
		v, err := strconv.ParseInt(sm[1], 10, 64)
		if err != nil {
			return "", &migrate.ErrInput{Msg: fmt.Sprintf("%s: version %s is past the largest one (%d): renumber the folder", filepath.Join(dir, e.Name()), sm[1], int64(math.MaxInt64))}
		}
		if v > max {
			max = v
		}
		if len(sm[1]) > width {
			width = len(sm[1])
		}
	}
	if max == math.MaxInt64 {
		return "", &migrate.ErrInput{Msg: fmt.Sprintf("%s: the highest version is already %d, the largest there is: no next version", dir, max)}
	}
	// A folder of timestamp versions goes on with timestamps' width, so the order holds.
	path := filepath.Join(dir, fmt.Sprintf("%0*d_%s.sql", width, max+1, name))
	text := postgresTemplate
	if db == dbClickHouse {
		text = strings.ReplaceAll(clickhouseTemplate, "{{table}}", name)
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

const postgresTemplate = `-- +migrate Up
-- Write the change below; end each statement with a semicolon. Wrap a function body in
-- "-- +migrate StatementBegin" / "-- +migrate StatementEnd". A migration runs in one transaction;
-- for CREATE INDEX CONCURRENTLY write "-- +migrate Up notransaction" above instead.


-- +migrate Down
-- Undo exactly what Up did, in reverse order.

`

const clickhouseTemplate = `-- +migrate Up
-- ClickHouse runs one statement per query and has no transactions: if a statement fails, the
-- version stays dirty. Keep statements idempotent (IF NOT EXISTS) so a rerun is safe.
CREATE TABLE IF NOT EXISTS {{table}}
(
    id         String,
    project_id String,
    timestamp  DateTime64(3),
    payload    String CODEC(ZSTD(3)),
    created_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (project_id, timestamp, id)
TTL toDateTime(timestamp) + INTERVAL 365 DAY
SETTINGS index_granularity = 8192;

-- +migrate Down
DROP TABLE IF EXISTS {{table}};
`

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
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			dbs, err := o.check(true)
			if err != nil {
				return err
			}
			var findings []migrate.Finding
			total := 0
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
					fmt.Fprintf(a.streams.Err, "validate: %d problem(s) in %s\n", errors, strings.Join(dbs, ", "))
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
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			dbs, err := o.check(true)
			if err != nil {
				return err
			}
			type dbInfo struct {
				Database     string  `json:"database"`
				Migrations   *string `json:"migrations"`
				Embedded     bool    `json:"embedded"`
				Count        *int    `json:"count"`
				HistoryTable string  `json:"history_table"`
				Error        *string `json:"error"`
			}
			var infos []dbInfo
			for _, db := range dbs {
				in := dbInfo{Database: db, HistoryTable: postgres.HistoryTable}
				if db == dbClickHouse {
					in.HistoryTable = clickhouseHistoryTable
				}
				in.Embedded = o.dir == "" && (db == dbPostgres && cfg.PostgresDir == "" || db == dbClickHouse && cfg.ClickHouseDir == "")
				if src, err := o.source(cfg, db); err != nil {
					msg := err.Error()
					in.Error = &msg
				} else {
					n := len(src.Migrations)
					in.Migrations, in.Count = &src.Display, &n
				}
				infos = append(infos, in)
			}
			file := cfg.File
			if o.output == "json" {
				return writeJSON(a.streams.Out, map[string]any{"schema": 1, "config_file": nullable(file), "settings": cfg.Settings(), "databases": infos})
			}
			w := a.streams.Out
			if file == "" {
				file = "(none)"
			}
			fmt.Fprintf(w, "config file: %s\n\n", file)
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
				where, count := "", 0
				if in.Migrations != nil {
					where, count = *in.Migrations, *in.Count
				}
				if in.Embedded {
					where += " (built in)"
				}
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
