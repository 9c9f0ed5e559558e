// The client library: `createConsentClient`, visitor sessions, Consent Mode, and following changes.
export * from "./core.js";
export { follow, type ConsentChange, type FollowOptions } from "./follow.js";
