// Package scrub keeps secrets out of everything brokle prints. One Scrubber knows every
// configured secret in every form it can take in text (raw, percent-encoded, JSON- or
// Go-quoted, DSN-quoted, its parts split at whitespace) and masks any run of six or more
// characters of any of those forms, so a password cannot leak whole or in pieces, whichever code
// path printed it. Every output stream of a run is wrapped in its Writer.
package scrub

import (
	"encoding/json"
	"html"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mask replaces what is scrubbed.
const Mask = "***"

// Window is the length, in characters, of the shortest piece of a secret that is masked wherever
// it appears. Secrets shorter than that are masked only where they appear whole.
const Window = 6

// minWhole is the shortest secret masked where it appears whole: shorter ones are too likely to be
// ordinary text, and brokle's own messages never print a password in the first place.
const minWhole = 3

// Scrubber masks known secrets in text. The zero value is not usable: call New.
type Scrubber struct {
	mu      sync.RWMutex
	secrets map[string]bool
	// contexts mask secrets too short to mask wherever they appear, where a secret sits: in a
	// URL's userinfo or after password=.
	contexts *strings.Replacer
	ctxPairs []string
	whole    []string            // forms shorter than Window, masked where they appear whole
	windows  map[string]struct{} // every Window-character piece of every longer form
}

// New returns a scrubber that knows secrets.
func New(secrets ...string) *Scrubber {
	s := &Scrubber{secrets: map[string]bool{}, windows: map[string]struct{}{}}
	for _, sec := range secrets {
		s.Add(sec)
	}
	return s
}

// Add teaches the scrubber a secret, in every form it can take in text.
func (s *Scrubber) Add(secret string) {
	if secret == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets[secret] {
		return
	}
	s.secrets[secret] = true
	for _, f := range []string{secret, strings.TrimPrefix(url.UserPassword("u", secret).String(), "u:")} {
		s.ctxPairs = append(s.ctxPairs, ":"+f+"@", ":"+Mask+"@", "password="+f+" ", "password="+Mask+" ",
			"password='"+f+"'", "password="+Mask, "password="+f+"\n", "password="+Mask+"\n")
	}
	s.contexts = strings.NewReplacer(s.ctxPairs...)
	if utf8.RuneCountInString(secret) < minWhole {
		return
	}
	for _, f := range forms(secret) {
		if utf8.RuneCountInString(f) < Window {
			if utf8.RuneCountInString(f) >= minWhole && !contains(s.whole, f) {
				s.whole = append(s.whole, f)
			}
			continue
		}
		for i := range f {
			if w, ok := window(f[i:]); ok {
				s.windows[w] = struct{}{}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// forms are the ways a secret can be written out: as is, percent-encoded for a URL's userinfo
// or query, quoted for JSON or Go, quoted for a libpq key=value DSN, escaped for XML. A piece of
// any of them (such as one word of a password with spaces, printed by a tokenizer that split it)
// is masked by the windows.
func forms(secret string) []string {
	out := []string{secret, url.QueryEscape(secret), url.PathEscape(secret),
		strings.TrimPrefix(url.UserPassword("u", secret).String(), "u:"), html.EscapeString(secret)}
	if b, err := json.Marshal(secret); err == nil {
		out = append(out, strings.Trim(string(b), `"`))
	}
	out = append(out, strings.Trim(strconv.Quote(secret), `"`))
	return append(out, strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(secret))
}

// window returns the first Window characters of s.
func window(s string) (string, bool) {
	n, i := 0, 0
	for i < len(s) && n < Window {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i], n == Window
}

// Empty reports whether the scrubber knows no secret.
func (s *Scrubber) Empty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.secrets) == 0
}

// String masks every known secret, and every piece of one, in text.
func (s *Scrubber) String(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.secrets) == 0 {
		return text
	}
	if s.contexts != nil {
		text = s.contexts.Replace(text)
	}
	var mask []bool // byte positions to mask, made on the first hit
	mark := func(from, to int) {
		if mask == nil {
			mask = make([]bool, len(text))
		}
		for i := from; i < to; i++ {
			mask[i] = true
		}
	}
	if len(s.windows) > 0 {
		for i := range text {
			w, ok := window(text[i:])
			if !ok {
				break
			}
			if _, hit := s.windows[w]; hit && !s.ownWordAt(text, i, i+len(w)) {
				mark(i, i+len(w))
			}
		}
	}
	for _, f := range s.whole {
		for from := 0; ; {
			j := strings.Index(text[from:], f)
			if j < 0 {
				break
			}
			if !s.ownWordAt(text, from+j, from+j+len(f)) {
				mark(from+j, from+j+len(f))
			}
			from += j + len(f)
		}
	}
	if mask == nil {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		if !mask[i] {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteString(Mask)
		for i < len(text) && mask[i] {
			i++
		}
	}
	return b.String()
}

// ownWords are words brokle itself prints whatever the secrets (its tables, services and
// document fields): a piece of a secret found inside one of them is brokle's text, not the
// secret's, and is left alone, unless the word is the whole secret.
var ownWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`postgres postgresql clickhouse redis brokle
		brokle_schema_migrations brokle_migration_lock brokle_migration_audit brokle_migrations
		migrations migration migrations_dir applied applied_at applied_by pending dirty drifted
		missing version versions database databases dotenv_file environment environments
		project_root history_table checksum duration_ms from_version to_version direction
		statements source built_in source_note warnings schema default public system`) {
		ownWords[w] = true
	}
}

// ownWordAt reports whether text[from:to], a hit, lies inside one of brokle's own words (the
// whole run of letters, digits and underscores around it) that is not itself a secret.
func (s *Scrubber) ownWordAt(text string, from, to int) bool {
	isWord := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
	}
	for from > 0 && isWord(text[from-1]) {
		from--
	}
	for to < len(text) && isWord(text[to]) {
		to++
	}
	w := text[from:to]
	return ownWords[w] && !s.secrets[w]
}

