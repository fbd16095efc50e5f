// Package lazyre holds regular expressions that are compiled when first used, not when the
// program starts: a brokle command lives for milliseconds, and compiling every package's
// expressions up front cost about half a millisecond of each run, mostly for expressions the
// command never uses.
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use (it panics then if the expression is
// invalid, as regexp.MustCompile does at start-up).
type Regexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

// New returns expr, to be compiled when first used.
func New(expr string) *Regexp { return &Regexp{expr: expr} }

// Get is the compiled expression.
func (r *Regexp) Get() *regexp.Regexp {
	r.once.Do(func() { r.re = regexp.MustCompile(r.expr) })
	return r.re
}

func (r *Regexp) String() string                 { return r.expr }
func (r *Regexp) Match(b []byte) bool            { return r.Get().Match(b) }
func (r *Regexp) MatchString(s string) bool      { return r.Get().MatchString(s) }
func (r *Regexp) FindString(s string) string     { return r.Get().FindString(s) }
func (r *Regexp) FindStringIndex(s string) []int { return r.Get().FindStringIndex(s) }
func (r *Regexp) FindStringSubmatch(s string) []string {
	return r.Get().FindStringSubmatch(s)
}
func (r *Regexp) FindStringSubmatchIndex(s string) []int {
	return r.Get().FindStringSubmatchIndex(s)
}
func (r *Regexp) FindAllStringIndex(s string, n int) [][]int {
	return r.Get().FindAllStringIndex(s, n)
}
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.Get().FindAllStringSubmatch(s, n)
}
func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.Get().ReplaceAllString(src, repl)
}
func (r *Regexp) ReplaceAllStringFunc(src string, repl func(string) string) string {
	return r.Get().ReplaceAllStringFunc(src, repl)
}
