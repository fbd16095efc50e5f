// Package prompt asks for confirmation before destructive commands: on a terminal it asks, with
// --yes it goes ahead, and with neither it refuses.
package prompt

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
	"golang.org/x/term"
)

// ErrRefused is returned when the user answers no.
var ErrRefused = errors.New("cancelled: nothing was changed")

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

// Confirm returns nil when the action may go ahead.
func Confirm(s Streams, yes bool, action, question string) error {
	if yes {
		return nil
	}
	if !IsTerminal(s.In, s.Err) {
		return &ErrNoTerminal{Action: action}
	}
	ok := false
	in, _ := s.In.(*os.File)
	out, _ := s.Err.(*os.File)
	err := survey.AskOne(&survey.Confirm{Message: question, Default: false}, &ok,
		survey.WithStdio(in, out, out))
	if errors.Is(err, terminal.InterruptErr) || (err == nil && !ok) {
		return ErrRefused
	}
	return err
}
