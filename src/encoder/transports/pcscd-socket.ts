import { connect } from 'node:net';
import { PcscUnavailableError } from './pcsc-unavailable.js';

/** Where libpcsclite reaches pcscd: $PCSCLITE_CSOCK_NAME, else pcsc-lite's default socket. */
export function pcscdSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PCSCLITE_CSOCK_NAME || '/run/pcscd/pcscd.comm';
}

/**
 * Checks that pcscd answers on its socket, before nfc-pcsc is asked for a context: when pcscd is
 * not there, @pokusew/pcsclite retries SCardEstablishContext in a loop inside its constructor and
 * the process hangs for good. A socket-activated pcscd (systemd) is started by this connection.
 * macOS and Windows have their own PC/SC service (no pcsc-lite socket): nothing to check there.
 */
export async function checkPcscd(options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  if (process.platform === 'darwin' || process.platform === 'win32') return;
  const path = pcscdSocketPath(options.env);
  const timeoutMs = options.timeoutMs ?? 2000;
  const failure = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ path });
    const timer = setTimeout(() => finish('no answer within ' + timeoutMs + ' ms'), timeoutMs);
    function finish(problem: string | undefined) {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    }
    socket.once('connect', () => finish(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
  if (failure !== undefined) {
    throw new PcscUnavailableError(
      'pcscd',
      `pcscd does not answer on ${path} (${failure}): start it (systemctl start pcscd.socket, or pcscd as root; ` +
        `.ci/start-pcscd.sh in CI)`,
    );
  }
}
