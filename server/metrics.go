package server

import "github.com/prometheus/client_golang/prometheus"

// metrics are per replica (a registry of their own, no global state).
// /metrics is public: nothing here may tell chaff from real traffic (chaff
// uploads count as uploads) or padding from real keys in exports; the
// real counts are the portal's daily statistics.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	errors      *prometheus.CounterVec
	publishes   prometheus.Counter
	codesIssued prometheus.Counter
	exports     prometheus.Counter
	// exportPeriodsGivenUp counts periods that failed too often (alert on any).
	exportPeriodsGivenUp prometheus.Counter
	// Anomaly metrics of code verification: a rise of either means
	// someone is guessing codes (docs/security.md suggests alert rules).
	verifyRefused *prometheus.CounterVec
	verifyFailed  prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg:         prometheus.NewRegistry(),
		requests:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bluezone_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "status"}),
		errors:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bluezone_api_errors_total", Help: "API errors by error code."}, []string{"code"}),
		publishes:   prometheus.NewCounter(prometheus.CounterOpts{Name: "bluezone_publishes_total", Help: "Uploads answered 200, chaff included."}),
		codesIssued: prometheus.NewCounter(prometheus.CounterOpts{Name: "bluezone_codes_issued_total", Help: "Verification codes issued."}),
		exports:     prometheus.NewCounter(prometheus.CounterOpts{Name: "bluezone_exports_written_total", Help: "Export batches written."}),
		verifyRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bluezone_verify_refused_total",
			Help: "Verifications refused (429) by the limit of one client address or the global limit of failures."}, []string{"limit"}),
		exportPeriodsGivenUp: prometheus.NewCounter(prometheus.CounterOpts{Name: "bluezone_export_periods_given_up_total",
			Help: "Export periods that failed too often; their keys went out with the next period."}),
		verifyFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "bluezone_verify_failed_total", Help: "Verifications with a wrong, used, expired or revoked code."}),
	}
	m.reg.MustRegister(m.requests, m.errors, m.publishes, m.codesIssued, m.exports, m.exportPeriodsGivenUp, m.verifyRefused, m.verifyFailed,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
