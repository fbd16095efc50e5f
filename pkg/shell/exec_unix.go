//go:build unix

package shell

import (
	"fmt"
	"os"
	"syscall"
)

// privateFile hands f to the client only: the file is unlinked at once and the client reads it
// through the descriptor it inherits, so no other process can open it.
func (c *Command) privateFile(f *os.File) (string, error) {
	_ = os.Remove(f.Name())
	if _, err := f.Seek(0, 0); err != nil {
		f.Close()
		return "", err
	}
	c.Files = append(c.Files, f)
	return fmt.Sprintf("/dev/fd/%d", f.Fd()), nil
}

// Exec replaces this process with the client. It returns only on failure.
func Exec(c *Command) error {
	for _, f := range c.Files {
		// Clear close-on-exec so the client inherits the descriptor its arguments name.
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_SETFD, 0); e != 0 {
			return fmt.Errorf("keep %s open for %s: %w", f.Name(), c.Args[0], e)
		}
	}
	return fmt.Errorf("run %s: %w", c.Path, syscall.Exec(c.Path, c.Args, c.Env))
}
