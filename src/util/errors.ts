/**
 * An error caused by the user's input or machine (bad wfn.toml, bad .wasm, missing
 * toolchain, provider refusal). Commands print its message without a stack trace.
 */
export class UserError extends Error {
  constructor(message: string, readonly hint?: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

export class ToolchainMissingError extends UserError {
  constructor(tool: string, fix: string) {
    super(`${tool} was not found or is not usable.`, `Fix: ${fix}`);
    this.name = 'ToolchainMissingError';
  }
}
