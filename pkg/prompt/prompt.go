// Package prompt asks for confirmation before destructive commands: on a terminal it asks, with
// --yes it goes ahead, and with neither it refuses.
package prompt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
	"golang.org/x/term"
)

// ErrRefused is returned when the user answers no, or presses Ctrl-C at the question.
var ErrRefused = errors.New("cancelled: nothing was changed")

// ErrInterrupted is returned when the run's context ends (SIGINT or SIGTERM from elsewhere)
// while the question waits: the terminal is given back as it was, and nothing was changed.
var ErrInterrupted = errors.New("interrupted at the prompt: nothing was changed")

// ErrNoTerminal is returned when confirmation is needed, there is no terminal to ask on and
// --yes was not given.
type ErrNoTerminal struct{ Action string }

func (e *ErrNoTerminal) Error() string {
	return fmt.Sprintf("refusing to %s without confirmation: no terminal to ask on; pass --yes", e.Action)
}

// Streams are the command's standard streams.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// IsTerminal reports whether r and w are both a terminal (os.File on a tty).
func IsTerminal(r io.Reader, w io.Writer) bool {
	fi, ok := r.(*os.File)
	if !ok || !term.IsTerminal(int(fi.Fd())) {
		return false
	}
	fo, ok := w.(*os.File)
	return ok && term.IsTerminal(int(fo.Fd()))
}

// Confirm returns nil when the action may go ahead: --yes, or "y" typed at the question, which is
// asked on s.In and s.Err (both a terminal). "n", Enter or Ctrl-C is ErrRefused; ctx ending while
// the question waits is ErrInterrupted, with the terminal's mode restored.
func Confirm(ctx context.Context, s Streams, yes bool, action, question string) error {
	if yes {
		return nil
	}
	if !IsTerminal(s.In, s.Err) {
		return &ErrNoTerminal{Action: action}
	}
	in, _ := s.In.(*os.File)
	out, _ := s.Err.(*os.File)
	// survey puts the terminal in raw mode while it reads and restores it when the read returns;
	// a read that never returns (the run interrupted) is restored from this state.
	state, _ := term.GetState(int(in.Fd()))
	type answer struct {
		ok  bool
		err error
	}
	done := make(chan answer, 1)
	go func() {
		ok := false
		err := survey.AskOne(&survey.Confirm{Message: question, Default: false}, &ok,
			survey.WithStdio(in, out, out))
		done <- answer{ok, err}
	}()
	select {
	case a := <-done:
		if errors.Is(a.err, terminal.InterruptErr) || (a.err == nil && !a.ok) {
			return ErrRefused
		}
		return a.err
	case <-ctx.Done():
		if state != nil {
			_ = term.Restore(int(in.Fd()), state)
		}
		fmt.Fprintln(out)
		return ErrInterrupted
	}
}
