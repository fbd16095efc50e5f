package cli

import (
	"regexp"
	"strings"
)

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

// legacyTopCommands are brokle's commands outside `brokle migrate`; any other word is a migrate
// verb (up, status, ...), or a misspelt one that `brokle migrate` suggests a verb for.
var legacyTopCommands = map[string]bool{
	"migrate": true, "seed": true, "db": true, "shell": true, "version": true, "completion": true, "help": true,
	"__complete": true, "__completeNoDesc": true,
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
	// The migrate binary's commands are the migrate group's: alone, or with -h, its help.
	switch {
	case len(words) == 0 || !legacyTopCommands[words[0]]:
		words = append([]string{"migrate"}, words...)
	case words[0] == "help" && (len(words) == 1 || !legacyTopCommands[words[1]]):
		words = append([]string{"help", "migrate"}, words[1:]...)
	}
	return append(append(append(unknown, words...), flags...), rest...)
}

var (
	// legacyFlagRE is a --flag in running text: after a space, a quote, a bracket or the start.
	legacyFlagRE = regexp.MustCompile("(^|[\\s(\\[`'\",=|])--([a-z][a-z0-9-]*)")
	// legacyFlagLineRE is a line of a help page's flag list: "      --dir string", "  -o, --output".
	legacyFlagLineRE = regexp.MustCompile(`^(\s+)(-[a-zA-Z], )?--([a-z])`)
)

// LegacyText says s, a message or a help page of brokle's, in the older single-dash style the
// migrate binary takes: `brokle migrate up --db postgres --steps 1` is `migrate -db postgres
// -steps 1 up`, and every --flag is -flag.
func LegacyText(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		line = legacyCommandsIn(line)
		if legacyFlagLineRE.MatchString(line) {
			// One dash fewer, one space more in front: the descriptions stay in their column.
			line = legacyFlagLineRE.ReplaceAllString(line, "$1 $2-$3")
		}
		// After " -- " come a client's own arguments (or SQL's comment): they keep their dashes.
		head, tail, client := strings.Cut(line, " -- ")
		lines[i] = legacyFlagRE.ReplaceAllString(head, "$1-$2")
		if client {
			lines[i] += " -- " + tail
		}
	}
	return strings.Join(lines, "\n")
}

// legacyCommandsIn rewrites each `brokle COMMAND ...` of line as the migrate binary is run: its
// flags first, with one dash, then its words (the migrate group's verbs without `migrate`).
func legacyCommandsIn(line string) string {
	var b strings.Builder
	for {
		i := strings.Index(line, "brokle ")
		if i < 0 {
			b.WriteString(line)
			return b.String()
		}
		if i > 0 && !strings.ContainsRune(" \t(`'\"", rune(line[i-1])) {
			b.WriteString(line[:i+len("brokle ")])
			line = line[i+len("brokle "):]
			continue
		}
		b.WriteString(line[:i])
		rest := line[i+len("brokle "):]
		tokens, end := commandTokens(rest)
		if len(tokens) == 0 || !legacyTopCommands[tokens[0]] || strings.HasPrefix(tokens[0], "__") {
			b.WriteString("brokle ")
			line = rest
			continue
		}
		b.WriteString(legacyCommand(tokens))
		line = rest[end:]
	}
}

// commandTokens reads the words of a command line at the start of s, up to what ends it (a
// closing bracket or quote, a comma, a semicolon, a full stop, the end of the line); end is where
// it stopped.
func commandTokens(s string) (tokens []string, end int) {
	pos := 0
	for pos < len(s) {
		j := strings.IndexByte(s[pos:], ' ')
		word := s[pos:]
		if j >= 0 {
			word = s[pos : pos+j]
		}
		cut := strings.IndexAny(word, ")`'\",;")
		if cut < 0 && strings.HasSuffix(word, ".") {
			cut = len(word) - 1
		}
		if cut > 0 {
			return append(tokens, word[:cut]), pos + cut
		}
		if cut == 0 || word == "" {
			if pos > 0 {
				pos-- // the space before stays with what follows
			}
			return tokens, pos
		}
		tokens = append(tokens, word)
		if j < 0 {
			return tokens, len(s)
		}
		pos += j + 1
	}
	return tokens, pos
}

// legacyCommand is brokle's command line (without `brokle`) as the migrate binary takes it.
func legacyCommand(tokens []string) string {
	if tokens[0] == "migrate" {
		tokens = tokens[1:]
	}
	var flags, words, client []string
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		switch {
		case t == "--": // the client's arguments, last and as they are
			client = tokens[i:]
			i = len(tokens)
		case t == "--help" || t == "-h":
			flags = append(flags, "-h")
		case t == "[flags]":
			flags = append(flags, t)
		case strings.HasPrefix(t, "-") && len(t) > 1:
			name := strings.TrimLeft(t, "-")
			flags = append(flags, "-"+name)
			if key, _, hasValue := strings.Cut(name, "="); !hasValue && legacyValueFlags[key] && i+1 < len(tokens) {
				i++
				flags = append(flags, tokens[i])
			}
		default:
			words = append(words, t)
		}
	}
	return strings.Join(append(append(append([]string{"migrate"}, flags...), words...), client...), " ")
}
