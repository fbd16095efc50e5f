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

// readDotEnv reads root/.env, the way goose and dbmate read theirs (godotenv): NAME=value lines,
// `export` allowed, # comments, values optionally in single or double quotes and then a comment.
// It is the lowest layer of the environment: a real variable of the same name wins. A missing
// file is fine; a line that is not NAME=value is an error naming the file and line. The
// variables are not exported.
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
		case len(val) > 0 && (val[0] == '"' || val[0] == '\''):
			inner, rest, closed := cutQuoted(val)
			if !closed {
				return nil, "", &Error{Msg: fmt.Sprintf(".env %s:%d: %s: the quote is not closed", shown, i+1, name)}
			}
			// After the closing quote, only a comment (as godotenv reads it); the text itself is
			// not repeated: it may be part of a password.
			if rest = strings.TrimLeft(rest, " \t"); rest != "" && rest[0] != '#' {
				return nil, "", &Error{Msg: fmt.Sprintf(".env %s:%d: %s: text after the closing quote: only a # comment may follow the value", shown, i+1, name)}
			}
			val = inner
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

// cutQuoted splits a value that starts with a quote into what the quotes hold and what follows
// the closing one. In double quotes, \n is a line break and \" and \\ stand for themselves; in
// single quotes every character is itself.
func cutQuoted(val string) (inner, rest string, closed bool) {
	q := val[0]
	if q == '\'' {
		j := strings.IndexByte(val[1:], q)
		if j < 0 {
			return "", "", false
		}
		return val[1 : 1+j], val[2+j:], true
	}
	for j := 1; j < len(val); j++ {
		switch val[j] {
		case '\\':
			j++
		case q:
			return strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`).Replace(val[1:j]), val[j+1:], true
		}
	}
	return "", "", false
}
