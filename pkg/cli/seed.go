package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/chconn"
	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/seed"
	"github.com/brokle-ai/brokle/pkg/target"
	"github.com/brokle-ai/brokle/seeds"
)

func newSeedCmd(a *app) *cobra.Command {
	var file, db, output string
	var dryRun, verbose, quiet bool
	cmd := &cobra.Command{
		Use:   "seed [NAME]",
		Short: "Load a seed: seeds/NAME.yaml (dev, demo, test) or --file PATH",
		Long: "Load a seed file into PostgreSQL (top-level tables) and ClickHouse (the clickhouse: section).\n" +
			"Tables and columns are checked against the live catalog first; PostgreSQL rows are written in\n" +
			"foreign-key order as upserts on the primary key, in one transaction; ClickHouse rows whose key is\n" +
			"already there are skipped. One line per table with a [n/N] counter, then a summary; -v adds how\n" +
			"each table's rows were written and how long it took.",
		Example: "  brokle seed dev\n  brokle seed demo --db postgres\n  brokle seed --file seeds/custom.yaml --dry-run\n  brokle seed test -o json",
		Args:    cobra.MaximumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			cfg, err := config.Load(cmd.Flags(), "")
			dir := "seeds"
			if err == nil {
				dir = cfg.SeedsDir
			}
			return seedNames(dir), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			if verbose && quiet {
				return usagef("--verbose and --quiet: pass one of them")
			}
			var dbs []string
			switch db {
			case dbPostgres, dbClickHouse:
				dbs = []string{db}
			case dbAll:
				dbs = []string{dbPostgres, dbClickHouse}
			default:
				return usagef("--db %q: want postgres, clickhouse or all", db)
			}
			path, src, err := openSeed(cfg, args, file)
			if err != nil {
				return err
			}
			defer src.Close()
			batchGC()
			f, err := seed.ParseSource(path, src)
			if err != nil {
				return err
			}
			if len(f.Postgres) == 0 && len(f.ClickHouse) == 0 {
				// An empty file is a wrong file more often than a seed of nothing.
				return usagef("%s: no table in it: a seed maps table names to lists of rows (users: [...], clickhouse: {events: [...]})", path)
			}
			ctx := cmd.Context()
			w := a.streams.Out
			verb := ""
			if dryRun {
				verb = "would be "
			}
			run := &seedRun{cfg: cfg, f: f, phase: a.setPhase, skip: len(dbs) > 1,
				note: func(db, msg string) { a.note(output, db, noteSkipped, msg) }}
			defer run.close()
			// Check everything against both catalogs before writing anything.
			if err := run.check(ctx, dbs); err != nil {
				return err
			}
			tables := 0
			var into []string
			if run.pg != nil {
				tables += len(f.Postgres)
				into = append(into, dbPostgres)
			}
			if run.ch != nil {
				tables += len(f.ClickHouse)
				into = append(into, dbClickHouse)
			}
			n, width := 0, len(strconv.Itoa(tables))
			start := time.Now()
			last := start
			// One line per table: its rows, and what happened to them: PostgreSQL upserts (inserted,
			// updated, unchanged), ClickHouse inserts and skips the rows whose key is there. -v adds
			// how they were written and how long the table took, never a line per statement.
			progress := func(r seed.TableResult) {
				n++
				more := ""
				if verbose {
					took := time.Since(last).Round(10 * time.Microsecond).String()
					last = time.Now()
					more = " (" + strings.Join(slices.DeleteFunc([]string{r.Via, took}, func(s string) bool { return s == "" }), ", ") + ")"
				}
				if output != "text" || quiet {
					return
				}
				what := fmt.Sprintf("%d %sinserted, %d %supdated, %d unchanged", r.Inserted, verb, r.Updated, verb, r.Unchanged)
				if r.Database == dbClickHouse {
					what = fmt.Sprintf("%d %sinserted, %d %sskipped: key already there", r.Inserted, verb, r.Unchanged, verb)
				}
				fmt.Fprintf(w, "%-10s [%*d/%d] %-24s %6d row(s): %s%s\n", r.Database, width, n, max(tables, n), r.Table, r.Rows, what, more)
			}
			results, err := run.write(ctx, dryRun, progress)
			if output == "json" {
				if results == nil {
					results = []seed.TableResult{}
				}
				rows := 0
				for _, r := range results {
					rows += r.Rows
				}
				if into == nil {
					into = []string{}
				}
				var msg any
				if err != nil {
					msg = err.Error()
				}
				if jerr := writeJSON(w, map[string]any{"schema": 1, "file": path, "databases": into, "dry_run": dryRun,
					"tables": results, "rows": rows, "duration_ms": float64(time.Since(start).Microseconds()) / 1000, "error": msg}); jerr != nil && err == nil {
					return jerr
				}
				return err
			}
			if err != nil {
				return err
			}
			total := 0
			for _, r := range results {
				total += r.Rows
			}
			where := strings.Join(into, " and ")
			if where == "" {
				where = "no database (nothing for " + strings.Join(dbs, " or ") + " in the file)"
			}
			switch {
			case quiet:
			case dryRun:
				fmt.Fprintf(w, "dry run: %s checked, %d row(s), nothing written\n", path, total)
			default:
				fmt.Fprintf(w, "seeded %s: %d row(s) in %d table(s) of %s in %s\n", path, total, len(results), where, time.Since(start).Round(time.Millisecond))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "seed file to load instead of a named seed")
	cmd.Flags().StringVar(&db, "db", dbAll, "which part of the file to load: postgres, clickhouse or all")
	addOutputFlag(cmd, &output)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print, per table, how its rows were written and how long it took")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only errors")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and count what would be inserted or updated; write nothing")
	_ = cmd.RegisterFlagCompletionFunc("db", cobra.FixedCompletions([]string{dbPostgres, dbClickHouse, dbAll}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("file", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	})
	return cmd
}

// seedNames lists the seeds in dir and those built in.
func seedNames(dir string) []string {
	set := map[string]bool{}
	for _, fsys := range []fs.FS{os.DirFS(dir), seeds.FS} {
		entries, _ := fs.ReadDir(fsys, ".")
		for _, e := range entries {
			if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
				set[n] = true
			}
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// readSeed reads the seed openSeed finds, whole.
func readSeed(cfg *config.Config, args []string, file string) (string, []byte, error) {
	path, src, err := openSeed(cfg, args, file)
	if err != nil {
		return "", nil, err
	}
	defer src.Close()
	data, err := io.ReadAll(io.NewSectionReader(src, 0, src.Size()))
	return path, data, err
}

// openSeed finds the seed: --file, else NAME in the seeds folder, else the built-in one. A file
// is opened, not read: the seed reads it a row at a time.
func openSeed(cfg *config.Config, args []string, file string) (string, *seed.FileSource, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", nil, usagef("give a seed NAME or --file PATH, not both")
	case file != "":
		src, err := seed.OpenFile(file)
		if err != nil {
			return "", nil, usagef("--file %s: %v", file, err)
		}
		return file, src, nil
	case len(args) == 0:
		return "", nil, usagef("seed needs a NAME (%s) or --file PATH", strings.Join(seedNames(cfg.SeedsDir), ", "))
	}
	name := args[0]
	if strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, ".yaml") {
		return "", nil, usagef("seed %q: give the name without folder or .yaml (or use --file)", name)
	}
	path := filepath.Join(cfg.SeedsDir, name+".yaml")
	if _, err := os.Stat(path); err == nil {
		src, err := seed.OpenFile(path)
		if err != nil {
			return "", nil, usagef("seed %s: %v", path, err)
		}
		return path, src, nil
	}
	if data, err := fs.ReadFile(seeds.FS, name+".yaml"); err == nil {
		return "seeds/" + name + ".yaml (built in)", seed.BytesSource(data), nil
	}
	return "", nil, usagef("no seed named %q: no %s (seeds: %s)", name, path, strings.Join(seedNames(cfg.SeedsDir), ", "))
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// seedRun holds the connections of one seed run.
type seedRun struct {
	phase func(string)
	// skip: a database that is not configured is left out, with a note (--db all), not refused.
	skip bool
	note func(db, msg string)
	cfg  *config.Config
	// pgTarget and chTarget, when set, are where to seed instead of the configured databases.
	pgTarget *target.Postgres
	chTarget *target.ClickHouse
	f        *seed.File
	pg       *pgx.Conn
	pgCat    seed.PGCatalog
	ch       chconn.Conn
	chCat    seed.CHCatalog
}

func (r *seedRun) close() {
	if r.pg != nil {
		r.pg.Close(context.Background())
	}
	if r.ch != nil {
		r.ch.Close()
	}
}

// skipped reports whether db is left out because it is not configured (err says so) and the run
// may skip it; the user is told.
func (r *seedRun) skipped(db string, err error) bool {
	var te *target.Error
	if !r.skip || !errors.As(err, &te) || !te.NotConfigured {
		return false
	}
	if r.note != nil {
		r.note(db, fmt.Sprintf("not configured (%s is empty, from %s): skipped", te.Origin.Key, te.Origin.Source))
	}
	return true
}

func (r *seedRun) check(ctx context.Context, dbs []string) error {
	r.phase("checking " + r.f.Path + " against the catalogs (nothing written yet)")
	var skipped error // the first database left out; when every one is, the run refuses with it
	for _, d := range dbs {
		switch {
		case d == dbPostgres && len(r.f.Postgres) > 0:
			t, err := r.pgTarget, error(nil)
			if t == nil {
				if t, err = r.cfg.Postgres(); r.skipped(dbPostgres, err) {
					skipped = cmp.Or(skipped, err)
					continue
				} else if err != nil {
					return err
				}
			}
			addr := t.Address()
			if r.pg, err = t.Connect(ctx); err != nil {
				return err
			}
			if r.pgCat, err = seed.LoadPGCatalog(ctx, r.pg); err != nil {
				return fmt.Errorf("postgres at %s: read catalog: %w", addr, err)
			}
			if err := seed.CheckPG(r.f, r.pgCat); err != nil {
				return err
			}
		case d == dbClickHouse && len(r.f.ClickHouse) > 0:
			t, err := r.chTarget, error(nil)
			if t == nil {
				if t, err = r.cfg.ClickHouse(); r.skipped(dbClickHouse, err) {
					skipped = cmp.Or(skipped, err)
					continue
				} else if err != nil {
					return err
				}
			}
			if r.ch, err = chconn.Open(t); err != nil {
				return err
			}
			if r.chCat, err = seed.LoadCHCatalog(ctx, r.ch.DB()); err != nil {
				return fmt.Errorf("clickhouse at %s: read catalog: %w", t.Address(), err)
			}
			if err := seed.CheckCH(ctx, r.f, r.chCat); err != nil {
				return err
			}
		}
	}
	if r.pg == nil && r.ch == nil && skipped != nil {
		return skipped
	}
	return nil
}

func (r *seedRun) write(ctx context.Context, dryRun bool, progress func(seed.TableResult)) ([]seed.TableResult, error) {
	var all []seed.TableResult
	if r.pg != nil {
		r.phase("seeding postgres from " + r.f.Path + " (one transaction: nothing of it is written)")
		res, err := seed.WritePG(ctx, r.pg, r.f, r.pgCat, dryRun, progress)
		if err != nil {
			return nil, err
		}
		all = append(all, res...)
	}
	if r.ch != nil {
		r.phase("seeding clickhouse from " + r.f.Path + " (no transaction: the tables reported done are written, the one being written may hold some of its rows; running the seed again adds the rest)")
		res, err := seed.WriteCH(ctx, r.ch, r.f, r.chCat, dryRun, progress)
		all = append(all, res...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// batchGC trades memory for speed while a seed is read and written, a short batch job: the
// collector runs only past 1 GiB, unless the user set GOGC or GOMEMLIMIT.
func batchGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(1 << 30)
	debug.SetGCPercent(-1)
}
