package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/chconn"
	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/prompt"
	"github.com/brokle-ai/brokle/pkg/target"
)

const dbRedis = "redis"

// service is one configured service as db commands see it.
type service struct {
	name    string // postgres, clickhouse, redis
	address string // host:port/database, never a secret
	url     string // redacted
	db      string // the database name
	create  func(ctx context.Context) (bool, error)
	drop    func(ctx context.Context) (bool, error)
	version func(ctx context.Context) (string, error)
	// droppable refuses a system database
	droppable func() error
}

// services resolves the named services to their targets. An explicitly named service must be
// configured; with --db all one that is not configured is skipped (ping shows it).
func services(cfg *config.Config, names []string, explicit bool) ([]*service, []string, error) {
	var out []*service
	var skipped []string
	for _, n := range names {
		var s *service
		var err error
		switch n {
		case dbPostgres:
			var t *target.Postgres
			if t, err = cfg.Postgres(); err == nil {
				s = &service{name: n, address: t.Address(), url: t.Redacted(), db: t.Database,
					create: t.CreateDatabase, drop: t.DropDatabase, version: t.ServerVersion, droppable: t.Droppable}
			}
		case dbClickHouse:
			var t *target.ClickHouse
			if t, err = cfg.ClickHouse(); err == nil {
				cluster := cfg.ClickHouseCluster
				s = &service{name: n, address: t.Address(), url: t.Redacted(), db: t.Database,
					create:    func(ctx context.Context) (bool, error) { return chconn.CreateDatabase(ctx, t, cluster) },
					drop:      func(ctx context.Context) (bool, error) { return chconn.DropDatabase(ctx, t, cluster) },
					version:   func(ctx context.Context) (string, error) { return chconn.ServerVersion(ctx, t) },
					droppable: t.Droppable}
			}
		case dbRedis:
			var t *target.Redis
			if t, err = cfg.Redis(); err == nil {
				s = &service{name: n, address: t.Address(), url: t.Redacted(), db: fmt.Sprint(t.DB), version: t.ServerVersion}
			}
		}
		var te *target.Error
		if err != nil && !explicit && errors.As(err, &te) && te.NotConfigured {
			skipped = append(skipped, n)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 && len(skipped) > 0 {
		_, _, err := services(cfg, skipped[:1], true)
		return nil, nil, err
	}
	return out, skipped, nil
}

func newDBCmd(a *app) *cobra.Command {
	var db string
	var yes bool
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Create, drop and ping the configured databases",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
	}
	cmd.PersistentFlags().StringVar(&db, "db", dbAll, "database: postgres, clickhouse or all (ping: also redis)")

	pick := func(allowRedis bool) ([]string, error) {
		switch db {
		case dbPostgres, dbClickHouse:
			return []string{db}, nil
		case dbRedis:
			if allowRedis {
				return []string{db}, nil
			}
		case dbAll:
			if allowRedis {
				return []string{dbPostgres, dbClickHouse, dbRedis}, nil
			}
			return []string{dbPostgres, dbClickHouse}, nil
		}
		want := "postgres, clickhouse or all"
		if allowRedis {
			want = "postgres, clickhouse, redis or all"
		}
		return nil, usagef("--db %q: want %s", db, want)
	}

	// admin creates or drops each selected database, asking first before a drop.
	admin := func(cmd *cobra.Command, create bool) error {
		cfg, err := a.loadConfig(cmd)
		if err != nil {
			return err
		}
		names, err := pick(false)
		if err != nil {
			return err
		}
		svcs, skipped, err := services(cfg, names, db != dbAll)
		if err != nil {
			return err
		}
		for _, n := range skipped {
			fmt.Fprintf(a.streams.Err, "%-10s not configured: skipped\n", n)
		}
		if !create {
			var b strings.Builder
			var what []string
			for _, s := range svcs {
				if err := s.droppable(); err != nil {
					return err
				}
				fmt.Fprintf(&b, "  %s database %q at %s (%s), with all its data\n", s.name, s.db, s.address, s.url)
				what = append(what, fmt.Sprintf("%s database %q at %s", s.name, s.db, s.address))
			}
			if !yes {
				if !prompt.IsTerminal(a.raw.In, a.raw.Err) {
					return &prompt.ErrNoTerminal{Action: "drop the " + strings.Join(what, " and the ")}
				}
				fmt.Fprintf(a.streams.Err, "About to drop:\n%s", b.String())
				a.flush()
				if err := prompt.Confirm(a.raw, false, "drop", "Drop them?"); err != nil {
					return err
				}
			}
		}
		for _, s := range svcs {
			verb := "creating"
			if !create {
				verb = "dropping"
				// A migration run in the database ends first: its lock is taken (and lost with the
				// database).
				unlock, err := a.migrationLock(cmd.Context(), cfg, s.name)
				if err != nil {
					return err
				}
				defer unlock()
			}
			a.setPhase(fmt.Sprintf("%s the %s database %s", verb, s.name, s.address))
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			var changed bool
			if create {
				changed, err = s.create(ctx)
			} else {
				changed, err = s.drop(ctx)
			}
			cancel()
			if err != nil {
				return err
			}
			var state string
			switch {
			case create && changed:
				state = "created"
			case create:
				state = "exists"
			case changed:
				state = "dropped"
			default:
				state = "did not exist"
			}
			fmt.Fprintf(a.streams.Out, "%-10s %s: %s\n", s.name, s.db, state)
		}
		return nil
	}
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create the configured databases if they are missing",
		Example: "  brokle db create\n  brokle db create --db postgres",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return admin(cmd, true) },
	}
	drop := &cobra.Command{
		Use:     "drop",
		Short:   "Drop the configured databases (asks for confirmation; never a system database)",
		Example: "  brokle db drop --db clickhouse\n  brokle db drop --yes",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return admin(cmd, false) },
	}
	drop.Flags().BoolVar(&yes, "yes", false, "drop without asking")
	for _, c := range []*cobra.Command{create, drop} {
		_ = c.RegisterFlagCompletionFunc("db", cobra.FixedCompletions([]string{dbPostgres, dbClickHouse, dbAll}, cobra.ShellCompDirectiveNoFileComp))
	}
	ping := &cobra.Command{
		Use:     "ping",
		Short:   "Check every configured service: reachable, server version, round trip; exit 1 if any is down",
		Example: "  brokle db ping\n  brokle db ping --db redis",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			names, err := pick(true)
			if err != nil {
				return err
			}
			svcs, skipped, err := services(cfg, names, db != dbAll)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.streams.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tADDRESS\tSTATE\tVERSION\tROUND TRIP")
			down := 0
			for _, s := range svcs {
				a.setPhase("pinging " + s.name + " at " + s.address)
				ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
				start := time.Now()
				version, err := s.version(ctx)
				rtt := time.Since(start)
				cancel()
				if err != nil {
					down++
					fmt.Fprintf(tw, "%s\t%s\tDOWN: %s\t-\t-\n", s.name, s.address, pingCause(err))
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\tup\t%s\t%.1fms\n", s.name, s.address, version, float64(rtt.Microseconds())/1000)
			}
			for _, n := range skipped {
				fmt.Fprintf(tw, "%s\t-\tnot configured\t-\t-\n", n)
			}
			tw.Flush()
			if down > 0 {
				return &exitError{code: ExitFailed}
			}
			return nil
		},
	}
	_ = ping.RegisterFlagCompletionFunc("db", cobra.FixedCompletions([]string{dbPostgres, dbClickHouse, dbRedis, dbAll}, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(create, drop, ping)
	return cmd
}

// pingCause is the last, most specific part of a connection error, on one short line.
func pingCause(err error) string {
	msg := firstLine(err.Error())
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i > 8 {
		msg = msg[i+2:]
	}
	if len(msg) > 60 {
		msg = msg[:57] + "..."
	}
	return msg
}

// migrationLock takes the migration lock of a database that is about to be dropped, so a run
// migrating it finishes first; a database that does not exist has nothing to wait for.
func (a *app) migrationLock(ctx context.Context, cfg *config.Config, name string) (func(), error) {
	t, err := a.open(cfg, &migrateOpts{db: name, output: "text"}, name, false, io.Discard)
	if err != nil {
		return nil, err
	}
	a.setPhase("waiting for the migration lock of the " + name + " database before dropping it")
	l, err := t.db.Lock(ctx, cfg.LockTimeout, func(holder string) {
		fmt.Fprintf(a.streams.Err, "%s: waiting for the migration lock before dropping (held by %s)\n", name, holder)
	})
	if err != nil {
		t.close()
		msg := err.Error()
		if strings.Contains(msg, "does not exist") || strings.Contains(msg, "UNKNOWN_DATABASE") || strings.Contains(msg, "doesn't exist") {
			return func() {}, nil
		}
		return nil, err
	}
	return func() {
		l.Unlock()
		t.close()
	}, nil
}
