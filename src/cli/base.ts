/**
 * The base of every command: `--json` (oclif's: the value run() returns is printed as JSON),
 * user errors printed without a stack trace, progress lines on stderr.
 */
import { Command, Errors } from '@oclif/core';
import { UserError } from '../util/errors.js';
import { errStyle } from '../util/style.js';

const COLORIZE_MAX_CHARS = 64 * 1024;

export abstract class WfnCommand extends Command {
  static enableJsonFlag = true;

  /**
   * --json output. oclif colorizes with a regex tokenizer that overflows the stack on a long
   * string (an 8 MiB body as base64) and is quadratic anyway: plain JSON unless a person is
   * reading a small document in a terminal.
   */
  logJson(json: unknown): void {
    const text = JSON.stringify(json, null, 2);
    if (process.stdout.isTTY && text !== undefined && text.length <= COLORIZE_MAX_CHARS) return super.logJson(json);
    process.stdout.write(`${text}\n`);
  }

  /** A progress line on stderr (stdout stays clean for --json and for piping bodies). */
  protected progress(message: string): void {
    if (this.jsonEnabled() && !process.env.WFN_PROGRESS) return;
    process.stderr.write(`${errStyle.dim('wfn')} ${message}\n`);
  }

  /**
   * Every error ends here. Under --json it is `{"error":{"message","hint"}}` on stdout, never
   * oclif's dump of the whole parse context and config (80 KB); the exit codes are
   * docs/cli.md's: 2 for a usage error (a missing, unknown or bad flag or argument), 1 for
   * anything else. The process then exits: a server that failed to start may hold handles
   * (a worker pool, workerd) that would keep it alive.
   */
  protected async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    const usage = isUsageError(error);
    if (error instanceof UserError || usage || this.jsonEnabled()) {
      const { message, hint } = describeError(error, this.id);
      if (this.jsonEnabled()) {
        this.logJson({ error: { message, ...(hint ? { hint } : {}) } });
      } else {
        process.stderr.write(`${errStyle.red('Error:')} ${message}\n`);
        if (hint) process.stderr.write(`${errStyle.yellow(hint)}\n`);
      }
      this.exit(usage ? EXIT_USAGE : error instanceof UserError ? error.exitCode : EXIT_ERROR);
    }
    return super.catch(error);
  }
}

/** The exit codes (docs/cli.md): 0 done, 1 failed (a user error, a build error, a function that failed), 2 usage. */
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

const SEE_HELP = '\nSee more help with --help';

/**
 * oclif's parse errors (missing/unknown flag, bad option value, missing argument) carry the
 * parse context; a flag value its parser refused (an integer that is not one) is a plain
 * Error that oclif rewrites to end with "See more help with --help".
 */
function isUsageError(error: Error): boolean {
  return (error instanceof Errors.CLIError && 'parse' in error) || (typeof error.message === 'string' && error.message.endsWith(SEE_HELP));
}

/** Message and hint of any error, short: oclif's "See more help with --help" becomes the hint. */
export function describeError(error: Error, commandId?: string): { message: string; hint?: string } {
  if (error instanceof UserError) return { message: error.message, hint: error.hint };
  const raw = error.message ?? String(error);
  if (!isUsageError(error)) return { message: raw };
  // oclif dims parts of some messages on a terminal: JSON and logs get plain text.
  // eslint-disable-next-line no-control-regex
  const plain = raw.replace(/\x1b\[[0-9;]*m/g, '');
  let message = plain.endsWith(SEE_HELP) ? plain.slice(0, -SEE_HELP.length) : plain;
  // "Parsing --timeout \n\tExpected an integer..." and "The following error occurred:\n  Missing..."
  message = message.replace(/^Parsing (--[\w-]+) \n\t/, '$1: ').replace(/^The following error occurred:\n {2}/, '');
  return { message, hint: `See: wfn help${commandId ? ` ${commandId}` : ''}` };
}
