//go:build !(linux || darwin) || nochdb

package chdb

import (
	"errors"
	"runtime"
)

// unsupported says why libchdb cannot be loaded by this build: purego loads
// libraries only on Linux and macOS, and the nochdb build tag leaves it out
// (a CGO_ENABLED=0 Linux binary then stays statically linked).
var unsupported = func() string {
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		return "this brokle was built with the nochdb tag"
	}
	return "not available on " + runtime.GOOS
}()

func dlopen(string) (uintptr, error)         { return 0, errors.New(unsupported) }
func dlsym(uintptr, string) (uintptr, error) { return 0, errors.New(unsupported) }
func register(any, uintptr)                  {}
