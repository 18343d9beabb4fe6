package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"leased/config"
	"leased/lease/postgres"
)

const dbUsage = `usage: leased db init|upgrade|version [--config FILE | --url URL] [--password-file FILE]

Manage the schema of a PostgreSQL lease store (store type postgres), as
kea-admin does for Kea:

  init      create the schema in an empty database
  upgrade   bring the schema up to this leased's version (one transaction)
  version   print the schema version of the database and this leased's

The database is the one the configuration file's store section names
(--config), or the connection string --url; without either, the PG*
environment variables name it (PGHOST, PGDATABASE, PGUSER...). The
password comes from --password-file, the file's store.password-file, or
PGPASSWORD.

A server refuses to start on a schema older than its own (run upgrade
first) or newer (upgrade leased).

flags:
`

// dbCommand runs "leased db": 0 on success, 1 on failure, 2 on a usage
// error.
func dbCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, "leased db", "subcommand", dbUsage, map[string]subcommand{
		"init": func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return dbRun(ctx, "init", args, stdout, stderr)
		},
		"upgrade": func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return dbRun(ctx, "upgrade", args, stdout, stderr)
		},
		"version": func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return dbRun(ctx, "version", args, stdout, stderr)
		},
	}, args, stdout, stderr)
}

// dbFlags are the flags that name a lease database.
type dbFlags struct {
	config, url, passwordFile *string
}

func addDBFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{
		config:       fs.String("config", "", "configuration `file` whose store section names the database"),
		url:          fs.String("url", "", "PostgreSQL connection `string` (URL or key=value), without a password"),
		passwordFile: fs.String("password-file", "", "`file` whose first line is the database password"),
	}
}

// options returns the store options the flags name.
func (f dbFlags) options() (postgres.Options, error) {
	url, pwFile := *f.url, *f.passwordFile
	if *f.config != "" {
		if url != "" {
			return postgres.Options{}, usageError("--config and --url both name a database: give one")
		}
		cfg, err := config.Load(*f.config)
		if err != nil {
			return postgres.Options{}, err
		}
		if cfg.Store.WithDefaults().Type != config.StorePostgres {
			return postgres.Options{}, fmt.Errorf("%s: the store is not a postgres store (store.type)", *f.config)
		}
		url = cfg.Store.URL
		if pwFile == "" {
			pwFile = cfg.Store.PasswordFile
		}
	}
	opts := postgres.Options{URL: url}
	if pwFile != "" {
		pw, err := postgres.ReadPasswordFile(pwFile)
		if err != nil {
			return opts, err
		}
		opts.Password = pw
	}
	return opts, nil
}

// usageError is a mistake on the command line.
type usageError string

func (e usageError) Error() string { return string(e) }

// dbRun runs "leased db VERB".
func dbRun(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("db "+verb, dbUsage, stderr)
	flags := addDBFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "leased db %s: unexpected argument %q\n\n", verb, fs.Arg(0))
		fs.Usage()
		return 2
	}
	opts, err := flags.options()
	if _, ok := err.(usageError); ok {
		fmt.Fprintf(stderr, "leased db %s: %v\n\n", verb, err)
		fs.Usage()
		return 2
	}
	if err == nil {
		err = dbDo(ctx, verb, opts, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "leased db %s: %v\n", verb, err)
		return 1
	}
	return 0
}

// dbDo does what "leased db VERB" asks of the database.
func dbDo(ctx context.Context, verb string, opts postgres.Options, stdout io.Writer) error {
	switch verb {
	case "init":
		if err := postgres.Init(ctx, opts); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "lease schema created at version %d\n", postgres.SchemaVersion)
	case "upgrade":
		n := 0
		err := postgres.Upgrade(ctx, opts, func(from, to int) {
			fmt.Fprintf(stdout, "upgraded the lease schema from version %d to %d\n", from, to)
			n++
		})
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintf(stdout, "the lease schema is at version %d, this leased's: nothing to do\n", postgres.SchemaVersion)
		}
	case "version":
		v, err := postgres.Version(ctx, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "database schema version %d\nthis leased's schema version %d\n", v, postgres.SchemaVersion)
	}
	return nil
}
