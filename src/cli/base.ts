/**
 * The base of every command: `--json` (oclif's: the value run() returns is printed as JSON),
 * user errors printed without a stack trace, progress lines on stderr.
 */
import { Command } from '@oclif/core';
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

  protected async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error instanceof UserError) {
      if (this.jsonEnabled()) {
        this.logJson({ error: { message: error.message, hint: error.hint } });
      } else {
        process.stderr.write(`${errStyle.red('Error:')} ${error.message}\n`);
        if (error.hint) process.stderr.write(`${errStyle.yellow(error.hint)}\n`);
      }
      this.exit(error.exitCode);
    }
    return super.catch(error);
  }
}
