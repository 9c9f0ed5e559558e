// The operations the officer console sends; their types are generated from schema.graphql.
import { graphql } from "../gql/index.js";

export const DataRequestQueueQuery = graphql(`
  query DataRequestQueue {
    open: dataRequests(status: OPEN) { ...QueueItem }
    verified: dataRequests(status: IDENTITY_VERIFIED) { ...QueueItem }
  }
  fragment QueueItem on DataRequest { id subjectId kind status openedAt dueAt overdue note identityCheck purposeIds }
`);

export const SubjectTimelineQuery = graphql(`
  query SubjectTimeline($id: ID!, $at: DateTime, $knownAt: DateTime, $after: String) {
    subject(id: $id) {
      id
      status
      version
      consents(at: $at, knownAt: $knownAt) {
        policyId
        purpose { id title mode }
        status
        permitted
        reason
        since
        expiresAt
        policyVersion
        eventId
      }
      policyStandings(at: $at, knownAt: $knownAt) {
        policy { id title }
        acceptedVersion { number }
        acceptedAt
        applicableVersion { number }
        pendingVersion { number }
        needsReconsent
      }
      history(first: 100, after: $after) {
        edges { node { id position type occurredAt recordedAt actor { kind id } data hash } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const PoliciesQuery = graphql(`
  query ConsolePolicies {
    policies { id title currentVersion { number effectiveAt requiresConsent changeSummary } }
  }
`);

export const ReconsentQueueQuery = graphql(`
  query ReconsentQueue($policyId: ID!, $after: String) {
    reconsentPending(policyId: $policyId, first: 100, after: $after)
  }
`);

export const IntegrityQuery = graphql(`
  query Integrity {
    ledgerIntegrity { ok eventCount headPosition headHash firstInvalidPosition }
    ledgerHead { position hash signedAt jws }
  }
`);

export const CheckpointQuery = graphql(`
  query Checkpoint {
    ledgerCheckpoint { origin treeSize rootHash note }
  }
`);

export const LiveEventsSubscription = graphql(`
  subscription LiveEvents {
    ledgerEvents { id position type subjectId occurredAt recordedAt data }
  }
`);

export const VerifyIdentityMutation = graphql(`
  mutation VerifyIdentity($id: ID!, $method: String!) {
    verifyDataRequestIdentity(id: $id, method: $method) { id status }
  }
`);

export const ExtendRequestMutation = graphql(`
  mutation ExtendRequest($id: ID!, $days: Int!, $reason: String!) {
    extendDataRequest(id: $id, days: $days, reason: $reason) { id dueAt }
  }
`);

export const CloseRequestMutation = graphql(`
  mutation CloseRequest($id: ID!, $fulfilled: Boolean!, $note: String) {
    closeDataRequest(id: $id, fulfilled: $fulfilled, note: $note) { id status closedAt }
  }
`);

export const SubjectExportQuery = graphql(`
  query SubjectExport($subjectId: ID!) {
    subjectExport(subjectId: $subjectId)
  }
`);

export const EraseSubjectMutation = graphql(`
  mutation EraseSubject($subjectId: ID!, $reason: String) {
    eraseSubject(subjectId: $subjectId, reason: $reason) { id status }
  }
`);
