/**
 * Rule-based verification-code extraction (SPEC §6.1, `method: "rules"`).
 *
 * Pure and dependency-free. It runs on every inbound message inside the Worker, so all
 * work is bounded: the subject is read up to 2 KB, each body part up to 64 KB of text
 * (HTML conversion reads at most 256 KB of markup and stops after 64 KB of text), at most
 * 200 candidate tokens per part are considered, and every per-candidate check looks at
 * a fixed-size window. No regex has nested unbounded quantifiers.
 *
 * ## Pipeline
 * 1. Sources in order: subject → text body → HTML converted to text (only when there is
 *    no text part, or the text found nothing and the HTML says something the text does
 *    not). The first source with a confident winner decides; `source` is "subject" only
 *    when the subject itself decided.
 * 2. Normalise: full-width digits/letters and ：－＃＋％ become ASCII (１２３４ → 1234; CJK
 *    punctuation such as ，。（） is kept), Unicode spaces become spaces, zero-width
 *    characters are dropped, runs of spaces and blank lines are collapsed.
 * 3. Candidates (valid code shape):
 *    - 4–8 ASCII digits, or 4–8 ASCII alphanumerics with ≥ 1 letter and ≥ 1 digit;
 *    - two groups of 3+3 or 4+4 joined by one hyphen ("482-913", "ABC-123", "7QX2-9KLM")
 *      or, for digit groups only, by one space ("123 456", "4821 9305");
 *    - 4–8 single digits separated by single spaces ("4 8 2 9 1 3", HTML digit boxes).
 *    Decision: grouped/spaced codes are returned without separators ("482-913" →
 *    "482913"), which is what code inputs accept; letter case is kept as written.
 * 4. Keywords, in tiers with a weight w (EN, zh-Hans/zh-Hant, ja, ko, de, fr, es, pt, it,
 *    nl, ru, tr):
 *    - strong, w = 1: "verification code", "OTP", "one-time password", "login code",
 *      "验证码", "動態密碼", "認証コード", "인증번호", "Bestätigungscode",
 *      "code de vérification", "código de verificação", "код подтверждения",
 *      "your Instagram code", "Ihr Code", "enter this code", "6-digit code", …;
 *    - medium, w = 0.75: "PIN", "access code", "2FA", "two-factor", "パスコード", …;
 *    - generic, w = 0.6 (0.35 without a verification context in the message): "code",
 *      "código", "код", "コード", "코드", and "your <common noun> code"; dropped when
 *      qualified ("promo code", "zip code", "código postal", "クーポンコード", …);
 *    - verb, w = 0.6, only when directly attached: "verify", "sign in", "验证", "認証", ….
 *    A "confirmation code" in a booking/flight message and a "passcode"/"access code"/
 *    "PIN" in a meeting invite are reference numbers, not keywords; "backup/recovery
 *    codes" introduce a list of codes that must not be picked.
 * 5. Score each candidate that has a keyword near it (no keyword ⇒ never a code):
 *
 *    | Condition                                                          | Points          |
 *    |--------------------------------------------------------------------|-----------------|
 *    | base: digits / alphanumeric                                        | 100 / 80        |
 *    | 6 / 5 / 8 digits                                                   | +20 / +5 / −10  |
 *    | alnum: 6 chars; no lower-case letters                              | +10; +10        |
 *    | alnum word+number (SAVE20, iPhone15, Win11, 20OFF), not grouped    | −60             |
 *    | keyword before, joined by linker words only ("is", ":", "是", "は", |                 |
 *    |   "lautet", "est", "é"…), a "for/to/für/pour/para/для … :/is" clause, |               |
 *    |   or "(valid for 10 minutes):"                                     | +170·w          |
 *    | keyword before, other gap ≤ 20 chars in the same sentence          | +max(60, 120 − 3·gap)·w |
 *    | keyword before, gap ≤ 200 chars                                    | +60·w           |
 *    | keyword announcing it ("below", "following", "如下", "以下", "ниже"), ≤ 300 chars | ≥ +150·w |
 *    | keyword after, same sentence: linker or "is/as …" / ≤ 40 / ≤ 80    | +150·w / +100·w / +50·w |
 *    | another plausible candidate between keyword and token             | that bonus × 0.4 |
 *    | (only the best keyword bonus counts)                               |                 |
 *    | token alone on its line                                            | +40             |
 *    | verification context in the message (verify, expires, 请勿泄露…)   | +20             |
 *    | body token also in the subject                                     | +20             |
 *    | year 19xx/20xx: keyword directly attached / otherwise              | −40 / −160      |
 *    | yyyymmdd-shaped 8 digits                                           | −80             |
 *    | attached reference/phone label closer than any keyword (order no., |                 |
 *    |   invoice, ref, tracking, ticket, account, ending in, tel, 订单号,   |                 |
 *    |   尾号, 注文番号, Bestellnummer, заказ, 주문번호…)                     | −200            |
 *    | promo words within ±50 chars (% off, discount, 优惠, クーポン, скидк…) | −150            |
 *    | within 500 chars after "backup/recovery codes"                     | −250            |
 *
 *    Hard rejections: inside or next to a URL, e-mail address or query string (://,
 *    www., @, /, ?, =, &, tel:); a `#` prefix (order #, ticket #, hex colours); part of
 *    a longer number or identifier (1,234 · 12.50 · 2024-05-12 · 10:30 · UUID groups ·
 *    a_b); a currency symbol or code next to it; a unit after it (px, %, KB, am/pm, 元,
 *    円, 원, 件…); phone shapes (+86 …, (555) 123-4567, more digit groups around it);
 *    copyright years; a US zip after "City, ST"; street numbers; ordinals/dimensions
 *    (1st, 600x400).
 * 6. Decide per source: the best code needs ≥ 230 points and a lead of ≥ 40 over the
 *    best *different* code that does not overlap it; otherwise the source is ambiguous
 *    (the next source is tried after the subject; the body gives up with null). The
 *    subject additionally needs a verification context in the message, or a strong
 *    keyword directly attached to the code ("Slack confirmation code: 482-913").
 */
import { htmlToText } from "./html-to-text";

export type VerificationSource = "subject" | "body";

export interface Verification {
  code: string;
  source: VerificationSource;
  method: "rules";
}

export interface VerificationInput {
  subject?: string | null;
  text?: string | null;
  html?: string | null;
}

const MAX_SUBJECT = 2 * 1024;
const MAX_TEXT = 64 * 1024;
const MAX_HTML = 256 * 1024;
const MAX_CANDIDATES = 200;
const MAX_HITS = 300;

const THRESHOLD = 230;
const MARGIN = 40;

// ---------------------------------------------------------------------------------------
// Keyword tables. Latin-script entries are wrapped in letter boundaries; CJK/Hangul
// entries are not (those scripts attach particles and have no spaces).
// ---------------------------------------------------------------------------------------

const S = "[\\s-]?"; // optional separator
const SP = "[\\s-]"; // one separator

