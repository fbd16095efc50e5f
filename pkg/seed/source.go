package seed

import (
	"bytes"
	"io"
	"os"

	"github.com/brokle-ai/brokle/pkg/config"
)

// Source is a seed's text, read in pieces when needed: a seed file on disk is never held whole in
// memory, so seeding a million rows takes the memory a thousand take. *bytes.Reader (a seed built
// into the binary, a test's text) and *io.SectionReader are Sources.
type Source interface {
	io.ReaderAt
	Size() int64
}

// FileSource is a seed file opened for ParseSource; close it once the seed is written.
type FileSource struct {
	*io.SectionReader
	f *os.File
}

// BytesSource is a seed's text in memory (built into the binary) as a FileSource.
func BytesSource(data []byte) *FileSource {
	return &FileSource{SectionReader: io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data)))}
}

// Close closes the file.
func (s *FileSource) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// OpenFile opens a seed file. It must be a regular file: a FIFO or a device would block or never
// end (config.OpenRegular's checks, the ones the config and migration files get).
func OpenFile(path string) (*FileSource, error) {
	f, size, err := config.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	return &FileSource{SectionReader: io.NewSectionReader(f, 0, size), f: f}, nil
}

// readAll reads a whole Source (for the YAML parser, which needs the document in memory).
func readAll(src Source) ([]byte, error) {
	data := make([]byte, src.Size())
	n, err := src.ReadAt(data, 0)
	if err == io.EOF && int64(n) == src.Size() {
		err = nil
	}
	return data[:n], err
}

// lineReader reads the lines of a byte range of a Source through a fixed buffer. A line returned
// is valid until the next call.
type lineReader struct {
	src      Source
	off, end int64 // the next read and the end of the range
	buf      []byte
	r, w     int // unread data: buf[r:w]
	lineNo   int // of the line last returned
	lineOff  int64
	err      error
}

const readChunk = 256 << 10

func newLineReader(src Source, from, to int64, firstLine int, buf []byte) *lineReader {
	if buf == nil {
		buf = make([]byte, min(readChunk, max(to-from, 4<<10)))
	}
	return &lineReader{src: src, off: from, end: to, buf: buf[:cap(buf)], lineNo: firstLine - 1}
}

// next returns the next line without its line break, and the file offset where it starts; ok is
// false at the end of the range (or on a read error, kept in err).
func (lr *lineReader) next() (line []byte, ok bool) {
	for {
		if i := bytes.IndexByte(lr.buf[lr.r:lr.w], '\n'); i >= 0 {
			line = lr.buf[lr.r : lr.r+i]
			lr.lineOff = lr.off - int64(lr.w-lr.r)
			lr.r += i + 1
			lr.lineNo++
			return line, true
		}
		if lr.off >= lr.end || lr.err != nil {
			if lr.r < lr.w { // the last line has no line break
				line = lr.buf[lr.r:lr.w]
				lr.lineOff = lr.off - int64(lr.w-lr.r)
				lr.r = lr.w
				lr.lineNo++
				return line, true
			}
			return nil, false
		}
		if lr.r > 0 { // keep the partial line, make room behind it
			lr.w = copy(lr.buf, lr.buf[lr.r:lr.w])
			lr.r = 0
		}
		if lr.w == len(lr.buf) { // a line longer than the buffer
			lr.buf = append(lr.buf, make([]byte, len(lr.buf))...)
			lr.buf = lr.buf[:cap(lr.buf)]
		}
		n := len(lr.buf) - lr.w
		if rest := lr.end - lr.off; int64(n) > rest {
			n = int(rest)
		}
		got, err := lr.src.ReadAt(lr.buf[lr.w:lr.w+n], lr.off)
		lr.w += got
		lr.off += int64(got)
		if err != nil && !(err == io.EOF && got == n) {
			if got == 0 {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF // the file got shorter
				}
				lr.err = err
			}
		}
	}
}
