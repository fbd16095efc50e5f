//go:build linux

package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestInterruptTheRunDoesNotStopFor: a run stuck where a signal cannot reach it (writing a dry
// run's plan to a reader that stopped reading) is ended InterruptGrace after SIGINT by brokle itself, which says
// what it was doing: one line on stderr, or with -o json one JSON error document there (and
// nothing else on stderr), exit 1.
func TestInterruptTheRunDoesNotStopFor(t *testing.T) {
	dbURL := testdb.Postgres(t)
	dir := t.TempDir()
	files := map[string]string{}
	for i := 1; i <= 1200; i++ {
		files[fmt.Sprintf("%06d_table_with_a_rather_long_name_%d.sql", i, i)] = fmt.Sprintf("-- +migrate Up\nCREATE TABLE t%d (id int);\n-- +migrate Down\nDROP TABLE t%d;\n", i, i)
	}
	writeFiles(t, dir, files)
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			cmd := exec.Command("brokle", "migrate", "up", "--dry-run", "--db", "postgres", "--dir", dir, "-o", output)
			cmd.Env = append(os.Environ(), "BROKLE_POSTGRES_URL="+dbURL, "BROKLE_CLICKHOUSE_URL=")
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = w, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// The pipe is full (64 KiB, less what a last write did not fit): the run is stuck
			// writing the plan, and nothing reads it.
			waitUntil(t, "the output pipe full", func() bool {
				n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ)
				return err == nil && n >= 60000
			})
			start := time.Now()
			_ = cmd.Process.Signal(os.Interrupt)
			var werr error
			select {
			case werr = <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("brokle did not end after SIGINT\n%s", errb.String())
			}
			if took := time.Since(start); took > 2500*time.Millisecond {
				t.Errorf("ended %s after SIGINT, want within 2 s", took)
			}
			var ee *exec.ExitError
			if !errors.As(werr, &ee) || ee.ExitCode() != 1 {
				t.Errorf("exit %v, want 1\n%s", werr, errb.String())
			}
			const want = "interrupted (SIGINT) while writing the plan (nothing was changed); stopped without waiting for it: check `brokle migrate status` before going on"
			if output == "text" {
				if errb.String() != "error: "+want+"\n" {
					t.Errorf("stderr:\n%s\nwant:\nerror: %s", errb.String(), want)
				}
				return
			}
			var doc struct {
				Schema int `json:"schema"`
				Error  struct {
					Message  string `json:"message"`
					ExitCode int    `json:"exit_code"`
				} `json:"error"`
			}
			dec := json.NewDecoder(&errb)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&doc); err != nil || dec.More() || doc.Schema != 1 || doc.Error.Message != want || doc.Error.ExitCode != 1 {
				t.Errorf("stderr is not the one JSON error document (%v): %+v\n%s", err, doc, errb.String())
			}
		})
	}
}
