/**
 * Go's runtime on wasm (1.21 to 1.23 at least) takes heap memory with `sbrk`, which always grows
 * the linear memory, and never uses the 16 MB the linker puts past the data ("enough for runtime
 * init without growing", cmd/link/internal/wasm). So every instance grows its memory by ~8 MB
 * (hello), a recycled memory grows again on each reuse (it cannot be recycled), and each request
 * takes page faults on fresh pages (half of Go's per-request time, profiled with --cpu-prof).
 *
 * The build replaces runtime/mem_wasm.go (`go build -overlay`, only when the installed file is
 * the one this was written for) with an `sbrk` that hands out that reserved space first and grows
 * only past it: a hello never grows its memory, the host recycles it (pages already resident),
 * and a run sees the same addresses as the last one. Memory past the data is zero in a fresh
 * instance and in a recycled memory, which is what sbrk's callers expect of new memory.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** sha256 of the runtime/mem_wasm.go files this replacement was checked against (Go 1.21–1.23). */
const KNOWN_MEM_WASM = new Set(['70098f3076971c53a7a714f3be2327c27fcb35407e223226592dc8daa7646235']);

/** Part of the toolchain version (and so of the build cache key) when the overlay applies. */
export const SBRK_OVERLAY_TAG = '+wfn-sbrk1';

const REPLACEMENT = `// Copyright 2023 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Replaced by wfn at build time (src/toolchains/go-memory.ts): sbrk uses the memory the linker
// reserved past the data before it grows the linear memory.

package runtime

import "unsafe"

var wfnBrk uintptr

func sbrk(n uintptr) unsafe.Pointer {
	if wfnBrk == 0 {
		wfnBrk = alignUp(firstmoduledata.end, physPageSize)
	}
	n = alignUp(n, physPageSize)
	size := uintptr(growMemory(0)) * physPageSize
	if wfnBrk+n > size {
		if growMemory(int32(divRoundUp(wfnBrk+n-size, physPageSize))) < 0 {
			return nil
		}
		resetMemoryDataView()
	}
	p := wfnBrk
	wfnBrk += n
	return unsafe.Pointer(p)
}

// Implemented in src/runtime/sys_wasm.s
func growMemory(pages int32) int32
`;

/** The installed runtime/mem_wasm.go of the Go at `goBinary`, when it is one this overlay replaces. */
function knownMemWasm(goBinary: string): string | undefined {
  const file = path.join(path.dirname(path.dirname(goBinary)), 'src', 'runtime', 'mem_wasm.go');
  if (!existsSync(file)) return undefined;
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
  return KNOWN_MEM_WASM.has(hash) ? file : undefined;
}

export function sbrkOverlayApplies(goBinary: string): boolean {
  return knownMemWasm(goBinary) !== undefined;
}

/** Writes the overlay into `workDir` and returns the `-overlay` argument, or undefined when this Go is not a known one. */
export function writeSbrkOverlay(goBinary: string, workDir: string): string | undefined {
  const original = knownMemWasm(goBinary);
  if (!original) return undefined;
  const replacement = path.join(workDir, 'wfn_mem_wasm.go');
  writeFileSync(replacement, REPLACEMENT);
  const overlay = path.join(workDir, 'wfn-overlay.json');
  writeFileSync(overlay, JSON.stringify({ Replace: { [original]: replacement } }));
  return `-overlay=${overlay}`;
}
