import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { transpileForChild } from '../support/child-node.js';
import type { Cleanup } from './support.js';

/** `desfire-pacs` as a separate process (transpiled from src, no build needed), for kills and agents. */
export async function cliScript(cleanups: Cleanup[]): Promise<string> {
  const child = await transpileForChild('src/cli/main.ts', 'e2e-cli');
  cleanups.push(() => child.remove());
  return join(child.dir, 'src/cli/main.js');
}

export interface ServeChild {
  readonly address: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
}

/**
 * Starts `desfire-pacs serve` on a free loopback port over `dataDir` and resolves once its log
 * says where it listens. The process is killed at cleanup if it is still running.
 */
export function startServeChild(script: string, dataDir: string, env: Record<string, string>, cleanups: Cleanup[]): Promise<ServeChild> {
  const child = spawn(process.execPath, [script, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: { ...process.env, DESFIRE_PACS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const match = /"msg":"listening on ([^"]+)"/.exec(line);
        if (match) resolve({ address: match[1], process: child, exited });
      }
    });
    void exited.then((code) => reject(new Error(`desfire-pacs serve exited (${code}) before listening: ${stderr}`)));
  });
}
