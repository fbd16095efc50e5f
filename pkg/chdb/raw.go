package chdb

import (
	"runtime"
	"unsafe"
)

// rawResult is one chdb_result copied into Go memory.
type rawResult struct {
	data      []byte
	errMsg    string
	hasErr    bool
	elapsed   float64
	rowsRead  uint64
	bytesRead uint64
}

// cArgv builds a NUL-terminated argv in Go memory and pins it; the caller
// unpins (after the C call, or later if the library may keep it).
func cArgv(args []string, pin *runtime.Pinner) unsafe.Pointer {
	ptrs := make([]unsafe.Pointer, len(args)+1)
	for i, a := range args {
		b := make([]byte, len(a)+1)
		copy(b, a)
		pin.Pin(&b[0])
		ptrs[i] = unsafe.Pointer(&b[0])
	}
	pin.Pin(&ptrs[0])
	return unsafe.Pointer(&ptrs[0])
}

// rawQuery runs one query through chdb_query_n on conn (a chdb_connection,
// i.e. *connp) and copies the result out.
func (l *lib) rawQuery(conn unsafe.Pointer, query, format string) rawResult {
	q := make([]byte, len(query)+1)
	copy(q, query)
	f := make([]byte, len(format)+1)
	copy(f, format)
	var pin runtime.Pinner
	pin.Pin(&q[0])
	pin.Pin(&f[0])
	r := l.queryN(conn, unsafe.Pointer(&q[0]), uintptr(len(query)), unsafe.Pointer(&f[0]), uintptr(len(format)))
	pin.Unpin()
	var out rawResult
	if r == nil {
		out.hasErr = true
		out.errMsg = "libchdb returned no result"
		return out
	}
	defer l.destroy(r)
	if e := l.resultError(r); e != nil {
		out.hasErr = true
		out.errMsg = goString(e)
	}
	if n := l.resultLength(r); n > 0 {
		if b := l.resultBuffer(r); b != nil {
			out.data = make([]byte, n)
			copy(out.data, unsafe.Slice((*byte)(b), n))
		}
	}
	out.elapsed = l.resultElapse(r)
	out.rowsRead = l.resultRows(r)
	out.bytesRead = l.resultBytes(r)
	return out
}
