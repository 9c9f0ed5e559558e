// Third-party transfer records and the external-transmission notice, as clients see them.
import { TransferBasisEnum, TransferDirectionEnum } from "../enums.js";
import { RecipientType } from "./catalog-types.js";
import { id, listOf, nullable, object, objectType, oneOf, text, timestamp } from "./fields.js";

export const ProviderType = objectType("Provider", "Who provided data received from a third party, and how they obtained it (APPI Art. 30(1)).", {
  name: text(),
  address: text(),
  representative: nullable(text()),
  acquisition: text(),
});
export type ProviderType = InstanceType<typeof ProviderType>;

export const ThirdPartyTransferType = objectType("ThirdPartyTransfer", "A provision to or receipt from a third party (APPI Arts. 29, 30), kept until retainUntil.", {
  id: id(),
  subjectId: id(),
  direction: oneOf(TransferDirectionEnum),
  counterparty: object(RecipientType),
  purposeId: nullable(id()),
  dataCategories: listOf(text()),
  basis: oneOf(TransferBasisEnum),
  occurredAt: timestamp(),
  recordedAt: timestamp(),
  retainUntil: timestamp("occurredAt + 3 years: how long the record is kept."),
  provider: nullable(object(ProviderType, "For a receipt (RECEIVED): the provider; kept through erasure until retainUntil.")),
});
export type ThirdPartyTransferType = InstanceType<typeof ThirdPartyTransferType>;

export const ExternalTransmissionType = objectType(
  "ExternalTransmission",
  "What a page sends to an external module, to whom, what for, and how to opt out (Telecommunications Business Act Art. 27-12).",
  {
    purposeId: id(),
    recipient: object(RecipientType),
    dataCategories: listOf(text()),
    dataCategoryLabels: listOf(text(), "The plain-language label of each of dataCategories, in the same order."),
    recipientPurpose: text(),
    optOutPurposeId: id("The purpose to withdraw to stop the transmission."),
  },
);
export type ExternalTransmissionType = InstanceType<typeof ExternalTransmissionType>;
