/**
 * `wfn dev --target lambda`: a local Function URL. Each HTTP request becomes a payload 2.0
 * event; a pool of sandboxes runs the packaged handler the way Lambda does (init once per
 * sandbox, then invocations, one at a time each; more sandboxes under concurrent load);
 * the handler's result becomes the HTTP response. A timed-out sandbox is discarded and the
 * request gets a 504; the next request starts a fresh sandbox (a cold start).
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { errorResponse } from '../../../src/runtime/cgi.js';
import type { HttpResponse, InvokeResult } from '../../../src/runtime/types.js';
import { accessLogLine } from '../../../src/http/access-log.js';
import { listen } from '../../../src/http/listen.js';
import { BadRequestError, BodyTooLargeError, createHttpServer, requestUrl, sendHttpResponse, toHttpRequest } from '../../../src/http/node-http.js';
import type { Emulator } from '../../../src/target/types.js';
import { eventFromRequest, PAYLOAD_LIMIT, responseFromResult } from '../events.js';
import { REQUEST_MARKER } from '../request-log.js';
import { InitError, Sandbox, type SandboxOptions } from './sandbox.js';

export interface GatewayOptions {
  host: string;
  port: number;
  log(line: string): void;
  /** index.mjs of the extracted package. */
  handlerFile: string;
  handlerExport: string;
  functionName: string;
  /** Lambda MemorySize (reported to the handler). */
  memorySize: number;
  /** The Lambda timeout (whole seconds, as deployed), in ms. */
  timeoutMs: number;
  /** The function's variables (Lambda's own are added). */
  env: Record<string, string>;
  region?: string;
  /** Sandboxes that may run at once (Lambda's concurrency); default: the number of cores. */
  maxSandboxes?: number;
  /** Lambda gives init 10 s. */
  initTimeoutMs?: number;
}

/** Headers the emulator adds, dropped by the conformance comparison. */
const GATEWAY_HEADERS: [string, string][] = [['x-wfn-target', 'lambda']];

type Answer = Pick<InvokeResult, 'response' | 'timings' | 'outcome' | 'reason'>;

function fail(status: number, outcome: InvokeResult['outcome'], reason: string, runMs = 0): Answer {
  return { response: errorResponse(status), outcome, reason, timings: { instantiateUs: 0, runUs: Math.round(runMs * 1000) } };
}

