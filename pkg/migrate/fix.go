package migrate

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// Rename is one file fix renames: a timestamp version becomes the next sequential one.
type Rename struct {
	From       string `json:"from"` // paths as the folder is displayed
	To         string `json:"to"`
	OldVersion int64  `json:"old_version"`
	NewVersion int64  `json:"new_version"`
}

// PlanFix renumbers the timestamp versions of a folder (20260102150405_x.sql) into the next
// sequential versions after the highest sequential one, oldest timestamp first, as goose fix
// does; a pair's two files are renamed together. dir is the folder on disk, display how it is
// named in messages; src is the folder as loaded (so what is renamed is what brokle reads).
func PlanFix(dir, display string, src *Source) []Rename {
	var maxSeq int64
	width := 6
	var stamps []*Migration
	for _, m := range src.Migrations {
		digits := leadingDigits(path.Base(m.File()))
		if IsTimestamp(digits) {
			stamps = append(stamps, m)
			continue
		}
		maxSeq = max(maxSeq, m.Version)
		width = max(width, len(digits))
	}
	slices.SortFunc(stamps, func(a, b *Migration) int { return cmpInt64(a.Version, b.Version) })
	var out []Rename
	next := maxSeq + 1
	for _, m := range stamps {
		for _, f := range m.Files {
			base := path.Base(f)
			digits := leadingDigits(base)
			to := fmt.Sprintf("%0*d", width, next) + base[len(digits):]
			out = append(out, Rename{From: path.Join(display, base), To: path.Join(display, to), OldVersion: m.Version, NewVersion: next})
		}
		next++
	}
	return out
}

func leadingDigits(name string) string {
	i := 0
	for i < len(name) && name[i] >= '0' && name[i] <= '9' {
		i++
	}
	return name[:i]
}

// ApplyFix renames the files of a plan in dir; a file already at a new name stops it before
// anything is renamed. done is how many renames took effect.
func ApplyFix(dir string, plan []Rename) (done int, err error) {
	for _, r := range plan {
		to := filepath.Join(dir, path.Base(r.To))
		if _, err := os.Lstat(to); err == nil {
			return 0, &ErrInput{Msg: fmt.Sprintf("fix: %s already exists: rename or remove it, then run fix again", r.To)}
		} else if !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("fix: %s: %w", r.To, err)
		}
	}
	for _, r := range plan {
		if err := os.Rename(filepath.Join(dir, path.Base(r.From)), filepath.Join(dir, path.Base(r.To))); err != nil {
			return done, fmt.Errorf("fix: rename %s to %s: %w (%d of %d file(s) renamed)", r.From, r.To, err, done, len(plan))
		}
		done++
	}
	return done, nil
}
