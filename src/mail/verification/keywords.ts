/**
 * Keyword tables, one per language, and the regexes compiled from them.
 *
 * Each entry is a regex source (no capturing groups, no nested unbounded quantifiers). In a
 * language with `words: true` every entry is matched as a whole word (letter boundaries on both
 * sides); in scripts without spaces (CJK, Thai) or with attached prefixes (Arabic: ال، بـ، و)
 * entries match anywhere. Tables are merged across languages at load time: a message is never
 * language-detected, so a Spanish mail with an English footer, or a Hinglish one, just works.
 *
 * What each field means (all optional):
 * - strong:    names a verification code ("verification code", "OTP", "验证码", "kode verifikasi");
 * - cased:     strong, but only in capitals ("TAN", "PIN": the lower-case words are ordinary words);
 * - possessive: "your … code" ("your Instagram code", "Ihr Code"), strong unless qualified;
 * - medium:    weaker code words ("access code", "2FA", "パスコード", "authorization code");
 * - generic:   a bare "code" word ("code", "código", "kod", "mã", "رمز", "รหัส");
 * - verbs:     sign-in words that count only when directly attached ("verify", "验证");
 * - references: labels of numbers that are not codes ("order number", "ending in", "尾号");
 * - lists:     backup / recovery code lists (their items must not be picked);
 * - forward:   "below", "following", "以下" (a keyword that announces the code further down);
 * - promo:     promotions (a code near them is a coupon);
 * - context:   message-level hints that this is sign-in / verification mail;
 * - booking, meeting: travel and meeting mail, where "confirmation code" / "passcode" are references;
 * - qualifiersBefore / qualifiersAfter: words that turn "code" into something else ("promo code",
 *   "código postal");
 * - linkers:   words that may stand between a keyword and its code ("is", "lautet", "adalah");
 * - introducers: how a clause that introduces the code ends ("… is", "… lautet", "… là", "… هو");
 * - prepositions: how a clause after the keyword starts ("code *for* your account is: …");
 * - copulas:   "<code> *is* your … code";
 * - linkActions / linkAvoid: words on or around a link that make it the primary sign-in /
 *   confirm / reset action, or a link never to return (unsubscribe, help, privacy, "not me");
 * - linkPointer: text that points at the primary link ("the link below", "copy and paste this
 *   URL", "下記URL").
 */

export interface LanguageKeywords {
  words: boolean;
  strong?: string[];
  cased?: string[];
  possessive?: string[];
  medium?: string[];
  generic?: string[];
  verbs?: string[];
  references?: string[];
  lists?: string[];
  forward?: string[];
  promo?: string[];
  context?: string[];
  booking?: string[];
  meeting?: string[];
  qualifiersBefore?: string[];
  qualifiersAfter?: string[];
  linkers?: string[];
  introducers?: string[];
  prepositions?: string[];
  copulas?: string[];
  linkActions?: string[];
  linkAvoid?: string[];
  linkPointer?: string[];
}

const S = "[\\s-]?"; // optional separator
const SP = "[\\s-]"; // one separator

