/**
 * CloudWatch Logs events of a Lambda function -> `LogLine`s. The Node.js runtime writes one
 * event per console call: `<time>\t<request id>\t<LEVEL>\t<text>` (text format) or a JSON object
 * with `level` and `message` (JSON format). The handler's request line (request-log.ts) becomes a
 * request line; the platform's START/END/REPORT/INIT lines are dropped; everything else the
 * function or the handler wrote is stderr.
 */
import { asLogLine, boundText, logOutcome } from '../../src/target/log-line.js';
import type { LogLine } from '../../src/target/types.js';
import { REQUEST_MARKER, type RequestRecord } from './request-log.js';

const PLATFORM = /^(START|END|REPORT|INIT_START|INIT_REPORT|INIT_RUNTIME_DONE|EXTENSION|TELEMETRY|RESTORE_START|RESTORE_REPORT) /;
const TEXT_FORMAT = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z\t[^\t]*\t[A-Z]+\t/;

/** The text a console call wrote, without the runtime's prefix (both log formats). */
function consoleText(message: string): string {
  if (message.startsWith('{')) {
    try {
      const json = JSON.parse(message) as { message?: unknown };
      if (typeof json.message === 'string') return json.message;
    } catch {
      // not the JSON format: a line of its own
    }
  }
  const prefix = TEXT_FORMAT.exec(message);
  return prefix ? message.slice(prefix[0].length) : message;
}

export function linesOfEvent(event: { timestamp?: number; message?: string }): LogLine[] {
  const message = (event.message ?? '').replace(/\n+$/, '');
  if (!message || PLATFORM.test(message)) return [];
  const time = new Date(event.timestamp ?? Date.now()).toISOString();
  const text = consoleText(message);
  if (text.startsWith(REQUEST_MARKER)) {
    let record: Partial<RequestRecord> | undefined;
    try {
      record = JSON.parse(text.slice(REQUEST_MARKER.length)) as Partial<RequestRecord>;
    } catch {
      record = undefined;
    }
    const line = record && asLogLine({ kind: 'request', time, ...record, outcome: logOutcome(record.outcome, record.status ?? 0) });
    if (line) return [line];
  }
  return text.split('\n').map((t) => ({ kind: 'stderr', time, text: boundText(t) }));
}
