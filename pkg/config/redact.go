package config

import (
	"net/url"
	"regexp"
	"strings"
)

const masked = "***"

var (
	dsnPasswordRE = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)
	// userinfoRE finds scheme://user:password@ in text that does not parse as a URL.
	userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)([^@\s]*)@`)
)

// RedactURL replaces the password of a URL or key=value DSN with ***.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
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
		return strings.ReplaceAll(u.String(), "PASSWORDMASK", masked)
	}
	s = userinfoRE.ReplaceAllString(s, "${1}"+masked+"@")
	return dsnPasswordRE.ReplaceAllString(s, "${1}"+masked)
}

func passwordOf(s string) string {
	if m := userinfoRE.FindStringSubmatch(s); m != nil && m[2] != "" {
		if p, err := url.PathUnescape(m[2]); err == nil {
			return p
		}
		return m[2]
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		if p, ok := u.User.Password(); ok && p != "" {
			return p
		}
		for k, v := range u.Query() {
			if strings.EqualFold(k, "password") && len(v) > 0 && v[0] != "" {
				return v[0]
			}
		}
		return ""
	}
	if m := dsnPasswordRE.FindStringSubmatch(s); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}

// Scrub replaces every secret in text with ***, whatever printed it (a driver's error, say).
func Scrub(text string, secrets []string) string {
	for _, s := range secrets {
		if len(s) < 3 {
			// Too short to tell from ordinary text; such passwords are not shown by brokle's own
			// messages, which print URLs through RedactURL only.
			continue
		}
		text = strings.ReplaceAll(text, s, masked)
		if esc := url.QueryEscape(s); esc != s {
			text = strings.ReplaceAll(text, esc, masked)
		}
	}
	return text
}
