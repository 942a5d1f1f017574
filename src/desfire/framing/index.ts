/**
 * Framing of DESFire commands and answers, both ends, no I/O.
 *
 * Reader:  splitCommand -> encodeCommandFrame -> (link) -> parseAnswerFrame -> joinAnswers,
 *          all driven by `exchange`.
 * Card:    parseIncomingFrame -> beginCommand / continueCommand -> (handler) ->
 *          beginAnswer / nextAnswer -> encodeAnswerFrame (in the style the frame came in).
 */
export * from './limits.js';
export * from './frame-style.js';
export * from './iso-apdu.js';
export * from './command-frame.js';
export * from './answer-frame.js';
export * from './incoming-frame.js';
export * from './command-chaining.js';
export * from './answer-chaining.js';
export * from './exchange.js';
