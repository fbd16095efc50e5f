package lazyre

import "testing"

func TestLazy(t *testing.T) {
	r := New(`^(\d+)_(.*)$`)
	if r.re != nil {
		t.Fatal("compiled before use")
	}
	if got := r.FindStringSubmatch("12_ab"); len(got) != 3 || got[2] != "ab" {
		t.Fatalf("got %q", got)
	}
	if !r.MatchString("1_x") || r.MatchString("x") || r.ReplaceAllString("7_y", "$2") != "y" {
		t.Fatal("methods disagree with regexp")
	}
}
