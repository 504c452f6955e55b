// Command radiofit fits the simulator's radio model to the reference data,
// prints the fitted parameters and residuals, and with -svg draws the data
// against the model compiled into the simulator (sim.DefaultRadio):
//
//	go run ./sim/cmd/radiofit -data ../shared/data -svg docs/radio-fit.svg
//
// After changing the fit, copy its figures into sim.DefaultRadio (and the
// device table); TestRadioModelMatchesData fails until they agree.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/bluezone-vn/bluezone/sim"
	"github.com/bluezone-vn/bluezone/sim/internal/radiofit"
)

func main() {
	data := flag.String("data", "../shared/data", "directory holding the reference data (see its README)")
	svg := flag.String("svg", "", "also draw the fit against the simulator's model into this SVG file")
	flag.Parse()
	if err := run(*data, *svg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(data, svg string) error {
	f, err := radiofit.Run(data)
	if err != nil {
		return err
	}
	fmt.Print(f)
	if svg == "" {
		return nil
	}
	r := sim.DefaultRadio()
	loss := func(loc string) float64 {
		// radiofit.Locations are in the order of sim's carriages.
		return r.CarriageLoss[slices.Index(radiofit.Locations, loc)]
	}
	m := radiofit.Model{
		Median:   r.Median,
		Sigma:    math.Hypot(r.EncounterSigma, r.ScanSigma),
		Carriage: func(rx, tx string) float64 { return loss(rx) + loss(tx) },
	}
	out, err := os.Create(svg)
	if err != nil {
		return fmt.Errorf("radiofit: %w", err)
	}
	if err := radiofit.WriteSVG(out, f, m); err != nil {
		out.Close()
		return fmt.Errorf("radiofit: %s: %w", svg, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("radiofit: %w", err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", svg)
	return nil
}
