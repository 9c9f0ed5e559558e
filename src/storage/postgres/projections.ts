// The read models on PostgreSQL: written in the append's transaction, one statement per append,
// and read in one query per question (a subject now, as of an instant, through a position). One
// file per read model under read-models/; this module gathers them.
export type { SubjectSnapshot } from "../storage-port.js";
export type { Queryable } from "./read-models/queryable.js";
export { PROJECTION_COUNTS, type ProjectionWrites, projectEvents, projectionWrites, statusesBefore } from "./read-models/projection-writes.js";
export { writeRequests } from "./read-models/rare-writes.js";
export { readPendingReconsent, readSubject } from "./read-models/subjects.js";
export { readCurrentView, readCurrentViewUntil, readViewAt, readViewThrough } from "./read-models/views.js";
export { readDataRequest, readDataRequests } from "./read-models/data-requests.js";
export { readDueEffects, readDueExpiries, readEffectPositions, readNextDue, readSubjectsOfPolicy } from "./read-models/due-changes.js";
export { readTransferPositions } from "./read-models/transfers.js";
