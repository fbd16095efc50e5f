package chconn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	chdriver "github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/brokle-ai/brokle/pkg/target"
)

// server is a ClickHouse server through clickhouse-go: database/sql for statements, the native
// batch path for inserts (18.16 hangs on INSERT ... VALUES through database/sql).
type server struct {
	t         *target.ClickHouse
	opts      *ch.Options
	connector driver.Connector
	db        *sql.DB
	mu        sync.Mutex
	native    chdriver.Conn
}

func openServer(t *target.ClickHouse) (*server, error) {
	opts, err := t.Options()
	if err != nil {
		return nil, err
	}
	s := &server{t: t, opts: opts, connector: ch.Connector(opts)}
	s.db = sql.OpenDB(s.connector)
	return s, nil
}

func (s *server) Connector() driver.Connector { return s.connector }
func (s *server) DB() *sql.DB                 { return s.db }
func (s *server) Target() *target.ClickHouse  { return s.t }

func (s *server) Close() error {
	if s.native != nil {
		s.native.Close()
	}
	return s.db.Close()
}

func (s *server) prepare(ctx context.Context, table string, columns []string) (chdriver.Batch, error) {
	s.mu.Lock() // the lease's renewals insert from their own goroutine
	if s.native == nil {
		native, err := ch.Open(s.opts)
		if err != nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("clickhouse at %s: %w", s.t.Address(), err)
		}
		s.native = native
	}
	native := s.native
	s.mu.Unlock()
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = target.QuoteIdent(c)
	}
	return native.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s (%s)", target.QuoteIdent(table), strings.Join(quoted, ", ")))
}

// StartInsert sends each block as it comes (clickhouse-go's Flush) within one INSERT.
func (s *server) StartInsert(ctx context.Context, table string, columns []string) (Inserter, error) {
	batch, err := s.prepare(ctx, table, columns)
	if err != nil {
		return nil, err
	}
	return &serverInserter{batch: batch}, nil
}

type serverInserter struct{ batch chdriver.Batch }

func (i *serverInserter) Append(columns []any) error {
	for c, vals := range columns {
		col := i.batch.Column(c)
		switch v := vals.(type) {
		case []any:
			for _, x := range v {
				if err := col.AppendRow(x); err != nil {
					return err
				}
			}
		default: // []string, or a slice of the column's Go type ([]uint32, []time.Time ...)
			if err := col.Append(v); err != nil {
				return err
			}
		}
	}
	return i.batch.Flush()
}

func (i *serverInserter) Send() error { return i.batch.Send() }

func (i *serverInserter) Abort() {
	if !i.batch.IsSent() {
		_ = i.batch.Abort()
	}
}

func (s *server) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	batch, err := s.prepare(ctx, table, columns)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := batch.Append(r...); err != nil {
			_ = batch.Abort()
			return err
		}
	}
	return batch.Send()
}
