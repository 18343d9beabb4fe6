package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SchemaVersion is the version of the schema this package works with:
// the number of the last of its migrations.
const SchemaVersion = 4

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrNoSchema is returned, wrapped, when the database holds no leased
// schema: run "leased db init".
var ErrNoSchema = errors.New("postgres: the database has no leased schema (run leased db init)")

// ErrSchemaTooOld is returned, wrapped, by Open when the schema is older
// than SchemaVersion: run "leased db upgrade".
var ErrSchemaTooOld = errors.New("postgres: the lease schema is older than this leased (run leased db upgrade)")

// ErrSchemaTooNew is returned, wrapped, by Open and Upgrade when the
// schema is newer than SchemaVersion.
var ErrSchemaTooNew = errors.New("postgres: this leased is older than the lease schema (upgrade leased)")

// migration is one step of the schema: migrations/NNNN_name.sql brings
// the schema from version NNNN-1 to NNNN.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. They are numbered
// 1, 2, ... without gaps (a test checks it).
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("postgres: migration %s: no version number", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migration %s out of sequence", m.name)
		}
	}
	return out, nil
}

// versionTable holds one row per migration applied.
const versionTable = `CREATE TABLE IF NOT EXISTS leased_schema_version (
    version integer PRIMARY KEY,
    name    text NOT NULL,
    applied timestamptz NOT NULL DEFAULT now())`

// schemaVersion returns the schema version of the database q is
// connected to, 0 when it holds no leased schema.
func schemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v *int
	err := q.QueryRow(ctx, `SELECT max(version) FROM leased_schema_version`).Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: read the schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// checkVersion says what is wrong with schema version v for this
// package, or nil.
func checkVersion(v int) error { return versionError(v, SchemaVersion) }

// versionError says what is wrong with schema version v for a package
// that knows version known, or nil.
func versionError(v, known int) error {
	switch {
	case v == 0:
		return ErrNoSchema
	case v < known:
		return fmt.Errorf("%w: the database is at version %d, this leased needs %d", ErrSchemaTooOld, v, known)
	case v > known:
		return fmt.Errorf("%w: the database is at version %d, this leased knows up to %d", ErrSchemaTooNew, v, known)
	}
	return nil
}

// connect opens one connection with opts's settings.
func connect(ctx context.Context, opts Options) (*pgx.Conn, error) {
	cfg, err := parseConfig(opts)
	if err != nil {
		return nil, err
	}
	c, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return c, nil
}

// Version returns the schema version of the database opts names: 0 when
// it holds no leased schema.
func Version(ctx context.Context, opts Options) (int, error) {
	c, err := connect(ctx, opts)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.Background())
	return schemaVersion(ctx, c)
}

// Init creates the schema in a database that holds none, at
// SchemaVersion. It fails on a database that has one already.
func Init(ctx context.Context, opts Options) error {
	return migrate(ctx, opts, true, func(int, int) {})
}

// Upgrade brings the schema of the database up to SchemaVersion, applying
// each missing migration in order, all in one transaction: on error the
// schema stays as it was. It calls applied for each migration applied,
// with the version before and after it. It fails on a database without a
// schema (ErrNoSchema) and on one newer than this package
// (ErrSchemaTooNew); on one that is current, it does nothing.
func Upgrade(ctx context.Context, opts Options, applied func(from, to int)) error {
	return migrate(ctx, opts, false, applied)
}

// migrate applies the migrations the schema lacks, under an exclusive
// lock of the version table so that two upgrades do not interleave.
func migrate(ctx context.Context, opts Options, init bool, applied func(from, to int)) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return migrateTo(ctx, opts, ms, init, applied)
}

// migrateTo is migrate with the migrations ms, the last of which is the
// version this package knows.
func migrateTo(ctx context.Context, opts Options, ms []migration, init bool, applied func(from, to int)) error {
	known := len(ms)
	c, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, versionTable); err != nil {
		return fmt.Errorf("postgres: create the schema version table: %w", err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE leased_schema_version IN EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("postgres: lock the schema version table: %w", err)
	}
	v, err := schemaVersion(ctx, tx)
	switch {
	case err != nil:
		return err
	case init && v != 0:
		return fmt.Errorf("postgres: the database holds a leased schema already, at version %d (use leased db upgrade)", v)
	case !init && v == 0:
		return ErrNoSchema
	case v > known:
		return versionError(v, known)
	}
	for _, m := range ms[v:] {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO leased_schema_version (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return fmt.Errorf("postgres: record migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit the migrations: %w", err)
	}
	for _, m := range ms[v:] {
		applied(m.version-1, m.version)
	}
	return nil
}
