// Package target turns each service's configured URL into one value that every command uses: to
// connect, to show an address (never a password), to build a client's environment, to create or
// drop the database. A URL is parsed once, here, and what is incomplete is refused here: an empty
// URL means the service is not configured, a URL without a database name is refused, and nothing
// is filled in from libpq's defaults, PG* variables or the OS user.
package target

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/brokle-ai/brokle/internal/lazyre"
)

// Origin says which setting a URL came from and where that setting was made.
type Origin struct {
	Key    string // the configuration key: postgres.url
	Source string // where it was set: flag --postgres-url, env BROKLE_POSTGRES_URL, file configs/brokle.yaml, default
}

func (o Origin) String() string {
	if o.Source == "" {
		return o.Key
	}
	return fmt.Sprintf("%s (from %s)", o.Key, o.Source)
}

// Error is a URL that cannot be used. It names the setting and where it was made, and says why;
// it never repeats the URL, which may hold a password.
type Error struct {
	Origin Origin
	Msg    string
	// NotConfigured: the URL is empty, so the service is not configured.
	NotConfigured bool
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Origin, e.Msg) }

func errorf(o Origin, format string, args ...any) error {
	return &Error{Origin: o, Msg: fmt.Sprintf(format, args...)}
}

func notConfigured(o Origin, service string) error {
	return &Error{Origin: o, NotConfigured: true,
		Msg: fmt.Sprintf("empty: %s is not configured; set %s (or pass --%s)", service, o.Key, strings.ReplaceAll(o.Key, ".", "-"))}
}

// urlReason explains, without quoting the URL, why net/url refused it.
func urlReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "invalid URL escape"):
		return "not a valid URL: a % that is not followed by two hex digits (write a literal % in a password as %25)"
	case strings.Contains(msg, "invalid port"):
		return "not a valid URL: the port is not a number (a password holding / ? # or @ must be percent-encoded)"
	case strings.Contains(msg, "invalid userinfo"), strings.Contains(msg, "invalid character"):
		return "not a valid URL: the user or password holds a character that must be percent-encoded (space / ? # % and others)"
	case strings.Contains(msg, "missing protocol scheme"):
		return "not a valid URL: no scheme"
	}
	return "not a valid URL"
}

// parseURL parses u with net/url, refusing what cannot hold a usable address.
func parseURL(raw string, o Origin) (*url.URL, error) {
	if strings.ContainsAny(raw, "\r\n\x00") {
		return nil, errorf(o, "not a valid URL: it holds a line break or NUL character")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errorf(o, "%s", urlReason(err))
	}
	if u.Opaque != "" {
		return nil, errorf(o, "not a valid URL: want %s://user@host:port/database", u.Scheme)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, errorf(o, "not a valid URL: it holds a # (a password holding # must write it as %%23)")
	}
	return u, nil
}

// userinfo returns the URL's user and password.
func userinfo(u *url.URL) (user, password string) {
	if u.User == nil {
		return "", ""
	}
	p, _ := u.User.Password()
	return u.User.Username(), p
}

var (
	userinfoHeuristicRE = lazyre.New(`^[A-Za-z][A-Za-z0-9+.-]*://(.*)@`)
	queryPasswordRE     = lazyre.New(`(?i)[?&]password=([^&]*)`)
)

// SecretsOf returns what in a raw URL or DSN may be a secret, also when it does not parse: the
// password, its decoded and raw forms, and for a URL that does not parse, everything between
// "user:" and the last "@", so that no code path can print a piece of it.
func SecretsOf(raw string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if d, err := url.PathUnescape(s); err == nil && d != s {
			out = append(out, d)
		}
		if d, err := url.QueryUnescape(s); err == nil && d != s {
			out = append(out, d)
		}
	}
	if m := userinfoHeuristicRE.FindStringSubmatch(raw); m != nil {
		if _, pw, ok := strings.Cut(m[1], ":"); ok {
			add(pw)
		}
	}
	if u, err := url.Parse(raw); err == nil {
		if _, pw := userinfo(u); pw != "" {
			add(pw)
		}
	}
	for _, m := range queryPasswordRE.FindAllStringSubmatch(raw, -1) {
		add(m[1])
	}
	for _, loc := range dsnPasswordKeyRE.FindAllStringIndex(raw, -1) {
		for _, v := range dsnValues(raw[loc[1]:]) {
			add(v)
		}
	}
	return out
}

var (
	dsnPasswordKeyRE = lazyre.New(`(?i)\bpassword\s*=\s*`)
	dsnNextKeyRE     = lazyre.New(`\s+[A-Za-z_]+\s*=`)
)

// dsnValues reads the value at the start of s every way a DSN's value can be read: libpq's
// (quoted with \' and \\, or unquoted with \ escapes), and everything up to the next key=, so a
// value that breaks the rules still counts whole.
func dsnValues(s string) []string {
	var out []string
	if next := dsnNextKeyRE.FindStringIndex(s); next != nil {
		out = append(out, s[:next[0]])
	} else {
		out = append(out, strings.TrimRight(s, " \t\r\n"))
	}
	var b strings.Builder
	if strings.HasPrefix(s, "'") {
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			} else if s[i] == '\'' {
				break
			}
			b.WriteByte(s[i])
		}
	} else {
		for i := 0; i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
	}
	out = append(out, b.String(), strings.Trim(out[0], "'"))
	return out
}

// Redact replaces the password of a URL or key=value DSN with ***, also when it does not parse.
func Redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" && !strings.ContainsAny(raw, " \t") {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "PASSWORDMASK")
		}
		q := u.Query()
		changed := false
		for k := range q {
			if strings.EqualFold(k, "password") {
				q.Set(k, "PASSWORDMASK")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
		return strings.ReplaceAll(u.String(), "PASSWORDMASK", "***")
	}
	if m := userinfoHeuristicRE.FindStringSubmatchIndex(raw); m != nil {
		info := raw[m[2]:m[3]]
		if user, _, ok := strings.Cut(info, ":"); ok {
			raw = raw[:m[2]] + user + ":***" + raw[m[3]:]
		}
	}
	raw = queryPasswordRE.ReplaceAllStringFunc(raw, func(s string) string { return s[:strings.Index(s, "=")+1] + "***" })
	if loc := dsnPasswordKeyRE.FindStringIndex(raw); loc != nil {
		rest := raw[loc[1]:]
		end := len(rest)
		if next := dsnNextKeyRE.FindStringIndex(rest); next != nil {
			end = next[0]
		}
		return raw[:loc[0]] + "password=***" + Redact(rest[end:])
	}
	return raw
}
