// Command brokle migrates, seeds and opens shells on brokle's PostgreSQL and ClickHouse.
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
	code := cli.Run(ctx, os.Args[1:], prompt.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
