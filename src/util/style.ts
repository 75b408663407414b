/** Terminal colour for stdout and stderr: on a TTY only, never with NO_COLOR; the CLI and the bench table use it. */
import { Chalk } from 'chalk';

/** Colour only on a TTY and never with NO_COLOR (https://no-color.org). */
export function colorsEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export const style = new Chalk({ level: colorsEnabled() ? 1 : 0 });
export const errStyle = new Chalk({ level: colorsEnabled(process.stderr) ? 1 : 0 });
