import type { ApduCommand, ApduResponse, ReaderFailure, TimedExchangeResult, TimedExchangeTask } from '../gen/desfirepacs/v1/relay_pb.js';

/**
 * The shape both relay streams share (AuthService.Authenticate and EncoderService.Encode), for
 * both ends: the reader host sends a start message, then answers; the service sends commands,
 * then a result. Only the start and result messages differ, so each end is written once over
 * these types.
 */

/** A message from the reader host (AuthenticateRequest, EncodeRequest). */
export interface RelayRequest<Start> {
  readonly message:
    | { readonly case: 'start'; readonly value: Start }
    | { readonly case: 'apduResponse'; readonly value: ApduResponse }
    | { readonly case: 'timedResult'; readonly value: TimedExchangeResult }
    | { readonly case: 'failure'; readonly value: ReaderFailure }
    | { readonly case: undefined; readonly value?: undefined };
}

/** A command for the reader host. */
export type RelayCommand = { readonly case: 'apdu'; readonly value: ApduCommand } | { readonly case: 'timedExchange'; readonly value: TimedExchangeTask };

/** A message from the service (AuthenticateResponse, EncodeResponse). */
export interface RelayResponse<Result> {
  readonly message: RelayCommand | { readonly case: 'result'; readonly value: Result } | { readonly case: undefined; readonly value?: undefined };
}

/** What a request's message is called in the proto, for error messages. */
export function requestName(message: RelayRequest<unknown>['message']): string {
  switch (message.case) {
    case 'start':
      return 'start';
    case 'apduResponse':
      return 'apdu_response';
    case 'timedResult':
      return 'timed_result';
    case 'failure':
      return 'failure';
    default:
      return 'an empty message';
  }
}