const STRONG_LATIN = [
  `verification${S}codes?`, `verify${S}codes?`, `security${S}codes?`, `pass${S}codes?`,
  `one${S}time${S}(?:pass${S})?(?:codes?|passwords?|pins?)`, `otp(?:${S}codes?)?`,
  `log${S}in${S}codes?`, `sign${S}in${S}codes?`, `sign${S}on${S}codes?`,
  `confirmation${S}codes?`, `confirm${S}codes?`, `authentication${S}codes?`, `auth${S}codes?`,
  `authenticator${S}codes?`, `2fa${S}codes?`, `mfa${S}codes?`,
  `two${S}factor(?:${SP}authentication)?${SP}codes?`,
  `(?:2|two)${S}step(?:${SP}verification)?${SP}codes?`,
  `(?:password${SP})?reset${SP}codes?`, `activation${SP}codes?`, `validation${SP}codes?`,
  `temporary${SP}(?:codes?|pins?|passcodes?)`, `verification${SP}pins?`, `security${SP}pins?`,
  `enter${SP}(?:this|the|the${SP}following|following|your)(?:${SP}[\\p{L}\\p{N}-]+){0,2}?${SP}codes?`,
  `use${SP}(?:this|the|the${SP}following|following)(?:${SP}[\\p{L}\\p{N}-]+){0,2}?${SP}codes?`,
  `(?:\\d|four|five|six|seven|eight)${S}digits?${SP}(?:codes?|pins?)`,
  `here(?:'s|’s|${SP}is)${SP}your${SP}codes?`,
  // de
  `best[äa]tigungs-?codes?`, `sicherheits-?codes?`, `verifizierungs-?codes?`,
  `verifikations-?codes?`, `einmal-?codes?`, `einmal-?passw[öo]rt(?:er)?`, `anmelde-?codes?`,
  `login-?codes?`, `authentifizierungs-?codes?`, `pr[üu]f-?codes?`,
  `code${SP}zur${SP}best[äa]tigung`,
  // fr
  `codes?${SP}de${SP}v[ée]rification`, `codes?${SP}de${SP}s[ée]curit[ée]`,
  `codes?${SP}de${SP}confirmation`, `codes?${SP}[àa]${SP}usage${SP}unique`,
  `codes?${SP}de${SP}connexion`, `mot${SP}de${SP}passe${SP}[àa]${SP}usage${SP}unique`,
  `codes?${SP}d['’]authentification`, `codes?${SP}de${SP}validation`,
  `codes?${SP}d['’]activation`,
  // es / pt
  `c[óo]digos?${SP}de${SP}verificaci[óo]n`, `c[óo]digos?${SP}de${SP}seguridad`,
  `c[óo]digos?${SP}de${SP}confirmaci[óo]n`, `c[óo]digos?${SP}de${SP}un${SP}solo${SP}uso`,
  `c[óo]digos?${SP}de${SP}inicio${SP}de${SP}sesi[óo]n`, `c[óo]digos?${SP}de${SP}autenticaci[óo]n`,
  `c[óo]digos?${SP}de${SP}validaci[óo]n`, `c[óo]digos?${SP}de${SP}activaci[óo]n`,
  `clave${SP}de${SP}verificaci[óo]n`,
  `c[óo]digos?${SP}de${SP}verifica[çc][ãa]o`, `c[óo]digos?${SP}de${SP}seguran[çc]a`,
  `c[óo]digos?${SP}de${SP}confirma[çc][ãa]o`, `c[óo]digos?${SP}de${SP}uso${SP}[úu]nico`,
  `c[óo]digos?${SP}de${SP}autentica[çc][ãa]o`, `c[óo]digos?${SP}de${SP}valida[çc][ãa]o`,
  `c[óo]digos?${SP}de${SP}login`, `c[óo]digos?${SP}de${SP}ativa[çc][ãa]o`,
  // it / nl / tr
  `codice${SP}di${SP}verifica`, `codice${SP}di${SP}sicurezza`, `codice${SP}di${SP}conferma`,
  `codice${SP}monouso`, `verificatiecode`, `beveiligingscode`, `bevestigingscode`,
  `do[ğg]rulama${SP}kod\\p{L}*`,
  // ru
  `код(?:а)?${SP}подтверждения`, `проверочный${SP}код`, `код${SP}проверки`,
  `код${SP}безопасности`, `одноразовый${SP}(?:код|пароль)`, `код${SP}для${SP}входа`,
  `код${SP}верификации`, `код${SP}активации`, `код${SP}авторизации`,
];

/**
 * "your code", "your Instagram code", "Ihr Code", "votre code", "ваш код" (qualifiers such
 * as "your gift card code" are checked when collecting). A separate regex so that it does
 * not hide an overlapping keyword ("Ваш код подтверждения", "il tuo codice di verifica").
 */
const YOUR_LATIN = [
  `your(?:\\s+[\\p{L}\\p{N}-]+){0,3}?\\s+codes?`,
  `(?:ihr|ihre|dein|deine|euer)(?:${SP}[\\p{L}-]+){0,2}?${SP}codes?`,
  `(?:votre|ton)${SP}code`, `(?:tu|su)${SP}c[óo]digo`, `(?:seu|o${SP}seu)${SP}c[óo]digo`,
  `(?:il${SP})?tuo${SP}codice`, `ваш${SP}код`, `твой${SP}код`,
];

const STRONG_CJK = [
  "验证码", "驗證碼", "校验码", "校驗碼", "动态码", "動態碼", "认证码", "認證碼", "登入码",
  "登入碼", "登录码", "登錄碼", "确认码", "確認碼", "动态密码", "動態密碼", "安全码", "安全碼",
  "一次性密码", "一次性密碼", "激活码", "激活碼", "驗証碼",
  "認証コード", "確認コード", "ワンタイムパスワード", "ワンタイムコード", "認証番号",
  "セキュリティコード", "ログインコード", "検証コード", "確認用コード", "認証用コード",
  "인증\\s?번호", "인증\\s?코드", "확인\\s?코드", "보안\\s?코드", "일회용\\s?비밀번호",
  "일회용\\s?코드", "로그인\\s?코드",
];

const MEDIUM_LATIN = [
  `pin${SP}codes?`, `pin${SP}numbers?`, `access${SP}codes?`, `2fa`, `mfa`,
  `two${S}factor`, `(?:2|two)${S}step`, `zugangs-?codes?`, `c[óo]digos?${SP}de${SP}acess?o`,
  `codes?${SP}d['’]acc[èe]s`, `код${SP}доступа`,
];
const MEDIUM_CJK = ["パスコード", "二段階認証", "两步验证", "兩步驗證"];

const GENERIC_LATIN = [`codes?`, `c[óo]digos?`, `codice`, `код(?:а)?`];
const GENERIC_CJK = ["コード", "코드"];

