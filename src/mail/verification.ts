/**
 * Rule-based verification-code extraction (SPEC §6.1, `method: "rules"`).
 *
 * Pure and dependency-free; runs on every inbound message inside the Worker, so every
 * step is linear in the scanned text and the scanned text is capped (subject 2 KB, each
 * body part 64 KB of text, HTML 256 KB before conversion). No regex here has nested
 * unbounded quantifiers; per-candidate checks look at fixed-size windows.
 *
 * ## Pipeline
 * 1. Sources in order: subject → text body → HTML converted to text (the HTML is only
 *    read when there is no text part, or the text found nothing and the HTML differs
 *    materially from it). The first source with a confident winner decides; `source` is
 *    "subject" only when the subject itself decided.
 * 2. Normalise: full-width digits/letters and ：－＃＋％ to ASCII (１２３４ → 1234; CJK
 *    punctuation like ，。（） is kept), Unicode spaces to ASCII,
 *    zero-width characters dropped, runs of spaces/blank lines collapsed.
 * 3. Candidates (valid code shape):
 *    - 4–8 ASCII digits, or 4–8 ASCII alphanumerics with ≥1 letter and ≥1 digit;
 *    - two groups of 3+3 or 4+4 joined by one hyphen ("482-913", "ABC-123", "7QX2-9KLM")
 *      or, for digit groups only, one space ("123 456", "4821 9305");
 *    - 4–8 single digits separated by single spaces ("4 8 2 9 1 3", HTML digit boxes).
 *    **Decision:** grouped/spaced codes are returned with the separators removed
 *    ("482-913" → "482913") since that is what a code input accepts; letter case is kept.
 * 4. Keywords, found with a handful of alternation regexes (EN, zh-Hans/zh-Hant, ja, ko,
 *    de, fr, es, pt, it, nl, ru, tr), in tiers:
 *    - strong ("verification code", "OTP", "验证码", "認証コード", "인증번호",
 *      "Bestätigungscode", "code de vérification", "código de verificação",
 *      "код подтверждения", "your … code", "enter this code", …) weight 1.0;
 *    - medium ("PIN", "access code", "2FA", "two-factor", …) 0.75;
 *    - generic ("code", "código", "код", "コード", "코드") 0.6 with a verification context
 *      in the message, else 0.35; dropped when qualified as promo/discount/coupon/gift/
 *      zip/postal/area/QR/tracking/error/… ("promo code", "código postal", "クーポンコード");
 *    - verb ("verify", "sign in", "验证", "認証", …) 0.6, only when directly attached.
 *    "confirmation code" in a booking/reservation/flight message and "passcode"/"access
 *    code"/"PIN" in a meeting invite are treated as reference numbers, not keywords.
 *    "backup/recovery codes" mark the following lines as a code list (penalised).
 * 5. Score each candidate near a keyword (no keyword ⇒ never a code):
 *
 *    | Condition                                                | Points |
 *    |----------------------------------------------------------|--------|
 *    | base: digits / alphanumeric                              | 100 / 80 |
 *    | 6 digits / 5 digits / 8 digits                           | +20 / +5 / −10 |
 *    | alnum: 6 chars, letters all upper-case                   | +10, +10 |
 *    | alnum "word+digits" (SAVE20, iPhone15) or "20OFF"        | −60 |
 *    | keyword before, gap only linker words ("is", ":", "是", "は", "lautet", "est", …), | +170·w |
 *    |   or a short clause "for/to/für/pour/para/для … :|is|lautet|是" or "(…):"   |        |
 *    | keyword before, other gap ≤ 20 chars in the same sentence | +max(60, 120 − 3·gap)·w |
 *    | keyword before, gap ≤ 200 chars                          | +60·w |
 *    | keyword announces "below/following/如下/以下/ниже…" (≤ 300 chars) | ≥ +150·w |
 *    | keyword after ("482910 is your code"): linker / ≤ 40 / ≤ 80 | +150·w / +100·w / +50·w |
 *    | another plausible candidate sits between keyword and token | keyword bonus × 0.4 |
 *    | (only the best keyword counts; w = tier weight)          |        |
 *    | token alone on its line                                  | +40 |
 *    | message has a verification context (verify/sign in/expires/请勿泄露/有効期限…) | +20 |
 *    | body token also present in the subject                   | +20 |
 *    | year 19xx/20xx: with a directly attached keyword / else  | −40 / −160 |
 *    | yyyymmdd-shaped 8 digits                                 | −80 |
 *    | reference word attached (linker gap ≤ 30) and closer than any keyword (order, invoice, ref, tracking, ticket, account, ending in, phone, tel, 订单, 尾号, 注文番号, Bestellnummer, заказ, 주문번호…) | −200 |
 *    | promo words within ±50 chars (% off, discount, coupon, 优惠, クーポン, Rabatt, скидк…) | −150 |
 *    | inside a "backup/recovery codes" list                    | −250 |
 *
 *    Hard rejections: inside/adjacent to a URL, e-mail or query string (://, www., @, /,
 *    ?, =, &), `#` prefix (order #, ticket #, hex colours), part of a longer number
 *    (1,234 · 12.50 · 2024-05-12 · 10:30 · UUID/identifier groups), currency symbol or
 *    code next to it, unit after it (px, %, KB, am/pm, 元, 円, 원, 件 …), phone shapes
 *    (+86 …, (555) 123-4567, three or more digit groups, tel:), copyright years,
 *    US zip after "City, ST", street numbers, ordinals/dimensions (1st, 600x400, 5G).
 * 6. Decide per source: best score ≥ 230 and at least 40 ahead of the best *different*,
 *    non-overlapping code that also has a keyword; otherwise ambiguous → try the next
 *    source (from the subject) or give up (null).
 *
 * The subject needs a message-level verification context to win (as in the earlier rules)
 * unless a strong keyword is directly attached to the code.
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
const MAX_CANDIDATES = 3000;
const MAX_HITS = 600;

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
  `do[ğg]rulama${SP}kodu`,
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
  /(?<![\p{L}])(?:below|following|underneath|unten|folgenden|ci-dessous|suivant|a continuación|siguiente|abaixo|seguinte|ниже|следующ)|下方|如下|以下|下記|下面|次の|아래|다음/iu;

const PROMO_RE =
  /(?:\d\s?%|(?<![\p{L}])(?:off|discount|coupon|promo\p{L}*|sale|save|redeem|voucher|free shipping|rabatt|gutschein|réduction|remise|descuento|cup[óo]n|cupom|desconto|oferta|offre|скидк\p{L}*|промокод\p{L}*|купон\p{L}*)(?![\p{L}]))|优惠|優惠|折扣|打折|满减|券|クーポン|割引|セール|할인|쿠폰|적립/iu;

/** Words that may sit between a keyword and its code without weakening the link. */
const LINKERS = new Set([
  "is", "are", "was", "will", "be", "it", "its", "it's", "here", "as", "follows", "below",
  "following", "the", "your", "this", "code", "number", "now", "please", "enter",
  "ist", "lautet", "lauten", "est", "es", "é", "será", "sera", "son", "são", "lautet",
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
/** "… code (valid for 10 minutes): " */
const PAREN_CLAUSE_RE = /^\s*[(（][^()（）]{0,40}[)）]\s*[:：]?\s*$/u;

/**
 * Does the gap between a keyword and a token tie them together?
 * - only linker words and punctuation ("is", ":", "是", "は", "lautet", …), ≤ 40 chars;
 * - or, for a keyword before the token, a short clause that ends with a colon and does
 *   not cross a sentence end ("code to sign in to Linear: 4829-1630").
 */
function isLinkerGap(gap: string, keywordBefore: boolean): boolean {
  if (gap.length === 0) return true;
  if (gap.length > 60 || SENTENCE_END_RE.test(gap)) return false;
  if (keywordBefore && (PAREN_CLAUSE_RE.test(gap) || (PREP_START_RE.test(gap) && LINK_END_RE.test(gap)))) {
    return true;
  }
  if (gap.length > 40) return false;
  for (const w of gap.toLowerCase().split(GAP_SPLIT_RE)) {
    if (w !== "" && !LINKERS.has(w)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Candidate checks (fixed-size windows only).
// ---------------------------------------------------------------------------------------

const URL_CHAR_RE = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;
const URL_MARK_RE = /:\/\/|www\.|@|\/|\?|=|&|tel:|mailto:/i;
const CURRENCY_BEFORE_RE =
  /(?:[$€£¥₩₹₽¢]|(?<![A-Za-z])(?:usd|eur|cny|rmb|jpy|krw|gbp|chf|inr|brl|rub|aud|cad|hkd|twd|sgd|nt|us|hk|r))\s?[$]?\s?$/i;
const AFTER_UNIT_RE =
  /^\s?(?:[$€£¥₩₹₽¢%元円원件人个個次天日年月号號秒時时点點位名歳岁명개회년월일]|(?:px|pt|em|rem|kb|mb|gb|tb|ms|am|pm|a\.m|p\.m|km|kg|lbs?|mi|miles|hrs?|hours?|mins?|minutes?|secs?|seconds?|days?|weeks?|months?|years?|users?|people|members|items|points|pts|views|visits|steps|calories|kcal|usd|eur|cny|rmb|jpy|krw|gbp|chf|inr|brl|rub|aud|cad|hkd|twd|sgd|yuan|dollars?|euros?|uhr|руб\p{L}*|р\.|шт|분|초|시간)(?![A-Za-z\p{L}]))/iu;
const COPYRIGHT_RE = /(?:©|\(c\)|copyright|&copy;)\s*(?:\d{4}\s*[-–]\s*)?$/i;
const US_STATE_RE = /,\s*[A-Z]{2}\s$/;
const STREET_AFTER_RE =
  /^\s+(?:[A-Z][a-z]+\s+){0,2}(?:street|st\.?|avenue|ave\.?|road|rd\.?|blvd|boulevard|lane|ln\.?|drive|dr\.?|way|place|pl\.?|court|ct\.?|straße|strasse|rue|calle|avenida|rua)(?![A-Za-z])/i;
const ORDINAL_UNIT_ALNUM_RE =
  /^\d+(?:st|nd|rd|th|px|pt|em|rem|vh|vw|kb|mb|gb|tb|ms|am|pm|km|kg|mm|cm|hz|khz|mhz|ghz|fps|mph|kmh|dpi|mp|k|m|g|x|p|h|hrs?|mins?|s|secs?|d|w|y|yrs?)$/i;
const DIMENSION_RE = /^\d+x\d+$/i;
const WORD_DIGITS_RE = /^(?:[A-Za-z]{3,}\d{1,3}|\d{1,3}[A-Za-z]{3,})$/;
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
  /** computed lazily */
  assessed: boolean;
  rejected: boolean;
  penalty: number;
  year: boolean;
}

interface Hit {
  start: number;
  end: number;
  weight: number;
  verbOnly: boolean;
  forward: boolean;
}

interface NegHit {
  start: number;
  end: number;
  list: boolean;
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

const TOKEN_RE = /[A-Za-z0-9]+/g;

function findCandidates(text: string): Candidate[] {
  const toks: Array<{ s: number; e: number }> = [];
  TOKEN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN_RE.exec(text)) !== null) {
    toks.push({ s: m.index, e: m.index + m[0].length });
    if (toks.length > MAX_CANDIDATES * 4) break;
  }
  const out: Candidate[] = [];
  const push = (code: string, start: number, end: number) => {
    if (out.length >= MAX_CANDIDATES) return;
    out.push({
      code, start, end, digits: /^\d+$/.test(code), assessed: false, rejected: false,
      penalty: 0, year: false,
    });
  };
  for (let i = 0; i < toks.length && out.length < MAX_CANDIDATES; i++) {
    const t = toks[i]!;
    const len = t.e - t.s;
    const word = len <= 8 ? text.slice(t.s, t.e) : "";
    if (len >= 4 && len <= 8 && isValidShape(word)) push(word, t.s, t.e);

    const next = toks[i + 1];
    if (!next) continue;
    // Two groups: 3+3 or 4+4, joined by one hyphen (any) or one space (digits only).
    const nlen = next.e - next.s;
    if (next.s === t.e + 1 && len === nlen && (len === 3 || len === 4)) {
      const sep = text.charCodeAt(t.e);
      const a = word || text.slice(t.s, t.e);
      const b = text.slice(next.s, next.e);
      const allDigits = /^\d+$/.test(a) && /^\d+$/.test(b);
      const joined = a + b;
      if ((sep === 45 /* - */ || (sep === 32 && allDigits)) && isValidShape(joined)) {
        push(joined, t.s, next.e);
      }
    }
    // 4–8 single digits separated by single spaces ("4 8 2 9 1 3"), maximal runs only.
    if (len === 1 && isDigit(text.charCodeAt(t.s))) {
      const prev = toks[i - 1];
      const continuesPrev =
        prev !== undefined && prev.e - prev.s === 1 && prev.e + 1 === t.s &&
        text.charCodeAt(prev.e) === 32 && isDigit(text.charCodeAt(prev.s));
      if (!continuesPrev) {
        let j = i;
        let code = text[t.s]!;
        while (j + 1 < toks.length) {
          const a = toks[j]!;
          const b = toks[j + 1]!;
          if (b.e - b.s !== 1 || b.s !== a.e + 1 || text.charCodeAt(a.e) !== 32) break;
          if (!isDigit(text.charCodeAt(b.s))) break;
          code += text[b.s]!;
          j++;
          if (code.length > 8) break;
        }
        if (code.length >= 4 && code.length <= 8) push(code, t.s, toks[j]!.e);
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

  // '#' prefix: order #123, ticket #4821, #ff5733.
  if (p1 === 35) return reject();
  // Part of a longer number or identifier: 1,234 · 12.50 · 2024-05-12 · 10:30 · a_b.
  const joiner = (ch: number) => ch === 45 || ch === 47 || ch === 46 || ch === 44 || ch === 58 || ch === 95;
  if (joiner(p1) && (isDigit(p2) || (!c.digits && isAlnum(p2)) || (p1 === 95 && isAlnum(p2)))) return reject();
  if (joiner(n1) && (isDigit(n2) || (!c.digits && isAlnum(n2)) || (n1 === 95 && isAlnum(n2)))) return reject();
  // URL / e-mail / query string around the token.
  let l = start;
  const lmin = Math.max(0, start - 200);
  while (l > lmin && URL_CHAR_RE.test(text[l - 1]!)) l--;
  let r = end;
  const rmax = Math.min(text.length, end + 200);
  while (r < rmax && URL_CHAR_RE.test(text[r]!)) r++;
  if (URL_MARK_RE.test(text.slice(l, start)) || URL_MARK_RE.test(text.slice(end, r))) {
    // Trailing sentence punctuation like "482910." is fine; only markers matter.
    return reject();
  }
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
  } else if (WORD_DIGITS_RE.test(code)) {
    pen -= 60;
  }
  const around = text.slice(Math.max(0, start - 50), Math.min(text.length, end + 50));
  if (PROMO_RE.test(around)) pen -= 150;
  c.penalty = pen;
}

function collect(re: RegExp, text: string, fn: (m: RegExpExecArray) => void): void {
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

interface Context {
  verification: boolean;
  booking: boolean;
  meeting: boolean;
}

function findHits(text: string, ctx: Context): { hits: Hit[]; neg: NegHit[] } {
  const hits: Hit[] = [];
  const neg: NegHit[] = [];
  const forwardAt = (s: number, e: number) =>
    FORWARD_RE.test(text.slice(Math.max(0, s - 24), Math.min(text.length, e + 40)));
  const qualified = (s: number, e: number) =>
    QUALIFIER_BEFORE_RE.test(text.slice(Math.max(0, s - 30), s)) ||
    QUALIFIER_AFTER_RE.test(text.slice(e, e + 40));

  // Spans of keywords demoted to reference numbers; weaker hits inside them are dropped.
  const demoted: Array<{ start: number; end: number }> = [];
  const insideDemoted = (s: number, e: number) => demoted.some((d) => s < d.end && e > d.start);
  const addStrongish = (m: RegExpExecArray, weight: number) => {
    const s = m.index;
    const e = s + m[0].length;
    const word = m[0];
    if ((ctx.booking && CONFIRM_WORD_RE.test(word)) || (ctx.meeting && MEETING_WORD_RE.test(word))) {
      if (demoted.length < MAX_HITS) demoted.push({ start: s, end: e });
      return void neg.push({ start: s, end: e, list: false });
    }
    const possessive = POSSESSIVE_RE.exec(word);
    if (possessive) {
      // "your <x> code": drop when one of the inner words is a qualifier (gift, promo…).
      const inner = word.slice(possessive[0].length).replace(CODE_WORD_END_RE, "");
      if (inner.trim() !== "" && QUALIFIER_BEFORE_RE.test(inner.trimEnd() + " ")) return;
      if (QUALIFIER_AFTER_RE.test(text.slice(e, e + 40))) return;
    }
    hits.push({ start: s, end: e, weight, verbOnly: false, forward: forwardAt(s, e) });
  };

  collect(STRONG_RE, text, (m) => addStrongish(m, 1));
  collect(YOUR_RE, text, (m) => addStrongish(m, 1));
  collect(MEDIUM_RE, text, (m) => addStrongish(m, 0.75));
  collect(PIN_RE, text, (m) => addStrongish(m, 0.75));
  const gw = ctx.verification ? 0.6 : 0.35;
  collect(GENERIC_RE, text, (m) => {
    const s = m.index;
    const e = s + m[0].length;
    if (qualified(s, e) || insideDemoted(s, e)) return;
    hits.push({ start: s, end: e, weight: gw, verbOnly: false, forward: forwardAt(s, e) });
  });
  collect(VERB_RE, text, (m) => {
    if (insideDemoted(m.index, m.index + m[0].length)) return;
    hits.push({ start: m.index, end: m.index + m[0].length, weight: 0.6, verbOnly: true, forward: false });
  });
  collect(NEG_RE, text, (m) => neg.push({ start: m.index, end: m.index + m[0].length, list: false }));
  collect(LIST_RE, text, (m) => neg.push({ start: m.index, end: m.index + m[0].length, list: true }));

  hits.sort((a, b) => a.start - b.start);
  neg.sort((a, b) => a.start - b.start);
  return { hits, neg };
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

function analyse(text: string, opts: AnalyseOptions): Outcome {
  const cands = findCandidates(text);
  const codes = new Set(cands.map((c) => c.code));
  if (cands.length === 0) return { kind: "none", codes };
  const { hits, neg } = findHits(text, opts.ctx);
  if (hits.length === 0) return { kind: "none", codes };

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

  const best = new Map<string, { score: number; cand: Candidate; strongDirect: boolean }>();
  for (const c of cands) {
    // Keyword bonus: the nearest hits on each side (bounded), best one wins.
    const idx = lowerBound(hits, c.end);
    let bonus = 0;
    let direct = false;
    let strongDirect = false;
    let posGapBefore = Infinity;
    for (let i = idx - 1, seen = 0; i >= 0 && seen < 24; i--, seen++) {
      const h = hits[i]!;
      if (h.end > c.start) continue; // overlaps the token
      const gap = c.start - h.end;
      if (gap > 300) break;
      const gapText = gap <= 60 ? text.slice(h.end, c.start) : "";
      const linker = gap <= 60 && isLinkerGap(gapText, true);
      let b = 0;
      if (linker) b = 170;
      else if (h.verbOnly) b = 0;
      else if (gap <= 20 && !SENTENCE_END_RE.test(gapText)) b = Math.max(60, 120 - 3 * gap);
      else if (gap <= 200) b = 60;
      if (h.forward && !h.verbOnly) b = Math.max(b, 150);
      if (b === 0) continue;
      posGapBefore = Math.min(posGapBefore, gap);
      if (gap > 0 && blocked(h.end, c.start, c)) b *= 0.4;
      b *= h.weight;
      if (b > bonus) {
        bonus = b;
        direct = linker;
        strongDirect = linker && h.weight >= 1;
      }
    }
    for (let i = idx, seen = 0; i < hits.length && seen < 12; i++, seen++) {
      const h = hits[i]!;
      const gap = h.start - c.end;
      if (gap > 80) break;
      const gapText = text.slice(c.end, h.start);
      // A keyword after the token only refers back to it within the same sentence.
      if (SENTENCE_END_RE.test(gapText) || BLANK_LINE_RE.test(gapText)) continue;
      const linker = isLinkerGap(gapText, false);
      let b = linker ? 150 : h.verbOnly ? 0 : gap <= 40 ? 100 : 50;
      if (b === 0) continue;
      if (gap > 0 && blocked(c.end, h.start, c)) b *= 0.4;
      b *= h.weight;
      if (b > bonus) {
        bonus = b;
        direct = linker;
        strongDirect = linker && h.weight >= 1;
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

    // Reference / phone word closer than any keyword; backup-code lists.
    const nIdx = lowerBound(neg, c.start);
    for (let i = nIdx - 1, seen = 0; i >= 0 && seen < 12; i--, seen++) {
      const h = neg[i]!;
      if (h.end > c.start) continue;
      const gap = c.start - h.end;
      if (h.list) {
        if (gap <= 500) {
          score -= 250;
          break;
        }
        continue;
      }
      if (gap > 30) {
        if (gap > 500) break;
        continue;
      }
      if (gap < posGapBefore && isLinkerGap(text.slice(h.end, c.start), true)) {
        score -= 200;
        break;
      }
    }

    if (!opts.isSubject) {
      const lineStartOk =
        c.start <= 12
          ? TEXT_START_RE.test(text.slice(0, c.start))
          : LINE_START_RE.test(text.slice(c.start - 12, c.start));
      if (lineStartOk && LINE_END_RE.test(text.slice(c.end, c.end + 12))) score += 40;
      if (opts.subjectCodes?.has(c.code)) score += 20;
    }
    if (opts.ctx.verification) score += 20;

    const prev = best.get(c.code);
    if (!prev || score > prev.score) best.set(c.code, { score, cand: c, strongDirect });
  }

  if ((globalThis as any).__VDEBUG) console.log([...best.entries()].map(([k, v]) => `${k}:${v.score}`).join(" "), "|", text.slice(0, 60).replace(/\n/g, " "));
  let top: { score: number; cand: Candidate; strongDirect: boolean } | undefined;
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
  if (opts.isSubject && !opts.ctx.verification && !top.strongDirect) return { kind: "none", codes };
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
    .replace(/[ \t\f\v]+/g, " ")
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
      htmlText = rawHtml.trim() === "" ? "" : normalise(htmlToText(rawHtml.slice(0, MAX_HTML)), MAX_TEXT);
    }
    return htmlText;
  };

  const body = text !== "" ? text : getHtmlText();
  const ctx: Context = {
    verification: CONTEXT_RE.test(subject) || CONTEXT_RE.test(body),
    booking: BOOKING_RE.test(subject) || BOOKING_RE.test(body),
    meeting: MEETING_RE.test(subject) || MEETING_RE.test(body),
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
