//go:build unix

package chdb

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock on the data directory itself:
// libchdb does not stop two processes from opening the same directory, and
// two engines writing one directory corrupt it.
func lockDir(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, err
	}
	return f, nil
}
