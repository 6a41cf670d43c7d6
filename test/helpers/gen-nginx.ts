/**
 * Real nginx around a generated conf.d snippet (reference §1.3): a wrapper with its own prefix, pid file,
 * temp paths and stderr error log, upstream hosts rewritten to loopback ports, then `nginx -t` or a real
 * nginx on 127.0.0.1. Plus a small lexer with nginx's tokenizing rules, to check structure without nginx.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTool, waitFor } from "./gen-fixtures.js";

export function nginxBinary(): string {
  return requireTool("nginx", "nginx");
}

/** Rewrites `server host:port;` lines of upstreams and the `listen` port for loopback. */
export function forLoopback(conf: string, upstreams: Record<string, number>, listen?: number): string {
  let out = conf.replace(/^(\s*server\s+)([a-z0-9.-]+):(\d+);/gm, (all, lead: string, host: string) =>
    host in upstreams ? `${lead}127.0.0.1:${upstreams[host]};` : all,
  );
  if (listen !== undefined) out = out.replace(/^(\s*listen\s+)\d+;/m, `$1127.0.0.1:${listen};`);
  return out;
}

/** Writes the wrapper around `snippet` in a fresh prefix dir; returns the dir and wrapper path. */
export function wrap(snippet: string): { dir: string; conf: string } {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-gen-nginx-"));
  writeFileSync(join(dir, "snippet.conf"), snippet);
  const conf = join(dir, "wrap.conf");
  writeFileSync(
    conf,
    `pid ${dir}/nginx.pid;
error_log stderr;
worker_processes 1;
events {}
http {
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    access_log off;
    include ${dir}/snippet.conf;
}
`,
  );
  return { dir, conf };
}

/** `nginx -t` on the snippet: { ok, stderr }. */
export function nginxTest(snippet: string): { ok: boolean; stderr: string } {
  const bin = nginxBinary();
  const { dir, conf } = wrap(snippet);
  const r = spawnSync(bin, ["-t", "-q", "-p", `${dir}/`, "-c", conf], { encoding: "utf8", timeout: 15_000 });
  return { ok: r.status === 0, stderr: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

/** A running nginx on the snippet (which must listen on 127.0.0.1:port). */
export async function startNginx(
  snippet: string,
  port: number,
): Promise<{ proc: ChildProcess; stderr: () => string; stop: () => Promise<void> }> {
  const bin = nginxBinary();
  const { dir, conf } = wrap(snippet);
  const proc = spawn(bin, ["-p", `${dir}/`, "-c", conf, "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  await waitFor(
    () => `nginx listening on ${port} (stderr: ${err})`,
    () =>
      new Promise<boolean>((resolve) => {
        if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}: ${err}`);
        const s = connect(port, "127.0.0.1");
        s.once("connect", () => {
          s.destroy();
          resolve(true);
        });
        s.once("error", () => resolve(false));
      }),
    10_000,
  );
  return {
    proc,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode === null && proc.pid) process.kill(proc.pid, "SIGTERM");
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// nginx's lexer (src/core/ngx_conf_file.c ngx_conf_read_token), enough to read back what we generate

export interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

/** Marks a token that was quoted (so a quoted ";" is not a terminator). */
const QUOTED = "\u0001";
const unmark = (tok: string) => (tok.startsWith(QUOTED) ? tok.slice(QUOTED.length) : tok);

function unescapeQuoted(s: string): string {
  return s.replace(/\\(["'\\tnr])/g, (_, c: string) =>
    c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c,
  );
}

export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === ";" || c === "{" || c === "}") {
      tokens.push(c);
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) throw new Error("unterminated quoted string");
      tokens.push(`${QUOTED}${unescapeQuoted(text.slice(i + 1, j))}`);
      i = j + 1;
      // nginx wants a space, ';' or '{' after a closing quote
      if (i < text.length && !/[\s;{]/.test(text[i] as string))
        throw new Error(`unexpected "${text[i]}" after a quoted string`);
      continue;
    }
    let j = i;
    let word = "";
    while (j < text.length && !/[\s;{}]/.test(text[j] as string)) {
      if (text[j] === "\\" && j + 1 < text.length) {
        word += text[j + 1];
        j += 2;
        continue;
      }
      word += text[j];
      j++;
    }
    tokens.push(word);
    i = j;
  }
  return tokens;
}

/** Directives and blocks; quoted tokens are unquoted (their content unescaped as nginx does). */
export function parseNginx(text: string): Directive[] {
  const tokens = tokenize(text);
  let k = 0;
  const block = (top: boolean): Directive[] => {
    const out: Directive[] = [];
    for (;;) {
      const t = tokens[k];
      if (t === undefined) {
        if (!top) throw new Error("unexpected end of file, expecting }");
        return out;
      }
      if (t === "}") {
        if (top) throw new Error('unexpected "}"');
        k++;
        return out;
      }
      if (t === ";" || t === "{") throw new Error(`unexpected "${t}"`);
      const words: string[] = [];
      while (tokens[k] !== undefined && tokens[k] !== ";" && tokens[k] !== "{" && tokens[k] !== "}")
        words.push(unmark(tokens[k++] as string));
      const end = tokens[k++];
      const [name, ...args] = words;
      if (name === undefined) throw new Error("empty directive");
      if (end === ";") out.push({ name, args });
      else if (end === "{") out.push({ name, args, block: block(false) });
      else throw new Error(`directive "${name}" is not terminated by ";"`);
    }
  };
  return block(true);
}
