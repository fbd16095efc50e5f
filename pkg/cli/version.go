package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time: -ldflags "-X github.com/brokle-ai/brokle/pkg/cli.version=v1.2.3 ...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// depVersion is the version of a module the binary was built with.
func depVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print brokle's version, commit, build date, and its goose and Go versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.ran = true
			w := a.streams.Out
			fmt.Fprintf(w, "brokle %s\n", version)
			fmt.Fprintf(w, "  commit      %s\n", commit)
			fmt.Fprintf(w, "  built       %s\n", date)
			fmt.Fprintf(w, "  goose       %s\n", depVersion("github.com/pressly/goose/v3"))
			fmt.Fprintf(w, "  go          %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
