package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/chconn"
	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	chm "github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
	"github.com/brokle-ai/brokle/pkg/seed"
	"github.com/brokle-ai/brokle/pkg/target"
)

// verifyDB is one database's verify run, for the report.
type verifyDB struct {
	Database string               `json:"database"`
	Address  string               `json:"address"`
	Scratch  string               `json:"last_scratch_database"`
	Steps    []migrate.VerifyStep `json:"migrations"`
	OK       int                  `json:"ok"`
	Failed   int                  `json:"failed"`
	Error    *string              `json:"error"`
}

func newVerifyCmd(a *app, o *migrateOpts) *cobra.Command {
	var devURL, seedName string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove every Down undoes its Up: replay each migration Up, Down, Up in a scratch database",
		Long: "For each migration in order, in a scratch database created for the run and always removed:\n" +
			"snapshot the schema, apply Up, snapshot, apply Down and compare with the schema before Up,\n" +
			"apply Up again and compare with the schema after the first Up. Objects a Down leaves behind,\n" +
			"removes or changes are named. Exit 1 when any migration fails.\n\n" +
			"The scratch database lives on the configured server, or on --dev-url's (Atlas's convention;\n" +
			"chdb:memory runs ClickHouse on the embedded engine).",
		Example: "  brokle migrate verify\n  brokle migrate verify --db clickhouse --dev-url chdb:memory\n  brokle migrate verify --db postgres --dir migrations --seed dev",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dbs, err := a.configFor(cmd, o)
			if err != nil {
				return err
			}
			if devURL != "" && len(dbs) > 1 {
				return usagef("--dev-url: pass --db postgres or --db clickhouse with it (it names one server)")
			}
			if devURL == "" {
				if dbs, err = a.selected(cfg, o, dbs); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			var reports []*verifyDB
			var scratch []scratchDB
			defer func() {
				for _, s := range scratch {
					s.drop()
				}
			}()
			failed := 0
			for _, name := range dbs {
				a.setPhase("reading the " + name + " migrations")
				src, err := o.source(cfg, name)
				if err != nil {
					return err
				}
				var last *scratchDB
				fresh := func(ctx context.Context) (*migrate.Scratch, error) {
					sdb, err := a.scratch(ctx, cfg, name, devURL)
					if err != nil {
						return nil, err
					}
					last = &sdb
					return &migrate.Scratch{DB: sdb.db, Snap: sdb.snap, Drop: sdb.drop}, nil
				}
				rep := &verifyDB{Database: name, Steps: []migrate.VerifyStep{}}
				reports = append(reports, rep)
				if o.output == "text" {
					fmt.Fprintf(a.streams.Out, "%-10s verifying %d migration(s) of %s in scratch databases (removed afterwards)\n", name, len(src.Migrations), src.Display)
				}
				a.setPhase(fmt.Sprintf("verifying the %s migrations in a scratch database (it is removed)", name))
				sc, steps, err := migrate.Verify(ctx, src, migrate.Options{AppliedBy: a.appliedBy, Phase: a.setPhase}, fresh, func(s migrate.VerifyStep) {
					if o.output == "text" {
						printVerifyStep(a.streams.Out, name, s)
					}
				})
				if sc != nil && last != nil {
					scratch = append(scratch, *last)
					rep.Address, rep.Scratch = last.address, last.name
				}
				if err != nil {
					return err
				}
				rep.Steps = steps
				for _, s := range steps {
					switch {
					case s.Failed:
						rep.Failed++
					case s.Result == migrate.VerifyOK || s.Result == migrate.VerifyNoDown:
						rep.OK++
					}
				}
				if rep.Failed > 0 || len(steps) > rep.OK {
					failed++
				}
			}
			var seedErr *string
			if seedName != "" && failed == 0 {
				a.setPhase("loading the seed " + seedName + " into the scratch databases")
				if err := a.verifySeed(ctx, cfg, seedName, scratch); err != nil {
					msg := err.Error()
					seedErr = &msg
					failed++
				} else if o.output == "text" {
					fmt.Fprintf(a.streams.Out, "%-10s seed %s loads on the migrated schema\n", strings.Join(dbs, ", "), seedName)
				}
			}
			if o.output == "json" {
				if err := writeJSON(a.streams.Out, map[string]any{"schema": 1, "databases": reports, "seed": nullable(seedName), "seed_error": seedErr}); err != nil {
					return err
				}
			} else {
				total, ok := 0, 0
				for _, r := range reports {
					total += len(r.Steps)
					ok += r.OK
				}
				if seedErr != nil {
					fmt.Fprintf(a.streams.Out, "seed %s does not load on the migrated schema: %s\n", seedName, *seedErr)
				}
				fmt.Fprintf(a.streams.Out, "verify: %d migration(s), %d ok, %d not ok; scratch databases removed\n", total, ok, total-ok)
			}
			if failed > 0 {
				return &exitError{code: ExitFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&devURL, "dev-url", "", "server (or chdb:memory) to make the scratch database on, instead of the configured one")
	cmd.Flags().StringVar(&seedName, "seed", "", "load this seed (a name or a file) after the last Up, to check it still fits")
	o.addFlags(cmd, flagDir, flagOutput)
	return cmd
}

func printVerifyStep(w io.Writer, db string, s migrate.VerifyStep) {
	line := fmt.Sprintf("%-10s %-5s %s", db, verdict(s), s.File)
	if s.Result != migrate.VerifyOK {
		line += ": " + s.Result
	}
	fmt.Fprintln(w, line)
	if s.Diff != nil {
		what := map[string][3]string{
			migrate.VerifyDownDiffers:   {"left behind by Down", "removed by Down, not there before Up", "changed by Up and not restored by Down"},
			migrate.VerifyNotRepeatable: {"made by the second Up only", "made by the first Up only", "different after the second Up"},
		}[s.Result]
		for i, list := range [][]string{s.Diff.Added, s.Diff.Removed, s.Diff.Changed} {
			for _, obj := range list {
				fmt.Fprintf(w, "             %s: %s\n", obj, what[i])
			}
		}
	}
	if s.Error != nil {
		fmt.Fprintf(w, "             %s\n", firstLine(*s.Error))
	}
}

func verdict(s migrate.VerifyStep) string {
	switch {
	case s.Failed:
		return "FAIL"
	case s.Result == migrate.VerifyOK:
		return "ok"
	}
	return "skip"
}

// scratchDB is a database made for one verify run, and how to remove it.
type scratchDB struct {
	service string
	name    string
	address string
	db      migrate.Database
	snap    migrate.Snapshotter
	pg      *target.Postgres
	ch      *target.ClickHouse
	drop    func()
}

func scratchName() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "brokle_verify_" + hex.EncodeToString(b)
}

// scratch makes a fresh database for verify on the configured server of db, or on devURL's.
func (a *app) scratch(ctx context.Context, cfg *config.Config, db, devURL string) (scratchDB, error) {
	name := scratchName()
	a.setPhase("creating the scratch database " + name)
	switch db {
	case dbPostgres:
		t, err := cfg.Postgres()
		if devURL != "" {
			t, err = target.ParsePostgres(devURL, target.Origin{Key: "--dev-url", Source: "flag --dev-url"})
			if err != nil {
				var te *target.Error
				if asTargetErr(err, &te) && strings.Contains(te.Msg, "no database name") {
					t, err = target.ParsePostgres(strings.TrimRight(devURL, "/")+"/postgres", target.Origin{Key: "--dev-url", Source: "flag --dev-url"})
				}
			}
		}
		if err != nil {
			return scratchDB{}, err
		}
		st := t.WithDatabase(name)
		if _, err := st.CreateDatabase(ctx); err != nil {
			return scratchDB{}, err
		}
		pg, err := postgres.Open(st, postgres.Options{})
		if err != nil {
			return scratchDB{}, err
		}
		return scratchDB{service: db, name: name, address: st.Address(), db: pg, snap: pg, pg: st, drop: func() {
			pg.Close()
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
			defer cancel()
			_, _ = st.DropDatabase(dctx)
		}}, nil
	default:
		t, err := cfg.ClickHouse()
		if devURL != "" {
			t, err = target.ParseClickHouse(devURL, target.Origin{Key: "--dev-url", Source: "flag --dev-url"})
			if err != nil {
				var te *target.Error
				if asTargetErr(err, &te) && strings.Contains(te.Msg, "no database name") {
					t, err = target.ParseClickHouse(strings.TrimRight(devURL, "/")+"/default", target.Origin{Key: "--dev-url", Source: "flag --dev-url"})
				}
			}
		}
		if err != nil {
			return scratchDB{}, err
		}
		st := t.WithDatabase(name)
		if !st.Embedded {
			if _, err := chconn.CreateDatabase(ctx, st, cfg.ClickHouseCluster); err != nil {
				return scratchDB{}, err
			}
		}
		// The scratch database takes its own lease lock: verify never waits on, or holds, the
		// lock of the real databases.
		ch, err := chm.Open(st, chm.Options{Cluster: cfg.ClickHouseCluster})
		if err != nil {
			return scratchDB{}, err
		}
		return scratchDB{service: db, name: name, address: st.Address(), db: ch, snap: ch, ch: st, drop: func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
			defer cancel()
			if st.Embedded {
				_, _ = ch.Conn().DB().ExecContext(dctx, "DROP DATABASE IF EXISTS "+target.QuoteIdent(name))
				ch.Close()
				return
			}
			ch.Close()
			_, _ = chconn.DropDatabase(dctx, st, cfg.ClickHouseCluster)
		}}, nil
	}
}

func asTargetErr(err error, te **target.Error) bool {
	t, ok := err.(*target.Error)
	if ok {
		*te = t
	}
	return ok
}

// verifySeed loads a seed into the scratch databases, as `brokle seed` would.
func (a *app) verifySeed(ctx context.Context, cfg *config.Config, name string, scratch []scratchDB) error {
	path, data, err := readSeed(cfg, []string{name}, "")
	if err != nil {
		if strings.ContainsAny(name, "/.") {
			path, data, err = readSeed(cfg, nil, name)
		}
		if err != nil {
			return err
		}
	}
	f, err := seed.Parse(path, data)
	if err != nil {
		return err
	}
	run := &seedRun{f: f, phase: a.setPhase}
	defer run.close()
	var dbs []string
	for _, s := range scratch {
		dbs = append(dbs, s.service)
		if s.pg != nil {
			run.pgTarget = s.pg
		}
		if s.ch != nil {
			run.chTarget = s.ch
		}
	}
	if err := run.check(ctx, dbs); err != nil {
		return err
	}
	_, err = run.write(ctx, false, nil)
	return err
}
