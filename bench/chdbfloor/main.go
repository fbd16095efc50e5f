// Command chdbfloor is the embedded engine's floor for bench/ch-up.sh: it opens a libchdb data
// folder and runs a file's statements (one per line) in one session, as clickhouse-client
// --multiquery does on the server, with no history, lock or checks.
//
//	go run ./bench/chdbfloor DIR FILE
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/brokle-ai/brokle/pkg/chdb"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: chdbfloor DIR FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "chdbfloor:", err)
		os.Exit(1)
	}
}

func run(dir, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	c, err := chdb.Open(dir)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := context.Background()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		stmt := strings.TrimSpace(sc.Text())
		if stmt == "" {
			continue
		}
		if err := c.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s:%d: %w", file, n, err)
		}
	}
	return sc.Err()
}