export const KEYWORDS: Record<string, LanguageKeywords> = {
  en: {
    words: true,
    strong: [
      `verification${S}codes?`, `verify${S}codes?`, `security${S}codes?`, `pass${S}codes?`,
      `one${S}time${S}(?:pass${S})?(?:codes?|passwords?|pins?)`, `otps?(?:${S}codes?)?`,
      `log${S}in${S}(?:codes?|otp)`, `sign${S}in${S}codes?`, `sign${S}on${S}codes?`,
      `confirmation${S}codes?`, `confirm${S}codes?`, `authentication${S}codes?`, `auth${S}codes?`,
      `authenticator${S}codes?`, `2fa${S}codes?`, `mfa${S}codes?`,
      `two${S}factor(?:${SP}authentication)?${SP}codes?`,
      `(?:2|two)${S}step(?:${SP}verification)?${SP}codes?`,
      `(?:password${SP})?reset${SP}codes?`, `activation${SP}codes?`, `validation${SP}codes?`,
      `temporary${SP}(?:codes?|pins?|passcodes?|passwords?)`, `verification${SP}pins?`, `security${SP}pins?`,
      `enter${SP}(?:this|the|the${SP}following|following|your)(?:${SP}[\\p{L}\\p{N}-]+){0,2}?${SP}codes?`,
      `use${SP}(?:this|the|the${SP}following|following)(?:${SP}[\\p{L}\\p{N}-]+){0,2}?${SP}codes?`,
      `(?:\\d|four|five|six|seven|eight)${S}digits?${SP}(?:codes?|pins?)`,
      `here(?:'s|’s|${SP}is)${SP}your${SP}codes?`, `guard${SP}codes?`, `secure${S}codes?`,
      `3-?d${SP}secure${SP}(?:codes?|passwords?)`, `sms${SP}codes?`, `transaction${SP}(?:codes?|pins?)`,
      `device${SP}verification${SP}codes?`, `login${SP}pins?`,
    ],
    cased: [`TAN`, `mTAN`, `smsTAN`, `SMS-TAN`, `pushTAN`],
    possessive: [`your(?:\\s+[\\p{L}\\p{N}-]+){0,3}?\\s+codes?`],
    medium: [
      `pin${SP}codes?`, `pin${SP}numbers?`, `access${SP}codes?`, `2fa`, `mfa`, `two${S}factor`,
      `(?:2|two)${S}step`, `authori[sz]ation${SP}codes?`, `tokens?`,
    ],
    generic: [`codes?`],
    verbs: [`verify`, `verification`, `sign${S}in`, `log${S}in`, `authenticate`],
    references: [
      `order(?:${SP}(?:number|no\\.?|id|#))?`, `invoice(?:${SP}(?:number|no\\.?|#))?`,
      `receipt(?:${SP}(?:number|no\\.?|#))?`, `ref\\.?`, `reference(?:${SP}(?:number|no\\.?|id|code))?`,
      `tracking(?:${SP}(?:number|no\\.?|id|code))?`, `ticket`, `case(?:${SP}(?:number|id))?`,
      `booking`, `reservation`, `confirmation${SP}(?:number|no\\.?)`, `transaction(?:${SP}(?:id|ref|no\\.?))?`,
      `txn(?:${SP}(?:id|ref|no\\.?))?`, `account(?:${SP}(?:number|no\\.?))?`, `acct`,
      `customer(?:${SP}(?:id|number|no\\.?))?`, `member(?:ship)?(?:${SP}(?:id|number|no\\.?))?`,
      `serial(?:${SP}number)?`, `model`, `sku`, `item`, `part${SP}(?:number|no\\.?)`, `po`, `shipment`,
      `parcel`, `package`, `waybill`, `ending(?:${SP}(?:in|with))?`, `ends${SP}in`,
      `last${SP}(?:4|four)(?:${SP}digits)?`, `card`, `meeting${SP}id`, `webinar${SP}id`, `id`, `no\\.?`,
      `nr\\.?`, `n[º°]\\.?`, `number`, `phone`, `tel\\.?`, `telephone`, `call(?:${SP}us)?(?:${SP}at)?`,
      `mobile`, `cell`, `fax`, `hotline`, `helpline`, `whatsapp`, `ext\\.?`, `extension`, `version`,
      `build`, `release`, `vol\\.?`, `issue`, `room`, `seat`, `gate`, `flight`, `unit`, `suite`, `apt\\.?`,
      `floor`, `pr`, `pull${SP}request`, `commit`, `pnr`, `train`, `coach`, `berth`, `request${SP}(?:id|no\\.?)`,
      `sms`, `block`, `toll${SP}free`, `customer${SP}care`, `ip`, `approval${SP}(?:code|number|no\\.?)`,
    ],
    lists: [`backup${S}codes?`, `recovery${S}codes?`],
    forward: [`below`, `following`, `underneath`],
    promo: [
      `off`, `discount`, `coupon`, `promo\\p{L}*`, `sale`, `save`, `redeem`, `voucher`,
      `free${SP}shipping`,
    ],
    context: [
      `verif\\p{L}*`, `confirm\\p{L}*`, `sign${S}in`, `sign${S}up`, `log${S}in`, `signin`, `login`,
      `authenticat\\p{L}*`, `2fa`, `two${SP}factor`, `2${SP}step`, `two${SP}step`, `mfa`, `one${SP}time`,
      `expire\\p{L}*`, `valid${SP}for`, `do${SP}not${SP}share`, `don['’]t${SP}share`, `never${SP}share`,
      `not${SP}share`, `didn['’]t${SP}request`, `did${SP}not${SP}request`, `security`, `password`, `otp`,
      `activat\\p{L}*`,
    ],
    booking: [`booking`, `reservation`, `itinerary`, `flight`, `hotel`, `check-?in`, `boarding`, `pnr`],
    meeting: [
      `meeting${SP}id`, `zoom${SP}meeting`, `join${SP}(?:zoom${SP})?meeting`, `webinar`, `dial${S}in`,
      `conference${SP}call`, `teams${SP}meeting`, `google${SP}meet`, `join${SP}by${SP}phone`,
    ],
    qualifiersBefore: [
      `promo(?:tional|tion)?`, `discount`, `coupon`, `voucher`, `gift(?:\\s*card)?`, `card`, `referral`,
      `refer`, `invite`, `invitation`, `offer`, `zip`, `postal`, `post`, `area`, `country`, `qr`, `tracking`,
      `source`, `error`, `status`, `product`, `reference`, `ref`, `booking`, `reservation`, `bar`, `tax`,
      `swift`, `sort`, `bank`, `colou?r`, `html`, `css`, `embed`, `pickup`, `redemption`, `redeem`, `sale`,
      `dress`, `style`, `item`, `order`, `event`, `ticket`, `airport`, `airline`, `flight`, `hotel`, `bonus`,
      `reward`, `loyalty`, `membership`, `member`, `shipping`, `delivery`, `activation key`, `license`,
      `licence`, `product key`, `serial`, `pairing`, `share`, `sharing`, `wifi`, `wi-fi`, `door`, `gate`,
      `building`, `welcome`, `anti-?phishing`, `phishing`, `branch`, `ifsc`, `check`, `approval`,
    ],
    qualifiersAfter: [
      `review`, `reviews`, `editor`, `snippets?`, `samples?`, `quality`, `base`, `of conduct`, `blocks?`,
      `changes`, `coverage`, `owners`, `search`, `spaces`, `signing`, `generation`, `examples?`,
      `repository`, `repo`, `promo\\p{L}*`, `postal`, `region`,
    ],
    linkers: [
      "is", "are", "was", "will", "be", "it", "its", "it's", "here", "as", "follows", "below", "following",
      "the", "your", "this", "code", "number", "now", "please", "enter", "hai", "aapka", "aapki", "apna",
    ],
    introducers: [`is`, `are`, `hai`, `was`],
    prepositions: [`to`, `for`, `of`, `from`, `on`, `at`, `in`, `with`, `using`, `ke`, `liye`],
    copulas: [`is`, `are`, `as`, `was`, `hai`],
    linkActions: [
      `verify`, `verification`, `confirm\\p{L}*`, `activate\\p{L}*`, `activation`, `validate`,
      `sign${S}in`, `log${S}in`, `sign${S}up`, `magic${SP}link`, `reset`, `set${SP}(?:a${SP})?new${SP}password`,
      `choose${SP}a${SP}new${SP}password`, `create${SP}(?:a${SP})?new${SP}password`, `change${SP}(?:your${SP})?password`,
      `approve`, `yes,?${SP}(?:it(?:'s|’s|${SP}was)${SP})?(?:me|i${SP}did)`, `it(?:'s|’s|${SP}was)${SP}me`,
      `complete${SP}(?:your${SP})?(?:registration|sign${S}up|account)`, `finish${SP}(?:signing${SP}up|setting${SP}up)`,
      `get${SP}started`, `accept${SP}invitation`, `subscribe`, `opt${S}in`, `authori[sz]e`,
    ],
    linkAvoid: [
      `unsubscribe`, `opt${S}out`, `preferences?`, `manage${SP}(?:your${SP})?(?:subscription|preferences|notifications|emails?|trip|booking|order)`,
      `view${SP}(?:this${SP}(?:email|message)${SP})?(?:in|on)${SP}(?:your${SP})?(?:browser|web)`, `view${SP}online`,
      `web${SP}version`, `online${SP}version`, `help(?:${SP}cent(?:er|re))?`, `support`, `faq`, `contact(?:${SP}us)?`,
      `privacy(?:${SP}policy)?`, `terms`, `legal`, `cookies?`, `not${SP}(?:you|me)`, `wasn['’]t${SP}me`,
      `this${SP}wasn['’]t${SP}me`, `deny`, `block`, `report`, `secure${SP}(?:your${SP})?account`,
      `review${SP}(?:your${SP})?(?:activity|account|devices)`, `check${SP}(?:your${SP})?(?:activity|account)`,
      `view${SP}(?:your${SP})?(?:activity|details|order|account|devices|statement)`, `activity`,
      `track(?:${SP}(?:your${SP})?(?:package|order|parcel|shipment))?`, `download`, `invoice`, `receipt`,
      `settings`, `security${SP}settings`, `learn${SP}more`, `shop${SP}now`, `read${SP}more`, `see${SP}(?:all|more)`,
      `if${SP}(?:this${SP}was${SP}not${SP}you|you${SP}(?:didn['’]t|did${SP}not|don['’]t|do${SP}not))`, `wasn['’]t${SP}you`,
    ],
    linkPointer: [
      `(?:link|button|url)${SP}below`, `following${SP}(?:link|url)`, `click${SP}(?:on${SP})?(?:the${SP}|this${SP})?(?:link|button|here)`,
      `copy${SP}(?:and${SP}paste${SP})?(?:this|the)${SP}(?:link|url)`, `paste${SP}(?:this|the)${SP}(?:link|url)`,
      `copy${SP}and${SP}paste`, `into${SP}your${SP}browser`, `tap${SP}(?:the${SP})?(?:link|button)`,
    ],
  },

  de: {
    words: true,
    strong: [
      `best[äa]tigungs-?codes?`, `sicherheits-?codes?`, `verifizierungs-?codes?`, `verifikations-?codes?`,
      `einmal-?codes?`, `einmal-?passw[öo]rt(?:er)?`, `anmelde-?codes?`, `login-?codes?`,
      `authentifizierungs-?codes?`, `pr[üu]f-?codes?`, `code${SP}zur${SP}best[äa]tigung`,
      `aktivierungs-?codes?`, `freigabe-?codes?`, `transaktionsnummer`,
      `(?:gib|geben${SP}sie)${SP}(?:den|diesen)(?:${SP}folgenden)?${SP}code`,
    ],
    possessive: [`(?:ihr|ihre|dein|deine|euer)(?:${SP}[\\p{L}-]+){0,2}?${SP}codes?`],
    medium: [`zugangs-?codes?`],
    verbs: [`verifizierung`, `anmeldung`],
    references: [
      `bestellung`, `bestellnummer`, `rechnung(?:snummer)?`, `auftrag(?:snummer)?`, `auftrags-?id`,
      `sendungsnummer`, `kundennummer`, `telefon`, `iban`, `blz`, `legitimations-?id`, `vorgangsnummer`,
    ],
    lists: [`wiederherstellungs-?codes?`, `backup-?codes?`],
    forward: [`unten`, `folgenden`],
    promo: [`rabatt\\p{L}*`, `gutschein\\p{L}*`],
    context: [`best[äa]tig\\p{L}*`, `anmeld\\p{L}*`, `g[üu]ltig`, `sicherheit`],
    booking: [`buchung`],
    meeting: [`besprechung`],
    qualifiersBefore: [`rabatt`, `gutschein`, `aktions`],
    linkers: ["ist", "lautet", "lauten", "ihr", "ihre", "dein", "deine", "die", "der"],
    introducers: [`lautet`, `lauten`, `ist`],
    prepositions: [`für`, `zur`, `zum`, `bei`, `in`, `auf`],
    copulas: [`ist`],
    linkActions: [
      `best[äa]tig\\p{L}*`, `verifizier\\p{L}*`, `aktivier\\p{L}*`, `anmelden`, `einloggen`,
      `passwort${SP}(?:zur[üu]cksetzen|festlegen|[äa]ndern)`, `neues${SP}passwort`, `zur[üu]cksetzen`,
    ],
    linkAvoid: [`abmelden`, `abbestellen`, `datenschutz`, `impressum`, `hilfe`, `kontakt`, `im${SP}browser${SP}ansehen`, `einstellungen`],
    linkPointer: [`(?:folgenden|untenstehenden)${SP}(?:link|button)`, `link${SP}unten`, `in${SP}ihren${SP}browser`, `klicken${SP}sie`],
  },

  fr: {
    words: true,
    strong: [
      `codes?${SP}de${SP}v[ée]rification`, `codes?${SP}de${SP}s[ée]curit[ée]`, `codes?${SP}de${SP}confirmation`,
      `codes?${SP}[àa]${SP}usage${SP}unique`, `codes?${SP}de${SP}connexion`,
      `mot${SP}de${SP}passe${SP}[àa]${SP}usage${SP}unique`, `codes?${SP}d['’]authentification`,
      `codes?${SP}de${SP}validation`, `codes?${SP}d['’]activation`, `codes?${SP}unique`,
      `(?:saisissez|saisir|entrez|entrer|utilisez|utiliser)${SP}(?:le|ce)(?:${SP}code${SP}suivant|${SP}code)`,
    ],
    possessive: [`(?:votre|ton)${SP}code`],
    medium: [`codes?${SP}d['’]acc[èe]s`],
    verbs: [`v[ée]rification`],
    references: [`commande`, `facture`, `r[ée]f[ée]rence`, `suivi`, `colis`, `t[ée]l[ée]phone`],
    lists: [`codes?${SP}de${SP}secours`, `codes?${SP}de${SP}r[ée]cup[ée]ration`],
    forward: [`ci-dessous`, `suivant`],
    promo: [`r[ée]duction`, `remise`, `offre`],
    context: [`v[ée]rif\\p{L}*`, `connexion`, `valable`, `s[ée]curit[ée]`],
    booking: [`r[ée]servation`],
    meeting: [`r[ée]union`],
    qualifiersAfter: [
      `de\\s+(?:r[ée]duction|promo\\p{L}*|suivi|commande|r[ée]servation|parrainage|cadeau|bienvenue)`,
      `du\\s+pays`,
    ],
    linkers: ["est", "votre", "le", "la", "de", "du", "voici"],
    introducers: [`est`],
    prepositions: [`pour`, `de`, `du`, `à`, `sur`],
    copulas: [`est`],
    linkActions: [
      `confirm\\p{L}*`, `v[ée]rifi\\p{L}*`, `activer`, `activez`, `activation`, `connecter`, `connexion`,
      `r[ée]initialiser`, `nouveau${SP}mot${SP}de${SP}passe`, `lien${SP}magique`,
    ],
    linkAvoid: [`d[ée]sabonner`, `d[ée]sinscri\\p{L}*`, `confidentialit[ée]`, `aide`, `version${SP}en${SP}ligne`, `navigateur`],
    linkPointer: [`lien${SP}ci-dessous`, `(?:le|ce)${SP}lien${SP}suivant`, `cliquez${SP}sur`, `copiez`, `dans${SP}votre${SP}navigateur`],
  },

  es: {
    words: true,
    strong: [
      `c[óo]digos?${SP}de${SP}verificaci[óo]n`, `c[óo]digos?${SP}de${SP}seguridad`,
      `c[óo]digos?${SP}de${SP}confirmaci[óo]n`, `c[óo]digos?${SP}de${SP}un${SP}solo${SP}uso`,
      `c[óo]digos?${SP}de${SP}inicio${SP}de${SP}sesi[óo]n`, `c[óo]digos?${SP}de${SP}autenticaci[óo]n`,
      `c[óo]digos?${SP}de${SP}validaci[óo]n`, `c[óo]digos?${SP}de${SP}activaci[óo]n`,
      `clave${SP}de${SP}verificaci[óo]n`, `clave${SP}de${SP}(?:operaci[óo]n|acceso|seguridad|un${SP}solo${SP}uso)`,
      `clave${SP}din[áa]mica`, `c[óo]digos?${SP}de${SP}autorizaci[óo]n`, `c[óo]digos?${SP}de${SP}acceso`,
      `(?:usa|ingresa|introduce|escribe)${SP}(?:este|el(?:${SP}siguiente)?)${SP}c[óo]digo`,
    ],
    possessive: [`(?:tu|su)${SP}c[óo]digo`],
    generic: [`c[óo]digos?`, `clave`],
    verbs: [`verificaci[óo]n`],
    references: [
      `pedido`, `factura`, `referencia`, `seguimiento`, `tel[ée]fono`, `n[úu]mero`, `compra`, `tarjeta`,
      `terminada${SP}en`, `c\\.?p\\.?`, `soporte`, `atenci[óo]n`,
    ],
    lists: [`c[óo]digos?${SP}de${SP}recuperaci[óo]n`],
    forward: [`a${SP}continuaci[óo]n`, `siguiente`],
    promo: [`descuento`, `cup[óo]n`, `oferta`],
    context: [
      `verific\\p{L}*`, `inicio${SP}de${SP}sesi\\p{L}*`, `v[áa]lid\\p{L}*`, `seguridad`, `vence`, `caduca`,
      `no${SP}(?:lo${SP}|la${SP})?compartas`, `no${SP}(?:lo${SP}|la${SP})?comparta`, `expira`,
    ],
    booking: [`reserva`],
    meeting: [`reuni[óo]n`],
    qualifiersBefore: [`cup[óo]n`],
    qualifiersAfter: [
      `de\\s+(?:descuento|promo\\p{L}*|rastreo|seguimiento|pedido|barras|reserva|regalo|referido|invitaci[óo]n|cup[óo]n)`,
    ],
    linkers: ["es", "su", "tu", "el", "la", "de"],
    introducers: [`es`],
    prepositions: [`para`, `de`, `a`, `en`],
    copulas: [`es`],
    linkActions: [
      `confirm\\p{L}*`, `verific\\p{L}*`, `activar`, `activa`, `activaci[óo]n`, `restablecer`, `nueva${SP}contrase[ñn]a`,
      `iniciar${SP}sesi[óo]n`, `ingresar`,
    ],
    linkAvoid: [`darse${SP}de${SP}baja`, `cancelar${SP}suscripci[óo]n`, `privacidad`, `ayuda`, `ver${SP}en${SP}el${SP}navegador`],
    linkPointer: [`(?:el${SP})?(?:siguiente${SP})?enlace`, `haz${SP}clic`, `copia${SP}y${SP}pega`, `en${SP}tu${SP}navegador`],
  },

  pt: {
    words: true,
    strong: [
      `c[óo]digos?${SP}de${SP}verifica[çc][ãa]o`, `c[óo]digos?${SP}de${SP}seguran[çc]a`,
      `c[óo]digos?${SP}de${SP}confirma[çc][ãa]o`, `c[óo]digos?${SP}de${SP}uso${SP}[úu]nico`,
      `c[óo]digos?${SP}de${SP}autentica[çc][ãa]o`, `c[óo]digos?${SP}de${SP}valida[çc][ãa]o`,
      `c[óo]digos?${SP}de${SP}login`, `c[óo]digos?${SP}de${SP}ativa[çc][ãa]o`, `token${SP}de${SP}seguran[çc]a`,
      `c[óo]digos?${SP}de${SP}acesso`, `senha${SP}tempor[áa]ria`,
      `(?:digite|insira|informe|use|utilize)${SP}(?:o|este)(?:${SP}seguinte)?${SP}c[óo]digo`,
    ],
    possessive: [`(?:seu|o${SP}seu)${SP}c[óo]digo`],
    medium: [`c[óo]digos?${SP}de${SP}acess?o`],
    generic: [`c[óo]digos?`],
    verbs: [`verifica[çc][ãa]o`],
    references: [
      `encomenda`, `fatura`, `rastreamento`, `rastreio`, `telefone`, `n[úu]mero`, `cart[ãa]o(?:${SP}final)?`,
      `final`, `cnpj`, `cpf`, `sac`, `ouvidoria`, `parcelamento`,
    ],
    lists: [`c[óo]digos?${SP}de${SP}recupera[çc][ãa]o`],
    forward: [`abaixo`, `seguinte`],
    promo: [`cupom`, `desconto`, `oferta`],
    context: [`verific\\p{L}*`, `seguran[çc]a`, `acesso`, `v[áa]lid\\p{L}*`, `n[ãa]o${SP}compartilhe`, `expira`],
    qualifiersBefore: [`cupom`],
    qualifiersAfter: [`de\\s+(?:desconto|promo\\p{L}*|rastreamento|rastreio|pedido|barras|presente|indica[çc][ãa]o|convite|cupom)`],
    linkers: ["é", "seu", "sua", "o", "a", "de"],
    introducers: [`é`],
    prepositions: [`para`, `de`, `a`, `em`, `no`, `na`],
    copulas: [`é`],
    linkActions: [`confirm\\p{L}*`, `verific\\p{L}*`, `ativar`, `ative`, `ativa[çc][ãa]o`, `redefinir`, `nova${SP}senha`, `entrar`],
    linkAvoid: [`descadastr\\p{L}*`, `cancelar${SP}inscri[çc][ãa]o`, `privacidade`, `ajuda`],
    linkPointer: [`link${SP}abaixo`, `clique${SP}(?:no|aqui)`, `copie${SP}e${SP}cole`, `no${SP}seu${SP}navegador`],
  },

  it: {
    words: true,
    strong: [
      `codice${SP}di${SP}verifica`, `codice${SP}di${SP}sicurezza`, `codice${SP}di${SP}conferma`,
      `codice${SP}monouso`, `codice${SP}di${SP}autorizzazione`, `codice${SP}di${SP}accesso`,
      `codice${SP}otp`, `password${SP}(?:temporanea|monouso)`, `codice${SP}di${SP}attivazione`,
      `(?:inserisci|inserire|utilizza|usa)${SP}(?:il|questo)(?:${SP}seguente)?${SP}codice`,
    ],
    possessive: [`(?:il${SP})?tuo${SP}codice`, `(?:il${SP})?suo${SP}codice`],
    generic: [`codice`],
    references: [`ordine`, `fattura`, `cro`, `iban`, `abi`, `numero${SP}verde`, `spedizione`, `p\\.?${SP}?iva`, `rea`],
    forward: [`seguente`, `qui${SP}sotto`],
    promo: [`sconto`],
    context: [`verific\\p{L}*`, `accesso`, `accedere`, `conferm\\p{L}*`, `scade`, `autorizz\\p{L}*`],
    qualifiersAfter: [`sconto`],
    linkers: ["è", "il", "tuo", "suo", "ecco"],
    introducers: [`è`],
    prepositions: [`per`, `di`, `a`, `su`],
    copulas: [`è`],
    linkActions: [`conferm\\p{L}*`, `verific\\p{L}*`, `attiva(?:re|zione)?`, `reimposta\\p{L}*`, `accedi`],
    linkAvoid: [`disiscri\\p{L}*`, `annulla${SP}iscrizione`, `privacy`, `assistenza`],
    linkPointer: [`link${SP}(?:qui${SP})?sotto`, `(?:il${SP})?seguente${SP}link`, `clicca${SP}(?:sul|qui)`, `copia${SP}e${SP}incolla`],
  },

  nl: {
    words: true,
    strong: [
      `verificatiecode`, `beveiligingscode`, `bevestigingscode`, `inlogcode`, `eenmalige${SP}code`,
      `voer${SP}(?:de|deze)${SP}code`,
    ],
    generic: [`code`],
    references: [`bestelling`, `bestelnummer`, `factuur`],
    linkers: ["is", "uw", "je", "jouw"],
    introducers: [`is`],
    linkActions: [`bevestig\\p{L}*`, `verifieer`, `activeer`],
    linkAvoid: [`uitschrijven`, `afmelden`],
    linkPointer: [`onderstaande${SP}link`, `klik${SP}op`],
  },

  tr: {
    words: true,
    strong: [
      `do[ğg]rulama${SP}kod\\p{L}*`, `onay${SP}kod\\p{L}*`, `giri[şs]${SP}kod\\p{L}*`, `g[üu]venlik${SP}kod\\p{L}*`,
      `tek${SP}kullan[ıi]ml[ıi]k${SP}(?:[şs]ifre|kod)\\p{L}*`, `(?:3d${SP}secure${SP}|onay${SP}|sms${SP})[şs]ifre\\p{L}*`,
      `aktivasyon${SP}kod\\p{L}*`, `(?:bu${SP}|a[şs]a[ğg][ıi]daki${SP})?kodu${SP}gir\\p{L}*`,
    ],
    generic: [`kod(?:u|unuz|un|unu)?`, `[şs]ifre(?:niz|n|si)?`],
    references: [`sipari[şs](?:${SP}no)?`, `kart${SP}no`, `referans`, `pnr`, `mersis(?:${SP}no)?`, `m[üu][şs]teri${SP}hizmetleri`, `bilgi`],
    promo: [`kampanya`, `indirim`],
    context: [`do[ğg]rula\\p{L}*`, `giri[şs]`, `ge[çc]erli\\p{L}*`, `payla[şs]ma\\p{L}*`],
    linkers: ["için"],
    introducers: [],
    prepositions: [`için`],
    linkActions: [`do[ğg]rula\\p{L}*`, `onayla\\p{L}*`, `aktif${SP}et`, `s[ıi]f[ıi]rla\\p{L}*`],
    linkAvoid: [`abonelikten${SP}[çc][ıi]k`, `gizlilik`, `yard[ıi]m`],
    linkPointer: [`a[şs]a[ğg][ıi]daki${SP}(?:ba[ğg]lant[ıi]|butona|d[üu][ğg]me)`, `t[ıi]klay[ıi]n`, `taray[ıi]c[ıi]n[ıi]za`],
  },

  pl: {
    words: true,
    strong: [
      `kod${SP}weryfikacyjny`, `kod${SP}autoryzacyjny`, `kod${SP}potwierdzaj[ąa]cy`, `kod${SP}jednorazowy`,
      `kod${SP}sms`, `has[łl]o${SP}jednorazowe`, `kod${SP}dost[ęe]pu`, `kod${SP}logowania`, `kod${SP}aktywacyjny`,
      `kod${SP}bezpiecze[ńn]stwa`, `(?:wpisz|wprowad[źz]|u[żz]yj)${SP}(?:ten${SP}|poni[żz]szy${SP})?kod`,
    ],
    possessive: [`tw[óo]j${SP}kod`],
    generic: [`kod(?:u|em)?`],
    references: [`zam[óo]wienie(?:${SP}nr)?`, `operacja(?:${SP}nr)?`, `rachunek`, `nip`, `krs`, `regon`, `infolinia`, `pytania`],
    context: [`weryfik\\p{L}*`, `logowani\\p{L}*`, `wa[żz]ny`],
    linkers: ["to", "jest", "twój", "twoj"],
    introducers: [`to`, `jest`],
    prepositions: [`do`, `dla`],
    copulas: [`to`, `jest`],
    linkActions: [`potwierd[źz]\\p{L}*`, `aktywuj`, `zweryfikuj`, `zresetuj`, `zaloguj`],
    linkAvoid: [`wypisz`, `prywatno[śs]ci`, `pomoc`],
    linkPointer: [`poni[żz]szy${SP}link`, `kliknij`, `skopiuj`],
  },

  id: {
    words: true,
    strong: [
      `kode${SP}otp`, `kode${SP}verifikasi`, `kode${SP}keamanan`, `kode${SP}masuk`, `kode${SP}aktivasi`,
      `kode${SP}konfirmasi`, `kata${SP}sandi${SP}sekali${SP}pakai`, `(?:masukkan|gunakan)${SP}kode(?:${SP}(?:ini|berikut))?`,
    ],
    generic: [`kode`],
    references: [`id${SP}transaksi`, `pesanan`, `no\\.?${SP}pesanan`, `inv`, `saldo`, `layanan${SP}pelanggan`, `nomor`],
    context: [`verifikasi`, `masuk`, `berlaku`, `jangan${SP}(?:bagikan|berikan|kasih)`],
    linkers: ["adalah", "kamu", "anda", "ini", "yaitu", "berikut"],
    introducers: [`adalah`, `yaitu`],
    prepositions: [`untuk`, `ke`],
    copulas: [`adalah`],
    linkActions: [`verifikasi\\p{L}*`, `konfirmasi\\p{L}*`, `aktifkan`, `atur${SP}ulang`, `masuk`],
    linkAvoid: [`berhenti${SP}berlangganan`, `kebijakan${SP}privasi`, `pusat${SP}bantuan`],
    linkPointer: [`tautan${SP}(?:di${SP}bawah|berikut)`, `klik${SP}(?:tombol|tautan)`, `salin`],
  },

  vi: {
    words: true,
    strong: [
      `m[ãa]${SP}(?:otp|x[áa]c${SP}th[ựu]c|x[áa]c${SP}minh|x[áa]c${SP}nh[ậa]n|k[íi]ch${SP}ho[ạa]t|[đd][ăa]ng${SP}nh[ậa]p|b[ảa]o${SP}m[ậa]t)`,
      `m[ậa]t${SP}kh[ẩa]u${SP}m[ộo]t${SP}l[ầa]n`, `nh[ậa]p${SP}m[ãa](?:${SP}(?:n[àa]y|sau))?`,
    ],
    generic: [`m[ãa]`],
    references: [
      `t[àa]i${SP}kho[ảa]n`, `s[ốo]${SP}tham${SP}chi[ếe]u`, `[đd][ơo]n${SP}h[àa]ng`, `m[ãa]${SP}[đd][ơo]n(?:${SP}h[àa]ng)?`,
      `m[ãa]${SP}v[ậa]n${SP}[đd][ơo]n`, `t[ổo]ng${SP}[đd][àa]i`, `hotline`,
    ],
    promo: [`m[ãa]${SP}gi[ảa]m${SP}gi[áa]`, `khuy[ếe]n${SP}m[ãa]i`],
    context: [`x[áa]c${SP}th[ựu]c`, `x[áa]c${SP}minh`, `[đd][ăa]ng${SP}nh[ậa]p`, `hi[ệe]u${SP}l[ựu]c`],
    qualifiersAfter: [`gi[ảa]m${SP}gi[áa]`, `[đd][ơo]n`, `v[ậa]n${SP}[đd][ơo]n`, `khuy[ếe]n${SP}m[ãa]i`],
    linkers: ["là", "của", "bạn", "quý", "khách"],
    introducers: [`là`],
    prepositions: [`để`, `cho`],
    copulas: [`là`],
    linkActions: [`x[áa]c${SP}nh[ậa]n`, `x[áa]c${SP}minh`, `k[íi]ch${SP}ho[ạa]t`, `[đd][ặa]t${SP}l[ạa]i`],
    linkAvoid: [`h[ủu]y${SP}[đd][ăa]ng${SP}k[ýy]`, `ch[íi]nh${SP}s[áa]ch`],
    linkPointer: [`li[êe]n${SP}k[ếe]t`, `nh[ấa]n${SP}v[àa]o`, `sao${SP}ch[ée]p`],
  },

  ru: {
    words: true,
    strong: [
      `код(?:а)?${SP}подтверждения`, `проверочный${SP}код`, `код${SP}проверки`, `код${SP}безопасности`,
      `одноразовый${SP}(?:код|пароль)`, `код${SP}для${SP}входа`, `код${SP}верификации`, `код${SP}активации`,
      `код${SP}авторизации`, `пароль${SP}для${SP}входа`, `временный${SP}пароль`,
      `введите${SP}(?:этот${SP}|следующий${SP})?код`, `используйте${SP}(?:этот${SP}|следующий${SP})?код`,
    ],
    possessive: [`ваш${SP}код`, `твой${SP}код`],
    medium: [`код${SP}доступа`],
    generic: [`код(?:а)?`],
    verbs: [`подтверждение`],
    references: [`заказ(?:а)?`, `сч[её]т(?:а)?`, `трек`, `телефон`, `номер`],
    lists: [`резервн\\p{L}*${SP}код\\p{L}*`],
    forward: [`ниже`, `следующ\\p{L}*`],
    promo: [`скидк\\p{L}*`, `промокод\\p{L}*`, `купон\\p{L}*`],
    context: [`подтвер\\p{L}*`, `вход\\p{L}*`, `действ\\p{L}*`, `безопас\\p{L}*`],
    meeting: [`встреч\\p{L}*`],
    booking: [`бронир\\p{L}*`],
    qualifiersAfter: [`скидки`, `купона`, `товара`, `заказа`, `страны`, `города`],
    linkers: ["это", "является", "ваш"],
    introducers: [],
    prepositions: [`для`, `от`],
    linkActions: [
      `подтверд\\p{L}*`, `активир\\p{L}*`, `восстанов\\p{L}*`, `сброс\\p{L}*`, `войти`, `задать${SP}(?:новый${SP})?пароль`,
      `нов\\p{L}*${SP}пароль`,
    ],
    linkAvoid: [`отписаться`, `конфиденциальност\\p{L}*`, `помощь`],
    linkPointer: [`по${SP}ссылке`, `ссылк\\p{L}*${SP}ниже`, `нажмите`, `скопируйте`],
  },

  ar: {
    words: false,
    strong: [
      `رمز\\s?التحقق`, `رمز\\s?الدخول`, `رمز\\s?التفعيل`, `رمز\\s?التأكيد`, `كلمة\\s?المرور\\s?لمرة\\s?واحدة`,
      `رمز\\s?لمرة\\s?واحدة`, `الرمز\\s?السري\\s?المؤقت`, `رمز\\s?الأمان`,
    ],
    generic: [`رمز`, `الرمز`, `كود`],
    references: [
      `المنتهية\\s?ب`, `الرقم\\s?المرجعي`, `رقم\\s?الطلب`, `طلبك\\s?رقم`, `رقم`, `هاتف`, `ص\\.ب`, `سجل\\s?تجاري`,
      `خدمة\\s?العملاء`, `اتصل`,
    ],
    context: [`التحقق`, `صالح`, `لا\\s?تشارك`, `تسجيل\\s?الدخول`],
    linkers: ["هو", "هي", "الخاص", "بك"],
    introducers: [`هو`, `هي`],
    prepositions: [`ل`, `إلى`],
    copulas: [`هو`, `هي`],
    linkActions: [`تأكيد`, `تفعيل`, `إعادة\\s?تعيين`, `تحقق`],
    linkAvoid: [`إلغاء\\s?الاشتراك`, `سياسة\\s?الخصوصية`, `مركز\\s?المساعدة`],
    linkPointer: [`الرابط`, `انقر`, `اضغط`],
  },

  hi: {
    words: true,
    strong: [`ओटीपी`, `सत्यापन${SP}कोड`],
    generic: [`कोड`],
    linkers: ["है", "आपका"],
    introducers: [`है`],
  },

  th: {
    words: false,
    strong: [`รหัส\\s?otp`, `รหัสยืนยัน`, `รหัสผ่านใช้ครั้งเดียว`, `รหัสผ่านแบบใช้ครั้งเดียว`, `รหัสเข้าสู่ระบบ`],
    generic: [`รหัส`],
    references: [`รหัสอ้างอิง`, `ref\\.?`, `คำสั่งซื้อ`, `โทร`, `บัญชี`],
    context: [`ยืนยัน`, `เข้าสู่ระบบ`, `ใช้ได้ภายใน`, `ห้ามเปิดเผย`],
    linkers: ["คือ", "ของคุณ", "ของคุณคือ"],
    introducers: [`คือ`],
    linkActions: [`ยืนยัน`, `รีเซ็ต`],
    linkAvoid: [`ยกเลิกการรับ`],
    linkPointer: [`ลิงก์`, `คลิก`],
  },

  zh: {
    words: false,
    strong: [
      "验证码", "驗證碼", "校验码", "校驗碼", "动态码", "動態碼", "认证码", "認證碼", "登入码", "登入碼", "登录码",
      "登錄碼", "确认码", "確認碼", "动态密码", "動態密碼", "安全码", "安全碼", "一次性密码", "一次性密碼", "激活码",
      "激活碼", "驗証碼", "短信码",
    ],
    medium: ["两步验证", "兩步驗證"],
    verbs: ["验证", "驗證", "登录", "登錄", "认证", "認證"],
    references: [
      "订单", "訂單", "单号", "單號", "运单", "運單", "快递", "快遞", "物流", "发票", "發票", "流水号", "流水號", "交易",
      "尾号", "尾號", "编号", "編號", "会员", "會員", "卡号", "卡號", "末四碼", "末四码", "后四位", "後四位", "电话",
      "電話", "手机", "手機", "客服", "热线", "熱線", "致电", "取件码", "取件碼", "提货码", "提貨碼", "取货码",
      "优惠码", "優惠碼", "兑换码", "兌換碼", "折扣码", "邀请码", "邀請碼", "推荐码", "券码", "邮编", "郵編",
      "隨機碼", "随机码",
    ],
    lists: ["备用码", "恢复码", "備用碼", "恢復碼"],
    forward: ["下方", "如下", "以下", "下面"],
    promo: ["优惠", "優惠", "折扣", "打折", "满减", "券"],
    context: ["验证", "驗證", "登录", "登錄", "登入", "有效", "分钟", "分鐘", "请勿", "請勿", "泄露", "洩露"],
    booking: ["预订", "預訂", "航班", "酒店"],
    meeting: ["会议", "會議"],
    linkers: ["是", "为", "為", "如下", "为您", "為您", "您的", "号码", "號碼", "号", "號"],
    introducers: ["是", "为", "為"],
    prepositions: ["用于", "用於"],
    copulas: ["是", "为", "為"],
    linkActions: ["验证", "驗證", "确认", "確認", "激活", "啟用", "重置", "重設"],
    linkAvoid: ["退订", "退訂", "取消订阅", "取消訂閱", "隐私", "隱私", "帮助", "幫助", "查看", "记录", "記錄"],
    linkPointer: ["下面的链接", "以下链接", "下方链接", "点击", "點擊", "复制", "複製", "浏览器", "瀏覽器"],
  },

  ja: {
    words: false,
    strong: [
      "認証コード", "確認コード", "ワンタイムパスワード", "ワンタイムコード", "認証番号", "セキュリティコード",
      "ログインコード", "検証コード", "確認用コード", "認証用コード", "確認番号", "コードを入力",
    ],
    medium: ["パスコード", "二段階認証"],
    generic: ["コード"],
    verbs: ["認証"],
    references: [
      "郵便番号", "注文番号", "注文", "お問い合わせ番号", "伝票番号", "追跡番号", "予約番号", "会員番号",
      "クーポンコード", "電話",
    ],
    lists: ["バックアップコード", "リカバリーコード"],
    forward: ["下記", "次の", "以下"],
    promo: ["クーポン", "割引", "セール"],
    context: ["認証", "有効", "ログイン", "確認"],
    booking: ["予約"],
    meeting: ["ミーティング"],
    qualifiersBefore: ["クーポン", "プロモーション", "割引", "QR", "バー", "郵便", "追跡", "注文", "予約", "招待", "紹介", "ギフト", "プロモ"],
    linkers: ["は", "が", "です", "は次の通りです"],
    introducers: ["は"],
    prepositions: ["の", "で"],
    copulas: ["は"],
    linkActions: ["認証", "確認", "登録", "本登録", "再設定", "ログイン"],
    linkAvoid: ["配信停止", "配信解除", "プライバシー", "ヘルプ"],
    linkPointer: ["下記URL", "下記のURL", "以下のURL", "以下URL", "クリック", "コピー", "ブラウザ"],
  },

  ko: {
    words: false,
    strong: [
      "인증\\s?번호", "인증\\s?코드", "확인\\s?코드", "보안\\s?코드", "일회용\\s?비밀번호", "일회용\\s?코드",
      "로그인\\s?코드", "코드를\\s?입력",
    ],
    generic: ["코드"],
    verbs: ["인증"],
    references: [
      "주문\\s?번호", "주문", "송장", "운송장", "예약\\s?번호", "전화", "쿠폰\\s?코드", "할인\\s?코드", "회원\\s?번호",
      "고객센터", "계정\\s?번호", "사업자등록번호", "승인\\s?번호", "대표전화",
    ],
    lists: ["백업\\s?코드", "복구\\s?코드"],
    forward: ["아래", "다음"],
    promo: ["할인", "쿠폰", "적립"],
    context: ["인증", "로그인", "유효", "보안"],
    booking: ["예약"],
    meeting: ["회의"],
    qualifiersBefore: ["쿠폰", "할인", "프로모션", "추천인", "초대", "우편", "상품", "주문", "선물"],
    linkers: ["는", "은", "이", "가", "입니다"],
    introducers: [],
    copulas: ["이", "가"],
    linkActions: ["인증", "확인", "재설정", "로그인"],
    linkAvoid: ["수신\\s?거부", "개인정보", "고객센터"],
    linkPointer: ["아래\\s?링크", "아래\\s?버튼", "클릭", "복사", "브라우저"],
  },
};

