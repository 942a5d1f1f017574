import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A directory under node_modules/.cache holding `entry` and every module it imports (relative
 * imports, followed), transpiled to JavaScript at their paths relative to the repository, so a
 * plain `node` child process can run them and resolve packages from the repository's node_modules.
 */
export async function transpileForChild(entry: string, name: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = join(ROOT, 'node_modules', '.cache', 'desfire-pacs-tests', `${name}-${process.pid}`);
  const pending = [resolve(ROOT, entry)];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, 'utf8');
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) pending.push(resolve(dirname(file), `${match[1]}.ts`));
    const output = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText;
    const target = join(dir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, output);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface ChildOutcome {
  /** Exit code, or undefined when the process did not exit within the time given (it is killed then). */
  readonly code: number | null | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <script> ...args` and waits up to `timeoutMs` for it to exit on its own. */
export function runNode(script: string, args: readonly string[], timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    let exited = false;
    const timer = setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      resolvePromise({ code: signal === 'SIGKILL' && code === null ? undefined : code, stdout, stderr });
    });
  });
}
