package store

import "strings"

// Files returns the names of all the period's files, batch 1 first.
func (e Export) Files() []string { return append([]string{e.Filename}, e.MoreFiles...) }

func splitFiles(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
