// smolab's wasm sandbox runner: CPython compiled to WebAssembly (Pyodide) under Node.
// It speaks the process worker's protocol: length-prefixed JSON frames on stdin and
// stdout (a 4-byte big-endian length, then the JSON). The Python
// interpreter persists between requests; its files live in Pyodide's in-memory file
// system under /workspace and only cross to the host through put/get requests.
import { constants as fsConstants } from "node:fs";
import { pathToFileURL } from "node:url";

// Under Node's permission model process.binding() is refused; Pyodide only asks it for
// the file-system constants, which the public fs module has too.
process.binding = (name) => {
  if (name === "constants") return { fs: fsConstants };
  throw new Error(`process.binding(${name}) is not available in the sandbox`);
};

const indexURL = process.argv[2].replace(/\/?$/, "/");
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const out = { parts: [], bytes: 0, cut: false };
const err = { parts: [], bytes: 0, cut: false };
let limit = 1 << 20;

function writer(sink) {
  return {
    write(buf) {
      if (sink.bytes + buf.length > limit) {
        const room = Math.max(0, limit - sink.bytes);
        sink.parts.push(Buffer.from(buf.subarray(0, room)).toString("utf8"));
        sink.bytes = limit;
        sink.cut = true;
        // Fails the write inside Python, so an endless printer stops instead of spinning.
        throw new Error("output limit reached");
      }
      sink.parts.push(Buffer.from(buf).toString("utf8"));
      sink.bytes += buf.length;
      return buf.length;
    },
  };
}

const pyodide = await loadPyodide({ indexURL, env: { HOME: "/workspace" } });
pyodide.setStdout(writer(out));
pyodide.setStderr(writer(err));
pyodide.FS.mkdirTree("/workspace");
pyodide.runPython("import os; os.chdir('/workspace')");
const run = pyodide.runPython(`
import linecache, sys, traceback
_ns = {"__name__": "__main__"}
def _smolab_run(code, name="<cell>"):
    try:
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        exec(compile(code, name, "exec"), _ns)
        return 0
    except SystemExit as e:
        c = e.code
        return c if isinstance(c, int) else (0 if c is None else 1)
    except MemoryError:
        traceback.print_exc()
        return 137
    except BaseException:
        traceback.print_exc()
        return 1
_smolab_run
`);

function reply(obj) {
  const body = Buffer.from(JSON.stringify(obj));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  process.stdout.write(Buffer.concat([head, body]));
}

function handle(req) {
  try {
    if (req.kind === "python") {
      limit = req.output_bytes;
      for (const s of [out, err]) Object.assign(s, { parts: [], bytes: 0, cut: false });
      const start = performance.now();
      const cpu = process.cpuUsage();
      const code = run(req.code, req.name || "<cell>");
      const used = process.cpuUsage(cpu);
      const cut = out.cut || err.cut;
      reply({
        call: req.call,
        exit_code: code,
        status: cut ? "output_truncated" : code === 0 ? "ok" : code === 137 ? "out_of_memory" : "error",
        stdout: out.parts.join(""),
        stderr: err.parts.join(""),
        seconds: (performance.now() - start) / 1000,
        cpu_seconds: (used.user + used.system) / 1e6,
        message: cut ? `output past ${limit} bytes was cut` : code === 137 ? "wasm memory exhausted (MemoryError)" : "",
      });
    } else if (req.kind === "shell") {
      reply({
        call: req.call, exit_code: 127, status: "error", stdout: "", seconds: 0, cpu_seconds: 0,
        stderr: "the wasm sandbox has no shell; use the process backend\n", message: "no shell in wasm",
      });
    } else if (req.kind === "put") {
      const dir = req.path.split("/").slice(0, -1).join("/");
      if (dir) pyodide.FS.mkdirTree(dir);
      pyodide.FS.writeFile(req.path, Buffer.from(req.data, "base64"));
      reply({ call: req.call, ok: true });
    } else if (req.kind === "get") {
      const data = pyodide.FS.readFile(req.path);
      reply({ call: req.call, ok: true, data: Buffer.from(data).toString("base64") });
    } else {
      reply({ call: req.call, ok: false, error: `unknown request ${req.kind}` });
    }
  } catch (e) {
    reply({ call: req.call, ok: false, error: String(e && e.message ? e.message : e) });
  }
}

reply({ ready: true, python: pyodide.runPython("import sys; sys.version.split()[0]") });

let pending = Buffer.alloc(0);
process.stdin.on("data", (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const n = pending.readUInt32BE(0);
    if (pending.length < 4 + n) break;
    const req = JSON.parse(pending.subarray(4, 4 + n).toString("utf8"));
    pending = pending.subarray(4 + n);
    handle(req);
  }
});
process.stdin.on("end", () => process.exit(0));