// ---------------------------------------------------------------------------------------------
// Compilation: one regex per field, all languages merged.
// ---------------------------------------------------------------------------------------------

type Field = Exclude<keyof LanguageKeywords, "words" | "linkers">;

function parts(field: Field): { bounded: string[]; free: string[] } {
  const bounded: string[] = [];
  const free: string[] = [];
  for (const lang of Object.values(KEYWORDS)) {
    const list = lang[field];
    if (list) (lang.words ? bounded : free).push(...list);
  }
  return { bounded, free };
}

/** A global regex matching any entry of `field` in any language (case-insensitive). */
export function keywordRe(field: Field, flags = "giu"): RegExp {
  return new RegExp(alternatives(field), flags);
}

/** `bounded` entries as whole words, then `free` ones; an empty list never matches. */
function alternatives(field: Field, before = "(?<![\\p{L}\\p{N}])", after = "(?!\\p{L})"): string {
  const { bounded, free } = parts(field);
  const alt: string[] = [];
  if (bounded.length) alt.push(`${before}(?:${bounded.join("|")})${after}`);
  if (free.length) alt.push(`(?:${free.join("|")})`);
  return alt.length ? alt.join("|") : "(?!)";
}

/**
 * A merged keyword list in two compiled forms with the same matches:
 * - `slow`: case-insensitive, whole-word entries guarded by a look-behind; works on any text;
 * - `fast`: for text that was lower-cased without moving any offset (see `lowerForMatching`):
 *   no `i` flag and no look-behind, which V8 runs several times faster on long inputs (a
 *   look-behind before a large alternation is tried at every position). Group 1 is set when a
 *   whole-word entry matched; the caller then checks the character before it (`leftBoundary`).
 */
