// Command migrate is the older single-dash interface (`go run ./cmd/migrate -db postgres -steps 2
// up`); it translates its arguments and runs the same command tree as brokle.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/brokle-ai/brokle/pkg/cli"
	"github.com/brokle-ai/brokle/pkg/prompt"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.TranslateLegacy(os.Args[1:]), prompt.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
