// Command testreport reads `go test -json` and prints what a reader of CI needs: each package's
// ok/FAIL line as go test prints it, every skipped test with its reason, and the whole output of
// every failed test. make test pipes the suite through it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	outputs := map[string][]string{} // package/test -> its output lines
	failed := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // not an event: a build error, say
			continue
		}
		key := e.Package + "/" + e.Test
		switch e.Action {
		case "output":
			if e.Test == "" {
				// the package's own lines: ok/FAIL/no test files, build failures
				if t := strings.TrimSpace(e.Output); t != "" && !strings.HasPrefix(t, "=== ") && t != "PASS" && t != "FAIL" {
					fmt.Print(e.Output)
				}
				continue
			}
			outputs[key] = append(outputs[key], e.Output)
		case "skip":
			if e.Test != "" {
				fmt.Printf("--- SKIP: %s (%s): %s\n", e.Test, e.Package, reason(outputs[key]))
			}
			delete(outputs, key)
		case "fail":
			if e.Test != "" {
				failed = true
				fmt.Print(strings.Join(outputs[key], ""))
			}
			delete(outputs, key)
		case "pass":
			delete(outputs, key)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// reason is the skip message among a skipped test's output lines.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "--- SKIP") || strings.HasPrefix(t, "=== ") {
			continue
		}
		if _, after, ok := strings.Cut(t, ".go:"); ok {
			if _, msg, ok := strings.Cut(after, ": "); ok {
				return msg
			}
		}
		return t
	}
	return "(no reason given)"
}
