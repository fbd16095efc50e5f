package migrate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
)

// explain lists the statements goose would send for each migration, by letting goose run them
// against a connection that only writes them down. The split, StatementBegin/End, NO TRANSACTION
// and ENVSUB handling are goose's own, so a dry run shows exactly what a real run sends.
func (e *Engine) explain(ctx context.Context, ms []*Migration, up bool) ([]Step, error) {
	return Explain(ctx, e.src, ms, up)
}

// Explain lists, offline, the statements of each of ms in one direction, as goose sends them.
func Explain(ctx context.Context, src *Source, ms []*Migration, up bool) ([]Step, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	x, err := newExplainer(ms)
	if err != nil {
		return nil, err
	}
	defer x.close()
	steps := make([]Step, 0, len(ms))
	for _, m := range ms {
		st, err := x.step(ctx, m, up)
		if err != nil {
			return steps, err
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// explainer is one goose provider over the migrations to explain, recording what it would send:
// made once, it explains any of them either way (a provider per migration would read the set
// each time, which made loading quadratic in the number of files).
type explainer struct {
	rec *recorder
	db  *sql.DB
	p   *goose.Provider
}

func newExplainer(ms []*Migration) (*explainer, error) {
	rec := &recorder{}
	db := sql.OpenDB(recConnector{rec})
	p, err := goose.NewProvider(goose.DialectPostgres, db, gooseFS(ms),
		goose.WithDisableVersioning(true), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		db.Close()
		return nil, err
	}
	return &explainer{rec: rec, db: db, p: p}, nil
}

func (x *explainer) close() { x.db.Close() }

// step is what goose would send to apply m (up) or roll it back.
func (x *explainer) step(ctx context.Context, m *Migration, up bool) (Step, error) {
	dir := "down"
	if up {
		dir = "up"
	}
	x.rec.reset()
	if _, err := x.p.ApplyVersion(ctx, m.Version, up); err != nil {
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Step{}, &SourceError{File: m.FileFor(up), Msg: fmt.Sprintf("cannot read its %s statements: %v", dir, err)}
	}
	return Step{Version: m.Version, File: m.FileFor(up), Direction: dir, InTx: x.rec.tx, Statements: x.rec.stmts}, nil
}

type recorder struct {
	stmts []string
	tx    bool
}

func (r *recorder) reset() { r.stmts, r.tx = []string{}, false }

type recConnector struct{ r *recorder }

func (c recConnector) Connect(context.Context) (driver.Conn, error) { return recConn(c), nil }
func (c recConnector) Driver() driver.Driver                        { return recDriver{} }

type recDriver struct{}

func (recDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("the plan recorder opens through its connector only")
}

type recConn struct{ r *recorder }

func (c recConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("the plan recorder only records statements")
}
func (c recConn) Close() error { return nil }
func (c recConn) Begin() (driver.Tx, error) {
	c.r.tx = true
	return recTx{}, nil
}
func (c recConn) ExecContext(_ context.Context, query string, _ []driver.NamedValue) (driver.Result, error) {
	c.r.stmts = append(c.r.stmts, query)
	return driver.RowsAffected(0), nil
}

type recTx struct{}

func (recTx) Commit() error   { return nil }
func (recTx) Rollback() error { return nil }
