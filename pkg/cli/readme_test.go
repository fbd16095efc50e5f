package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/brokle-ai/brokle/internal/testdb"
	"github.com/brokle-ai/brokle/pkg/cli"
	"github.com/brokle-ai/brokle/pkg/prompt"
)

// A README transcript is a fenced block whose lines starting with "$ " are commands, each
// followed by the output it prints (stdout and stderr, as a terminal shows them); a line "..."
// stands for any number of lines. An HTML comment on the line before the block, invisible on
// the rendered page, can prepare it or skip it:
//
//	<!-- transcript setup: brokle db create; cp migrations/a.sql migrations/b.sql -->
//	<!-- transcript skip: why it cannot run in a test -->

// readmeBlock is a fenced block of README.md.
type readmeBlock struct {
	line   int      // of the opening fence
	lines  []string // between the fences
	marker string   // the transcript comment before it, without <!-- transcript and -->
}

func (b readmeBlock) transcript() bool {
	for _, l := range b.lines {
		if strings.HasPrefix(l, "$ ") {
			return true
		}
	}
	return false
}

func readmeBlocks(t *testing.T, text string) []readmeBlock {
	t.Helper()
	var blocks []readmeBlock
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		b := readmeBlock{line: i + 1}
		if i > 0 {
			if m, ok := strings.CutPrefix(strings.TrimSpace(lines[i-1]), "<!-- transcript"); ok {
				b.marker = strings.TrimSpace(strings.TrimSuffix(m, "-->"))
			}
		}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			if strings.HasPrefix(lines[i], "```") {
				t.Fatalf("README.md:%d: a fence (%q) inside the block opened at line %d: text after a closing fence keeps the block open", i+1, lines[i], b.line)
			}
			b.lines = append(b.lines, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("README.md:%d: the block is never closed", b.line)
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// TestREADMECommands: every brokle command README.md shows (in a block or in running text) names
// a command that exists, with flags that command takes.
func TestREADMECommands(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := cli.NewRoot(prompt.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	var lines []string
	where := map[string]int{}
	for _, b := range readmeBlocks(t, string(data)) {
		for i, l := range b.lines {
			l = strings.TrimPrefix(l, "$ ")
			lines = append(lines, l)
			where[l] = b.line + 1 + i
		}
	}
	// Code in running text, also where a line break splits it; the blocks taken out first.
	prose := regexp.MustCompile("(?ms)^```.*?^```").ReplaceAllStringFunc(string(data), func(block string) string {
		return strings.Repeat("\n", strings.Count(block, "\n"))
	})
	for _, m := range regexp.MustCompile("`([^`]*)`").FindAllStringSubmatchIndex(prose, -1) {
		code := strings.Join(strings.Fields(prose[m[2]:m[3]]), " ")
		if strings.Contains(code, "brokle ") {
			lines = append(lines, code)
			where[code] = strings.Count(prose[:m[0]], "\n") + 1
		}
	}
	// README's example of a typo, which brokle answers with a suggestion.
	typos := map[string]bool{"brokle migrat up": true}
	checked := 0
	for _, l := range lines {
		fields := strings.Fields(l)
		for i, f := range fields {
			if f != "brokle" || typos[l] {
				continue
			}
			checked++
			if err := checkCommandLine(root, fields[i+1:]); err != nil {
				t.Errorf("README.md:%d: %s: %v", where[l], l, err)
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d brokle commands found in README.md", checked)
	}
}

// checkCommandLine finds the command args name and checks every flag given to it, up to the
// next brokle, a "--" (the rest is a client's), a comment or a shell operator.
func checkCommandLine(root *cobra.Command, args []string) error {
	root.InitDefaultHelpCmd()
	cmd := root
	i := 0
	for ; i < len(args); i++ {
		var sub *cobra.Command
		for _, c := range cmd.Commands() {
			if c.Name() == strings.Trim(args[i], "`()") {
				sub = c
			}
		}
		if sub == nil {
			break
		}
		cmd = sub
	}
	if cmd == root && i < len(args) && !strings.HasPrefix(args[i], "-") && args[i] != "..." {
		return fmt.Errorf("no command %q", args[i])
	}
	cmd.InitDefaultHelpFlag()
	cmd.InitDefaultVersionFlag()
	for ; i < len(args); i++ {
		switch args[i] {
		case "brokle", "--", "[--", "#", "|", "||", "&&", ";", ">":
			return nil
		}
		a, _, _ := strings.Cut(strings.Trim(args[i], "[]()`,;:"), "=")
		switch {
		case strings.HasPrefix(a, "--"):
			if cmd.Flags().Lookup(a[2:]) == nil && cmd.InheritedFlags().Lookup(a[2:]) == nil {
				return fmt.Errorf("%s has no flag %s", cmd.CommandPath(), a)
			}
		case len(a) == 2 && a[0] == '-' && a[1] != '-':
			if cmd.Flags().ShorthandLookup(a[1:]) == nil && cmd.InheritedFlags().ShorthandLookup(a[1:]) == nil {
				return fmt.Errorf("%s has no flag %s", cmd.CommandPath(), a)
			}
		}
	}
	return nil
}

// TestREADMETranscripts runs every transcript of README.md in a copy of the repository's
// configuration, migrations and seeds, against databases made for it on the test servers (not
// created: a transcript that needs them creates them), and compares what each command prints
// with what README.md shows, up to durations, timestamps, server versions, user@host and the
// databases' names and addresses.
func TestREADMETranscripts(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testdb.ProbeClickHouse(); err != nil {
		testdb.SkipOrFail(t, err)
	}
	var ran, skipped int
	for _, b := range readmeBlocks(t, string(data)) {
		if !b.transcript() {
			continue
		}
		if reason, ok := strings.CutPrefix(b.marker, "skip:"); ok {
			t.Logf("README.md:%d: transcript skipped: %s", b.line, strings.TrimSpace(reason))
			skipped++
			continue
		}
		ran++
		t.Run(strings.TrimPrefix(b.lines[0], "$ "), func(t *testing.T) { runTranscript(t, b) })
	}
	if ran < 2 || skipped > 2 {
		t.Errorf("README.md: %d transcript(s) run, %d skipped: keep the skipped ones few", ran, skipped)
	}
}

func runTranscript(t *testing.T, b readmeBlock) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, d := range []string{".git", "configs", "migrations/clickhouse", "seeds"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, glob := range []string{"configs/*.yaml", "migrations/*.sql", "migrations/clickhouse/*.sql", "seeds/*.yaml"} {
		files, _ := filepath.Glob(filepath.Join(repo, glob))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(repo, f)
			if err := os.WriteFile(filepath.Join(work, rel), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Databases of the transcript's own, not there yet; dropped afterwards.
	name := testdb.Name("brokle_readme")
	pgURL, chURL := withDatabase(t, testdb.PostgresAdminURL(), name), withDatabase(t, testdb.ClickHouseAdminURL(), name)
	t.Cleanup(func() {
		testdb.Exec(t, testdb.PostgresAdminURL(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if db, err := testdb.OpenClickHouse(testdb.ClickHouseAdminURL()); err == nil {
			_, _ = db.Exec("DROP DATABASE IF EXISTS " + name)
			db.Close()
		}
	})
	env := withEnv(os.Environ(), []string{"BROKLE_POSTGRES_URL=" + pgURL, "BROKLE_CLICKHOUSE_URL=" + chURL,
		"!BROKLE_REDIS_URL", "!DATABASE_URL", "!CLICKHOUSE_URL", "!REDIS_URL", "!BROKLE_ENV", "!NO_COLOR"})
	// The addresses the transcript shows are those of the default configuration.
	actual := strings.NewReplacer(
		hostPort(t, pgURL)+"/"+name, "localhost:5432/brokle",
		hostPort(t, chURL)+"/"+name, "localhost:9000/brokle",
		name, "brokle")

	sh := func(line string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", line)
		cmd.Dir, cmd.Env = work, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return actual.Replace(out.String()), code
	}
	// The clients and Redis a transcript's commands reach must be there (CI has them).
	for _, l := range b.lines {
		for client, target := range map[string]string{"psql": "shell postgres", "clickhouse-client": "shell clickhouse", "redis-cli": "shell redis"} {
			if _, err := exec.LookPath(client); err != nil && strings.Contains(l, "brokle "+target) {
				testdb.SkipOrFail(t, &testdb.Unreachable{What: client + " (apt install it)", Err: err})
			}
		}
		if strings.Contains(l, "redis") || strings.Contains(l, "db ping") {
			c, err := net.DialTimeout("tcp", "localhost:6379", 3*time.Second)
			if err != nil {
				testdb.SkipOrFail(t, &testdb.Unreachable{What: "Redis at localhost:6379", Err: err})
			}
			c.Close()
		}
	}
	if setup, ok := strings.CutPrefix(b.marker, "setup:"); ok {
		if out, code := sh(setup); code != 0 {
			t.Fatalf("README.md:%d: the setup %q: exit %d\n%s", b.line, setup, code, out)
		}
	}
	for i := 0; i < len(b.lines); i++ {
		command, ok := strings.CutPrefix(b.lines[i], "$ ")
		if !ok {
			t.Fatalf("README.md:%d: output before the first command", b.line+1+i)
		}
		at := b.line + 1 + i
		var want []string
		for i+1 < len(b.lines) && !strings.HasPrefix(b.lines[i+1], "$ ") {
			i++
			want = append(want, b.lines[i])
		}
		out, code := sh(command)
		got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if out == "" {
			got = nil
		}
		if code != 0 {
			t.Errorf("README.md:%d: $ %s: exit %d\n%s", at, command, code, out)
			continue
		}
		if !matchLines(want, got) {
			t.Errorf("README.md:%d: $ %s\nREADME shows:\n%s\nit prints:\n%s", at, command, strings.Join(want, "\n"), out)
		}
	}
}

func withDatabase(t *testing.T, admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func hostPort(t *testing.T, u string) string {
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

// The parts of a line that differ from run to run, each replaced by its kind.
var transcriptVariables = []struct {
	re   *regexp.Regexp
	kind string
}{
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?( UTC|Z)?`), "<time>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m|h)\b`), "<duration>"},
	{regexp.MustCompile(`\b\d+\.\d+(\.\d+)*(-[0-9A-Za-z.+~]+)?( \([^)]*\))?`), "<version>"},
	{regexp.MustCompile(`(^|\s)[\w.-]+@[\w.-]+(\s|$)`), "$1<user@host>$2"},
}

// shape is a line as compared: its variable parts replaced, its words split (alignment, which
// depends on the length of what was replaced, is not compared).
func shape(line string) string {
	for _, v := range transcriptVariables {
		line = v.re.ReplaceAllString(line, v.kind)
	}
	return strings.Join(strings.Fields(line), " ")
}

// matchLines reports whether got has the shape of want, where a line "..." of want stands for
// any number of lines.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "..." {
		for k := 0; k <= len(got); k++ {
			if matchLines(want[1:], got[k:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && shape(want[0]) == shape(got[0]) && matchLines(want[1:], got[1:])
}
