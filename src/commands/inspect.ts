import { Args } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { WfnCommand } from '../cli/base.js';
import { style } from '../util/style.js';
import { inspectComponent, inspectWasm, isComponent, WasmFormatError } from '../pipeline/inspect.js';
import { formatBytes } from '../util/bytes.js';
import { UserError } from '../util/errors.js';

export default class Inspect extends WfnCommand {
  static summary = 'Show what a .wasm holds: imports, exports, memory, sections, producers, snapshot, contract conformance.';
  static examples = ['wfn inspect dist/hello.wasm', 'wfn inspect app.wasm --json'];
  static args = { wasm: Args.string({ required: true, description: 'The .wasm file.' }) };

  async run() {
    const { args } = await this.parse(Inspect);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(args.wasm);
    } catch {
      throw new UserError(`Cannot read ${args.wasm}.`);
    }
    if (isComponent(bytes)) return this.component(args.wasm, bytes);
    let info;
    try {
      info = await inspectWasm(bytes);
    } catch (error) {
      if (error instanceof WasmFormatError) throw new UserError(`${args.wasm}: ${error.message}`);
      throw error;
    }
    this.log(`${args.wasm}: ${formatBytes(info.size)}${info.valid ? '' : style.red(` — invalid: ${info.validationError}`)}`);
    this.log(`contract: ${info.contract.conforms ? style.green('conforms') : style.red('does not conform')}`);
    for (const p of info.contract.problems) this.log(`  - ${p}`);
    this.log(`outbound HTTP: ${info.outbound ? 'yes (imports wfn_http_v1; [outbound] allow in wfn.toml decides where to)' : 'no'}`);
    this.log(`key-value: ${info.kv ? 'yes (imports wfn_kv_v1; [kv] stores in wfn.toml names the stores it may open)' : 'no'}`);
    this.log(`imports (${info.imports.length}):`);
    for (const i of info.imports) this.log(`  ${i.module}.${i.name} (${i.kind})`);
    this.log(`exports (${info.exports.length}): ${info.exports.map((e) => `${e.name} (${e.kind})`).join(', ')}`);
    for (const m of info.memories) this.log(`memory ${m.index}: initial ${m.initialPages} pages (${formatBytes(m.initialBytes)}), max ${m.maxPages ?? 'none'}${m.shared ? ', shared' : ''}${m.memory64 ? ', 64-bit' : ''}`);
    if (info.memories.length === 0) this.log('memory: none defined');
    this.log(`data: ${formatBytes(info.dataBytes)} in ${info.dataSegments} segments`);
    this.log(`snapshot: ${info.snapshot.likely ? `yes (${info.snapshot.initFunc})` : 'no'} — ${info.snapshot.evidence}`);
    this.log('sections:');
    for (const s of info.sections) this.log(`  ${s.name}${s.customName !== undefined ? ` "${s.customName}"` : ''}  ${formatBytes(s.size)}`);
    if (info.producers) for (const [field, values] of Object.entries(info.producers)) this.log(`producers ${field}: ${values.join(', ')}`);
    return { file: args.wasm, kind: 'module', ...info };
  }

  /** A component: its world (what it imports and exports) and whether it is a wasi:http/proxy component. */
  private async component(file: string, bytes: Uint8Array) {
    let info;
    try {
      info = await inspectComponent(bytes);
    } catch (error) {
      if (error instanceof WasmFormatError) throw new UserError(`${file}: ${error.message}`);
      throw error;
    }
    this.log(`${file}: a component, ${formatBytes(info.size)} (${info.coreModules} core module${info.coreModules === 1 ? '' : 's'})`);
    this.log(`wasi:http/proxy: ${info.proxy.conforms ? style.green('yes') : style.red('no')}`);
    for (const p of info.proxy.problems) this.log(`  - ${p}`);
    this.log(`imports (${info.world.imports.length}):`);
    for (const i of info.world.imports) this.log(`  ${i}`);
    this.log(`exports (${info.world.exports.length}):`);
    for (const e of info.world.exports) this.log(`  ${e}`);
    return { file, ...info };
  }
}
