// Package cli is brokle's command tree: cobra wiring only; the work is done by the engine packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/prompt"
	"github.com/brokle-ai/brokle/pkg/scrub"
	"github.com/brokle-ai/brokle/pkg/seed"
	"github.com/brokle-ai/brokle/pkg/shell"
	"github.com/brokle-ai/brokle/pkg/target"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailed   = 1 // the operation failed or the state is unhealthy
	ExitBadInput = 2 // bad usage or bad input
)

// InterruptGrace is how long a run has, after SIGINT or SIGTERM, to stop on its own (rolling
// back, saying what it stopped) before brokle exits regardless.
const InterruptGrace = 1800 * time.Millisecond

// usageError is bad usage found by a command itself (a flag value, a missing flag).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// exitError ends a command with a code and no further message (status already printed why).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// errSignal is the cause of a run's context ending on a signal.
type errSignal struct{ sig os.Signal }

func (e *errSignal) Error() string {
	name := "SIGTERM"
	if e.sig == os.Interrupt {
		name = "SIGINT"
	}
	return "interrupted (" + name + ")"
}

// app carries what every command needs.
type app struct {
	streams   prompt.Streams // scrubbed
	raw       prompt.Streams // the process's own, for terminal checks and prompts
	scrub     *scrub.Scrubber
	outs      []*scrub.Writer
	ran       bool // a RunE started: later errors are the operation's, not cobra's parsing
	legacy    bool // the migrate binary: its usage and errors speak its single-dash style
	appliedBy string

	mu       sync.Mutex
	phase    string
	reported bool // the run's end is being reported on stderr (by the run, or by Main after a signal)
}

// claimReport reports whether the caller is the one to say, on stderr, how the run ended: the
// run itself, or Main when the run did not stop in time after a signal; never both.
func (a *app) claimReport() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reported {
		return false
	}
	a.reported = true
	return true
}

// setPhase records what the run is doing, for the message if it is interrupted.
func (a *app) setPhase(p string) {
	a.mu.Lock()
	a.phase = p
	a.mu.Unlock()
}

func (a *app) currentPhase() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.phase == "" {
		return "starting"
	}
	return a.phase
}

// newApp wraps the streams in one scrubber that already knows every secret the command line and
// the environment can carry; the configuration's own are added when it is read.
func newApp(s prompt.Streams, args []string) *app {
	a := &app{raw: s, scrub: scrub.New()}
	for _, arg := range args {
		a.addSecrets(target.SecretsOf(arg))
	}
	for _, k := range config.Keys() {
		if k.Secret {
			for _, e := range k.Envs {
				a.addSecrets(target.SecretsOf(os.Getenv(e)))
			}
		}
	}
	out, errw := a.scrub.NewWriter(s.Out), a.scrub.NewWriter(s.Err)
	a.outs = []*scrub.Writer{out, errw}
	a.streams = prompt.Streams{In: s.In, Out: out, Err: errw}
	return a
}

func (a *app) addSecrets(secrets []string) {
	for _, s := range secrets {
		a.scrub.Add(s)
	}
}

func (a *app) flush() {
	for _, w := range a.outs {
		w.Flush()
	}
}

// NewRoot builds the command tree.
func NewRoot(s prompt.Streams) (*cobra.Command, *app) {
	a := newApp(s, nil)
	return a.root(), a
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:           "brokle",
		Short:         "Migrate, seed and open shells on brokle's PostgreSQL and ClickHouse",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		Example: "  brokle db create\n  brokle migrate up\n  brokle migrate status --fail-pending\n" +
			"  brokle seed dev --db postgres\n  brokle shell postgres\n  brokle --version",
		RunE: func(cmd *cobra.Command, args []string) error {
			if v, _ := cmd.Flags().GetBool("version"); v {
				if len(args) > 0 {
					return usagef("--version takes no command (did you mean `brokle %s ... --version N`?)", args[0])
				}
				a.ran = true
				_, err := fmt.Fprintf(a.streams.Out, "brokle %s\n", buildVersion())
				return err
			}
			return groupRunE(cmd, args)
		},
	}
	root.Flags().Bool("version", false, "print brokle's version and exit")
	root.SetUsageFunc(usageFunc)
	if a.legacy {
		// The same pages, in the migrate binary's style: `migrate -db postgres -steps 1 up`.
		help := root.HelpFunc()
		root.SetHelpFunc(func(c *cobra.Command, args []string) {
			var b strings.Builder
			out := c.OutOrStdout()
			c.SetOut(&b)
			help(c, args)
			c.SetOut(out)
			fmt.Fprint(out, LegacyText(b.String()))
		})
	}
	root.SetIn(a.streams.In)
	root.SetOut(a.streams.Out)
	root.SetErr(a.streams.Err)
	pf := root.PersistentFlags()
	pf.String("config", "", "config file (default ./configs/brokle.yaml, then $XDG_CONFIG_HOME/brokle/config.yaml)")
	pf.String("env", "", "use the named environment of the config file (environments: NAME: ...; env BROKLE_ENV)")
	pf.String("postgres-url", "", "PostgreSQL URL (env BROKLE_POSTGRES_URL, DATABASE_URL)")
	pf.String("clickhouse-url", "", "ClickHouse URL (env BROKLE_CLICKHOUSE_URL, CLICKHOUSE_URL)")
	pf.String("redis-url", "", "Redis URL (env BROKLE_REDIS_URL, REDIS_URL)")
	_ = root.RegisterFlagCompletionFunc("config", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	})
	for _, f := range []string{"postgres-url", "clickhouse-url", "redis-url"} {
		_ = root.RegisterFlagCompletionFunc(f, cobra.NoFileCompletions)
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		if twice := flagTwice(err); twice != nil {
			return &usageError{msg: twice.Error()} // never the values: a URL flag's carry a password
		}
		var ue *usageError
		if errors.As(err, &ue) {
			return ue // an integer flag's own message
		}
		if m := err.Error(); strings.HasPrefix(m, "unknown flag: --output") || strings.HasPrefix(m, "unknown shorthand flag: 'o'") {
			return usagef("--output: %s has no other output than its text", cmd.CommandPath())
		}
		return &usageError{msg: err.Error()}
	})
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpCommand(newHelpCmd(root))
	root.AddCommand(newMigrateCmd(a), newSeedCmd(a), newShellCmd(a), newDBCmd(a), newVersionCmd(a), newCompletionCmd(root))
	onceFlags(root)
	return root
}

