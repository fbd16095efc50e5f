//go:build !unix

package migrate

import "os"

func readRegular(path string) ([]byte, error) { return os.ReadFile(path) }
