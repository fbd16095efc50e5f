package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Flags the migrate commands share; each command declares the ones that apply to it, so its help
// lists only those and any other is refused as unknown (exit 2).
const (
	flagDir             = "dir"
	flagOutput          = "output"
	flagDryRun          = "dry-run"
	flagYes             = "yes"
	flagAllowDrift      = "allow-drift"
	flagAllowOutOfOrder = "allow-out-of-order"
	flagLockTimeout     = "lock-timeout"
	flagVerbose         = "verbose"
	flagQuiet           = "quiet"
)

// addFlags declares the shared flags names on cmd, bound to o.
func (o *migrateOpts) addFlags(cmd *cobra.Command, names ...string) {
	f := cmd.Flags()
	for _, n := range names {
		switch n {
		case flagDir:
			f.StringVar(&o.dir, flagDir, "", "read migrations from this folder, in place of the configured one (migrations_dir) and of the built-in set (needs --db postgres or clickhouse)")
			_ = cmd.RegisterFlagCompletionFunc(flagDir, completeDirs)
		case flagOutput:
			addOutputFlag(cmd, &o.output)
		case flagDryRun:
			f.BoolVar(&o.dryRun, flagDryRun, false, "print the plan and the exact statements; change nothing")
		case flagYes:
			f.BoolVar(&o.yes, flagYes, false, "confirm without asking (needed without a terminal)")
		case flagAllowDrift:
			f.BoolVar(&o.allowDrift, flagAllowDrift, false, "run even if applied migrations changed or are missing")
		case flagAllowOutOfOrder:
			f.BoolVar(&o.allowOutOfOrder, flagAllowOutOfOrder, false, "apply pending versions lower than the current one")
		case flagLockTimeout:
			f.String(flagLockTimeout, "", "how long to wait for another run's lock (default 5m)")
			_ = cmd.RegisterFlagCompletionFunc(flagLockTimeout, cobra.NoFileCompletions)
		case flagVerbose:
			f.BoolVarP(&o.verbose, flagVerbose, "v", false, "print each statement as it runs, with its duration")
		case flagQuiet:
			f.BoolVarP(&o.quiet, flagQuiet, "q", false, "print only errors")
		default:
			panic("unknown shared flag " + n) // a programming error, caught by any test
		}
	}
}

// addOutputFlag declares --output/-o (text or json).
func addOutputFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, flagOutput, "o", "text", "output format: text or json (fields: docs/json.md)")
	_ = cmd.RegisterFlagCompletionFunc(flagOutput, cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

func checkOutput(s string) error {
	if s != "text" && s != "json" {
		return usagef("--output %q: want text or json", s)
	}
	return nil
}

// completeDirs completes folders only.
func completeDirs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// intFlag is an integer flag that keeps brokle's own messages for a bad value: --steps is a
// count (1 or more), --version a migration version (0 or more).
type intFlag struct {
	name string
	min  int64
	set  bool
	v    int64
	raw  string
}

func (f *intFlag) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatInt(f.v, 10)
}

func (f *intFlag) Type() string { return "int" }

func (f *intFlag) Set(s string) error {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < f.min {
		if f.name == "steps" {
			return usagef("--steps %q: want a whole number, 1 or more", s)
		}
		return usagef("--%s %q: want a migration version (a whole number, 0 or more)", f.name, s)
	}
	f.v, f.set, f.raw = v, true, s
	return nil
}

// addStepsFlag and addVersionFlag declare --steps N and --version N.
func addStepsFlag(cmd *cobra.Command, usage string) {
	cmd.Flags().Var(&intFlag{name: "steps", min: 1}, "steps", usage)
	_ = cmd.RegisterFlagCompletionFunc("steps", cobra.NoFileCompletions)
}

func addVersionFlag(cmd *cobra.Command, usage string) {
	cmd.Flags().Var(&intFlag{name: "version", min: 0}, "version", usage)
}

// intValue is an intFlag's value; ok is false when it was not given.
func intValue(cmd *cobra.Command, name string) (int64, bool) {
	f := cmd.Flags().Lookup(name)
	if f == nil {
		return 0, false
	}
	val := f.Value
	if o, ok := val.(*onceValue); ok {
		val = o.Value
	}
	v, isInt := val.(*intFlag)
	if !isInt || !v.set {
		return 0, false
	}
	return v.v, true
}

// usageFunc prints a command's usage as cobra's default template does, except that a boolean
// flag shows as `--dry-run`, not `--dry-run[=true|false]` (pflag's way).
func usageFunc(c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if c.Runnable() {
		fmt.Fprintf(&b, "  %s\n", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s [command]\n", c.CommandPath())
	}
	if c.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", c.Example)
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\nAvailable Commands:\n")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "  %-*s %s\n", c.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s\n", strings.TrimRight(flagUsages(c.LocalFlags()), " \n"))
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(&b, "\nGlobal Flags:\n%s\n", strings.TrimRight(flagUsages(c.InheritedFlags()), " \n"))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", c.CommandPath())
	}
	_, err := fmt.Fprint(c.OutOrStderr(), b.String())
	return err
}

// plainBool hides a bool flag's IsBoolFlag from pflag's usage printer.
type plainBool struct{ pflag.Value }

func flagUsages(fs *pflag.FlagSet) string {
	out := pflag.NewFlagSet("usage", pflag.ContinueOnError)
	fs.VisitAll(func(f *pflag.Flag) {
		c := *f
		if f.Value.Type() == "bool" {
			c.Value = plainBool{f.Value}
		}
		out.AddFlag(&c)
	})
	return out.FlagUsages()
}
