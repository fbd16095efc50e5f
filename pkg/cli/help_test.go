package cli_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/pkg/cli"
	"github.com/brokle-ai/brokle/pkg/prompt"
)

// TestHelpOfEveryCommand walks the command tree: every command has examples; one that asks for
// confirmation (it has --yes) says so; --steps and --version are integers; no boolean flag shows
// as --flag[=true|false]; -o is --output wherever --output is.
func TestHelpOfEveryCommand(t *testing.T) {
	var out bytes.Buffer
	root, _ := cli.NewRoot(prompt.Streams{In: strings.NewReader(""), Out: &out, Err: &out})
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden {
			return
		}
		n++
		path := c.CommandPath()
		if c.Example == "" {
			t.Errorf("%s: no examples in its help", path)
		}
		if c.Flags().Lookup("yes") != nil && !strings.Contains(strings.ToLower(c.Short+" "+c.Long), "asks for confirmation") {
			t.Errorf("%s: asks for confirmation (--yes) but its help does not say so", path)
		}
		for _, name := range []string{"steps", "version"} {
			if f := c.LocalFlags().Lookup(name); f != nil && f.Value.Type() != "int" && c != root {
				t.Errorf("%s: --%s is a %s, want an int", path, name, f.Value.Type())
			}
		}
		if f := c.Flags().Lookup("output"); f != nil && f.Shorthand != "o" {
			t.Errorf("%s: --output has no -o", path)
		}
		usage := c.UsageString()
		if strings.Contains(usage, "[=true|false]") {
			t.Errorf("%s: a boolean flag shows as --flag[=true|false]:\n%s", path, usage)
		}
		if c.HasExample() && !strings.Contains(usage, "Examples:") {
			t.Errorf("%s: the help does not show the examples", path)
		}
	}
	walk(root)
	if n < 25 {
		t.Fatalf("walked %d commands, want every one (25 or more)", n)
	}
}
