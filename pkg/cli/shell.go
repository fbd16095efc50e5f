package cli

import (
	"errors"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/config"
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
				c, err = shell.Postgres(cfg.PostgresURL, extra)
			case "clickhouse":
				c, err = shell.ClickHouse(cfg.ClickHouseURL, extra)
			case "redis":
				c, err = shell.Redis(cfg.RedisURL, extra)
			}
			var nc *shell.ErrNoClient
			if errors.As(err, &nc) {
				return err
			}
			if err != nil {
				return &config.Error{Msg: err.Error()}
			}
			return shell.Exec(c)
		},
	}
}
