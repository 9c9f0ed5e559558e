// Japanese labels for the contract's enums, and dates shown in Japan time with the zone named (JST).

const JAPAN = "Asia/Tokyo";
const dateParts = new Intl.DateTimeFormat("ja-JP", { year: "numeric", month: "numeric", day: "numeric", timeZone: JAPAN });
const timeParts = new Intl.DateTimeFormat("ja-JP", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: JAPAN });

/** The calendar date in Japan, e.g. 2026年12月6日. */
function japanDate(d: Date): string {
  const parts = Object.fromEntries(dateParts.formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts["year"]}年${parts["month"]}月${parts["day"]}日`;
}

/** An instant as Japan time with its zone named, e.g. 2026年12月6日 14:02 JST; "—" when absent. */
export const formatDateTime = (iso: string | null | undefined): string => {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${japanDate(d)} ${timeParts.format(d)} JST`;
};
/** The day an instant falls on in Japan, e.g. 2026年12月6日; "—" when absent. */
export const formatDate = (iso: string | null | undefined): string => {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : japanDate(d);
};

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

export const ACTOR_KIND_LABEL: Record<string, string> = {
  SUBJECT: "本人",
  OFFICER: "担当者",
  SERVICE: "サービス",
  SYSTEM: "システム",
};

/** Who caused an event, in words: 本人, or 担当者（officer-1）. */
export const actorText = (a: { kind: string; id: string }, subjectId?: string | null): string =>
  a.kind === "SUBJECT" && (!subjectId || a.id === subjectId) ? "本人" : a.kind === "SYSTEM" ? "システム" : `${label(ACTOR_KIND_LABEL, a.kind)}（${a.id}）`;

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
  NOT_FOUND: "対象が見つかりませんでした。",
  IDENTITY_NOT_VERIFIED: "本人確認が済んでいないため、対応完了にできません。先に本人確認を記録してください。",
  INVALID_STATE: "この請求はすでに閉じられているか、その操作はできない状態です。一覧を更新しました。",
  NETWORK_ERROR: "サーバーに接続できませんでした。通信環境を確認して、もう一度お試しください。",
};

export const errorMessage = (code: string, fallback: string): string => ERROR_MESSAGE[code] ?? `エラーが発生しました（${code}）：${fallback}`;

/**
 * A purpose's state in words, consistent with the switch a person sees: an OPT_OUT purpose nobody
 * objected to is in use by default (同意（既定）), not "unanswered".
 */
export function consentStatusText(mode: string | null | undefined, status: string, reason?: string | null): string {
  // In use by default; before the policy is accepted, what saving will record (the switch shows it on).
  if (status === "NOT_ASKED" && (reason === "DEFAULT_OPT_OUT" || (mode === "OPT_OUT" && (reason === "POLICY_NOT_ACCEPTED" || reason == null)))) return "同意（既定）";
  // Not in use for another reason (left, erased, suspended): the reason says why.
  if (status === "NOT_ASKED" && mode === "OPT_OUT") return "—";
  if (status === "NOT_ASKED" && mode === "OPT_IN") return "未同意";
  if (status === "WITHDRAWN" && mode === "OPT_OUT") return "停止済み（撤回）";
  return label(STATUS_LABEL, status);
}

const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]/;
/** Whether a text is (at least partly) Japanese. */
export const hasJapanese = (text: string): boolean => JAPANESE.test(text);

/**
 * A catalogue text as a Japanese page shows it: null when it has no Japanese at all (an English
 * description), and without English asides in parentheses ("初版 (first version)" → "初版").
 */
export function japaneseText(text: string | null | undefined): string | null {
  if (!text || !hasJapanese(text)) return null;
  return text.replace(/\s*[(（][^()（）\u3040-\u30ff\u3400-\u9fff]*[)）]/g, "").trim() || null;
}
