// Package accounts reads the accounts file of a bulk migration (CSV, one
// account a row: source and destination servers, users, admin logins and
// where their secrets are) and gives each worker of a scheduler its stable
// share (--shard I/N). It holds no secret: only where to find one.
package accounts
