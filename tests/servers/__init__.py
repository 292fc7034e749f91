"""Real servers for tests and benches: Debian's PostgreSQL 15, pgbouncer, a latency proxy."""
