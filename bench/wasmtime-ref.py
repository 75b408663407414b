# The independent reference of `npm run bench` (section invoke): wasmtime-py runs a function's
# .wasm as Wasmtime would per request: a new Store with its WASI context, instantiate, _start.
# Prints JSON: per-request µs samples of instantiate and of instantiate + _start.
# Usage: python3 bench/wasmtime-ref.py FILE.wasm SAMPLES [KEY=VALUE ...]
import json, sys, tempfile, time, os

try:
    import wasmtime
except ImportError:
    print(json.dumps({"skipped": "wasmtime-py is not installed (pip install wasmtime==49.0.0)"}))
    sys.exit(0)

path, samples = sys.argv[1], int(sys.argv[2])
env = [tuple(kv.split("=", 1)) for kv in sys.argv[3:]]
engine = wasmtime.Engine()
module = wasmtime.Module.from_file(engine, path)
linker = wasmtime.Linker(engine)
linker.define_wasi()
out = tempfile.NamedTemporaryFile(delete=False)
out.close()

def once():
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["/"]
    wasi.env = env
    wasi.stdout_file = out.name
    store.set_wasi(wasi)
    t0 = time.perf_counter()
    instance = linker.instantiate(store, module)
    t1 = time.perf_counter()
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        if e.code != 0:
            raise
    t2 = time.perf_counter()
    return (t1 - t0) * 1e6, (t2 - t0) * 1e6

for _ in range(min(20, samples)):
    once()
inst, total = [], []
for _ in range(samples):
    a, b = once()
    inst.append(a)
    total.append(b)
with open(out.name, "rb") as f:
    head = f.read(200)
os.unlink(out.name)
print(json.dumps({"instantiateUs": inst, "totalUs": total, "stdoutHead": head.decode("utf-8", "replace")}))
