/**
 * The functions' recent log lines, for the admin API's logs endpoint (`wfn logs --target
 * self-hosted`): per function a bounded ring of `LogLine`s (one per request, one per stderr
 * line) plus the readers following it. Memory is bounded: at most RING_LINES lines and about
 * RING_BYTES per deployed function, each line's text cut to MAX_LOG_TEXT characters.
 */
import { boundText, logOutcome } from '../../target/log-line.js';
import type { LogLine } from '../../target/types.js';
import type { AccessEntry, ServeLog } from './log.js';

/** Lines kept per function. */
export const RING_LINES = 1000;

export interface LogFollower {
  line(line: LogLine): void;
  /** The server is closing, or the function was deleted: the stream ends. */
  end(): void;
}

/** Bytes (about: characters of text and path, plus the fields) kept per function. */
export const RING_BYTES = 512 * 1024;

const sizeOf = (line: LogLine) => 64 + (line.kind === 'stderr' ? line.text.length : line.path.length + line.method.length);

/** Oldest lines leave first once there are more than `maxLines` or more than `maxBytes`. */
class Ring {
  private lines: LogLine[] = [];
  private start = 0;
  private bytes = 0;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  push(line: LogLine): void {
    this.lines.push(line);
    this.bytes += sizeOf(line);
    while (this.lines.length - this.start > this.maxLines || (this.bytes > this.maxBytes && this.lines.length - this.start > 1)) {
      this.bytes -= sizeOf(this.lines[this.start]);
      this.start++;
    }
    // Drop the evicted head now and then (amortized O(1) per line).
    if (this.start > this.maxLines) {
      this.lines = this.lines.slice(this.start);
      this.start = 0;
    }
  }

  /** Oldest first. */
  all(): LogLine[] {
    return this.lines.slice(this.start);
  }
}

export class FunctionLogs {
  private readonly rings = new Map<string, Ring>();
  private readonly followers = new Map<string, Set<LogFollower>>();

  constructor(
    private readonly ringLines = RING_LINES,
    private readonly ringBytes = RING_BYTES,
  ) {}

  push(name: string, line: LogLine): void {
    let ring = this.rings.get(name);
    if (!ring) this.rings.set(name, (ring = new Ring(this.ringLines, this.ringBytes)));
    ring.push(line);
    for (const follower of this.followers.get(name) ?? []) follower.line(line);
  }

  /** Kept lines of `name` at or after `since`, oldest first. */
  recent(name: string, since?: Date): LogLine[] {
    const lines = this.rings.get(name)?.all() ?? [];
    if (!since) return lines;
    const from = since.getTime();
    return lines.filter((l) => Date.parse(l.time) >= from);
  }

  /** Hears every new line of `name` until the returned function is called. */
  follow(name: string, follower: LogFollower): () => void {
    let set = this.followers.get(name);
    if (!set) this.followers.set(name, (set = new Set()));
    set.add(follower);
    return () => {
      set.delete(follower);
      if (set.size === 0 && this.followers.get(name) === set) this.followers.delete(name);
    };
  }

  /** The function is gone: forget its lines, end its followers. */
  drop(name: string): void {
    this.rings.delete(name);
    for (const follower of this.followers.get(name) ?? []) follower.end();
    this.followers.delete(name);
  }

  /** The server is closing: end every follower (a following client must not hold the shutdown). */
  endAll(): void {
    for (const set of this.followers.values()) for (const follower of set) follower.end();
    this.followers.clear();
  }

  get followerCount(): number {
    let n = 0;
    for (const set of this.followers.values()) n += set.size;
    return n;
  }
}

/** The server's log, also writing each function's request lines and stderr lines into `logs`. */
export function capturingLog(log: ServeLog, logs: FunctionLogs): ServeLog {
  return {
    ...log,
    access(entry: AccessEntry) {
      log.access(entry);
      // Admin requests and requests that named no deployed function are not any function's log.
      if (!entry.function || entry.function === '_wfn') return;
      const status = entry.result ? entry.result.response.status : (entry.status ?? 0);
      logs.push(entry.function, {
        kind: 'request',
        time: new Date().toISOString(),
        method: boundText(entry.method).slice(0, 32),
        path: boundText(entry.path),
        status,
        durationMs: Math.round(entry.totalMs * 1000) / 1000,
        outcome: logOutcome(entry.result?.outcome, status),
      });
    },
    functionStderr(name: string, text: string) {
      log.functionStderr(name, text);
      const time = new Date().toISOString();
      // One invocation's stderr may be large: only its last RING_LINES lines could be kept anyway.
      const lines = text.replace(/\n$/, '').split('\n').slice(-RING_LINES);
      for (const line of lines) logs.push(name, { kind: 'stderr', time, text: boundText(line) });
    },
  };
}
