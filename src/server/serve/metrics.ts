/** Counters and histograms of `wfn serve`, rendered in the Prometheus text format (0.0.4). */
import type { Outcome } from '../../runtime/types.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const INSTANTIATE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) this.counts[i]++;
  }
}

interface FunctionMetrics {
  byStatus: Map<number, number>;
  latency: Histogram;
  instantiate: Histogram;
  outcomes: Map<Outcome | 'saturated', number>;
}

/** Outcome -> the counter the issue names (timeouts, traps, memory-cap hits...). */
const OUTCOME_COUNTERS: [Outcome | 'saturated', string, string][] = [
  ['timeout', 'wfn_timeouts_total', 'Requests stopped at the function timeout (504).'],
  ['trap', 'wfn_traps_total', 'Requests whose function trapped, or whose worker crashed (500).'],
  ['memory', 'wfn_memory_limit_hits_total', 'Requests whose function hit its memory cap (500).'],
  ['exit', 'wfn_exits_total', 'Requests whose function exited with a non-zero code (500).'],
  ['malformed', 'wfn_malformed_responses_total', 'Requests whose function wrote malformed CGI output (502).'],
  ['saturated', 'wfn_rejected_total', 'Requests refused with 503: the function at its concurrency and queue limits, or request bodies in memory at their bound.'],
  ['abandoned', 'wfn_abandoned_total', 'Requests whose client left before the answer (499): dropped while waiting, or their run stopped.'],
];

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(6).replace(/\.?0+$/, ''));

export interface Gauges {
  functions: number;
  inFlight: Map<string, number>;
  poolSize: number;
  poolBusy: number;
  poolQueued: number;
  workerRestarts: number;
  /** Workers alive now (above poolSize while extra ones serve functions below their share). */
  poolWorkers: number;
  /** Bytes of request bodies held in memory now, and the bound. */
  bodyBytes: number;
  bodyBytesLimit: number;
}

export class ServeMetrics {
  private readonly perFunction = new Map<string, FunctionMetrics>();
  private readonly admin = new Map<string, number>();
  private readonly deploys = new Map<string, number>();
  private badRequests = 0;

  private fn(name: string): FunctionMetrics {
    let m = this.perFunction.get(name);
    if (!m) {
      m = { byStatus: new Map(), latency: new Histogram(LATENCY_BUCKETS), instantiate: new Histogram(INSTANTIATE_BUCKETS), outcomes: new Map() };
      this.perFunction.set(name, m);
    }
    return m;
  }

  request(name: string, status: number, outcome: Outcome | 'saturated', seconds: number, instantiateUs?: number): void {
    const m = this.fn(name);
    m.byStatus.set(status, (m.byStatus.get(status) ?? 0) + 1);
    m.latency.observe(seconds);
    if (instantiateUs !== undefined && instantiateUs > 0) m.instantiate.observe(instantiateUs / 1e6);
    if (outcome !== 'ok') m.outcomes.set(outcome, (m.outcomes.get(outcome) ?? 0) + 1);
  }

  /** A request refused with 400 as the client's fault (malformed target or Host, input CGI cannot carry). */
  badRequest(): void {
    this.badRequests++;
  }

  adminRequest(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    this.admin.set(key, (this.admin.get(key) ?? 0) + 1);
  }

  deploy(result: 'created' | 'unchanged' | 'rejected'): void {
    this.deploys.set(result, (this.deploys.get(result) ?? 0) + 1);
  }

  render(gauges: Gauges): string {
    const lines: string[] = [];
    const head = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    /** A metric without labels: its head and its one sample. */
    const single = (name: string, type: string, help: string, value: number) => {
      head(name, type, help);
      lines.push(`${name} ${value}`);
    };
    const names = [...this.perFunction.keys()].sort();

    head('wfn_requests_total', 'counter', 'Function requests answered, by function and HTTP status.');
    for (const name of names) {
      for (const [status, n] of [...this.perFunction.get(name)!.byStatus].sort((a, b) => a[0] - b[0])) {
        lines.push(`wfn_requests_total{function="${esc(name)}",status="${status}"} ${n}`);
      }
    }
    const histogram = (metric: string, help: string, pick: (m: FunctionMetrics) => Histogram) => {
      head(metric, 'histogram', help);
      for (const name of names) {
        const h = pick(this.perFunction.get(name)!);
        const label = `function="${esc(name)}"`;
        h.buckets.forEach((b, i) => lines.push(`${metric}_bucket{${label},le="${num(b)}"} ${h.counts[i]}`));
        lines.push(`${metric}_bucket{${label},le="+Inf"} ${h.count}`, `${metric}_sum{${label}} ${num(h.sum)}`, `${metric}_count{${label}} ${h.count}`);
      }
    };
    histogram('wfn_request_duration_seconds', 'Time from request to response, by function.', (m) => m.latency);
    histogram('wfn_instantiate_seconds', 'Time to create the fresh instance of the compiled module, by function.', (m) => m.instantiate);
    for (const [outcome, metric, help] of OUTCOME_COUNTERS) {
      head(metric, 'counter', help);
      for (const name of names) lines.push(`${metric}{function="${esc(name)}"} ${this.perFunction.get(name)!.outcomes.get(outcome) ?? 0}`);
    }
    single('wfn_bad_requests_total', 'counter', 'Requests refused with 400 as the client\'s fault (malformed request target or Host, a path or query the CGI environment cannot carry); never counted as a function failure.', this.badRequests);
    head('wfn_in_flight_requests', 'gauge', 'Requests of a function running or waiting for a slot.');
    for (const [name, n] of [...gauges.inFlight].sort()) lines.push(`wfn_in_flight_requests{function="${esc(name)}"} ${n}`);
    single('wfn_functions', 'gauge', 'Functions deployed and loaded.', gauges.functions);
    head('wfn_deploys_total', 'counter', 'Deploys through the admin API, by result.');
    for (const [result, n] of [...this.deploys].sort()) lines.push(`wfn_deploys_total{result="${result}"} ${n}`);
    head('wfn_admin_requests_total', 'counter', 'Admin API requests, by route and HTTP status.');
    for (const [key, n] of [...this.admin].sort()) {
      const [route, status] = key.split('\u0000');
      lines.push(`wfn_admin_requests_total{route="${esc(route)}",status="${status}"} ${n}`);
    }
    single('wfn_pool_workers', 'gauge', 'Worker threads that run functions.', gauges.poolSize);
    single('wfn_pool_busy_workers', 'gauge', 'Workers running a request now.', gauges.poolBusy);
    single('wfn_pool_queued_requests', 'gauge', 'Admitted requests waiting for a worker.', gauges.poolQueued);
    single('wfn_pool_live_workers', 'gauge', 'Worker threads alive now: wfn_pool_workers plus extra ones started for functions below their fair share.', gauges.poolWorkers);
    single('wfn_request_body_bytes', 'gauge', 'Bytes of request bodies held in memory now.', gauges.bodyBytes);
    single('wfn_request_body_bytes_limit', 'gauge', 'The bound on wfn_request_body_bytes (--max-body-in-flight); bodies beyond it are refused with 503.', gauges.bodyBytesLimit);
    single('wfn_worker_restarts_total', 'counter', 'Workers replaced after a timeout, a crash or a cancelled run.', gauges.workerRestarts);
    const mem = process.memoryUsage();
    single('process_resident_memory_bytes', 'gauge', 'Resident set size of the server process.', mem.rss);
    single('process_heap_used_bytes', 'gauge', 'V8 heap in use in the main thread.', mem.heapUsed);
    return lines.join('\n') + '\n';
  }
}
