//go:build unix

package config

import "syscall"

// syscallNonblock opens without blocking on a FIFO that has no writer.
const syscallNonblock = syscall.O_NONBLOCK
