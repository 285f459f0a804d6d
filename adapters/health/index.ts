// Public face of the health package.
export { HealthServer, type HealthServerOptions } from './health-server.ts';
export { RuntimeMetrics, type RuntimeMetricsOptions, type LeadershipSource, type Readiness, type HeartbeatStatus } from './runtime-metrics.ts';
