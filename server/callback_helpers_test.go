package server_test

import (
	"regexp"
	"strconv"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }
