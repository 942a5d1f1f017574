/**
 * The generic encoding profile (ARCHITECTURE.md §4): load and validate profiles, encode and check
 * the credential TLV, and read a validated profile as the card and the door see it.
 */
export * from './capacity.js';
export * from './credential-tlv.js';
export * from './limits.js';
export * from './load.js';
export * from './profile-error.js';
export * from './profile-view.js';
export * from './validate.js';
