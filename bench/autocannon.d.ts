// autocannon ships no types and @types/autocannon is not installed: the part the benchmarks use.
declare module 'autocannon' {
  interface Options {
    url: string;
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Requests in all (instead of a duration). */
    amount?: number;
    pipelining?: number;
    /** Requests per second from all connections together (default: as fast as answered). */
    overallRate?: number;
    /** Seconds to wait for one answer. */
    timeout?: number;
  }

  /** Latencies in milliseconds; requests and throughput per second. */
  interface Statistic {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
  }

  interface Result {
    /** Seconds. */
    duration: number;
    latency: Statistic;
    requests: Statistic;
    throughput: Statistic;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
  }

  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