const VERB_LATIN = [
  `verify`, `verification`, `sign${S}in`, `log${S}in`, `authenticate`, `verifizierung`,
  `anmeldung`, `v[ée]rification`, `verificaci[óo]n`, `verifica[çc][ãa]o`, `подтверждение`,
];
const VERB_CJK = ["验证", "驗證", "登录", "登錄", "认证", "認證", "認証", "인증"];

/** Reference / phone words: a number right after them is not a verification code. */
const NEG_LATIN = [
  `order(?:${SP}(?:number|no\\.?|id|#))?`, `invoice(?:${SP}(?:number|no\\.?|#))?`,
  `receipt(?:${SP}(?:number|no\\.?|#))?`, `ref\\.?`, `reference(?:${SP}(?:number|no\\.?|id|code))?`,
  `tracking(?:${SP}(?:number|no\\.?|id|code))?`, `ticket`, `case(?:${SP}(?:number|id))?`,
  `booking`, `reservation`, `confirmation${SP}(?:number|no\\.?)`, `transaction(?:${SP}id)?`,
  `txn`, `account(?:${SP}(?:number|no\\.?))?`, `acct`, `customer(?:${SP}(?:id|number|no\\.?))?`,
  `member(?:ship)?(?:${SP}(?:id|number|no\\.?))?`, `serial(?:${SP}number)?`, `model`, `sku`,
  `item`, `part${SP}(?:number|no\\.?)`, `po`, `shipment`, `parcel`, `package`, `waybill`,
  `ending(?:${SP}(?:in|with))?`, `ends${SP}in`, `last${SP}(?:4|four)(?:${SP}digits)?`,
  `card`, `meeting${SP}id`, `webinar${SP}id`, `id`, `no\\.?`, `nr\\.?`, `n[º°]\\.?`,
  `number`, `phone`, `tel\\.?`, `telephone`, `call(?:${SP}us)?(?:${SP}at)?`, `mobile`,
  `cell`, `fax`, `hotline`, `whatsapp`, `ext\\.?`, `extension`, `version`, `build`,
  `release`, `vol\\.?`, `issue`, `room`, `seat`, `gate`, `flight`, `unit`, `suite`,
  `apt\\.?`, `floor`, `pr`, `pull${SP}request`, `commit`,
  `bestellung`, `bestellnummer`, `rechnung(?:snummer)?`, `auftrag(?:snummer)?`,
  `sendungsnummer`, `kundennummer`, `telefon`, `commande`, `facture`, `r[ée]f[ée]rence`,
  `suivi`, `colis`, `t[ée]l[ée]phone`, `pedido`, `factura`, `referencia`, `seguimiento`,
  `encomenda`, `fatura`, `rastreamento`, `tel[ée]fono`, `telefone`, `n[úu]mero`,
  `заказ(?:а)?`, `сч[её]т(?:а)?`, `трек`, `телефон`, `номер`,
];
const NEG_CJK = [
  "订单", "訂單", "单号", "單號", "运单", "運單", "快递", "快遞", "物流", "发票", "發票",
  "流水号", "流水號", "交易", "尾号", "尾號", "编号", "編號", "会员", "會員", "卡号", "卡號",
  "末四碼", "末四码", "后四位", "後四位", "电话", "電話", "手机", "手機", "客服", "热线", "熱線", "致电", "取件码", "取件碼", "提货码",
  "提貨碼", "取货码", "优惠码", "優惠碼", "兑换码", "兌換碼", "折扣码", "邀请码", "邀請碼",
  "推荐码", "券码", "邮编", "郵編", "郵便番号", "注文番号", "注文", "お問い合わせ番号",
  "伝票番号", "追跡番号", "予約番号", "会員番号", "クーポンコード", "주문\\s?번호", "주문",
  "송장", "운송장", "예약\\s?번호", "전화", "쿠폰\\s?코드", "할인\\s?코드", "회원\\s?번호",
  "고객센터",
];

/** Words that introduce a list of backup / recovery codes. */
const LIST_LATIN = [
  `backup${S}codes?`, `recovery${S}codes?`, `codes?${SP}de${SP}secours`,
  `codes?${SP}de${SP}r[ée]cup[ée]ration`, `wiederherstellungs-?codes?`, `backup-?codes?`,
  `c[óo]digos?${SP}de${SP}recupera(?:ci[óo]n|[çc][ãa]o)`, `резервн\\p{L}*${SP}код\\p{L}*`,
];
const LIST_CJK = ["备用码", "恢复码", "備用碼", "恢復碼", "バックアップコード", "リカバリーコード", "백업\\s?코드", "복구\\s?코드"];

function keywordRe(latin: string[], cjk: string[], flags = "giu"): RegExp {
  const parts: string[] = [];
  if (latin.length) parts.push(`(?<![\\p{L}\\p{N}])(?:${latin.join("|")})(?!\\p{L})`);
  if (cjk.length) parts.push(`(?:${cjk.join("|")})`);
  return new RegExp(parts.join("|"), flags);
}

const STRONG_RE = keywordRe(STRONG_LATIN, STRONG_CJK);
const YOUR_RE = keywordRe(YOUR_LATIN, []);
const MEDIUM_RE = keywordRe(MEDIUM_LATIN, MEDIUM_CJK);
const PIN_RE = /(?<![\p{L}\p{N}])PIN(?!\p{L})/gu; // case-sensitive: "pin" is also a verb
const GENERIC_RE = keywordRe(GENERIC_LATIN, GENERIC_CJK);
const VERB_RE = keywordRe(VERB_LATIN, VERB_CJK);
const NEG_RE = keywordRe(NEG_LATIN, NEG_CJK);
const LIST_RE = keywordRe(LIST_LATIN, LIST_CJK);

/** Qualifiers that turn "code" into something that is not a verification code. */
const QUALIFIER_BEFORE_RE = new RegExp(
  "(?:(?<![\\p{L}\\p{N}])(?:promo(?:tional|tion)?|discount|coupon|voucher|gift(?:\\s*card)?|card|" +
    "referral|refer|invite|invitation|offer|zip|postal|post|area|country|qr|tracking|source|" +
    "error|status|product|reference|ref|booking|reservation|bar|tax|swift|sort|bank|colou?r|" +
    "html|css|embed|pickup|redemption|redeem|sale|dress|style|item|order|event|ticket|" +
    "airport|airline|flight|hotel|cupom|cup[óo]n|rabatt|gutschein|aktions|bonus|reward|" +
    "loyalty|membership|member|invite|shipping|delivery|activation key|license|licence|" +
    "product key|serial|pairing|share|sharing|wifi|wi-fi|door|gate|building)" +
    "|クーポン|プロモーション|割引|QR|バー|郵便|追跡|注文|予約|招待|紹介|ギフト|プロモ|" +
    "쿠폰|할인|프로모션|추천인|초대|우편|상품|주문|선물)[\\s-]*[:：]?[\\s-]*$",
  "iu",
);
const QUALIFIER_AFTER_RE =
  /^[\s-]*(?:(?:review|reviews|editor|snippets?|samples?|quality|base|of conduct|blocks?|changes|coverage|owners|search|spaces|signing|generation|examples?|repository|repo)(?![\p{L}])|promo\p{L}*|postal|de\s+(?:descuento|desconto|r[ée]duction|promo\p{L}*|rastreo|rastreamento|seguimiento|suivi|pedido|commande|barras|reserva|r[ée]servation|parrainage|cadeau|regalo|presente|indica[çc][ãa]o|referido|invitaci[óo]n|convite|bienvenue|cup[óo]n|cupom)|sconto|скидки|купона|товара|заказа|страны|города|region|du\s+pays)/iu;

