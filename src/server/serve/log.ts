/** The server's log: one access line per request (the shared format, or JSON lines) plus messages. */
import type { InvokeResult } from '../../runtime/types.js';
import { accessLogLine } from '../../http/access-log.js';

export type LogFormat = 'text' | 'json';

export interface AccessEntry {
  /** The function, or "_wfn" for the admin API, or undefined when nothing matched. */
  function?: string;
  method: string;
  path: string;
  remote?: string;
  totalMs: number;
  /** Function requests: the invocation (status, size, timings, outcome). */
  result?: Pick<InvokeResult, 'response' | 'timings' | 'outcome' | 'reason'>;
  /** Other requests: status and body size. */
  status?: number;
  bytes?: number;
  reason?: string;
}

export interface ServeLog {
  access(entry: AccessEntry): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** What a function wrote to stderr. */
  functionStderr(name: string, text: string): void;
}

export interface LogSinks {
  /** Access lines (stdout for `wfn serve`). */
  access(line: string): void;
  /** Everything else (stderr for `wfn serve`). */
  messages(line: string): void;
}

export function createServeLog(format: LogFormat, sinks: LogSinks): ServeLog {
  const json = (obj: Record<string, unknown>) => JSON.stringify({ time: new Date().toISOString(), ...obj });
  const message = (level: string) => (text: string) =>
    sinks.messages(format === 'json' ? json({ type: 'log', level, message: text }) : level === 'info' ? text : `${level}: ${text}`);
  return {
    access(e) {
      if (format === 'json') {
        const r = e.result;
        sinks.access(
          json({
            type: 'access',
            function: e.function,
            method: e.method,
            path: e.path,
            status: r ? r.response.status : e.status,
            bytes: r ? r.response.body.length : (e.bytes ?? 0),
            outcome: r?.outcome,
            reason: r ? r.reason : e.reason,
            instantiateUs: r?.timings.instantiateUs,
            runUs: r?.timings.runUs,
            totalMs: Math.round(e.totalMs * 1000) / 1000,
            remote: e.remote,
          }),
        );
        return;
      }
      if (e.result) sinks.access(accessLogLine(e.method, e.path, e.result, e.totalMs));
      else sinks.access(`${e.method} ${e.path} ${e.status} ${e.bytes ?? 0}B total=${e.totalMs.toFixed(2)}ms${e.reason ? ` ${e.reason}` : ''}`);
    },
    info: message('info'),
    warn: message('warning'),
    error: message('error'),
    functionStderr(name, text) {
      if (format === 'json') sinks.messages(json({ type: 'stderr', function: name, text }));
      else for (const line of text.replace(/\n$/, '').split('\n')) sinks.messages(`[${name}] ${line}`);
    },
  };
}
