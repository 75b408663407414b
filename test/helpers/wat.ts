/** Compiles WAT fixtures with wabt (npm) inside the tests. */
import wabtInit from 'wabt';

let wabt: Awaited<ReturnType<typeof wabtInit>> | undefined;

export async function wat2wasm(source: string, name = 'fixture.wat'): Promise<Uint8Array> {
  wabt ??= await wabtInit();
  const parsed = wabt.parseWat(name, source, { bulk_memory: true, mutable_globals: true, sign_extension: true });
  try {
    parsed.resolveNames();
    parsed.validate();
    return new Uint8Array(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}