/** Lower-case words that may sit in "your … code" without weakening it. */
const SIGNIN_WORD_RE =
  /^(?:log|login|logon|in|on|sign|signin|security|verification|verify|confirmation|one|time|onetime|single|use|2fa|mfa|two|factor|step|authentication|auth|temporary|reset|password|account|new|digit|\d+-digit|für|die|den|anmeldung|anmelde|de|del|da|do|uso|único|unico|acesso|acceso)$/iu;
const POSSESSIVE_RE = /^(?:your|ihre?|deine?|euer|votre|ton|tu|su|seu|o\s+seu|(?:il\s+)?tuo|ваш|твой)(?![\p{L}])/iu;
const CODE_WORD_END_RE = /(?:codes?|c[óo]digo|codice|код)$/iu;

/** Message-level hints that this is a sign-in/verification message. */
const CONTEXT_RE = new RegExp(
  "(?<![\\p{L}])(?:verif|confirm|sign[\\s-]?in|sign[\\s-]?up|log[\\s-]?in|signin|login|" +
    "authenticat|2fa|two[\\s-]factor|2[\\s-]step|two[\\s-]step|mfa|one[\\s-]time|expire|" +
    "valid for|do not share|don['’]t share|never share|not share|didn['’]t request|" +
    "did not request|security|password|bestätig|anmeld|gültig|sicherheit|vérif|connexion|" +
    "valable|sécurité|verific|inicio de sesi|válid|seguridad|segurança|acesso|подтвер|вход|" +
    "действ|безопас)" +
    "|验证|驗證|登录|登錄|登入|有效|分钟|分鐘|请勿|請勿|泄露|洩露|認証|有効|ログイン|確認|" +
    "인증|로그인|유효|보안",
  "iu",
);
const BOOKING_RE =
  /(?<![\p{L}])(?:booking|reservation|itinerary|flight|hotel|check-?in|boarding|pnr|buchung|réservation|reserva|бронир)|预订|預訂|航班|酒店|予約|예약/iu;
const MEETING_RE =
  /(?<![\p{L}])(?:meeting id|zoom meeting|join (?:zoom )?meeting|webinar|dial[\s-]in|conference call|teams meeting|google meet|join by phone|besprechung|réunion|reunión|reunião|встреч)|会议|會議|ミーティング|회의/iu;
const CONFIRM_WORD_RE = /confirm|bestätigung|確認|确认|confirmaci|confirma[çc]|conferma|подтвержд|확인/iu;
const MEETING_WORD_RE = /pass|access|pin|パスコード|zugang|acc[èe]s|acess?o|доступ/iu;

const FORWARD_RE =
  /(?<![\p{L}])(?:below|following|underneath|unten|folgenden|ci-dessous|suivant|a continuación|siguiente|abaixo|seguinte|ниже|следующ)|下方|如下|以下|下記|下面|次の|아래|다음/giu;

const PROMO_RE =
  /(?:\d\s?%|(?<![\p{L}])(?:off|discount|coupon|promo\p{L}*|sale|save|redeem|voucher|free shipping|rabatt|gutschein|réduction|remise|descuento|cup[óo]n|cupom|desconto|oferta|offre|скидк\p{L}*|промокод\p{L}*|купон\p{L}*)(?![\p{L}]))|优惠|優惠|折扣|打折|满减|券|クーポン|割引|セール|할인|쿠폰|적립/giu;

/** Words that may sit between a keyword and its code without weakening the link. */
const LINKERS = new Set([
  "is", "are", "was", "will", "be", "it", "its", "it's", "here", "as", "follows", "below",
  "following", "the", "your", "this", "code", "number", "now", "please", "enter",
  "ist", "lautet", "lauten", "est", "es", "é", "será", "sera", "son", "são",
  "votre", "tu", "su", "seu", "sua", "il", "de", "du", "la", "le",
  "это", "является", "ваш",
  "是", "为", "為", "如下", "为您", "為您", "は", "が", "です", "は次の通りです", "는", "은",
  "이", "가", "입니다",
]);
const GAP_SPLIT_RE = /[\s\p{P}\p{S}]+/u;

/** A sentence ends inside the gap ("… Node 20. See run 8291034"). */
const SENTENCE_END_RE = /[.!?](?=\s)|[。！？]/;
const BLANK_LINE_RE = /\n\s*\n/;
/** "… code for the Microsoft account: ", "… Einmalcode für die Anmeldung lautet: " */
const PREP_START_RE =
  /^[\s,]*(?:(?:to|for|of|from|für|zur|zum|pour|de|du|para|per|для|от)(?![\p{L}])|用于|用於|の|で)/iu;
const LINK_END_RE =
  /(?:[:：]|(?<![\p{L}])(?:is|are|lautet|ist|est|es|é|è|será|sera|são|является))\s*$|(?:是|为|為|は)\s*$/iu;
/** "<code> is/as … <keyword>" */
const COPULA_START_RE =
  /^[\s,:–—-]*(?:(?:is|are|as|was|ist|est|es|é|è|будет|—)(?![\p{L}])|是|为|為|は|이|가)/iu;
/** "… code (valid for 10 minutes): " */
const PAREN_CLAUSE_RE = /^\s*[(（][^()（）]{0,40}[)）]\s*[:：]?\s*$/u;

/**
 * Does the gap between a keyword and a token tie them together? Never across a
 * sentence end; then any of:
 * - only linker words and punctuation ("is", ":", "是", "は", "lautet", …), ≤ 40 chars;
 * - keyword before: a "(…):" aside, or a clause that starts with a preposition and ends
 *   with a colon or copula ("code to sign in to Linear: ", "code de Uber es ");
 * - keyword after: the gap starts with a copula ("4821 as Microsoft account … code").
 */