export interface Matcher {
  slow: RegExp;
  fast: RegExp;
  /** what may not precede a whole-word entry: letters and digits, or letters only */
  leftBoundary: "alnum" | "letter";
}

/** Lower-cases a pattern's literal letters; escapes (\\S, \\D, \\p{Lu}) are kept as written. */
function lowerSource(src: string): string {
  let out = "";
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === "\\") {
      const next = src[i + 1] ?? "";
      if ((next === "p" || next === "P") && src[i + 2] === "{") {
        const close = src.indexOf("}", i);
        out += src.slice(i, close + 1);
        i = close;
      } else {
        out += ch + next;
        i++;
      }
      continue;
    }
    out += ch.toLowerCase();
  }
  return out;
}

function matcher(field: Field, options: { prefix?: string; leftBoundary?: "alnum" | "letter" } = {}): Matcher {
  const { bounded, free } = parts(field);
  const leftBoundary = options.leftBoundary ?? "alnum";
  const before = leftBoundary === "alnum" ? "(?<![\\p{L}\\p{N}])" : "(?<![\\p{L}])";
  const after = "(?!\\p{L})";
  const slow: string[] = [];
  const fast: string[] = [];
  if (bounded.length) {
    slow.push(`${before}(?:${bounded.join("|")})${after}`);
    fast.push(`((?:${lowerSource(bounded.join("|"))})${after})`);
  }
  if (options.prefix) {
    slow.push(options.prefix);
    fast.push(options.prefix);
  }
  if (free.length) {
    slow.push(`(?:${free.join("|")})`);
    fast.push(`(?:${lowerSource(free.join("|"))})`);
  }
  return {
    slow: new RegExp(slow.length ? slow.join("|") : "(?!)", "giu"),
    fast: new RegExp(fast.length ? fast.join("|") : "(?!)", "gu"),
    leftBoundary,
  };
}

