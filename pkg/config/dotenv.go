package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/brokle-ai/brokle/internal/lazyre"
)

var dotenvNameRE = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// readDotEnv reads root/.env, the way goose and dbmate read theirs: NAME=value lines, `export`
// allowed, # comments, values optionally in single or double quotes. It is the lowest layer of
// the environment: a real variable of the same name wins. A missing file is fine; a line that is
// not NAME=value is an error naming the file and line. The variables are not exported.
func readDotEnv(root string) (map[string]string, string, error) {
	path := filepath.Join(root, ".env")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	shown := path
	if cwd, err := os.Getwd(); err == nil {
		shown = relToCwd(cwd, path)
	}
	data, err := ReadRegular(path)
	if err != nil {
		return nil, "", &Error{Msg: fmt.Sprintf(".env %s: %v", shown, err)}
	}
	out := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		if i == 0 {
			t = strings.TrimPrefix(t, "\ufeff")
		}
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		t = strings.TrimPrefix(t, "export ")
		name, val, ok := strings.Cut(t, "=")
		name = strings.TrimSpace(name)
		if !ok || !dotenvNameRE.MatchString(name) {
			return nil, "", &Error{Msg: fmt.Sprintf(".env %s:%d: want NAME=value", shown, i+1)}
		}
		val = strings.TrimSpace(val)
		switch {
		case len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0]:
			q := val[0]
			val = val[1 : len(val)-1]
			if q == '"' {
				val = strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`).Replace(val)
			}
		case len(val) > 0 && (val[0] == '"' || val[0] == '\''):
			return nil, "", &Error{Msg: fmt.Sprintf(".env %s:%d: %s: the quote is not closed", shown, i+1, name)}
		default:
			// An unquoted value ends at a comment.
			if j := strings.Index(val, " #"); j >= 0 {
				val = strings.TrimSpace(val[:j])
			}
		}
		out[name] = val
	}
	return out, shown, nil
}

// dotenvValue is a key's value from .env, by the first of its environment names .env sets.
func dotenvValue(k Key, dotenv map[string]string) (name, val string, ok bool) {
	for _, e := range k.Envs {
		if v, ok := dotenv[e]; ok {
			return e, v, true
		}
	}
	return "", "", false
}
