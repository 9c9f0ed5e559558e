// The operations the preference centre sends; their types are generated from schema.graphql.
import { graphql } from "../gql/index.js";

export const PreferencesQuery = graphql(`
  query Preferences {
    me {
      id
      status
      version
      consents { policyId status permitted reason since expiresAt policyVersion purpose { id } }
      policyStandings {
        policy { id title }
        acceptedAt
        needsReconsent
        acceptedVersion { ...VersionParts }
        applicableVersion { ...VersionParts }
        pendingVersion { ...VersionParts }
      }
      dataRequests { id kind status openedAt dueAt closedAt }
      history(first: 50) {
        edges { node { id position type occurredAt recordedAt actor { kind id } data } }
        pageInfo { hasNextPage }
      }
    }
  }
  fragment VersionParts on PolicyVersion {
    policyId
    number
    effectiveAt
    requiresConsent
    documentUrl
    changeSummary
    purposes {
      id
      title
      description
      mode
      basis
      dataCategories
      dataCategoryLabels
      consentTtlDays
      recipients { id name kind country privacyPolicyUrl recipientPurpose countryProtectionSystem measures }
    }
  }
`);

export const SaveChoicesMutation = graphql(`
  mutation SaveChoices($input: RecordConsentInput!) {
    recordConsent(input: $input) {
      subject { id version }
      events { id type }
      receipt
    }
  }
`);

export const LeaveServiceMutation = graphql(`
  mutation LeaveService {
    leaveService { id status }
  }
`);

export const OpenDataRequestMutation = graphql(`
  mutation OpenMyDataRequest($input: OpenDataRequestInput!) {
    openDataRequest(input: $input) { id kind status openedAt dueAt }
  }
`);

export const MyReceiptQuery = graphql(`
  query MyReceipt($eventId: ID!) {
    me { receipt(eventId: $eventId) }
  }
`);
