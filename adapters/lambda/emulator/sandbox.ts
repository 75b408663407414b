/**
 * One Lambda execution environment, emulated: a worker thread that imports the packaged
 * index.mjs once (init), then runs one invocation at a time. The worker is the unit that
 * can be stopped: a runaway invocation is ended by terminating it (V8 cannot interrupt wasm
 * on its own thread), after which the sandbox is gone, as on Lambda after "Task timed out".
 */
import { Worker } from 'node:worker_threads';

/** The worker's code (plain JS, so it runs from sources and from lib/ alike). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
const describe = (e) => ({ errorType: (e && e.name) || 'Error', errorMessage: (e && e.message) || String(e) });
(async () => {
  const started = performance.now();
  let ns;
  try {
    ns = await import(pathToFileURL(workerData.handlerFile).href);
    if (typeof ns[workerData.handlerExport] !== 'function') throw Object.assign(new Error(workerData.handlerFile + ' has no exported function "' + workerData.handlerExport + '"'), { name: 'Runtime.HandlerNotFound' });
  } catch (e) {
    parentPort.postMessage({ type: 'init-error', ...describe(e) });
    return;
  }
  parentPort.postMessage({ type: 'ready', initMs: performance.now() - started });
  parentPort.on('message', async (m) => {
    const context = {
      awsRequestId: m.requestId, functionName: workerData.functionName, functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:' + workerData.region + ':000000000000:function:' + workerData.functionName,
      memoryLimitInMB: String(workerData.memorySize), logGroupName: '/aws/lambda/' + workerData.functionName, logStreamName: 'wfn-local',
      callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Math.max(0, m.deadline - Date.now()),
    };
    try {
      const result = await ns[workerData.handlerExport](JSON.parse(m.event), context);
      // Lambda serializes the result to JSON: so does the emulator (undefined -> null).
      const payload = JSON.stringify(result === undefined ? null : result);
      parentPort.postMessage({ type: 'result', id: m.id, payload, info: ns.lastInvocation });
    } catch (e) {
      parentPort.postMessage({ type: 'error', id: m.id, ...describe(e) });
    }
  });
})();
`;

export interface SandboxOptions {
  /** The extracted package (holds index.mjs). */
  handlerFile: string;
  handlerExport: string;
  /** The whole environment the handler sees (Lambda's variables + the function's). */
  env: Record<string, string>;
  functionName: string;
  memorySize: number;
  region: string;
  initTimeoutMs: number;
  /** What the handler writes to stdout/stderr (CloudWatch Logs on AWS), line by line. */
  onOutput(line: string): void;
}

export interface InvocationInfo {
  outcome: 'ok' | 'trap' | 'exit' | 'malformed' | 'timeout' | 'memory' | 'busy';
  reason?: string;
  timings: { instantiateUs: number; runUs: number };
}

export type SandboxOutcome =
  | { kind: 'result'; payload: string; info?: InvocationInfo }
  | { kind: 'error'; errorType: string; errorMessage: string }
  | { kind: 'timeout' }
  | { kind: 'crash'; message: string };

export class InitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InitError';
  }
}

type Message =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; errorType: string; errorMessage: string }
  | { type: 'result'; id: number; payload: string; info?: InvocationInfo }
  | { type: 'error'; id: number; errorType: string; errorMessage: string };

function forwardLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): () => void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  return () => {
    if (partial !== '') onLine(partial);
    partial = '';
  };
}

export class Sandbox {
  /** Milliseconds the init (import of index.mjs: read + compile the .wasm) took. */
  initMs = 0;
  dead = false;
  private nextId = 1;
  private pending?: { id: number; resolve(outcome: SandboxOutcome): void; timer: NodeJS.Timeout };
  private flushOutput: (() => void)[] = [];

  private constructor(private readonly worker: Worker) {}

  /** Starts a worker and runs the handler's init; rejects with InitError when init fails or hangs. */
  static start(options: SandboxOptions): Promise<Sandbox> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      env: options.env,
      stdout: true,
      stderr: true,
      workerData: { handlerFile: options.handlerFile, handlerExport: options.handlerExport, functionName: options.functionName, memorySize: options.memorySize, region: options.region },
    });
    worker.unref();
    const sandbox = new Sandbox(worker);
    sandbox.flushOutput = [forwardLines(worker.stdout, options.onOutput), forwardLines(worker.stderr, options.onOutput)];
    return new Promise((resolve, reject) => {
      let initDone = false;
      const fail = (message: string) => {
        if (initDone) return;
        initDone = true;
        clearTimeout(timer);
        void sandbox.dispose();
        reject(new InitError(message));
      };
      const timer = setTimeout(() => fail(`init did not finish within ${options.initTimeoutMs} ms`), options.initTimeoutMs);
      worker.once('message', (m: Message) => {
        if (m.type === 'ready' && !initDone) {
          initDone = true;
          clearTimeout(timer);
          sandbox.initMs = m.initMs;
          sandbox.listen();
          resolve(sandbox);
        } else if (m.type === 'init-error') fail(`${m.errorType}: ${m.errorMessage}`);
      });
      worker.once('error', (error) => fail(`init crashed: ${error.message}`));
      worker.once('exit', (code) => fail(`the runtime exited during init (code ${code})`));
    });
  }

  private listen(): void {
    this.worker.on('message', (m: Message) => {
      if ((m.type === 'result' || m.type === 'error') && this.pending?.id === m.id) {
        this.settle(m.type === 'result' ? { kind: 'result', payload: m.payload, info: m.info } : { kind: 'error', errorType: m.errorType, errorMessage: m.errorMessage });
      }
    });
    this.worker.on('error', (error) => this.crash(`the runtime crashed: ${error.message}`));
    this.worker.on('exit', (code) => this.crash(`the runtime exited (code ${code})`));
  }

  private settle(outcome: SandboxOutcome): void {
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.resolve(outcome);
  }

  private crash(message: string): void {
    this.dead = true;
    this.settle({ kind: 'crash', message });
  }

  /** One invocation; never rejects. After a timeout or crash the sandbox is dead. */
  invoke(eventJson: string, requestId: string, timeoutMs: number): Promise<SandboxOutcome> {
    if (this.dead) return Promise.resolve({ kind: 'crash', message: 'the sandbox is gone' });
    if (this.pending) throw new Error('a sandbox runs one invocation at a time');
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.dead = true;
        this.settle({ kind: 'timeout' });
        void this.dispose();
      }, timeoutMs);
      this.pending = { id, resolve, timer };
      this.worker.postMessage({ id, event: eventJson, requestId, deadline: Date.now() + timeoutMs });
    });
  }

  async dispose(): Promise<void> {
    this.dead = true;
    this.settle({ kind: 'crash', message: 'the sandbox was shut down' });
    for (const flush of this.flushOutput) flush();
    await this.worker.terminate();
  }
}
