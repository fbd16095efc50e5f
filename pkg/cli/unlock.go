package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

func newUnlockCmd(a *app, o *migrateOpts) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:         "unlock",
		Annotations: oneDatabaseOnly(),
		Short:       "Break the migration lock a ClickHouse run that is gone left behind (asks for confirmation)",
		Long: "A ClickHouse run without a PostgreSQL configured locks with a lease (one server) or a\n" +
			"replica only one run can create (a cluster). A run that was killed keeps the cluster lock,\n" +
			"which is safe; unlock breaks it once the holder's lease has run out (--force: at once).\n" +
			"PostgreSQL's lock is its session's: the server frees it when the session ends. Asks for\n" +
			"confirmation; --yes confirms without a terminal.",
		Example: "  brokle migrate unlock --db clickhouse\n  brokle migrate unlock --db clickhouse --force --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dbs, err := a.configFor(cmd, o)
			if err != nil {
				return err
			}
			if dbs, err = a.selected(cfg, o, dbs); err != nil {
				return err
			}
			t, err := a.open(cfg, o, dbs[0], false, a.streams.Out)
			if err != nil {
				return err
			}
			defer t.close()
			holder, err := t.db.LockHolder(cmd.Context())
			if err != nil {
				return err
			}
			u, isCH := t.db.(unlocker)
			if !isCH || cfg.Configured(dbPostgres) {
				if holder == "" {
					fmt.Fprintf(a.streams.Out, "%-10s the migration lock is free\n", dbs[0])
					return nil
				}
				return &migrate.ErrInput{Msg: fmt.Sprintf("%s: the lock is PostgreSQL's session lock, held by %s: the server frees it when that session ends (stop the run, or pg_terminate_backend its pid)", dbs[0], holder)}
			}
			p := &migrate.Plan{Database: dbs[0], Address: t.db.Address(), Action: "unlock", Extra: []string{"break the migration lock, if a run that is gone holds it"}}
			if err := a.confirmPlans(cmd.Context(), o, "break the migration lock of "+dbs[0], []*migrate.Plan{p}); err != nil {
				return err
			}
			who, err := u.Unlock(cmd.Context(), force)
			if err != nil {
				return err
			}
			if who == "" {
				fmt.Fprintf(a.streams.Out, "%-10s the migration lock is free\n", dbs[0])
				return nil
			}
			fmt.Fprintf(a.streams.Out, "%-10s broke the migration lock held by %s\n", dbs[0], who)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "break the lock even though its holder renewed it recently")
	o.addFlags(cmd, flagDir, flagYes, flagLockTimeout)
	return cmd
}

// unlocker is a database whose lock can be broken from outside (ClickHouse's lease and cluster
// locks).
type unlocker interface {
	Unlock(ctx context.Context, force bool) (string, error)
}
