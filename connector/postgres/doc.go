// Package postgres writes streams to PostgreSQL tables and looks rows up
// in them, with pgx.
package postgres
