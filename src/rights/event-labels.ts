// What each kind of event is called in Japanese, as a subject's export names it for the person reading it.
import type { EventType } from "../domain/events.js";

export const EVENT_LABEL_JA: Readonly<Record<EventType, string>> = {
  PolicyVersionPublished: "ポリシーの版の公表",
  PolicyAccepted: "ポリシーへの同意",
  ConsentGranted: "同意",
  ConsentWithdrawn: "同意の撤回",
  ProcessingSuspended: "利用停止",
  ProcessingResumed: "利用再開",
  SubjectLeft: "退会",
  SubjectReturned: "再入会",
  SubjectErased: "消去",
  SubjectMerged: "他の利用者への統合",
  ConsentExpired: "同意の期限切れ",
  PolicyVersionEffective: "ポリシーの版の施行",
  ThirdPartyTransferRecorded: "第三者提供・受領の記録",
  DataRequestOpened: "開示等の請求の受付",
  DataRequestIdentityVerified: "本人確認",
  DataRequestClosed: "開示等の請求の完了",
  DataRequestExtended: "回答期限の延長",
  PersonalDataAccessed: "個人データの閲覧",
  NoticeShown: "通知の表示",
  PolicyAnnounced: "改定の公表",
};
