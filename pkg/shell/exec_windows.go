//go:build windows

package shell

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// privateFile keeps the 0600 file on disk while the client runs and removes it afterwards.
func (c *Command) privateFile(f *os.File) (string, error) {
	name := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", err
	}
	c.Cleanup = func() { os.Remove(name) }
	return name, nil
}

// Exec runs the client in brokle's place (Windows has no exec) and exits with its exit code.
func Exec(c *Command) error {
	cmd := exec.Command(c.Path, c.Args[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Env, os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if c.Cleanup != nil {
		c.Cleanup()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", c.Path, err)
	}
	os.Exit(0)
	return nil
}
