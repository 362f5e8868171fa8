// Package bulk runs one job per account of a bulk migration: several at
// once, at most so many per server host, each account's failure its own,
// with a live count of what is done. It knows nothing of what a job does
// (export, import, verify): the command line gives it the job.
package bulk
