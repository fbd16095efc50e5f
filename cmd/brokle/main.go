// Command brokle migrates, seeds and opens shells on brokle's PostgreSQL and ClickHouse.
package main

import (
	"os"

	"github.com/brokle-ai/brokle/pkg/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], false))
}
