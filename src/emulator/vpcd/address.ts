import { VPCD_DEFAULT_PORT } from './protocol.js';

export interface VpcdAddress {
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_VPCD_ADDRESS: VpcdAddress = Object.freeze({ host: '127.0.0.1', port: VPCD_DEFAULT_PORT });

/**
 * Parses `host:port`, `host` (default port 35963), `:port` (default host 127.0.0.1) or
 * `[v6-address]:port`. Throws a RangeError that quotes the text.
 */
export function parseVpcdAddress(text: string): VpcdAddress {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  let host: string;
  let port: string | undefined;
  if (bracketed) {
    host = bracketed[1];
    port = bracketed[2];
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) throw new RangeError(`"${text}": write an IPv6 address as [address]:port`);
    host = colon >= 0 ? text.slice(0, colon) : text;
    port = colon >= 0 ? text.slice(colon + 1) : undefined;
  }
  if (host === '') host = DEFAULT_VPCD_ADDRESS.host;
  if (port === undefined) return { host, port: VPCD_DEFAULT_PORT };
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new RangeError(`"${text}": the port must be a number from 1 to 65535`);
  }
  return { host, port: Number(port) };
}

/** `host:port`, with brackets around an IPv6 address. */
export function formatVpcdAddress(address: VpcdAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
