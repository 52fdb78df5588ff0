// Package pgstore is a sundial.Store on PostgreSQL.
package pgstore
