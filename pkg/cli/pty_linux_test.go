//go:build linux

package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// terminal is a pseudo-terminal with brokle running on it, the test at the keyboard: what brokle
// writes is the screen, what the test types goes to brokle's stdin. It answers the cursor
// position queries a real terminal answers (survey asks two before reading an answer).
type terminal struct {
	t      *testing.T
	master *os.File // the test's side
	slave  *os.File // brokle's stdin, stdout and stderr (kept open here to read its mode)
	cmd    *exec.Cmd
	done   chan struct{} // closed when brokle has exited
	code   int

	mu      sync.Mutex
	screen  []byte
	queries int // cursor position queries answered
}

// openPTY opens a new pseudo-terminal pair on /dev/ptmx.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	var n int
	rc, err := master.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err != nil { // unlockpt
				return
			}
			n, err = unix.IoctlGetInt(int(fd), unix.TIOCGPTN) // ptsname
		})
		if err == nil {
			err = cerr
		}
	}
	if err == nil {
		slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	}
	if err == nil {
		err = unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 160})
	}
	if err != nil {
		master.Close()
		if slave != nil {
			slave.Close()
		}
		return nil, nil, err
	}
	return master, slave, nil
}

// startOnTerminal runs brokle args with its stdin, stdout and stderr on a new pseudo-terminal,
// which is its controlling terminal (a session of its own, as a login shell starts a command).
func startOnTerminal(t *testing.T, env []string, args ...string) *terminal {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	term := &terminal{t: t, master: master, slave: slave, done: make(chan struct{})}
	t.Cleanup(func() {
		if term.cmd.ProcessState == nil {
			_ = term.cmd.Process.Kill()
			<-term.done
		}
		master.Close()
		slave.Close()
	})
	cmd := exec.Command("brokle", args...)
	cmd.Env = withEnv(os.Environ(), env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	term.cmd = cmd
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			term.code = ee.ExitCode()
		}
		close(term.done)
	}()
	go term.read()
	return term
}

// read copies brokle's output to the screen and answers each cursor position query.
func (term *terminal) read() {
	buf := make([]byte, 4096)
	for {
		n, err := term.master.Read(buf)
		if n > 0 {
			term.mu.Lock()
			term.screen = append(term.screen, buf[:n]...)
			asked := bytes.Count(term.screen, []byte("\x1b[6n"))
			for ; term.queries < asked; term.queries++ {
				_, _ = term.master.Write([]byte("\x1b[40;160R"))
			}
			term.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// waitFor waits until cond holds of the screen, as the user reads it (see text).
func (term *terminal) waitFor(what string, cond func(screen string) bool) {
	term.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		term.mu.Lock()
		s := text(term.screen)
		term.mu.Unlock()
		if cond(s) {
			return
		}
		select {
		case <-term.done:
			time.Sleep(100 * time.Millisecond) // the last output may still be on its way
			term.mu.Lock()
			s = text(term.screen)
			term.mu.Unlock()
			if cond(s) {
				return
			}
			term.t.Fatalf("brokle exited (%d) before %s; the screen:\n%s", term.code, what, s)
		default:
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("never saw %s; the screen:\n%s", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// raw reports whether the terminal is in the mode survey reads an answer in: no line editing, no
// echo, no signals from keys (Ctrl-C is a byte the prompt reads).
func (term *terminal) raw() bool {
	tio, err := unix.IoctlGetTermios(int(term.slave.Fd()), unix.TCGETS)
	return err == nil && tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) == 0
}

// cooked reports whether the terminal is back in its usual mode: line editing, echo, signals.
func (term *terminal) cooked() bool {
	tio, err := unix.IoctlGetTermios(int(term.slave.Fd()), unix.TCGETS)
	return err == nil && tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) == unix.ICANON|unix.ECHO|unix.ISIG
}

// question waits until brokle asks and reads its answer, and returns the screen so far.
func (term *terminal) question() string {
	term.t.Helper()
	term.waitFor("the question (y/N)", func(s string) bool { return strings.HasSuffix(s, "(y/N) ") })
	deadline := time.Now().Add(20 * time.Second)
	for {
		term.mu.Lock()
		ready := term.queries >= 2
		term.mu.Unlock()
		if ready && term.raw() {
			break
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("the prompt never read an answer (terminal raw: %v)", term.raw())
		}
		time.Sleep(10 * time.Millisecond)
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	return text(term.screen)
}

// typeKeys sends keys as the user types them: "n\r", "y\r", "\x03" (Ctrl-C). On a loaded
// machine the prompt library may still be reading the answer to a cursor position query when
// the keys arrive, and take them for it, as it would a fast typist's: when nothing on the screen
// answers the keys within a few seconds, they are typed again, as the typist would.
func (term *terminal) typeKeys(keys string) {
	term.t.Helper()
	for try := 1; ; try++ {
		term.mu.Lock()
		before := len(term.screen)
		term.mu.Unlock()
		if _, err := term.master.Write([]byte(keys)); err != nil {
			if try == 1 {
				term.t.Fatal(err)
			}
			return // brokle is gone: it answered
		}
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-term.done:
				return
			default:
			}
			term.mu.Lock()
			changed := len(term.screen) != before
			term.mu.Unlock()
			if changed {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		if try == 3 {
			return // wait() says what the screen shows
		}
		term.t.Logf("no answer on the screen to %q within 3 s: typed again", keys)
	}
}

// wait waits for brokle to exit and returns its exit code and the whole screen.
func (term *terminal) wait() (int, string) {
	term.t.Helper()
	select {
	case <-term.done:
	case <-time.After(60 * time.Second):
		_ = term.cmd.Process.Kill()
		term.t.Fatalf("brokle did not exit; the screen:\n%s", term.screenText())
	}
	// Everything brokle wrote is in the terminal's buffer by now; let the reader take it.
	last := -1
	for {
		time.Sleep(50 * time.Millisecond)
		term.mu.Lock()
		n := len(term.screen)
		term.mu.Unlock()
		if n == last {
			break
		}
		last = n
	}
	return term.code, term.screenText()
}

// rawScreen is the screen as brokle wrote it, escape sequences included.
func (term *terminal) rawScreen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return string(term.screen)
}

func (term *terminal) screenText() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return text(term.screen)
}

var ansiEscape = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z]|[78])`)

// text is the screen as characters: escape sequences (cursor moves, colours) taken out and the
// terminal's CR LF line ends read as LF.
func text(screen []byte) string {
	s := ansiEscape.ReplaceAllString(string(screen), "")
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// colours reports whether the screen holds colour (SGR) sequences.
func colours(screen string) bool {
	return regexp.MustCompile(`\x1b\[[0-9;]*m`).MatchString(screen)
}
