package scrub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// RandomPassword draws a password from printable ASCII and some Unicode, always holding
// characters that URLs, DSNs, JSON and shells treat specially.
func randomPassword(r *rand.Rand) string {
	const specials = " @/:%#?&='\"\\"
	pool := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$()*+,-.;<>[]^_`{|}~" + specials + "éüßΩ中文😀")
	n := 6 + r.IntN(18)
	out := make([]rune, n)
	for i := range out {
		out[i] = pool[r.IntN(len(pool))]
	}
	out[r.IntN(n)] = rune(specials[r.IntN(len(specials))])
	return string(out)
}

// Leaks reports the first piece of secret that text shows: the whole secret, or any run of
// Window characters of it.
func leaks(text, secret string) string {
	if strings.Contains(text, secret) {
		return secret
	}
	rs := []rune(secret)
	for i := 0; i+Window <= len(rs); i++ {
		if w := string(rs[i : i+Window]); strings.Contains(text, w) {
			return w
		}
	}
	return ""
}

// TestScrubRandomPasswords: whatever form a random password is printed in (raw, in a URL,
// percent-encoded, in JSON, Go-quoted, in a DSN, inside a longer line, split across writes), the
// scrubbed text shows neither it nor any six characters of it.
func TestScrubRandomPasswords(t *testing.T) {
	seed := uint64(20261125)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := 0; i < 2000; i++ {
		pw := randomPassword(r)
		s := New(pw)
		js, _ := json.Marshal(map[string]string{"error": "auth failed for " + pw})
		texts := []string{
			pw,
			"error: connect to postgres://u:" + pw + "@h/db failed",
			"postgres://u:" + url.QueryEscape(pw) + "@h/db",
			(&url.URL{Scheme: "postgres", User: url.UserPassword("u", pw), Host: "h", Path: "/db"}).String(),
			string(js),
			fmt.Sprintf("parse %q: bad", pw),
			"host=h password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "' dbname=d",
			"prefix" + pw[len(pw)/2:] + "suffix",
			strconv.Quote(pw),
		}
		for _, text := range texts {
			got := s.String(text)
			if w := leaks(got, pw); w != "" && utf8.RuneCountInString(w) >= Window {
				t.Fatalf("password %q: %q still shows %q after scrubbing: %q", pw, text, w, got)
			}
		}
		// Through a Writer, split at every byte.
		var out bytes.Buffer
		w := s.NewWriter(&out)
		line := "password is " + pw + " ok\n"
		for j := 0; j < len(line); j++ {
			w.Write([]byte{line[j]})
		}
		w.Flush()
		if l := leaks(out.String(), pw); l != "" {
			t.Fatalf("password %q leaked through a split write: %q", pw, out.String())
		}
	}
}

// TestScrubLeavesOrdinaryText: text without a secret comes out as it went in.
func TestScrubLeavesOrdinaryText(t *testing.T) {
	s := New("Xq7#kP2@vL9")
	for _, text := range []string{"postgres at localhost:5432/brokle: server 15.2", "", "éü 中文 ok\n", "a Xq7 b"} {
		if got := s.String(text); got != text {
			t.Errorf("%q became %q", text, got)
		}
	}
	if got := s.String("x Xq7#kP2@vL9 y"); got != "x *** y" {
		t.Errorf("the whole secret: %q", got)
	}
	if got := New("ab").String("ab cd"); got != "ab cd" {
		t.Errorf("a two-character secret is too short to tell from text: %q", got)
	}
	// ... but where a password sits, it is masked however short.
	for in, want := range map[string]string{
		"postgres://postgres:xy@h:5432/db": "postgres://postgres:***@h:5432/db",
		"host=h password=xy dbname=d":      "host=h password=*** dbname=d",
		"host=h password='xy' dbname=d":    "host=h password=*** dbname=d",
	} {
		if got := New("xy").String(in); got != want {
			t.Errorf("%q became %q, want %q", in, got, want)
		}
	}
}

// TestWriterKeepsGoingAfterAFailedWrite: a closed pipe stops output, not the caller.
func TestWriterKeepsGoingAfterAFailedWrite(t *testing.T) {
	w := New().NewWriter(failing{})
	if n, err := w.Write([]byte("line\n")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if !w.Failed() {
		t.Fatal("the failure was not noticed")
	}
	if _, err := w.Write([]byte("more\n")); err != nil {
		t.Fatal(err)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, fmt.Errorf("broken pipe") }

// TestOwnWordsAndJSONFields: a password that is, or shares six characters with, a word brokle
// prints itself (a table, a service, a document field) leaves that word alone where it is
// brokle's, and is still masked where it appears itself; JSON field names are never masked, JSON
// values are.
func TestOwnWordsAndJSONFields(t *testing.T) {
	for _, c := range []struct{ secret, text, want string }{
		{"brokle", `CREATE TABLE "public"."brokle_schema_migrations"`, `CREATE TABLE "public"."brokle_schema_migrations"`},
		{"postgres123", "postgres at 127.0.0.1:5432/x", "postgres at 127.0.0.1:5432/x"},
		{"postgres123", "password postgres123 refused", "password *** refused"},
		{"postgres", "postgres at h", "*** at h"}, // the word is the secret: masked
		{"applied_at", "applied_at applied_by", "*** applied_by"},
		{"xapplied_y", "applied_at", "applied_at"},
		{"s3cretPostgresPW", "url postgres://u:s3cretPostgresPW@h/db", "url postgres://u:***@h/db"},
		{"s3cretPostgresPW", "stgresP in a word: postgresPW", "*** in a word: p***"},
	} {
		if got := New(c.secret).String(c.text); got != c.want {
			t.Errorf("secret %q: %q -> %q, want %q", c.secret, c.text, got, c.want)
		}
	}
	var out bytes.Buffer
	w := New("applied_at").NewWriter(&out)
	doc := "{\n  \"applied_at\": \"2026-11-25\",\n  \"note\": \"password applied_at\",\n  \"a.b\": \"x\",\n  \"Odd applied_at\": 1\n}\n"
	if _, err := w.WriteJSON([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"applied_at\": \"2026-11-25\",\n  \"note\": \"password ***\",\n  \"a.b\": \"x\",\n  \"Odd ***\": 1\n}\n"
	if out.String() != want {
		t.Errorf("JSON scrubbed to\n%s\nwant\n%s", out.String(), want)
	}
	var v any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Errorf("not JSON any more: %v", err)
	}
}
