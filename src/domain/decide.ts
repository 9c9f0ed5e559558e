// decide(command, state) -> events: one function per command of the contract, raising its codes.
// Each job lives in a file of its own; this module names them all in one place.
export { LIMITS, MAX_FUTURE_SKEW_MS, checkExpectedVersion, checkId, checkText, checkUrl, requireActive } from "./checks.js";
export { type RecordConsentBounds, type RecordConsentCommand, decideRecordConsent } from "./decide-consent.js";
export { DOCUMENT_TEXT_LENGTH, type PublicationInput, type PublishCommand, decidePublish, toPublishCommand } from "./publication.js";
export { decideErase, decideLeave, decideResume, decideSuspend } from "./decide-lifecycle.js";
export {
  DEFAULT_MAX_EXTENSION_DAYS,
  DEFAULT_MAX_OPEN_REQUESTS,
  type OpenDataRequestCommand,
  REQUEST_NOTE_LENGTH,
  decideCloseDataRequest,
  decideExtendDataRequest,
  decideOpenDataRequest,
  decideVerifyIdentity,
} from "./decide-requests.js";
export { type NoticeShownCommand, decideNoticeShown, decidePersonalDataAccessed } from "./decide-records.js";
