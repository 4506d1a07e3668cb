import { describe, expect, test } from "vitest";
import { htmlToText } from "../../src/mail/html-to-text";
import { extractVerificationCode } from "../../src/mail/verification";
import { corpus, type CorpusEntry } from "../fixtures/verification-corpus";

function expectedResult(entry: CorpusEntry) {
  if (entry.expected === null) return null;
  return { code: entry.expected, source: entry.expectedSource ?? "body", method: "rules" };
}

function run(entry: CorpusEntry) {
  return extractVerificationCode({ subject: entry.subject, text: entry.text, html: entry.html });
}

describe("verification corpus", () => {
  test("is large and varied enough", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(70);
    expect(corpus.filter((e) => e.expected === null).length).toBeGreaterThanOrEqual(25);
    expect(new Set(corpus.map((e) => e.id)).size).toBe(corpus.length);
    const langs = new Set(corpus.map((e) => e.lang.split("-")[0]));
    for (const l of ["en", "zh", "ja", "de", "fr", "es", "pt", "ru", "ko"]) expect(langs).toContain(l);
    const kinds = new Set(corpus.map((e) => e.kind));
    for (const k of ["signup", "login", "2fa", "reset", "newsletter", "receipt", "notification", "other"]) {
      expect(kinds).toContain(k);
    }
    expect(corpus.some((e) => e.html !== undefined && e.text === undefined)).toBe(true);
  });

  test.each(corpus.map((e) => [e.id, e] as const))("%s", (_id, entry) => {
    expect(run(entry)).toEqual(expectedResult(entry));
  });

  test("precision and recall", () => {
    let returned = 0;
    let correct = 0;
    let withCode = 0;
    const t0 = performance.now();
    for (const entry of corpus) {
      const r = run(entry);
      if (entry.expected !== null) withCode++;
      if (r) {
        returned++;
        if (r.code === entry.expected) correct++;
      }
    }
    const ms = performance.now() - t0;
    const precision = returned === 0 ? 1 : correct / returned;
    const recall = withCode === 0 ? 1 : correct / withCode;
    console.log(
      `verification corpus: ${corpus.length} messages, precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}` +
        ` (${returned} returned, ${correct} correct, ${withCode} with a code; ${(ms / corpus.length).toFixed(3)} ms/message)`,
    );
    expect(precision).toBeGreaterThanOrEqual(0.97);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });
});

describe("extractVerificationCode rules", () => {
  const body = (text: string, subject = "Sign-in attempt") => extractVerificationCode({ subject, text });

  test("returns null for empty or missing input", () => {
    expect(extractVerificationCode({})).toBeNull();
    expect(extractVerificationCode({ subject: null, text: null, html: null })).toBeNull();
    expect(extractVerificationCode({ subject: "", text: "   ", html: "" })).toBeNull();
  });

  test("grouped codes are returned without the separator, casing kept", () => {
    expect(body("Your verification code is 123 456")?.code).toBe("123456");
    expect(body("Your verification code is 123-456")?.code).toBe("123456");
    expect(body("Your verification code is aBc-123")?.code).toBe("aBc123");
    expect(body("Your verification code: 4821 9305")?.code).toBe("48219305");
    expect(body("Your verification code:\n4 8 2 9 1 3")?.code).toBe("482913");
  });

  test("full-width digits are read as ASCII", () => {
    expect(body("認証コード：４８２９１０")?.code).toBe("482910");
  });

  test("years need a keyword right next to them", () => {
    expect(body("Your verification code is 2019")?.code).toBe("2019");
    expect(body("Your verification code was sent in 2019 from our old system.")).toBeNull();
  });

  test("prices, phone numbers, dates, URLs and e-mails are not codes", () => {
    expect(body("Your verification code is needed to pay $4821.")).toBeNull();
    expect(body("Your verification code fee: 4821.50 EUR")).toBeNull();
    expect(body("Verification code hotline: +86 138 0013 8000")).toBeNull();
    expect(body("Verification code support: (555) 123-4567")).toBeNull();
    expect(body("Verification code issued 2024-05-12 10:30")).toBeNull();
    expect(body("Your verification code: https://example.com/verify/482910")).toBeNull();
    expect(body("Your verification code was sent to user482910@example.com")).toBeNull();
    expect(body("Verification code colour #482910")).toBeNull();
  });

  test("reference numbers attached to their own label are not codes", () => {
    expect(body("Verification required. Order number: 482910")).toBeNull();
    expect(body("Verification code sent to the phone ending in 4821")).toBeNull();
  });

  test("promotional codes are not verification codes", () => {
    expect(body("Use code SAVE20 for 20% off", "Spring sale")).toBeNull();
    expect(body("Use code 4821 at checkout to save 10%", "Spring sale")).toBeNull();
  });

  test("two equally strong different codes are ambiguous", () => {
    expect(body("Verification code: 482910\n\nVerification code: 739201")).toBeNull();
  });

  test("the same code in subject and body is reported from the subject", () => {
    expect(
      extractVerificationCode({ subject: "482910 is your Acme code", text: "Your verification code is 482910." }),
    ).toEqual({ code: "482910", source: "subject", method: "rules" });
  });

  test("HTML is used when the text part has no code", () => {
    expect(
      extractVerificationCode({
        subject: "Sign in",
        text: "Open this message in an HTML mail client.",
        html: "<p>Your login code is</p><p><b>730415</b></p>",
      }),
    ).toEqual({ code: "730415", source: "body", method: "rules" });
  });
});