// Main is the whole program for both binaries: brokle's arguments (legacy: the older
// single-dash style), signals and exit code. SIGPIPE never kills a run (a closed output stops
// output, not work); SIGINT and SIGTERM end the run's context, and if it has not stopped within
// InterruptGrace, brokle says what it was doing and exits.
func Main(args []string, legacy bool) int {
	if legacy {
		args = TranslateLegacy(args)
	}
	stopProfile := startProfile()
	defer stopProfile()
	// A Go program that catches SIGPIPE gets EPIPE from a write to a closed stdout instead of
	// dying; the scrubbing writers then drop output and the run goes on.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	a := newApp(prompt.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, args)
	a.legacy = legacy
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, args) }()
	select {
	case code := <-done:
		return code
	case sig := <-sigs:
		cancel(&errSignal{sig: sig})
		select {
		case code := <-done:
			return code
		case <-time.After(InterruptGrace):
		case <-sigs:
		}
		if !a.claimReport() {
			// The run is saying how it ended: let it finish saying it.
			select {
			case code := <-done:
				return code
			case <-time.After(InterruptGrace):
				return ExitFailed
			}
		}
		hint := "check `brokle migrate status` before going on"
		if isSeed(args) {
			hint = "running the seed again adds what is missing"
		}
		msg := fmt.Sprintf("%s while %s; stopped without waiting for it: %s", (&errSignal{sig: sig}).Error(), a.currentPhase(), hint)
		if wantsJSON(nil, args) {
			_ = writeJSON(a.streams.Err, jsonError(msg, ExitFailed))
		} else {
			fmt.Fprintf(a.streams.Err, "error: %s\n", msg)
		}
		a.outs[1].Flush() // stderr only: the run may be stuck writing stdout (a reader that stopped reading)
		return ExitFailed
	}
}

// isSeed reports whether args run `brokle seed` (the first word that is no flag).
func isSeed(args []string) bool {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a == "seed"
		}
	}
	return false
}

// jsonError is the document of an error under --output json (docs/json.md, "errors").
func jsonError(msg string, code int) map[string]any {
	return map[string]any{"schema": 1, "error": map[string]any{"message": msg, "exit_code": code}}
}

// Run executes brokle with args and returns the exit code.
func Run(ctx context.Context, args []string, s prompt.Streams) int {
	return newApp(s, args).run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) (code int) {
	defer func() {
		a.flush()
		// A reader that went away (| head) stops the output, not the run; output that could not
		// be written (a full disk) is the run failing to report.
		if err := a.outs[0].Err(); code == ExitOK && err != nil && !errors.Is(err, syscall.EPIPE) {
			fmt.Fprintf(a.raw.Err, "error: writing the output: %v\n", err)
			code = ExitFailed
		}
	}()
	// brokle reads no PG* variable: a URL says everything, and the shells get exactly the
	// target's settings.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") {
			os.Unsetenv(k)
		}
	}
	root := a.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	msg := err.Error()
	if cause := context.Cause(ctx); cause != nil && errors.Is(err, prompt.ErrInterrupted) {
		msg = fmt.Sprintf("%s at the prompt: nothing was changed", cause.Error())
	} else if cause != nil && !isExplained(err) {
		msg = fmt.Sprintf("%s while %s", cause.Error(), a.currentPhase())
	}
	code = exitCode(err, a.ran)
	if a.legacy {
		msg = LegacyText(msg)
	}
	if !a.claimReport() {
		return code // Main said it already (an interrupt the run did not stop for in time)
	}
	if wantsJSON(cmd, args) {
		// A script that asked for JSON reads its errors as JSON too (docs/json.md, "errors").
		_ = writeJSON(a.streams.Err, jsonError(msg, code))
		return code
	}
	first, rest, _ := strings.Cut(msg, "\n")
	fmt.Fprintf(a.streams.Err, "error: %s\n", first)
	if rest != "" {
		fmt.Fprintln(a.streams.Err, rest)
	}
	if !a.ran {
		usage := fmt.Sprintf("Run '%s --help' for usage.", commandPath(root, args))
		if a.legacy {
			usage = LegacyText(usage)
		}
		fmt.Fprintln(a.streams.Err, usage)
	}
	return code
}

