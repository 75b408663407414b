/**
 * Bundled files and the build: the no-op cache holds (nothing touched, nothing rebuilt; a
 * changed file rebuilt), `wfn dev` rebuilds when a mapped file changes and serves the new
 * bytes, and `wfn build --target X` fails, naming X's limit, when the files make the package
 * too big for X. On the AssemblyScript static template (the quickest to compile).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildProject } from '../../src/pipeline/build.js';
import { startDevServer } from '../../src/project/dev.js';
import { scaffoldProject } from '../../src/project/scaffold.js';
import { wfn } from '../helpers/cli.js';
import { request } from '../helpers/http.js';
import { itWithToolchain } from '../helpers/toolchain-gate.js';

const work = await mkdtemp(path.join(tmpdir(), 'wfn-files-build-'));
const it = await itWithToolchain('assemblyscript');

describe('bundled files and the build', () => {
  it('no-op build when nothing changed; a changed or added file rebuilds; dev serves the new bytes after a change', async () => {
    const project = await scaffoldProject('cache', 'assemblyscript', 'static', work);
    const build = async () => buildProject(await loadConfig(project.dir));
    const first = await build();
    expect(first.cached).toBe(false);
    expect((await build()).cached).toBe(true);
    await writeFile(path.join(project.dir, 'public', 'style.css'), 'body { color: red }\n');
    const changed = await build();
    expect(changed.cached).toBe(false);
    expect(changed.sha256).not.toBe(first.sha256);
    expect((await build()).cached).toBe(true);
    // A file outside the mapping changes nothing.
    await writeFile(path.join(project.dir, 'notes.txt'), 'not mapped');
    expect((await build()).cached).toBe(true);

    const progress: string[] = [];
    let onRebuilt: () => void = () => {};
    const rebuilt = new Promise<void>((resolve) => (onRebuilt = resolve));
    const dev = await startDevServer({
      host: '127.0.0.1',
      port: 0,
      projectDir: project.dir,
      log: () => {},
      progress: (m) => {
        progress.push(m);
        if (m.includes('change detected')) onRebuilt();
      },
    });
    try {
      expect((await request(`${dev.url}style.css`)).body.toString()).toBe('body { color: red }\n');
      expect((await request(`${dev.url}new.txt`)).status).toBe(404);
      await writeFile(path.join(project.dir, 'public', 'new.txt'), 'fresh\n');
      // The watcher saw the change; idle() resolves once that rebuild is built and swapped in.
      await rebuilt;
      await dev.idle();
      const fresh = await request(`${dev.url}new.txt`);
      expect([fresh.status, fresh.body.toString()]).toEqual([200, 'fresh\n']);
    } finally {
      await dev.close();
    }
  }, 300_000);

  it('wfn build --target fails with the limit named when the files are over it, and passes where they fit', async () => {
    const created = await wfn(['new', 'big', '--lang', 'assemblyscript', '--template', 'static'], { cwd: work });
    expect(created.code, created.stderr).toBe(0);
    const dir = path.join(work, 'big');
    // Random bytes do not compress: 11 MiB stays over Cloudflare's 10 MB (compressed) Worker limit.
    await writeFile(path.join(dir, 'public', 'video.bin'), randomBytes(11 * 1024 * 1024));
    const over = await wfn(['build', '--target', 'cloudflare'], { cwd: dir, timeoutMs: 300_000 });
    expect(over.code).not.toBe(0);
    expect(over.stderr).toContain("over Cloudflare's Workers size limit of 10 MB compressed");
    expect(over.stderr).not.toMatch(/\n\s+at /); // a UserError, no stack trace
    const fits = await wfn(['build', '--target', 'lambda', '--json'], { cwd: dir, timeoutMs: 300_000 });
    expect(fits.code, fits.stderr).toBe(0);
    const out = JSON.parse(fits.stdout);
    expect(out.files).toMatchObject({ count: 3 });
    expect(out.packages[0]).toMatchObject({ target: 'lambda' });
    const deploy = await wfn(['deploy', '--target', 'cloudflare'], { cwd: dir, timeoutMs: 300_000, env: { CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '' } });
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toContain('Cannot deploy big to cloudflare');
  }, 600_000);
});

describe('a function reading its bundled files with its language\'s own API', async () => {
  const itRust = await itWithToolchain('rust');
  itRust('Rust std::fs: a template and a JSON config read, a folder listed, every write refused as read-only', async () => {
    const project = await scaffoldProject('reader', 'rust', 'http', work);
    const toml = await readFile(path.join(project.dir, 'wfn.toml'), 'utf8');
    await writeFile(path.join(project.dir, 'wfn.toml'), `${toml}\n[files]\n"/templates" = "views/"\n"/" = { dir = "config", include = ["*.json"] }\n`);
    await mkdir(path.join(project.dir, 'views'), { recursive: true });
    await mkdir(path.join(project.dir, 'config'), { recursive: true });
    await writeFile(path.join(project.dir, 'views', 'page.html'), '<h1>{{title}}</h1>\n');
    await writeFile(path.join(project.dir, 'views', 'footer.html'), '<footer/>\n');
    await writeFile(path.join(project.dir, 'config', 'app.json'), '{"title":"Bundled"}\n');
    await writeFile(path.join(project.dir, 'config', 'notes.txt'), 'not included');
    await writeFile(
      path.join(project.dir, 'src', 'main.rs'),
      `//! Reads its bundled files with std::fs and tries to write them.
mod cgi;
use std::fs;
use std::io::Write;

fn kind(result: std::io::Result<()>) -> String {
    match result {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("errno {}", e.raw_os_error().unwrap_or(0)),
    }
}

fn main() {
    let page = fs::read_to_string("/templates/page.html").unwrap();
    let config = fs::read_to_string("/app.json").unwrap();
    let title = config.split('"').nth(3).unwrap_or("?").to_string();
    let mut names: Vec<String> = fs::read_dir("/templates").unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let notes = fs::metadata("/notes.txt").is_ok();
    let write = kind(fs::write("/templates/new.html", "x"));
    let append = kind(fs::OpenOptions::new().append(true).open("/app.json").map(|mut f| f.write_all(b"x").unwrap()));
    let mkdir = kind(fs::create_dir("/more"));
    let remove = kind(fs::remove_file("/app.json"));
    let body = format!("{}|{}|{}|notes={}|write={}|append={}|mkdir={}|remove={}", page.replace("{{title}}", &title).trim(), names.join(","), fs::metadata("/templates/page.html").unwrap().len(), notes, write, append, mkdir, remove);
    cgi::respond(200, "text/plain", body.as_bytes());
}
`,
    );
    const built = await buildProject(await loadConfig(project.dir));
    expect(built.manifest.files).toMatchObject({ count: 3 });
    const dev = await startDevServer({ host: '127.0.0.1', port: 0, wasmPath: built.artifact, log: () => {}, progress: () => {} });
    try {
      const res = await request(dev.url);
      expect(res.status, res.body.toString()).toBe(200);
      // 69 is WASI's EROFS (read-only file system), the raw OS error std::io reports.
      expect(res.body.toString()).toBe('<h1>Bundled</h1>|footer.html,page.html|19|notes=false|write=errno 69|append=errno 69|mkdir=errno 69|remove=errno 69');
    } finally {
      await dev.close();
    }
  }, 600_000);
});
