// Command migrate is the older single-dash interface (`go run ./cmd/migrate -db postgres -steps 2
// up`); it translates its arguments and runs the same command tree as brokle.
package main

import (
	"os"

	"github.com/brokle-ai/brokle/pkg/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], true))
}