// wantsJSON reports whether the command was asked for --output json: from its parsed flag, or,
// when parsing failed before it was read, from the arguments.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	if cmd != nil {
		if f := cmd.Flags().Lookup("output"); f != nil && f.Changed {
			return f.Value.String() == "json"
		}
	}
	for i, arg := range args {
		if arg == "--" {
			break
		}
		switch {
		case arg == "--output=json", arg == "-o=json", arg == "-ojson":
			return true
		case (arg == "--output" || arg == "-o") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// isExplained: errors that already say what an interrupt did.
func isExplained(err error) bool {
	var ie *migrate.ErrInterrupted
	var ll *migrate.ErrLockLost
	return errors.As(err, &ie) || errors.As(err, &ll)
}

func exitCode(err error, ran bool) int {
	var (
		ue *usageError
		ce *config.Error
		te *target.Error
		sd *target.ErrSystemDatabase
		nt *prompt.ErrNoTerminal
		se *seed.Error
		em *shell.ErrEmbedded
	)
	switch {
	case !ran, errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &te), errors.As(err, &sd), errors.As(err, &nt), errors.As(err, &em), migrate.IsInput(err):
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

// loadConfig reads the layered configuration for cmd and teaches the scrubber its secrets.
// configFor reads the configuration and the databases --db names ("all" where cmd accepts it).
func (a *app) configFor(cmd *cobra.Command, o *migrateOpts) (*config.Config, []string, error) {
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	dbs, err := o.check(acceptsAll(cmd))
	if err != nil {
		return nil, nil, err
	}
	return cfg, dbs, nil
}

func (a *app) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	a.ran = true
	a.setPhase("reading the configuration")
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(cmd.Flags(), path)
	if err != nil {
		return nil, err
	}
	a.addSecrets(cfg.Secrets())
	a.appliedBy = whoami()
	return cfg, nil
}

// whoami is user@host, recorded as applied_by.
func whoami() string {
	name := os.Getenv("USER")
	if name == "" { // user.Current asks the C library (NSS): a millisecond of a one-shot run
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// groupRunE makes a command group refuse an unknown subcommand, with suggestions, and print its
// help when called alone.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return &usageError{msg: msg}
	}
	return cmd.Help()
}

// newHelpCmd is `brokle help [command]`: an unknown topic is bad usage, not a help page.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:     "help [command]",
		Short:   "Help about any command",
		Example: "  brokle help migrate up\n  brokle migrate up --help",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, rest, err := root.Find(args)
			if err != nil || c == nil || len(rest) > 0 {
				topic := strings.Join(args, " ")
				msg := fmt.Sprintf("unknown help topic %q", topic)
				if len(args) > 0 {
					root.SuggestionsMinimumDistance = 2
					if s := root.SuggestionsFor(args[0]); len(s) > 0 {
						msg += "; did you mean " + strings.Join(s, " or ") + "?"
					}
				}
				return &usageError{msg: msg}
			}
			return c.Help()
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			c, _, err := root.Find(args)
			if err != nil || c == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range c.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

// newCompletionCmd prints a shell's completion script; an unknown shell is bad usage.
func newCompletionCmd(root *cobra.Command) *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long:  "Print the completion script of a shell. Bash's needs the bash-completion package.",
		Example: "  source <(brokle completion bash)      # bash (needs the bash-completion package)\n" +
			"  brokle completion zsh > \"${fpath[1]}/_brokle\"\n" +
			"  brokle completion fish | source\n" +
			"  brokle completion powershell | Out-String | Invoke-Expression",
		ValidArgs: shells,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("completion needs one shell: %s", strings.Join(shells, ", "))
			}
			for _, s := range shells {
				if args[0] == s {
					return nil
				}
			}
			return usagef("completion %q: want %s", args[0], strings.Join(shells, ", "))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			}
			return root.GenPowerShellCompletionWithDesc(w)
		},
	}
}
