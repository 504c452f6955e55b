package server

// The login limits, for the tests of package server_test.
const (
	MaxLoginPerPair  = maxLoginPerPair
	MaxLoginPerEmail = maxLoginPerEmail
)