/**
 * `text` lower-cased for the fast matchers, or null when that would move an offset (only "İ"
 * grows when lower-cased; it is folded to "i" first, so in practice this never happens).
 */
export function lowerForMatching(text: string): string | null {
  const lower = text.replace(/\u0130/g, "i").toLowerCase();
  return lower.length === text.length ? lower : null;
}

/** Every language's linker words (lower case). */
export const LINKERS: ReadonlySet<string> = new Set(Object.values(KEYWORDS).flatMap((l) => l.linkers ?? []).map((w) => w.toLowerCase()));

export const STRONG = matcher("strong");
export const POSSESSIVE = matcher("possessive");
export const MEDIUM = matcher("medium");
export const GENERIC = matcher("generic");
export const VERBS = matcher("verbs");
export const REFERENCES = matcher("references");
export const LISTS = matcher("lists");
export const FORWARD = matcher("forward");
export const PROMO = matcher("promo", { prefix: "\\d\\s?%", leftBoundary: "letter" });
export const CONTEXT = matcher("context");
export const BOOKING = matcher("booking");
export const MEETING = matcher("meeting");
/** Case-sensitive entries ("TAN"): always the slow form. */
export const CASED_RE = keywordRe("cased", "gu");
/** "PIN" in capitals only ("pin" is also a verb). */
export const PIN_RE = /(?<![\p{L}\p{N}])PIN(?!\p{L})/gu;
export const QUALIFIER_BEFORE_RE = new RegExp(`(?:${alternatives("qualifiersBefore", "(?<![\\p{L}\\p{N}])", "")})[\\s-]*[:：]?[\\s-]*$`, "iu");
export const QUALIFIER_AFTER_RE = new RegExp(`^[\\s-]*(?:${alternatives("qualifiersAfter", "", "(?![\\p{L}])")})`, "iu");
/** The clause before the code ends with ":" or an introducer ("… is", "… lautet", "… là"). */
export const INTRODUCER_END_RE = new RegExp(`(?:[:：=]|${alternatives("introducers", "(?<![\\p{L}])", "")})\\s*[:：]?\\s*$`, "iu");
/** A clause after the keyword that starts with a preposition ("… code *for* Linear is: …"). */
export const PREPOSITION_START_RE = new RegExp(`^[\\s,]*(?:${alternatives("prepositions", "", "(?![\\p{L}])")})`, "iu");
/** "<code> is/as … <keyword>" */
export const COPULA_START_RE = new RegExp(`^[\\s,:–—-]*(?:—|${alternatives("copulas", "", "(?![\\p{L}])")})`, "iu");
export const LINK_ACTION_RE = keywordRe("linkActions", "iu");
export const LINK_AVOID_RE = keywordRe("linkAvoid", "iu");
export const LINK_POINTER_RE = keywordRe("linkPointer", "iu");

