// Package metrics holds the Prometheus collectors of the service, in one
// registry so that tests and several servers in one process do not clash.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is every collector the service exports on /metrics.
type Metrics struct {
	Registry        *prometheus.Registry
	HTTPDuration    *prometheus.HistogramVec
	HTTPInFlight    prometheus.Gauge
	JobsTotal       *prometheus.CounterVec
	JobDuration     *prometheus.HistogramVec
	LLMDuration     *prometheus.HistogramVec
	LLMTokens       *prometheus.CounterVec
	RateLimitReject *prometheus.CounterVec
	CacheOps        *prometheus.CounterVec
}

// New builds and registers the collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cvimprover_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 120},
		}, []string{"route", "method", "status"}),
		HTTPInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cvimprover_http_requests_in_flight",
			Help: "Requests being served.",
		}),
		JobsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cvimprover_jobs_total",
			Help: "Finished job attempts by kind and outcome.",
		}, []string{"kind", "outcome"}),
		JobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cvimprover_job_duration_seconds",
			Help:    "Job attempt duration by kind.",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 10),
		}, []string{"kind"}),
		LLMDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cvimprover_llm_request_duration_seconds",
			Help:    "LLM call latency by provider and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, []string{"provider", "outcome"}),
		LLMTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cvimprover_llm_tokens_total",
			Help: "LLM tokens by provider and direction (prompt/completion).",
		}, []string{"provider", "direction"}),
		RateLimitReject: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cvimprover_rate_limit_rejections_total",
			Help: "Requests refused by a rate limit, by scope.",
		}, []string{"scope"}),
		CacheOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cvimprover_cache_operations_total",
			Help: "Entity cache reads by result (hit/miss/error).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.HTTPDuration, m.HTTPInFlight, m.JobsTotal, m.JobDuration, m.LLMDuration,
		m.LLMTokens, m.RateLimitReject, m.CacheOps,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
