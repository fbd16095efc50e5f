//go:build unix

package migrate

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/unix"
)

// readRegular reads a regular file in four system calls (open, fstat, read, close): os.ReadFile
// takes about ten for a small file, mostly registering it with the poller, which a regular file
// never needs. Opened without blocking and checked once open, a FIFO or a device swapped in is
// refused.
func readRegular(path string) ([]byte, error) { return readRegularAt(unix.AT_FDCWD, path) }

// openDir opens dir for reading files relative to it.
func openDir(dir string) (readAt func(name string) ([]byte, error), closeDir func(), err error) {
	fd, err := retryEINTR(func() (int, error) {
		return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, nil, err
	}
	return func(name string) ([]byte, error) { return readRegularAt(fd, name) }, func() { unix.Close(fd) }, nil
}

func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != unix.EINTR {
			return n, err
		}
	}
}

func readRegularAt(dirfd int, path string) ([]byte, error) {
	fd, err := retryEINTR(func() (int, error) {
		return unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("not a regular file")}
	}
	// One byte more than fstat's size: a read that stops short of it has read the file as fstat
	// saw it, and one that fills it finds the file grew, and reads on to the end.
	size := int(st.Size)
	buf := make([]byte, 0, size+1)
	for {
		want := cap(buf) - len(buf)
		n, err := retryEINTR(func() (int, error) { return unix.Read(fd, buf[len(buf):cap(buf)]) })
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		buf = buf[:len(buf)+n]
		if n == 0 || len(buf) == size && n < want {
			return buf, nil
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
