package seed

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
)

// parallelMin is the file size from which Parse splits large tables into chunks parsed at once.
const parallelMin = 1 << 20

// parseParallel parses a large file's top-level tables in chunks of rows on every core. Each
// chunk is padded with blank lines so its rows keep their line numbers. It gives up (ok false)
// on anything unusual, and Parse then reads the file whole: that reading is the one that reports
// errors.
func parseParallel(path string, data []byte) (f *File, ok bool) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	type segment struct {
		key        string
		keyLine    int // 0-based
		start, end int // item lines [start, end)
	}
	var segs []segment
	for i, l := range lines {
		if len(l) == 0 || l[0] == ' ' || l[0] == '\t' || l[0] == '#' || l[0] == '\n' || l[0] == '\r' {
			continue
		}
		key, rest, found := strings.Cut(strings.TrimRight(string(l), "\r\n"), ":")
		if !found || strings.TrimSpace(rest) != "" || key == ClickHouseKey || strings.ContainsAny(key, "\"'{[&*!|>%@`") {
			return nil, false
		}
		if n := len(segs); n > 0 {
			segs[n-1].end = i
		}
		segs = append(segs, segment{key: key, keyLine: i, start: i + 1})
	}
	if len(segs) == 0 {
		return nil, false
	}
	segs[len(segs)-1].end = len(lines)

	type chunk struct {
		seg        int
		start, end int
	}
	workers := runtime.GOMAXPROCS(0)
	var chunks []chunk
	for si, sg := range segs {
		itemPrefix := ""
		for i := sg.start; i < sg.end; i++ {
			t := strings.TrimLeft(string(lines[i]), " ")
			if t == "" || t == "\n" || strings.HasPrefix(t, "#") {
				continue
			}
			if !strings.HasPrefix(t, "- ") {
				return nil, false
			}
			itemPrefix = string(lines[i])[:len(lines[i])-len(t)] + "- "
			break
		}
		if itemPrefix == "" || sg.end-sg.start < 2000 {
			chunks = append(chunks, chunk{si, sg.start, sg.end})
			continue
		}
		per := (sg.end - sg.start + workers - 1) / workers
		from := sg.start
		for from < sg.end {
			to := min(from+per, sg.end)
			for to < sg.end && !bytes.HasPrefix(lines[to], []byte(itemPrefix)) {
				to++
			}
			chunks = append(chunks, chunk{si, from, to})
			from = to
		}
	}
	results := make([]*File, len(chunks))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	failed := false
	var mu sync.Mutex
	for ci, c := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var b bytes.Buffer
			b.Write(bytes.Repeat([]byte("\n"), c.start-1))
			b.WriteString(segs[c.seg].key + ":\n")
			for _, l := range lines[c.start:c.end] {
				b.Write(l)
			}
			r, err := parseDoc(path, b.Bytes())
			mu.Lock()
			defer mu.Unlock()
			if err != nil || len(r.Postgres) != 1 {
				failed = true
				return
			}
			results[ci] = r
		}()
	}
	wg.Wait()
	if failed {
		return nil, false
	}
	f = &File{Path: path}
	seen := map[string]bool{}
	var cur *Table
	for ci, c := range chunks {
		t := results[ci].Postgres[0]
		if cur == nil || chunks[ci-1].seg != c.seg {
			if seen[t.Name] {
				return nil, false // a table listed twice: the whole-file reading says where
			}
			seen[t.Name] = true
			cur = &Table{Name: t.Name, Line: segs[c.seg].keyLine + 1}
			f.Postgres = append(f.Postgres, cur)
		}
		cur.Rows = append(cur.Rows, t.Rows...)
	}
	return f, true
}
