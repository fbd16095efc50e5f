package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/shell"
)

func newShellCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "shell postgres|clickhouse|redis [-- CLIENT ARGS...]",
		Short: "Open psql, clickhouse-client or redis-cli on the configured database",
		Long: "Replace brokle with the database's own client, connected per the configuration.\n" +
			"Arguments after -- go to the client: brokle shell postgres -- -c 'select 1'.\n" +
			"Passwords reach the client through its environment or a config file, never its arguments.",
		Example:   "  brokle shell postgres\n  brokle shell redis -- ping\n  brokle shell clickhouse -- --query 'SELECT version()'",
		ValidArgs: shell.Targets,
		Args: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			own := args
			if dash >= 0 {
				own = args[:dash]
			}
			if len(own) != 1 {
				return usagef("shell needs one target: %s (client arguments go after --)", strings.Join(shell.Targets, ", "))
			}
			if !slices.Contains(shell.Targets, own[0]) {
				return usagef("shell %q: want %s", own[0], strings.Join(shell.Targets, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			var extra []string
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				extra = args[dash:]
			}
			var c *shell.Command
			switch args[0] {
			case "postgres":
				t, terr := cfg.Postgres()
				if terr != nil {
					return terr
				}
				c, err = shell.Postgres(t, extra)
			case "clickhouse":
				t, terr := cfg.ClickHouse()
				if terr != nil {
					return terr
				}
				c, err = shell.ClickHouse(t, extra)
			case "redis":
				t, terr := cfg.Redis()
				if terr != nil {
					return terr
				}
				c, err = shell.Redis(t, extra)
			}
			if err != nil {
				return err
			}
			a.flush()
			return shell.Exec(c)
		},
	}
}