class SandboxPool {
  private readonly idle: Sandbox[] = [];
  private readonly all = new Set<Sandbox>();
  private starting = 0;
  private readonly waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly options: SandboxOptions,
    private readonly max: number,
    private readonly log: (line: string) => void,
  ) {}

  /** An idle sandbox, or a new one (cold start) while under the limit, or the next one freed. */
  async acquire(): Promise<Sandbox> {
    for (;;) {
      if (this.closed) throw new InitError('the emulator is shutting down');
      const sandbox = this.idle.pop();
      if (sandbox) return sandbox;
      if (this.all.size + this.starting < this.max) {
        this.starting++;
        try {
          const fresh = await Sandbox.start(this.options);
          this.all.add(fresh);
          this.log(`lambda: cold start, init ${fresh.initMs.toFixed(1)} ms (${this.all.size} sandbox${this.all.size === 1 ? '' : 'es'})`);
          return fresh;
        } finally {
          this.starting--;
          this.wake();
        }
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  release(sandbox: Sandbox): void {
    if (sandbox.dead || this.closed) {
      this.all.delete(sandbox);
      void sandbox.dispose();
    } else this.idle.push(sandbox);
    this.wake();
  }

  private wake(): void {
    this.waiters.shift()?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.waiters.length > 0) this.wake();
    await Promise.all([...this.all].map((s) => s.dispose()));
    this.all.clear();
    this.idle.length = 0;
  }
}

/** The handler's outcome -> the HTTP answer, as the Function URL front end gives it. */
function answerFrom(outcome: Awaited<ReturnType<Sandbox['invoke']>>, timeoutMs: number, runMs: number): Answer {
  switch (outcome.kind) {
    case 'timeout':
      return fail(504, 'timeout', `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds (the sandbox is discarded; the next request starts a fresh one)`, runMs);
    case 'crash':
      return fail(502, 'trap', `${outcome.message} (the sandbox is discarded)`, runMs);
    case 'error':
      return fail(502, 'trap', `the handler threw ${outcome.errorType}: ${outcome.errorMessage}`, runMs);
    case 'result': {
      if (outcome.payload.length > PAYLOAD_LIMIT) return fail(502, 'malformed', `the handler's result (${outcome.payload.length} bytes) is over Lambda's ${PAYLOAD_LIMIT}-byte payload limit`, runMs);
      let response: HttpResponse;
      try {
        response = responseFromResult(JSON.parse(outcome.payload));
      } catch (error) {
        return fail(502, 'malformed', `the handler's result is not a valid HTTP response: ${(error as Error).message}`, runMs);
      }
      const info = outcome.info;
      return { response, outcome: info?.outcome ?? 'ok', reason: info?.reason, timings: info?.timings ?? { instantiateUs: 0, runUs: Math.round(runMs * 1000) } };
    }
  }
}

export async function startGateway(options: GatewayOptions): Promise<Emulator> {
  const region = options.region ?? 'us-east-1';
  const env: Record<string, string> = {
    ...options.env,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs_wfn_local',
    LAMBDA_TASK_ROOT: options.handlerFile.replace(/[\\/][^\\/]+$/, ''),
    _HANDLER: `index.${options.handlerExport}`,
  };
  const pool = new SandboxPool(
    {
      handlerFile: options.handlerFile,
      handlerExport: options.handlerExport,
      env,
      functionName: options.functionName,
      memorySize: options.memorySize,
      region,
      initTimeoutMs: options.initTimeoutMs ?? 10_000,
      // The handler's request line is for CloudWatch (`wfn logs`): the gateway prints its own access line.
      onOutput: (line) => {
        if (!line.includes(REQUEST_MARKER)) options.log(line);
      },
    },
    options.maxSandboxes ?? Math.max(2, availableParallelism()),
    options.log,
  );

  const invoke = async (eventJson: string, requestId: string): Promise<Answer> => {
    let sandbox: Sandbox;
    try {
      sandbox = await pool.acquire();
    } catch (error) {
      return fail(502, 'trap', `init failed: ${(error as Error).message}`);
    }
    const started = performance.now();
    try {
      const outcome = await sandbox.invoke(eventJson, requestId, options.timeoutMs);
      return answerFrom(outcome, options.timeoutMs, performance.now() - started);
    } finally {
      pool.release(sandbox);
    }
  };

  const server: Server = createHttpServer(async (req, res) => {
    const started = performance.now();
    const path = req.url ?? '/';
    let answer: Answer;
    try {
      const url = requestUrl(req);
      const request = await toHttpRequest(req, PAYLOAD_LIMIT, url);
      const requestId = randomUUID();
      const eventJson = JSON.stringify(eventFromRequest(request, { domainName: url.hostname, port: req.socket.localPort ?? options.port, requestId, time: Date.now() }));
      answer =
        Buffer.byteLength(eventJson) > PAYLOAD_LIMIT
          ? fail(413, 'malformed', `the event (${Buffer.byteLength(eventJson)} bytes with the base64 body) is over Lambda's ${PAYLOAD_LIMIT}-byte payload limit`)
          : await invoke(eventJson, requestId);
    } catch (error) {
      if (error instanceof BodyTooLargeError) answer = fail(413, 'malformed', `request body over Lambda's ${PAYLOAD_LIMIT}-byte payload limit`);
      else if (error instanceof BadRequestError) answer = fail(400, 'bad-request', `bad request: ${error.message}`);
      else answer = fail(500, 'trap', `gateway error: ${(error as Error).message}`);
    }
    if (!res.headersSent) sendHttpResponse(res, answer.response, GATEWAY_HEADERS);
    options.log(accessLogLine(req.method ?? 'GET', path, answer, performance.now() - started));
  });

  const url = `${await listen(server, options.port, options.host)}/`;

  return {
    url,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}
