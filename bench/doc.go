// Package bench holds mailferry's benchmarks that compare it with other
// tools against a real server. They are Go tests behind the "bench" build
// tag, run by the scripts in this directory; none runs in the normal suite.
package bench
