//go:build ignore

// Gen regenerates the embedded calibration table from Google's CSV:
//
//	go generate ./risk/calibration
//
// It gzips the CSV byte for byte (no file name, no time stamp), so the
// embedded copy is the shared file and nothing else.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"os"
)

func main() {
	src := flag.String("src", "../../../shared/data/en-calibration-2020-08-12.csv", "Google's calibration CSV")
	dst := flag.String("dst", "en-calibration-2020-08-12.csv.gz", "the gzipped copy to write")
	flag.Parse()
	if err := run(*src, *dst); err != nil {
		log.Fatal(err)
	}
}

func run(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("reading the table: %w", err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		return fmt.Errorf("compressing: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing: %w", err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	fmt.Printf("%s: %d bytes from %d\n", dst, buf.Len(), len(b))
	return nil
}
