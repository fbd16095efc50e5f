package cli

import "strings"

// legacyValueFlags take a value in the older style (`-db postgres`).
var legacyValueFlags = map[string]bool{
	"db": true, "steps": true, "version": true, "name": true, "dir": true, "config": true,
	"output": true, "o": true, "file": true, "lock-timeout": true, "from": true, "table": true,
	"postgres-url": true, "clickhouse-url": true, "redis-url": true, "env": true,
}

// legacyBoolFlags take no value.
var legacyBoolFlags = map[string]bool{
	"dry-run": true, "yes": true, "allow-drift": true, "allow-out-of-order": true, "strict": true,
	"force": true, "help": true, "timestamp": true, "verbose": true, "v": true, "quiet": true, "q": true, "fail-pending": true,
}

// legacyMigrateVerbs are the commands that live under `brokle migrate`.
var legacyMigrateVerbs = map[string]bool{
	"up": true, "down": true, "status": true, "create": true, "drop": true, "force": true,
	"redo": true, "reset": true, "info": true, "validate": true, "verify": true, "unlock": true,
	"adopt": true, "baseline": true, "rehash": true, "history": true, "fix": true,
}

// TranslateLegacy turns the older single-dash style (`-db postgres -steps 2 up`,
// `seed -file seeds/dev.yaml`) into brokle's (`migrate up --db postgres --steps 2`).
func TranslateLegacy(args []string) []string {
	var words, flags, unknown, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = args[i:]
			break
		}
		if len(a) < 2 || a[0] != '-' {
			words = append(words, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if name == "h" || name == "help" {
			flags = append(flags, "--help")
			continue
		}
		key, _, hasValue := strings.Cut(name, "=")
		if !legacyValueFlags[key] && !legacyBoolFlags[key] {
			// Named first, so the error names it (and not a flag its stray value displaced).
			unknown = append(unknown, "--"+name)
			continue
		}
		if len(key) == 1 {
			flags = append(flags, "-"+name) // -o json, -v, -q: brokle's own shorthands
		} else {
			flags = append(flags, "--"+name)
		}
		if !hasValue && legacyValueFlags[key] && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if len(words) > 0 && legacyMigrateVerbs[words[0]] {
		words = append([]string{"migrate"}, words...)
	}
	return append(append(append(unknown, words...), flags...), rest...)
}
