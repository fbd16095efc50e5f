package seed

import (
	"context"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgconn"
)

// copyChunk is the size of the pieces of COPY text a producer hands to the connection: a few of
// them are all the memory a COPY of any number of rows takes.
const copyChunk = 256 << 10

// copyStream is the reader pgconn's CopyFrom sends from. A producer goroutine reads the seed and
// writes COPY text into it chunk by chunk, so reading the file, sending and the server's work
// overlap.
type copyStream struct {
	full chan []byte
	free chan []byte
	stop chan struct{} // closed when the COPY is over: the producer gives up
	done chan struct{} // closed when the producer has returned
	cur  []byte        // what Read has not handed out yet, of chunk
	buf  []byte
	err  error // the producer's, set before full is closed
}

// errCopyStopped: the COPY ended (the server refused a row) before the producer was done.
var errCopyStopped = errors.New("copy stopped")

// copyWriter is the producer's side: it appends a row's text to buf, then calls rowDone.
type copyWriter struct {
	s   *copyStream
	buf []byte
}

func (w *copyWriter) rowDone() error {
	if len(w.buf) < copyChunk {
		return nil
	}
	select {
	case w.s.full <- w.buf:
	case <-w.s.stop:
		return errCopyStopped
	}
	select {
	case b := <-w.s.free:
		w.buf = b[:0]
	default:
		w.buf = make([]byte, 0, copyChunk+copyChunk/4)
	}
	return nil
}

func startCopy(produce func(*copyWriter) error) *copyStream {
	s := &copyStream{full: make(chan []byte, 2), free: make(chan []byte, 4), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		w := &copyWriter{s: s, buf: make([]byte, 0, copyChunk+copyChunk/4)}
		err := produce(w)
		if err == nil && len(w.buf) > 0 {
			select {
			case s.full <- w.buf:
			case <-s.stop:
				err = errCopyStopped
			}
		}
		s.err = err
		close(s.full)
	}()
	return s
}

func (s *copyStream) Read(p []byte) (int, error) {
	for len(s.cur) == 0 {
		if s.buf != nil {
			select {
			case s.free <- s.buf:
			default:
			}
			s.buf = nil
		}
		b, ok := <-s.full
		if !ok {
			if s.err != nil {
				return 0, s.err
			}
			return 0, io.EOF
		}
		s.buf, s.cur = b, b
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}

// copyFrom runs one COPY ... FROM STDIN whose rows produce writes. An error of the producer's
// (a value it cannot write) comes before the server's.
func copyFrom(ctx context.Context, conn *pgconn.PgConn, sql string, produce func(*copyWriter) error) (int64, error) {
	s := startCopy(produce)
	tag, err := conn.CopyFrom(ctx, s, sql)
	close(s.stop)
	<-s.done
	if s.err != nil && s.err != errCopyStopped {
		return 0, s.err
	}
	return tag.RowsAffected(), err
}