// Writer is an output stream that masks secrets. It holds back an unfinished line (a secret
// split across two writes is still seen whole) until a newline, Flush, or a write that leaves a
// prompt waiting (Prompt). A failed write (a closed pipe) stops output for good, silently, and
// never the work: output errors are not the run's.
type Writer struct {
	mu     sync.Mutex
	s      *Scrubber
	w      io.Writer
	buf    []byte
	failed bool
	err    error
}

// NewWriter wraps w.
func (s *Scrubber) NewWriter(w io.Writer) *Writer { return &Writer{s: s, w: w} }

// Write buffers p and writes out every finished line, scrubbed. It never fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if i := strings.LastIndexByte(string(w.buf), '\n'); i >= 0 {
		w.emit(w.buf[:i+1])
		w.buf = append(w.buf[:0], w.buf[i+1:]...)
	}
	return len(p), nil
}

// Flush writes out what is held back.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *Writer) emit(p []byte) {
	if w.failed {
		return
	}
	if _, err := io.WriteString(w.w, w.s.String(string(p))); err != nil {
		w.failed, w.err = true, err
	}
}

// Failed reports whether output stopped because a write failed.
func (w *Writer) Failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// Err is the write error that stopped output, nil while output goes on.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Underlying is the stream Writer writes to (for terminal checks).
func (w *Writer) Underlying() io.Writer { return w.w }

// WriteJSON writes an encoded JSON document (one or more values) through w, its string values
// scrubbed and its keys left as brokle wrote them: a key of lower-case letters, digits and
// underscores is a field name of brokle's documents (docs/json.md), never data, and masking a
// piece of it ("***_at" for a password "applied_at") would break the document's shape. Any
// other key is scrubbed like a value.
func (w *Writer) WriteJSON(doc []byte) (int, error) {
	w.Flush() // what went before, in order
	out := make([]byte, 0, len(doc))
	for i := 0; i < len(doc); {
		c := doc[i]
		if c != '"' {
			out = append(out, c)
			i++
			continue
		}
		end := i + 1
		for end < len(doc) && doc[end] != '"' {
			if doc[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(doc) {
			out = append(out, doc[i:]...)
			break
		}
		lit := doc[i : end+1]
		j := end + 1
		for j < len(doc) && (doc[j] == ' ' || doc[j] == '\n' || doc[j] == '\t' || doc[j] == '\r') {
			j++
		}
		var s string
		if j < len(doc) && doc[j] == ':' && fieldName(lit) || json.Unmarshal(lit, &s) != nil {
			out = append(out, lit...)
		} else if masked := w.s.String(s); masked == s {
			out = append(out, lit...)
		} else {
			q, _ := json.Marshal(masked)
			out = append(out, q...)
		}
		i = end + 1
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.failed {
		if _, err := w.w.Write(out); err != nil {
			w.failed, w.err = true, err
		}
	}
	return len(doc), nil
}

// fieldName reports whether a quoted JSON string is a field name of brokle's own.
func fieldName(lit []byte) bool {
	if len(lit) < 3 {
		return false
	}
	for _, c := range lit[1 : len(lit)-1] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
