package cli

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

// TestStatusColours: on a terminal, dirty rows are red, drifted and missing yellow, pending dim,
// the table stays aligned; without colour there is no escape code; times carry their zone.
func TestStatusColours(t *testing.T) {
	at := time.Date(2026, 11, 24, 18, 35, 20, 0, time.UTC)
	dirty := int64(2)
	st := &migrate.Status{Database: "postgres", Address: "h:5432/db", Reachable: true, Known: true, Dirty: &dirty,
		Migrations: []migrate.MigrationStatus{
			{Version: 1, File: "m/1.sql", State: migrate.StateApplied, AppliedAt: &at, AppliedBy: "a@b"},
			{Version: 2, File: "m/2.sql", State: migrate.StateDirty, AppliedAt: &at, AppliedBy: "a@b"},
			{Version: 3, File: "m/3.sql", State: migrate.StateDrifted, AppliedAt: &at, AppliedBy: "a@b"},
			{Version: 4, State: migrate.StateMissing, AppliedAt: &at, AppliedBy: "a@b"},
			{Version: 5, File: "m/5.sql", State: migrate.StatePending},
		}}
	var plain, color bytes.Buffer
	printStatus(&plain, []*migrate.Status{st}, false)
	printStatus(&color, []*migrate.Status{st}, true)
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("colour without a terminal:\n%q", plain.String())
	}
	for state, code := range map[string]string{"dirty": "\x1b[31m", "drifted": "\x1b[33m", "missing": "\x1b[33m", "pending": "\x1b[02m"} {
		if !regexp.MustCompile(regexp.QuoteMeta(code) + `  \d +` + state + ` `).MatchString(color.String()) {
			t.Errorf("%s row not in %q:\n%q", state, code, color.String())
		}
	}
	ansi := regexp.MustCompile("\x1b\\[[0-9]*m")
	if got := ansi.ReplaceAllString(color.String(), ""); got != plain.String() {
		t.Errorf("the coloured table is not the plain one with colours:\n%s\nvs\n%s", got, plain.String())
	}
	zone := at.Local().Format("MST")
	if !strings.Contains(plain.String(), at.Local().Format("2006-01-02 15:04:05")+" "+zone) {
		t.Errorf("applied time without its zone %s:\n%s", zone, plain.String())
	}
}

// TestColorOnlyOnATerminal: NO_COLOR, or a stdout that is not a terminal, means no colour.
func TestColorOnlyOnATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &app{}
	a.raw.Out = f
	t.Setenv("NO_COLOR", "")
	os.Unsetenv("NO_COLOR")
	if a.color() {
		t.Error("colour on a file")
	}
	t.Setenv("NO_COLOR", "1")
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		a.raw.Out = tty
		if a.color() {
			t.Error("colour on a terminal with NO_COLOR set")
		}
	}
}

// TestWriteColumns: the status table's columns are text/tabwriter's (padding 2, widths in runes).
func TestWriteColumns(t *testing.T) {
	rows := [][]string{
		{"\x1b[39m  VERSION", "STATE", "APPLIED AT", "BY", "FILE"},
		{"\x1b[31m  1", "dirty", "2026-11-24 18:35:20 UTC", "ü@host", "m/1.sql\x1b[0m"},
		{"\x1b[39m  20261124153000", "applied", "-", "-", "(no file)\x1b[0m"},
		{"\x1b[02m  3", "pending", "-", "a-much-longer-user@some.host", "m/ünï.sql\x1b[0m"},
	}
	var got, want bytes.Buffer
	writeColumns(&got, rows)
	tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	if got.String() != want.String() {
		t.Errorf("got\n%q\nwant\n%q", got.String(), want.String())
	}
}
