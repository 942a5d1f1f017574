import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Client, credentials, makeGenericClientConstructor, type ChannelCredentials, Metadata, type CallOptions, type ClientDuplexStream, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { serviceDefinition } from './service-definition.js';

type MethodClient<M> = M extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
  : M extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (request: MessageInitShape<I>, options?: CallOptions) => ClientReadableStream<MessageShape<O>>
    : M extends { methodKind: 'bidi_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? (options?: CallOptions) => ClientDuplexStream<MessageInitShape<I>, MessageShape<O>>
      : never;

/** A typed client for a generated service: unary calls return promises, streams are grpc-js streams (async-iterable). */
export type ServiceClient<S> = (S extends GenService<infer T extends GenServiceMethods> ? { readonly [K in keyof T]: MethodClient<T[K]> } : never) & {
  /** The underlying grpc-js client (close it when done). */
  readonly grpc: Client;
};

/** TLS towards the service, PEM contents. */
export interface ClientTls {
  /** CA certificates to trust for the server's certificate (default: the system's). */
  readonly ca?: Buffer;
  /** This client's certificate and its key, for a service that requires them (mTLS); both or neither. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface ServiceClientOptions {
  /** Unset: plaintext, as to a service on loopback. */
  readonly tls?: ClientTls;
}

/** The channel credentials for `tls`: plaintext without it. */
export function clientCredentials(tls: ClientTls | undefined): ChannelCredentials {
  return tls === undefined ? credentials.createInsecure() : credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/**
 * A client for `service` at `address` (host:port), plaintext or over TLS as `options` say, or on
 * a grpc-js client made by the caller (channel options of its own). Used by the CLI, the station
 * agent, tests and benchmarks.
 */
export function serviceClient<T extends GenServiceMethods>(service: GenService<T>, address: string, options: ServiceClientOptions | Client = {}): ServiceClient<GenService<T>> {
  const grpc =
    options instanceof Client ? options : new (makeGenericClientConstructor(serviceDefinition(service), service.typeName))(address, clientCredentials(options.tls));
  const definition = serviceDefinition(service);
  const out: Record<string, unknown> = { grpc };
  for (const method of service.methods) {
    const path = `/${service.typeName}/${method.name}`;
    const def = definition[method.localName];
        switch (method.methodKind) {
      case 'unary':
        out[method.localName] = (request: unknown, options: CallOptions = {}) =>
          new Promise((resolve, reject) => {
            grpc.makeUnaryRequest(path, def.requestSerialize, def.responseDeserialize, request, new Metadata(), options, (err: ServiceError | null, value?: unknown) =>
              err ? reject(err) : resolve(value),
            );
          });
        break;
      case 'server_streaming':
        out[method.localName] = (request: unknown, options: CallOptions = {}) =>
          grpc.makeServerStreamRequest(path, def.requestSerialize, def.responseDeserialize, request, new Metadata(), options);
        break;
      case 'bidi_streaming':
        out[method.localName] = (options: CallOptions = {}) => grpc.makeBidiStreamRequest(path, def.requestSerialize, def.responseDeserialize, new Metadata(), options);
        break;
      default:
        break;
    }
  }
  return out as ServiceClient<GenService<T>>;
}

