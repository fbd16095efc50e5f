// Command noinit proves that importing pkg/chdb does nothing at start-up: it
// must run exactly like a program without it when libchdb is absent. With
// the argument "open" it tries the embedded engine and prints the error.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/brokle-ai/brokle/pkg/chdb"
)

func main() {
	maps, _ := os.ReadFile("/proc/self/maps")
	if strings.Contains(string(maps), "libchdb") {
		fmt.Println("libchdb loaded at start-up")
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "open" {
		c, err := chdb.Open("")
		if err == nil {
			c.Close()
			fmt.Println("opened")
			return
		}
		fmt.Fprintln(os.Stderr, err)
		if errors.Is(err, chdb.ErrNoLibrary) {
			os.Exit(2)
		}
		os.Exit(3)
	}
	fmt.Println("started")
}