describe("htmlToText", () => {
  test("decodes named and numeric entities", () => {
    expect(htmlToText("<p>A &amp; B &lt;b&gt; &quot;q&quot; &#39;s&#x27; &#20013;&#x6587; &eacute;t&Eacute; &euro;5</p>")).toBe(
      `A & B <b> "q" 's' 中文 étÉ €5`,
    );
    expect(htmlToText("&copy 2024 &nbsp;x&nbsp;&nbsp;y")).toBe("© 2024 x y");
    expect(htmlToText("&unknown; &amp &#0; &#xD800;")).toBe("&unknown; & \ufffd \ufffd");
    expect(htmlToText("a&zwnj;b\u200bc&shy;d")).toBe("abcd");
  });

  test("drops script, style, head, title and comments", () => {
    const html = `<html><head><title>T 482910</title><style>.a{color:#123456}</style></head>
<body><script>var code = "739201";</script><!-- 582019 --><p>visible</p><script type="x">a</script></body></html>`;
    expect(htmlToText(html)).toBe("visible");
    expect(htmlToText("a<script>never closed 482910")).toBe("a");
    expect(htmlToText("<head><meta charset=utf-8><body>x")).toBe("x");
    expect(htmlToText("<!--[if mso]><xml>o</xml><![endif]-->y<![CDATA[z]]>")).toBe("y");
    expect(htmlToText("<HTML><HEAD><TITLE>t</TITLE></HEAD><BODY>A<BR>B<SCRIPT>x</SCRIPT></BODY></HTML>")).toBe("A\nB");
  });

  test("block elements break lines, inline elements join, cells are spaced", () => {
    expect(htmlToText("<p>a</p><p>b</p>")).toBe("a\nb");
    expect(htmlToText("<div><div><p>x</p></div></div>y")).toBe("x\ny");
    expect(htmlToText("a<br>b<br/><br />c")).toBe("a\nb\n\nc");
    expect(htmlToText("<table><tr><td>Code</td><td>482910</td></tr><tr><td>x</td></tr></table>")).toBe(
      "Code 482910\nx",
    );
    expect(htmlToText("<span>48</span><b>29</b><i>10</i>")).toBe("482910");
    expect(htmlToText("<h1>Title</h1>text<ul><li>one</li><li>two</li></ul>")).toBe("Title\ntext\none\ntwo");
  });

  test("collapses source whitespace and keeps literal less-than signs", () => {
    expect(htmlToText("  a \n\t  b   c  ")).toBe("a b c");
    expect(htmlToText("1 < 2 and 3 > 2, <3")).toBe("1 < 2 and 3 > 2, <3");
    expect(htmlToText(`<a title="x > y" data-x='>' href="#">link</a>`)).toBe("link");
    expect(htmlToText(`<p class="unbalanced>text</p>`)).toBe("text");
  });

  test("maxLength stops the conversion early", () => {
    const html = "<p>word</p>".repeat(10_000);
    const out = htmlToText(html, { maxLength: 100 });
    expect(out.length).toBeLessThan(200);
    expect(out.startsWith("word\nword")).toBe(true);
  });
});

describe("pathological inputs complete", () => {
  const tenMbDigits = "7".repeat(10 * 1024 * 1024);
  const oneMbLine = "a1B2".repeat(256 * 1024);

  test("10 MB of digits", () => {
    expect(extractVerificationCode({ subject: "code", text: tenMbDigits })).toBeNull();
    expect(extractVerificationCode({ subject: tenMbDigits, html: tenMbDigits })).toBeNull();
    expect(typeof htmlToText(tenMbDigits)).toBe("string");
  });

  test("1 MB line without spaces", () => {
    expect(extractVerificationCode({ subject: "Your verification code", text: oneMbLine })).toBeNull();
    expect(extractVerificationCode({ subject: "x", html: `<p>${oneMbLine}</p>` })).toBeNull();
  });

  test("deeply nested HTML", () => {
    const depth = 200_000;
    const html = "<div><span>".repeat(depth) + "Your verification code is 482910" + "</span></div>".repeat(depth);
    expect(typeof htmlToText(html)).toBe("string");
    expect(typeof extractVerificationCode({ subject: "x", html })).toBe("object");
    const nestedTables = "<table><tr><td>".repeat(50_000) + "Code: 4821" + "</td></tr></table>".repeat(50_000);
    expect(typeof extractVerificationCode({ subject: "Sign in", html: nestedTables })).toBe("object");
  });

  test("malformed HTML and keyword-dense text", () => {
    const inputs = [
      "<".repeat(1_000_000),
      '<a b="'.repeat(200_000),
      "<head>".repeat(200_000),
      "<!--".repeat(250_000),
      "&#".repeat(500_000),
      "<script>" + "</scrip".repeat(100_000),
    ];
    for (const html of inputs) {
      expect(typeof htmlToText(html)).toBe("string");
      expect(extractVerificationCode({ subject: "x", html })).toBeNull();
    }
    const dense = "验证码 482910 verification code 739201 ".repeat(30_000);
    expect(extractVerificationCode({ subject: "x", text: dense })).toBeNull(); // many different codes: ambiguous
    const spaced = "1 2 3 4 5 6 7 8 9 ".repeat(60_000);
    expect(extractVerificationCode({ subject: "code", text: spaced })).toBeNull();
  });
});