function isLinkerGap(gap: string, keywordBefore: boolean): boolean {
  if (gap.length === 0) return true;
  if (gap.length > 60 || SENTENCE_END_RE.test(gap)) return false;
  if (keywordBefore && (PAREN_CLAUSE_RE.test(gap) || (PREP_START_RE.test(gap) && LINK_END_RE.test(gap)))) {
    return true;
  }
  // "4821 as Microsoft account security code", "482910 is the Acme sign-in code"
  if (!keywordBefore && gap.length <= 30 && COPULA_START_RE.test(gap)) return true;
  if (gap.length > 40) return false;
  for (const w of gap.toLowerCase().split(GAP_SPLIT_RE)) {
    if (w !== "" && !LINKERS.has(w)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Candidate checks (fixed-size windows only).
// ---------------------------------------------------------------------------------------

/** ASCII characters that can appear inside a URL or e-mail address. */
const URL_CHAR = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%") {
  URL_CHAR[ch.charCodeAt(0)] = 1;
}
function isUrlChar(c: number): boolean {
  return c < 128 && URL_CHAR[c] === 1;
}
const URL_MARK_RE = /:\/\/|www\.|@|\/|\?|=|&|tel:|mailto:/i;
const CURRENCY_BEFORE_RE =
  /(?:[$€£¥₩₹₽¢]|(?<![A-Za-z])(?:usd|eur|cny|rmb|jpy|krw|gbp|chf|inr|brl|rub|aud|cad|hkd|twd|sgd))\s?$/i;
const AFTER_UNIT_RE =
  /^\s?(?:[$€£¥₩₹₽¢%元円원件人个個次天日年月号號秒時时点點位名歳岁명개회년월일]|(?:px|pt|em|rem|kb|mb|gb|tb|ms|am|pm|a\.m|p\.m|km|kg|lbs?|mi|miles|hrs?|hours?|mins?|minutes?|secs?|seconds?|days?|weeks?|months?|years?|users?|people|members|items|points|pts|views|visits|steps|calories|kcal|usd|eur|cny|rmb|jpy|krw|gbp|chf|inr|brl|rub|aud|cad|hkd|twd|sgd|yuan|dollars?|euros?|uhr|руб\p{L}*|р\.|шт|분|초|시간)(?![A-Za-z\p{L}]))/iu;
const COPYRIGHT_RE = /(?:©|\(c\)|copyright|&copy;)\s*(?:\d{4}\s*[-–]\s*)?$/i;
const US_STATE_RE = /,\s*[A-Z]{2}\s$/;
const STREET_AFTER_RE =
  /^\s+(?:[A-Z][a-z]+\s+){0,2}(?:street|st\.?|avenue|ave\.?|road|rd\.?|blvd|boulevard|lane|ln\.?|drive|dr\.?|way|place|pl\.?|court|ct\.?|straße|strasse|rue|calle|avenida|rua)(?![A-Za-z])/i;
const ORDINAL_UNIT_ALNUM_RE =
  /^\d+(?:st|nd|rd|th|px|pt|em|rem|vh|vw|kb|mb|gb|tb|ms|am|pm|km|kg|mm|cm|hz|khz|mhz|ghz|fps|mph|kmh|dpi|mp|k|m|g|x|p|h|hrs?|mins?|s|secs?|d|w|y|yrs?)$/i;
const DIMENSION_RE = /^\d+x\d+$/i;
/** A word glued to a small number: SAVE20, iPhone15, html5, Win11, 20OFF (not ABC123). */
const WORD_DIGITS_RE = /^(?:[A-Za-z]{4,}\d{1,3}|[A-Za-z]{3}\d{1,2}|\d{1,3}[A-Za-z]{3,})$/;
const YEAR_RE = /^(?:19|20)\d\d$/;
const YMD_RE = /^(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/;
const LINE_START_RE = /\n[ \t*"'`(\[【「<>:：-]*$/;
const TEXT_START_RE = /(?:^|\n)[ \t*"'`(\[【「<>:：-]*$/;
const LINE_END_RE = /^[ \t*"'`)\]】」<>.。]*(?:\n|$)/;

interface Candidate {
  code: string;
  start: number;
  end: number;
  digits: boolean;
  /** written as two groups or spaced digits ("ABC-123", "4 8 2 9") */
  grouped: boolean;
  /** computed lazily */
  assessed: boolean;
  rejected: boolean;
  penalty: number;
  year: boolean;
}

interface Hit {
  start: number;
  end: number;
  tier: "strong" | "medium" | "generic" | "verb";
  /** lazily computed flags: -1 unknown, 0 no, 1 yes */
  fwd: number;
  ok: number;
}

interface Span {
  start: number;
  end: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
/** 4–8 ASCII alphanumerics with at least one digit (all digits, or letters + digits). */
function isValidShape(s: string): boolean {
  if (s.length < 4 || s.length > 8) return false;
  let digit = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c)) return false;
    if (isDigit(c)) digit = true;
  }
  return digit;
}

function allDigits(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/**
 * Valid-shape candidates in text order, at most MAX_CANDIDATES (a code sits near the top
 * of a message; a body with hundreds of numbers before it is not a verification mail).
 */
function findCandidates(text: string): Candidate[] {
  // Maximal ASCII alphanumeric runs, as parallel arrays (no per-token objects).
  const maxTokens = MAX_CANDIDATES * 16;
  const ts: number[] = [];
  const te: number[] = [];
  const n = text.length;
  for (let i = 0; i < n && ts.length < maxTokens; ) {
    if (!isAlnum(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const s0 = i;
    while (i < n && isAlnum(text.charCodeAt(i))) i++;
    ts.push(s0);
    te.push(i);
  }

  const out: Candidate[] = [];
  const push = (code: string, start: number, end: number) => {
    out.push({
      code, start, end, digits: allDigits(code, 0, code.length), grouped: end - start !== code.length,
      assessed: false, rejected: false, penalty: 0, year: false,
    });
  };
  const tokCount = ts.length;
  for (let i = 0; i < tokCount && out.length < MAX_CANDIDATES; i++) {
    const s0 = ts[i]!;
    const e0 = te[i]!;
    const len = e0 - s0;
    if (len >= 4 && len <= 8) {
      const word = text.slice(s0, e0);
      if (isValidShape(word)) push(word, s0, e0);
    }

    // Two groups: 3+3 or 4+4, joined by one hyphen (any) or one space (digits only).
    if ((len === 3 || len === 4) && i + 1 < tokCount) {
      const s1 = ts[i + 1]!;
      const e1 = te[i + 1]!;
      if (s1 === e0 + 1 && e1 - s1 === len) {
        const sep = text.charCodeAt(e0);
        const digitsOnly = allDigits(text, s0, e0) && allDigits(text, s1, e1);
        const joined = text.slice(s0, e0) + text.slice(s1, e1);
        if ((sep === 45 /* - */ || (sep === 32 && digitsOnly)) && isValidShape(joined)) {
          push(joined, s0, e1);
        }
      }
    }

    // 4–8 single digits separated by single spaces ("4 8 2 9 1 3"), maximal runs only.
    if (len === 1 && isDigit(text.charCodeAt(s0))) {
      const continuesPrev =
        i > 0 && te[i - 1]! - ts[i - 1]! === 1 && te[i - 1]! + 1 === s0 &&
        text.charCodeAt(s0 - 1) === 32 && isDigit(text.charCodeAt(ts[i - 1]!));
      if (!continuesPrev) {
        let j = i;
        let count = 1;
        while (j + 1 < tokCount && count <= 8) {
          const bs = ts[j + 1]!;
          if (te[j + 1]! - bs !== 1 || bs !== te[j]! + 1 || text.charCodeAt(te[j]!) !== 32) break;
          if (!isDigit(text.charCodeAt(bs))) break;
          count++;
          j++;
        }
        if (count >= 4 && count <= 8) {
          let code = "";
          for (let k = i; k <= j; k++) code += text[ts[k]!];
          push(code, s0, te[j]!);
        }
      }
    }
  }
  return out;
}

/** Keyword-independent checks; fills rejected / penalty / year. */
function assess(text: string, c: Candidate): void {
  c.assessed = true;
  const { start, end, code } = c;
  const before = text.slice(Math.max(0, start - 40), start);
  const after = text.slice(end, end + 40);
  const p1 = text.charCodeAt(start - 1);
  const p2 = text.charCodeAt(start - 2);
  const n1 = text.charCodeAt(end);
  const n2 = text.charCodeAt(end + 1);
  const reject = () => {
    c.rejected = true;
  };

  // '#' / '№' prefix: order #123, ticket #4821, #ff5733, заказ № 4821.
  if (p1 === 35 || p1 === 0x2116 || (p1 === 32 && p2 === 0x2116)) return reject();
  // Part of a longer number or identifier: 1,234 · 12.50 · 2024-05-12 · 10:30 · a_b.
  const joiner = (ch: number) => ch === 45 || ch === 47 || ch === 46 || ch === 44 || ch === 58 || ch === 95;
  if (joiner(p1) && (isDigit(p2) || (!c.digits && isAlnum(p2)) || (p1 === 95 && isAlnum(p2)))) return reject();
  if (joiner(n1) && (isDigit(n2) || (!c.digits && isAlnum(n2)) || (n1 === 95 && isAlnum(n2)))) return reject();
  // URL / e-mail / query string around the token.
  let l = start;
  const lmin = Math.max(0, start - 200);
  while (l > lmin && isUrlChar(text.charCodeAt(l - 1))) l--;
  let r = end;
  const rmax = Math.min(text.length, end + 200);
  while (r < rmax && isUrlChar(text.charCodeAt(r))) r++;
  // Only markers count, so sentence punctuation around "482910." or "(482910)" is fine.
  if (URL_MARK_RE.test(text.slice(l, start)) || URL_MARK_RE.test(text.slice(end, r))) return reject();
  // Money and units.
  if (CURRENCY_BEFORE_RE.test(before.slice(-6))) return reject();
  if (AFTER_UNIT_RE.test(after)) return reject();
  // Phone shapes: +86 …, (555) 123-4567, runs of three or more digit groups.
  if (/\+\d{0,4}[ \-.()]{0,2}$/.test(before.slice(-8))) return reject();
  if (/\d\d[ \-./)]$|\d\) ?$/.test(before.slice(-4)) || /^[ \-/]\d\d/.test(after)) return reject();
  if (text.charCodeAt(start - 1) === 0x3012 /* 〒 */) return reject();
  // Copyright years, US zip after "City, ST", street numbers.
  if (COPYRIGHT_RE.test(before)) return reject();
  if (code.length === 5 && c.digits && US_STATE_RE.test(before)) return reject();
  if (c.digits && STREET_AFTER_RE.test(after)) return reject();
  if (!c.digits) {
    if (ORDINAL_UNIT_ALNUM_RE.test(code) || DIMENSION_RE.test(code)) return reject();
  }

  let pen = 0;
  if (c.digits) {
    if (YEAR_RE.test(code)) c.year = true;
    if (code.length === 8 && YMD_RE.test(code)) pen -= 80;
  } else if (!c.grouped && WORD_DIGITS_RE.test(code)) {
    pen -= 60;
  }
  c.penalty = pen;
}

function collect(re: RegExp, text: string, fn: (m: RegExpExecArray) => void): void {
  // (global regexes; lastIndex is reset so that shared instances are safe to reuse)
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    fn(m);
    if (++n >= MAX_HITS) break;
  }
}

/** Message-level facts, computed on first use (most messages never need them all). */
interface Context {
  verification(): boolean;
  booking(): boolean;
  meeting(): boolean;
}

function lazy(fn: () => boolean): () => boolean {
  let v: boolean | undefined;
  return () => (v ??= fn());
}

/**
 * Positive keyword hits. Checks that need a window of text (qualifiers, "below") run
 * lazily, only for hits that end up next to a candidate.
 */
function findHits(text: string, ctx: Context): { hits: Hit[]; demoted: Span[] } {
  const hits: Hit[] = [];
  // Keywords demoted to reference numbers (booking "confirmation code", meeting "passcode").
  const demoted: Span[] = [];
  const insideDemoted = (s: number, e: number) => {
    const i = lowerBound(demoted, e);
    const d = demoted[i - 1];
    return d !== undefined && s < d.end && e > d.start;
  };
  const addStrongish = (m: RegExpExecArray, weight: number) => {
    const s = m.index;
    const e = s + m[0].length;
    const word = m[0];
    if ((CONFIRM_WORD_RE.test(word) && ctx.booking()) || (MEETING_WORD_RE.test(word) && ctx.meeting())) {
      demoted.push({ start: s, end: e });
      return;
    }
    let tier: Hit["tier"] = weight >= 1 ? "strong" : "medium";
    const possessive = POSSESSIVE_RE.exec(word);
    if (possessive) {
      // "your <x> code": drop when one of the inner words is a qualifier (gift, promo…);
      // only brand names ("your Instagram code") and sign-in words keep it strong —
      // "your survey code" is just a code.
      const inner = word.slice(possessive[0].length).replace(CODE_WORD_END_RE, "");
      if (inner.trim() !== "" && QUALIFIER_BEFORE_RE.test(inner.trimEnd() + " ")) return;
      if (QUALIFIER_AFTER_RE.test(text.slice(e, e + 40))) return;
      for (const w of inner.split(/[\s-]+/)) {
        if (w !== "" && !/^[\p{Lu}\d]/u.test(w) && !SIGNIN_WORD_RE.test(w)) tier = "generic";
      }
    }
    hits.push({ start: s, end: e, tier, fwd: -1, ok: 1 });
  };

  collect(STRONG_RE, text, (m) => addStrongish(m, 1));
  collect(YOUR_RE, text, (m) => addStrongish(m, 1));
  collect(MEDIUM_RE, text, (m) => addStrongish(m, 0.75));
  collect(PIN_RE, text, (m) => addStrongish(m, 0.75));
  demoted.sort((a, b) => a.start - b.start);
  collect(GENERIC_RE, text, (m) => {
    const s = m.index;
    const e = s + m[0].length;
    if (!insideDemoted(s, e)) hits.push({ start: s, end: e, tier: "generic", fwd: -1, ok: -1 });
  });
  collect(VERB_RE, text, (m) => {
    const s = m.index;
    const e = s + m[0].length;
    if (!insideDemoted(s, e)) hits.push({ start: s, end: e, tier: "verb", fwd: 0, ok: 1 });
  });
  hits.sort((a, b) => a.start - b.start);
  return { hits, demoted };
}

/** Lazily: is a generic "code" hit really about a code (not "promo code", "código postal")? */
function hitOk(text: string, h: Hit): boolean {
  if (h.ok === -1) {
    const q =
      QUALIFIER_BEFORE_RE.test(text.slice(Math.max(0, h.start - 30), h.start)) ||
      QUALIFIER_AFTER_RE.test(text.slice(h.end, h.end + 40));
    h.ok = q ? 0 : 1;
  }
  return h.ok === 1;
}

/** Start/end positions of every match of a global regex (bounded by MAX_HITS). */
function positions(re: RegExp, text: string): Span[] {
  const out: Span[] = [];
  collect(re, text, (m) => out.push({ start: m.index, end: m.index + m[0].length }));
  return out;
}

/** Does any span in `spans` (sorted) intersect [a, b)? */
function anyWithin(spans: Span[], a: number, b: number): boolean {
  const i = lowerBound(spans, a);
  const prev = spans[i - 1];
  if (prev !== undefined && prev.end > a) return true;
  const next = spans[i];
  return next !== undefined && next.start < b;
}

function hitWeight(h: Hit, ctx: Context): number {
  switch (h.tier) {
    case "strong":
      return 1;
    case "medium":
      return 0.75;
    case "generic":
      return ctx.verification() ? 0.6 : 0.35;
    case "verb":
      return 0.6;
  }
}

/** First index in `arr` (sorted by start) whose start is ≥ x. */
function lowerBound(arr: ReadonlyArray<{ start: number }>, x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]!.start < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Distance from the nearest reference/phone word that is attached to the token
 * ("Order number: 12345", "ending in 4821", "尾号1234"), or Infinity.
 */
function attachedNegativeGap(text: string, start: number): number {
  const from = Math.max(0, start - 41);
  const win = text.slice(from, start);
  const skip = from === 0 ? 0 : 1; // the first char only gives the look-behind its context
  NEG_RE.lastIndex = 0;
  let gap = Infinity;
  let m: RegExpExecArray | null;
  while ((m = NEG_RE.exec(win)) !== null) {
    if (m[0].length === 0) {
      NEG_RE.lastIndex++;
      continue;
    }
    if (m.index < skip) continue;
    const end = m.index + m[0].length;
    const g = win.length - end;
    if (g <= 30 && isLinkerGap(win.slice(end), true)) gap = Math.min(gap, g);
  }
  return gap;
}

interface Outcome {
  kind: "match" | "ambiguous" | "none";
  code?: string;
  /** all valid-shape codes seen in this source */
  codes: Set<string>;
}

interface AnalyseOptions {
  ctx: Context;
  isSubject: boolean;
  subjectCodes?: Set<string>;
}

interface Scored {
  score: number;
  cand: Candidate;
  strongDirect: boolean;
}

function analyse(text: string, opts: AnalyseOptions): Outcome {
  const { ctx } = opts;
  const cands = findCandidates(text);
  const codes = new Set(cands.map((c) => c.code));
  if (cands.length === 0) return { kind: "none", codes };
  if (cands.length >= MAX_CANDIDATES) {
    // Candidate budget reached: look no further than just past the last one.
    text = text.slice(0, Math.min(text.length, cands[cands.length - 1]!.end + 300));
  }
  const { hits, demoted } = findHits(text, ctx);
  if (hits.length === 0) return { kind: "none", codes };
  let listHits: Span[] | undefined;
  const backupListBefore = (pos: number) => {
    if (!listHits) {
      listHits = [];
      collect(LIST_RE, text, (m) => listHits!.push({ start: m.index, end: m.index + m[0].length }));
    }
    const i = lowerBound(listHits, pos);
    const h = listHits[i - 1];
    return h !== undefined && h.end <= pos && pos - h.end <= 500;
  };

  // Forward pointers ("below", "以下") and promo words, found once per source.
  let forwardSpans: Span[] | undefined;
  const hitForward = (h: Hit) => {
    if (h.fwd === -1) {
      forwardSpans ??= positions(FORWARD_RE, text);
      h.fwd = anyWithin(forwardSpans, h.start - 24, h.end + 40) ? 1 : 0;
    }
    return h.fwd === 1;
  };
  let promoSpans: Span[] | undefined;
  const promoNear = (c: Candidate) => {
    promoSpans ??= positions(PROMO_RE, text);
    return anyWithin(promoSpans, c.start - 50, c.end + 50);
  };

  cands.sort((a, b) => a.start - b.start || b.end - a.end);
  const ensure = (c: Candidate) => {
    if (!c.assessed) assess(text, c);
    return c;
  };
  const isBlocker = (c: Candidate) => {
    ensure(c);
    return !c.rejected && !c.year && c.penalty > -100;
  };
  /** Is there a plausible other candidate strictly between a and b (not overlapping self)? */
  const blocked = (a: number, b: number, self: Candidate) => {
    for (let i = lowerBound(cands, a); i < cands.length; i++) {
      const o = cands[i]!;
      if (o.start >= b) break;
      if (o.end > b || o === self) continue;
      if (o.end > self.start && o.start < self.end) continue; // overlaps self
      if (isBlocker(o)) return true;
    }
    return false;
  };

  const best = new Map<string, Scored>();
  for (const c of cands) {
    // Keyword bonus: the nearest hits on each side (bounded), best one wins.
    const idx = lowerBound(hits, c.end);
    let bonus = 0;
    let direct = false;
    let strongDirect = false;
    /** gap of the keyword clause that links the winning keyword before the token */
    let clauseGap = -1;
    let posGapBefore = Infinity;
    for (let i = idx - 1, seen = 0; i >= 0 && seen < 8 && bonus < 170; i--) {
      const h = hits[i]!;
      if (h.end > c.start) continue; // overlaps the token
      const gap = c.start - h.end;
      if (gap > 300) break;
      if (!hitOk(text, h)) continue;
      seen++;
      const gapText = gap <= 60 ? text.slice(h.end, c.start) : "";
      const linker = gap <= 60 && isLinkerGap(gapText, true);
      let b = 0;
      if (linker) b = 170;
      else if (h.tier === "verb") b = 0;
      else if (gap <= 20 && !SENTENCE_END_RE.test(gapText)) b = Math.max(60, 120 - 3 * gap);
      else if (gap <= 200) b = 60;
      if (h.tier !== "verb" && !linker && hitForward(h)) b = Math.max(b, 150);
      if (b === 0) continue;
      posGapBefore = Math.min(posGapBefore, gap);
      const w = hitWeight(h, ctx);
      b *= w;
      if (b <= bonus) continue;
      if (gap > 0 && blocked(h.end, c.start, c)) b *= 0.4;
      if (b > bonus) {
        bonus = b;
        direct = linker;
        strongDirect = linker && w >= 1;
        clauseGap = linker ? gap : -1;
      }
    }
    for (let i = idx, seen = 0; i < hits.length && seen < 6; i++) {
      const h = hits[i]!;
      const gap = h.start - c.end;
      if (gap > 80) break;
      if (!hitOk(text, h)) continue;
      seen++;
      const gapText = text.slice(c.end, h.start);
      // A keyword after the token only refers back to it within the same sentence.
      if (SENTENCE_END_RE.test(gapText) || BLANK_LINE_RE.test(gapText)) continue;
      const linker = isLinkerGap(gapText, false);
      let b = linker ? 150 : h.tier === "verb" ? 0 : gap <= 40 ? 100 : 50;
      if (b === 0) continue;
      const w = hitWeight(h, ctx);
      b *= w;
      if (b <= bonus) continue;
      if (gap > 0 && blocked(c.end, h.start, c)) b *= 0.4;
      if (b > bonus) {
        bonus = b;
        direct = linker;
        strongDirect = linker && w >= 1;
        clauseGap = -1;
      }
    }
    if (bonus <= 0) continue;
    ensure(c);
    if (c.rejected) continue;

    let score = c.digits ? 100 : 80;
    const len = c.code.length;
    if (c.digits) score += len === 6 ? 20 : len === 5 ? 5 : len === 8 ? -10 : 0;
    else {
      if (len === 6) score += 10;
      if (!/[a-z]/.test(c.code)) score += 10;
    }
    score += bonus + c.penalty;
    if (c.year) score += direct ? -40 : -160;
    if (promoNear(c)) score -= 150;

    // Reference / phone word attached and closer than any keyword; demoted keywords
    // (booking "confirmation code", meeting "passcode"); backup-code lists.
    const negGap = attachedNegativeGap(text, c.start);
    const d = demoted[lowerBound(demoted, c.start) - 1];
    const dGap = d && d.end <= c.start ? c.start - d.end : Infinity;
    const nearestNeg = Math.min(negGap, dGap <= 30 && isLinkerGap(text.slice(d!.end, c.start), true) ? dGap : Infinity);
    // A label inside the keyword's own clause ("code for your Nintendo Account: 4829")
    // belongs to the keyword, not to the number.
    const insideClause = clauseGap >= 0 && nearestNeg < clauseGap;
    if (nearestNeg < posGapBefore && !insideClause) score -= 200;
    if (backupListBefore(c.start)) score -= 250;

    if (!opts.isSubject) {
      const lineStartOk =
        c.start <= 12
          ? TEXT_START_RE.test(text.slice(0, c.start))
          : LINE_START_RE.test(text.slice(c.start - 12, c.start));
      if (lineStartOk && LINE_END_RE.test(text.slice(c.end, c.end + 12))) score += 40;
      if (opts.subjectCodes?.has(c.code)) score += 20;
    }
    if (ctx.verification()) score += 20;

    const prev = best.get(c.code);
    if (!prev || score > prev.score) best.set(c.code, { score, cand: c, strongDirect });
  }

  let top: Scored | undefined;
  for (const v of best.values()) if (!top || v.score > top.score) top = v;
  if (!top || top.score < THRESHOLD) return { kind: "none", codes };
  let second = -Infinity;
  for (const [code, v] of best) {
    if (code === top.cand.code) continue;
    if (v.cand.start < top.cand.end && v.cand.end > top.cand.start) continue; // a part of it
    if (v.score > second) second = v.score;
  }
  if (top.score - second < MARGIN) return { kind: "ambiguous", codes };
  // A subject needs a verification context in the message, or a strong keyword right
  // next to the code ("Your code: 482910" alone is not enough context; "Slack
  // confirmation code: 482-913" is).
  if (opts.isSubject && !ctx.verification() && !top.strongDirect) return { kind: "none", codes };
  return { kind: "match", code: top.cand.code, codes };
}

// ---------------------------------------------------------------------------------------
// Normalisation and the public entry point.
// ---------------------------------------------------------------------------------------

// Full-width digits/letters and the few full-width signs that matter for the number
// checks (： － ＃ ＋ ％). CJK punctuation such as ，。（） stays: "482019，30分钟" is not 482,019.
const WIDE_RE = /[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\uFF1A\uFF0D\uFF03\uFF0B\uFF05\u3000\u00A0\u2000-\u200A\u202F\u205F]/g;
const INVISIBLE_RE = /[\u200B-\u200D\u2060\uFEFF\u00AD\u034F]/g;

function normalise(s: string, max: number): string {
  return s
    .slice(0, max)
    .replace(WIDE_RE, (ch) => {
      const c = ch.charCodeAt(0);
      return c >= 0xff01 && c <= 0xff5e ? String.fromCharCode(c - 0xfee0) : " ";
    })
    .replace(INVISIBLE_RE, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t\f\v]{2,}|[\t\f\v]/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function compact(s: string): string {
  return s.replace(/[^\p{L}\p{N}]+/gu, "").toLowerCase();
}

export function extractVerificationCode(input: VerificationInput): Verification | null {
  const subject = normalise(input.subject ?? "", MAX_SUBJECT);
  const text = normalise(input.text ?? "", MAX_TEXT);
  const rawHtml = input.html ?? "";
  let htmlText: string | undefined;
  const getHtmlText = () => {
    if (htmlText === undefined) {
      htmlText =
        rawHtml.trim() === ""
          ? ""
          : normalise(htmlToText(rawHtml.slice(0, MAX_HTML), { maxLength: MAX_TEXT }), MAX_TEXT);
    }
    return htmlText;
  };

  const body = () => (text !== "" ? text : getHtmlText());
  const ctx: Context = {
    verification: lazy(() => CONTEXT_RE.test(subject) || CONTEXT_RE.test(body())),
    booking: lazy(() => BOOKING_RE.test(subject) || BOOKING_RE.test(body())),
    meeting: lazy(() => MEETING_RE.test(subject) || MEETING_RE.test(body())),
  };

  const subj = analyse(subject, { ctx, isSubject: true });
  if (subj.kind === "match" && subj.code) return { code: subj.code, source: "subject", method: "rules" };
  const subjectCodes = subj.codes;

  if (text !== "") {
    const r = analyse(text, { ctx, isSubject: false, subjectCodes });
    if (r.kind === "match" && r.code) return { code: r.code, source: "body", method: "rules" };
  }
  const h = getHtmlText();
  if (h !== "" && (text === "" || !sameContent(text, h))) {
    const r = analyse(h, { ctx, isSubject: false, subjectCodes });
    if (r.kind === "match" && r.code) return { code: r.code, source: "body", method: "rules" };
  }
  return null;
}

/** True when the HTML adds nothing over the text part (text usually also carries URLs). */
function sameContent(text: string, htmlText: string): boolean {
  const a = compact(text);
  const b = compact(htmlText);
  return a === b || a.includes(b);
}
