package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/config"
	chm "github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
	"github.com/brokle-ai/brokle/pkg/prompt"
	"github.com/brokle-ai/brokle/pkg/redis"
)

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
	_ = cmd.RegisterFlagCompletionFunc("db", cobra.FixedCompletions([]string{dbPostgres, dbClickHouse, dbAll, "redis"}, cobra.ShellCompDirectiveNoFileComp))

	pick := func(allowRedis bool) ([]string, error) {
		switch db {
		case dbPostgres, dbClickHouse:
			return []string{db}, nil
		case "redis":
			if allowRedis {
				return []string{db}, nil
			}
		case dbAll:
			if allowRedis {
				return []string{dbPostgres, dbClickHouse, "redis"}, nil
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
		dbs, err := pick(false)
		if err != nil {
			return err
		}
		for _, d := range dbs {
			if !create {
				q := fmt.Sprintf("Drop the whole %s database %s, with all its data?", d, config.RedactURL(urlOf(cfg, d)))
				if err := prompt.Confirm(a.streams, yes, "drop the "+d+" database", q); err != nil {
					return err
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			name, changed, err := createOrDropDatabase(ctx, cfg, d, create)
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
			fmt.Fprintf(a.streams.Out, "%-10s %s: %s\n", d, name, state)
		}
		return nil
	}
	create := &cobra.Command{
		Use:   "create",
		Short: "Create the configured databases if they are missing",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return admin(cmd, true) },
	}
	drop := &cobra.Command{
		Use:   "drop",
		Short: "Drop the configured databases (asks first)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return admin(cmd, false) },
	}
	drop.Flags().BoolVar(&yes, "yes", false, "drop without asking")
	ping := &cobra.Command{
		Use:   "ping",
		Short: "Check every configured service: reachable, server version, round trip; exit 1 if any is down",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			dbs, err := pick(true)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.streams.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tADDRESS\tSTATE\tVERSION\tROUND TRIP")
			down := 0
			for _, d := range dbs {
				ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
				start := time.Now()
				version, err := pingService(ctx, cfg, d)
				rtt := time.Since(start)
				cancel()
				addr := config.RedactURL(urlOf(cfg, d))
				if err != nil {
					down++
					fmt.Fprintf(tw, "%s\t%s\tDOWN: %s\t-\t-\n", d, addr, firstLine(config.Scrub(err.Error(), a.secrets)))
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\tup\t%s\t%.1fms\n", d, addr, version, float64(rtt.Microseconds())/1000)
			}
			tw.Flush()
			if down > 0 {
				return &exitError{code: ExitFailed}
			}
			return nil
		},
	}
	cmd.AddCommand(create, drop, ping)
	return cmd
}

func urlOf(cfg *config.Config, d string) string {
	switch d {
	case dbPostgres:
		return cfg.PostgresURL
	case dbClickHouse:
		return cfg.ClickHouseURL
	}
	return cfg.RedisURL
}

func createOrDropDatabase(ctx context.Context, cfg *config.Config, d string, create bool) (string, bool, error) {
	switch {
	case d == dbClickHouse && create:
		return chm.CreateDatabase(ctx, cfg.ClickHouseURL, cfg.ClickHouseCluster)
	case d == dbClickHouse:
		return chm.DropDatabase(ctx, cfg.ClickHouseURL, cfg.ClickHouseCluster)
	case create:
		return postgres.CreateDatabase(ctx, cfg.PostgresURL)
	}
	return postgres.DropDatabase(ctx, cfg.PostgresURL)
}

func pingService(ctx context.Context, cfg *config.Config, d string) (string, error) {
	switch d {
	case dbPostgres:
		pg, err := postgres.Open(cfg.PostgresURL, postgres.Options{ReadOnly: true})
		if err != nil {
			return "", err
		}
		defer pg.Close()
		return pg.ServerVersion(ctx)
	case dbClickHouse:
		c, err := chm.Open(cfg.ClickHouseURL, chm.Options{})
		if err != nil {
			return "", err
		}
		defer c.Close()
		return c.ServerVersion(ctx)
	}
	return redis.Ping(ctx, cfg.RedisURL)
}
