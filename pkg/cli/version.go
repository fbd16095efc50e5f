package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time (Makefile, .goreleaser.yaml):
// -ldflags "-X github.com/brokle-ai/brokle/pkg/cli.version=v1.2.3 ...".
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildInfo is what the binary knows about its build: the ldflags first, else what the Go
// toolchain recorded (`go install ...@v1.2.3` records the module version, a build in a git
// checkout the revision and its time).
type buildInfo struct {
	Schema  int    `json:"schema"`
	Version string `json:"version"`
	Commit  any    `json:"commit"` // null when unknown
	Date    any    `json:"date"`   // null when unknown
	Goose   any    `json:"goose"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Schema: 1, Version: version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	var rev, at string
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			}
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/pressly/goose/v3" {
				b.Goose = d.Version
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if commit != "" {
		rev = commit
	}
	if date != "" {
		at = date
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		b.Commit = rev
	}
	if at != "" {
		b.Date = at
	}
	return b
}

// buildVersion is one line: the version, and the commit when known.
func buildVersion() string {
	b := readBuildInfo()
	if c, ok := b.Commit.(string); ok {
		return fmt.Sprintf("%s (commit %s)", b.Version, c)
	}
	return b.Version
}

func orUnknown(v any) any {
	if v == nil {
		return "unknown"
	}
	return v
}

func newVersionCmd(a *app) *cobra.Command {
	output := "text"
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print brokle's version, commit, build date, and its goose and Go versions",
		Example: "  brokle version\n  brokle version -o json\n  brokle --version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.ran = true
			if err := checkOutput(output); err != nil {
				return err
			}
			b := readBuildInfo()
			w := a.streams.Out
			if output == "json" {
				return writeJSON(w, b)
			}
			fmt.Fprintf(w, "brokle %s\n", b.Version)
			fmt.Fprintf(w, "  commit      %s\n", orUnknown(b.Commit))
			fmt.Fprintf(w, "  built       %s\n", orUnknown(b.Date))
			fmt.Fprintf(w, "  goose       %s\n", orUnknown(b.Goose))
			fmt.Fprintf(w, "  go          %s %s/%s\n", b.Go, b.OS, b.Arch)
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}
