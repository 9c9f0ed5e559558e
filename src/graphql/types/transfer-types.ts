// Third-party transfer records and the external-transmission notice, as clients see them.
import { Field, ID, ObjectType } from "type-graphql";
import type { TransferBasis, TransferDirection } from "../../domain/events.js";
import { TransferBasisEnum, TransferDirectionEnum } from "../enums.js";
import { DateTimeScalar } from "../scalars.js";
import { RecipientType } from "./catalog-types.js";

@ObjectType("Provider", { description: "Who provided data received from a third party, and how they obtained it (APPI Art. 30(1))." })
export class ProviderType {
  @Field(() => String) name!: string;
  @Field(() => String) address!: string;
  @Field(() => String, { nullable: true }) representative!: string | null;
  @Field(() => String) acquisition!: string;
}

@ObjectType("ThirdPartyTransfer", { description: "A provision to or receipt from a third party (APPI Arts. 29, 30), kept until retainUntil." })
export class ThirdPartyTransferType {
  @Field(() => ID) id!: string;
  @Field(() => ID) subjectId!: string;
  @Field(() => TransferDirectionEnum) direction!: TransferDirection;
  @Field(() => RecipientType) counterparty!: RecipientType;
  @Field(() => ID, { nullable: true }) purposeId!: string | null;
  @Field(() => [String]) dataCategories!: string[];
  @Field(() => TransferBasisEnum) basis!: TransferBasis;
  @Field(() => DateTimeScalar) occurredAt!: number;
  @Field(() => DateTimeScalar) recordedAt!: number;
  @Field(() => DateTimeScalar, { description: "occurredAt + 3 years: how long the record is kept." }) retainUntil!: number;
  @Field(() => ProviderType, { nullable: true, description: "For a receipt (RECEIVED): the provider; kept through erasure until retainUntil." })
  provider!: ProviderType | null;
}

@ObjectType("ExternalTransmission", {
  description: "What a page sends to an external module, to whom, what for, and how to opt out (Telecommunications Business Act Art. 27-12).",
})
export class ExternalTransmissionType {
  @Field(() => ID) purposeId!: string;
  @Field(() => RecipientType) recipient!: RecipientType;
  @Field(() => [String]) dataCategories!: string[];
  @Field(() => [String], { description: "The plain-language label of each of dataCategories, in the same order." }) dataCategoryLabels!: string[];
  @Field(() => String) recipientPurpose!: string;
  @Field(() => ID, { description: "The purpose to withdraw to stop the transmission." }) optOutPurposeId!: string;
}
