package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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
	// exists, when set, is asked before a drop takes the migration lock: taking it opens the
	// database, which on the embedded ClickHouse engine makes it.
	exists  func(ctx context.Context) (bool, error)
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
					exists:    func(ctx context.Context) (bool, error) { return chconn.DatabaseExists(ctx, t) },
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
	var db, output string
	var yes bool
	cmd := &cobra.Command{
		Use:     "db",
		Short:   "Create, drop and ping the configured databases",
		Example: "  brokle db create\n  brokle db ping --db redis\n  brokle db drop --db clickhouse --yes",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
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
		if err := checkOutput(output); err != nil {
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
			a.note(output, n, noteSkipped, "not configured: skipped")
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
				if err := a.confirm(cmd.Context(), "drop", "Drop them?"); err != nil {
					return err
				}
			}
		}
		done := []map[string]any{}
		report := func(s *service, state string) {
			if output == "json" {
				done = append(done, map[string]any{"service": s.name, "database": s.db, "address": s.address, "state": state})
				return
			}
			fmt.Fprintf(a.streams.Out, "%-10s %s: %s\n", s.name, s.db, state)
		}
		for _, s := range svcs {
			verb := "creating"
			if !create {
				verb = "dropping"
				if s.exists != nil {
					ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
					ok, err := s.exists(ctx)
					cancel()
					if err != nil {
						return err
					}
					if !ok {
						report(s, "did not exist")
						continue
					}
				}
				// A migration run in the database ends first: its lock is taken (and lost with the
				// database).
				unlock, err := a.migrationLock(cmd.Context(), cfg, s.name, output)
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
			report(s, state)
		}
		if output == "json" {
			for _, n := range skipped {
				done = append(done, map[string]any{"service": n, "database": nil, "address": nil, "state": "not configured"})
			}
			return writeJSON(a.streams.Out, map[string]any{"schema": 1, "databases": done})
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
			if err := checkOutput(output); err != nil {
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
			type pinged struct {
				Service string `json:"service"`
				Address any    `json:"address"`
				State   string `json:"state"` // up, down, not configured
				Version any    `json:"server_version"`
				RTTMs   any    `json:"rtt_ms"`
				Error   any    `json:"error"`
			}
			var rows []pinged
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
					rows = append(rows, pinged{Service: s.name, Address: s.address, State: "down", Error: pingCause(err)})
					continue
				}
				rows = append(rows, pinged{Service: s.name, Address: s.address, State: "up", Version: version, RTTMs: float64(rtt.Microseconds()) / 1000})
			}
			for _, n := range skipped {
				rows = append(rows, pinged{Service: n, State: "not configured"})
			}
			if output == "json" {
				if err := writeJSON(a.streams.Out, map[string]any{"schema": 1, "services": rows}); err != nil {
					return err
				}
			} else {
				printPing(a.streams.Out, rows, func(p pinged) [5]string {
					addr, ver, rtt, state := "-", "-", "-", p.State
					if p.Address != nil {
						addr = p.Address.(string)
					}
					if p.Version != nil {
						ver, rtt = p.Version.(string), fmt.Sprintf("%.1fms", p.RTTMs.(float64))
					}
					if p.Error != nil {
						state = "DOWN: " + p.Error.(string)
					}
					return [5]string{p.Service, addr, ver, rtt, state}
				})
			}
			if down > 0 {
				return &exitError{code: ExitFailed}
			}
			return nil
		},
	}
	// --db completes to what each command accepts: create and drop have no redis database.
	_ = cmd.RegisterFlagCompletionFunc("db", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		if c.Name() == "ping" {
			return []string{dbPostgres, dbClickHouse, dbRedis, dbAll}, cobra.ShellCompDirectiveNoFileComp
		}
		return []string{dbPostgres, dbClickHouse, dbAll}, cobra.ShellCompDirectiveNoFileComp
	})
	for _, c := range []*cobra.Command{create, drop, ping} {
		addOutputFlag(c, &output)
	}
	cmd.AddCommand(create, drop, ping)
	return cmd
}

// pingWidth is the widest db ping's table gets: a failure's cause is cut to fit.
const pingWidth = 120

// printPing prints db ping's table, the state last so that a failure's cause takes the room
// left and no line passes pingWidth columns.
func printPing[T any](w io.Writer, rows []T, cells func(T) [5]string) {
	table := [][5]string{{"SERVICE", "ADDRESS", "VERSION", "ROUND TRIP", "STATE"}}
	for _, r := range rows {
		table = append(table, cells(r))
	}
	var width [5]int
	for _, r := range table {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	// The version gets at most 32 columns, the state at least 24 (or what it needs), and the
	// address what is left.
	width[2] = min(width[2], 32)
	state := 0
	for _, r := range table {
		state = max(state, len([]rune(r[4])))
	}
	width[1] = min(width[1], max(pingWidth-width[0]-width[2]-width[3]-8-min(state, 24), 20))
	used := 0
	for i := range 4 {
		used += width[i] + 2
	}
	room := max(pingWidth-used, 24)
	for _, r := range table {
		var b strings.Builder
		for i := range 4 {
			fmt.Fprintf(&b, "%-*s  ", width[i], cut(r[i], width[i]))
		}
		b.WriteString(cut(r[4], room))
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// cut shortens s to n columns, ending it with "..." when cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// pingCause is the most specific part of a connection error: its last line (pgx puts the
// address and the dial error on a line of their own), after its last "context: " prefix.
func pingCause(err error) string {
	msg := strings.TrimSpace(err.Error())
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i > 8 {
		msg = msg[i+2:]
	}
	return msg
}

// migrationLock takes the migration lock of a database that is about to be dropped, so a run
// migrating it finishes first; a database that does not exist has nothing to wait for.
func (a *app) migrationLock(ctx context.Context, cfg *config.Config, name, output string) (func(), error) {
	t, err := a.open(cfg, &migrateOpts{db: name, output: "text"}, name, false, io.Discard)
	if err != nil {
		return nil, err
	}
	a.setPhase("waiting for the migration lock of the " + name + " database before dropping it")
	l, err := t.db.Lock(ctx, cfg.LockTimeout, func(holder string) {
		a.note(output, name, noteWaiting, fmt.Sprintf("waiting for the migration lock before dropping (held by %s)", holder))
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
