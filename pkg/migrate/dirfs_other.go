//go:build !unix

package migrate

import (
	"errors"
	"os"
)

func readRegular(path string) ([]byte, error) { return os.ReadFile(path) }

func openDir(string) (func(string) ([]byte, error), func(), error) {
	return nil, nil, errors.New("no relative opens here")
}
