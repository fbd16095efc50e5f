// Package cli is brokle's command tree: cobra wiring only; the work is done by the engine packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/prompt"
	"github.com/brokle-ai/brokle/pkg/seed"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailed   = 1 // the operation failed or the state is unhealthy
	ExitBadInput = 2 // bad usage or bad input
)

// usageError is bad usage found by a command itself (a flag value, a missing flag).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// exitError ends a command with a code and no further message (status already printed why).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// app carries what every command needs.
type app struct {
	streams   prompt.Streams
	ran       bool     // a RunE started: later errors are the operation's, not cobra's parsing
	secrets   []string // passwords of the loaded configuration, scrubbed from any output
	appliedBy string
}

// NewRoot builds the command tree.
func NewRoot(s prompt.Streams) (*cobra.Command, *app) {
	a := &app{streams: s}
	root := &cobra.Command{
		Use:           "brokle",
		Short:         "Migrate, seed and open shells on brokle's PostgreSQL and ClickHouse",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	pf := root.PersistentFlags()
	pf.String("config", "", "config file (default ./configs/brokle.yaml, then $XDG_CONFIG_HOME/brokle/config.yaml)")
	pf.String("postgres-url", "", "PostgreSQL URL (env BROKLE_POSTGRES_URL, DATABASE_URL)")
	pf.String("clickhouse-url", "", "ClickHouse URL (env BROKLE_CLICKHOUSE_URL, CLICKHOUSE_URL)")
	pf.String("redis-url", "", "Redis URL (env BROKLE_REDIS_URL, REDIS_URL)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	root.AddCommand(newMigrateCmd(a), newSeedCmd(a), newShellCmd(a), newDBCmd(a), newVersionCmd(a))
	return root, a
}

// Run executes brokle with args and returns the exit code.
func Run(ctx context.Context, args []string, s prompt.Streams) int {
	root, a := NewRoot(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	msg := config.Scrub(err.Error(), a.secrets)
	first, rest, _ := strings.Cut(msg, "\n")
	fmt.Fprintf(s.Err, "error: %s\n", first)
	if rest != "" {
		fmt.Fprintln(s.Err, rest)
	}
	code := exitCode(err, a.ran)
	if !a.ran {
		fmt.Fprintf(s.Err, "Run '%s --help' for usage.\n", commandPath(root, args))
	}
	return code
}

func exitCode(err error, ran bool) int {
	var (
		ue *usageError
		ce *config.Error
		nt *prompt.ErrNoTerminal
		se *seed.Error
	)
	switch {
	case !ran, errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &nt), migrate.IsInput(err):
		return ExitBadInput
	case errors.As(err, &se) && se.Input:
		return ExitBadInput
	}
	return ExitFailed
}

func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != nil {
		return c.CommandPath()
	}
	return root.Name()
}

// loadConfig reads the layered configuration for cmd and remembers its secrets for scrubbing.
func (a *app) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	a.ran = true
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(cmd.Flags(), path)
	if err != nil {
		return nil, err
	}
	a.secrets = cfg.Secrets()
	a.appliedBy = whoami()
	return cfg, nil
}

// whoami is user@host, recorded as applied_by.
func whoami() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); name == "" && err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// groupRunE makes a command group refuse an unknown subcommand (cobra only does so at the root)
// and print its help when called alone.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}
