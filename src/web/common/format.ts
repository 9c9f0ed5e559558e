// Japanese labels for the contract's enums, and dates shown in Japan time.

const dateTime = new Intl.DateTimeFormat("ja-JP", { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Tokyo" });
const dateOnly = new Intl.DateTimeFormat("ja-JP", { dateStyle: "medium", timeZone: "Asia/Tokyo" });

/** An instant as Japan time, e.g. 2026/12/01 16:05. */
export const formatDateTime = (iso: string | null | undefined): string => (iso ? dateTime.format(new Date(iso)) : "—");
export const formatDate = (iso: string | null | undefined): string => (iso ? dateOnly.format(new Date(iso)) : "—");

export const MODE_LABEL: Record<string, string> = {
  OPT_IN: "同意した場合のみ利用（オプトイン）",
  OPT_OUT: "停止を求めない限り利用（オプトアウト）",
  REQUIRED: "必須（サービスの提供に必要）",
};

export const STATUS_LABEL: Record<string, string> = {
  GRANTED: "同意済み",
  WITHDRAWN: "撤回済み",
  EXPIRED: "期限切れ",
  NOT_ASKED: "未回答",
  REQUIRED: "必須",
};

export const REASON_LABEL: Record<string, string> = {
  GRANTED: "同意により利用可",
  DEFAULT_OPT_OUT: "停止の求めがないため利用可",
  REQUIRED_FOR_SERVICE: "サービス提供に必要",
  NOT_GRANTED: "同意がないため利用不可",
  WITHDRAWN: "撤回により利用不可",
  EXPIRED: "同意の期限切れにより利用不可",
  NOT_IN_APPLICABLE_POLICY: "適用中の版にない目的",
  POLICY_NOT_ACCEPTED: "ポリシー未同意",
  SUBJECT_SUSPENDED: "利用停止中",
  SUBJECT_LEFT: "退会済み",
  SUBJECT_ERASED: "消去済み",
  RECIPIENT_NOT_COVERED: "提供先が同意の範囲外",
};

export const SUBJECT_STATUS_LABEL: Record<string, string> = {
  ACTIVE: "利用中",
  SUSPENDED: "利用停止中",
  LEFT: "退会済み",
  ERASED: "消去済み",
  MERGED: "統合済み",
};

export const REQUEST_KIND_LABEL: Record<string, string> = {
  DISCLOSURE: "開示",
  CORRECTION: "訂正・追加・削除",
  DELETION: "消去",
  SUSPENSION: "利用停止・第三者提供の停止",
};

export const REQUEST_STATUS_LABEL: Record<string, string> = {
  OPEN: "受付済み",
  IDENTITY_VERIFIED: "本人確認済み",
  FULFILLED: "対応完了",
  REJECTED: "不対応",
};

export const RECIPIENT_KIND_LABEL: Record<string, string> = {
  PROCESSOR: "委託先",
  THIRD_PARTY: "第三者",
  EXTERNAL_MODULE: "外部送信モジュール",
};

export const EVENT_TYPE_LABEL: Record<string, string> = {
  PolicyVersionPublished: "ポリシーの版の公表",
  PolicyAccepted: "ポリシーへの同意",
  ConsentGranted: "同意",
  ConsentWithdrawn: "撤回",
  ProcessingSuspended: "利用停止",
  ProcessingResumed: "利用再開",
  SubjectLeft: "退会",
  SubjectErased: "消去",
  DataRequestOpened: "請求の受付",
  DataRequestIdentityVerified: "本人確認",
  DataRequestClosed: "請求の完了",
  PersonalDataAccessed: "個人データの閲覧",
  NoticeShown: "通知の表示",
  PolicyAnnounced: "改定の公表",
};

/** The catalogue's data-category ids in words; an id not listed is shown as it is. */
export const DATA_CATEGORY_LABEL: Record<string, string> = {
  profile: "登録情報",
  contact: "連絡先",
  "form-input": "フォームへの入力内容",
  "access-log": "アクセスログ",
  cookie: "クッキー",
  "web-beacon": "ウェブビーコン",
  "ad-id": "広告ID",
  location: "位置情報",
  "linked-service-id": "連携サービスのID",
};

const COUNTRY_NAMES = new Intl.DisplayNames(["ja"], { type: "region" });

/** A country code as its Japanese name, e.g. US → アメリカ合衆国 (US). */
export function countryName(code: string | null | undefined): string {
  if (!code) return "日本国内（記載なし）";
  try {
    return `${COUNTRY_NAMES.of(code.toUpperCase()) ?? code} (${code.toUpperCase()})`;
  } catch {
    return code;
  }
}

export const label = (table: Record<string, string>, value: string): string => table[value] ?? value;

/** Messages for the errors a person can meet, by the contract's code. */
export const ERROR_MESSAGE: Record<string, string> = {
  UNAUTHENTICATED: "サインインの有効期限が切れたか、トークンが無効です。もう一度サインインしてください。",
  FORBIDDEN: "この操作を行う権限がありません。",
  VERSION_CONFLICT: "別の画面で設定が変更されていました。最新の設定を読み込み直しました。内容を確認して、もう一度保存してください。",
  SUBJECT_INACTIVE: "退会済みまたは消去済みのため、設定を変更できません。",
  NETWORK_ERROR: "サーバーに接続できませんでした。通信環境を確認して、もう一度お試しください。",
};

export const errorMessage = (code: string, fallback: string): string => ERROR_MESSAGE[code] ?? `エラーが発生しました（${code}）：${fallback}`;
