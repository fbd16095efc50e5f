package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// errFlagTwice is a single-valued flag given twice with different values (`seed --file a --file
// b`): pflag keeps the last one silently, which would seed, migrate or drop something the user
// named but did not mean. Its text never holds the values (a URL flag's carries a password).
type errFlagTwice struct{ name string }

func (e *errFlagTwice) Error() string {
	return fmt.Sprintf("--%s given twice with different values: give it once", e.name)
}

// onceValue refuses a second, different value for the flag it wraps.
type onceValue struct {
	pflag.Value
	name  string
	given string
	set   bool
}

func (v *onceValue) Set(s string) error {
	if v.set && s != v.given {
		return &errFlagTwice{name: v.name}
	}
	v.set, v.given = true, s
	return v.Value.Set(s)
}

// Type keeps completion and help as they were (a bool flag stays a bool flag).
func (v *onceValue) Type() string { return v.Value.Type() }

// IsBoolFlag keeps `--yes` valid without a value.
func (v *onceValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// onceFlags wraps every single-valued flag of cmd and its subcommands (lists and counters take
// repeats by design).
func onceFlags(cmd *cobra.Command) {
	wrap := func(f *pflag.Flag) {
		if _, done := f.Value.(*onceValue); done || f.Name == "help" {
			return
		}
		if t := f.Value.Type(); strings.HasSuffix(t, "Slice") || strings.HasSuffix(t, "Array") || t == "count" {
			return
		}
		f.Value = &onceValue{Value: f.Value, name: f.Name}
	}
	cmd.Flags().VisitAll(wrap)
	cmd.PersistentFlags().VisitAll(wrap)
	for _, c := range cmd.Commands() {
		onceFlags(c)
	}
}

// flagTwice finds errFlagTwice inside pflag's error (which quotes the value given).
func flagTwice(err error) error {
	var twice *errFlagTwice
	if errors.As(err, &twice) {
		return twice
	}
	return nil
}