/** Words that may sit in "your … code" without weakening it. */
export const SIGNIN_WORD_RE =
  /^(?:log|login|logon|in|on|sign|signin|security|verification|verify|confirmation|one|time|onetime|single|use|2fa|mfa|two|factor|step|authentication|auth|temporary|reset|password|account|new|digit|\d+-digit|für|die|den|anmeldung|anmelde|de|del|da|do|uso|único|unico|acesso|acceso|otp|login)$/iu;
/** The possessive that starts a "your … code" hit. */
export const POSSESSIVE_START_RE = /^(?:your|ihre?|deine?|euer|votre|ton|tu|su|seu|o\s+seu|(?:il\s+)?tuo|(?:il\s+)?suo|ваш|твой|tw[óo]j)(?![\p{L}])/iu;
export const CODE_WORD_END_RE = /(?:codes?|c[óo]digo|codice|код|kod)$/iu;
/** "confirmation code" in a booking and "passcode/PIN" in a meeting invite are references. */
export const CONFIRM_WORD_RE = /confirm|bestätigung|確認|确认|confirmaci|confirma[çc]|conferma|подтвержд|확인|onay/iu;
export const MEETING_WORD_RE = /pass|access|pin|パスコード|zugang|acc[èe]s|acess?o|доступ/iu;
