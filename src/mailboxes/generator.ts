/**
 * Readable random addresses (reference §4.2): names people would plausibly use, so generated
 * mailboxes do not look like throwaway junk to the services that receive them.
 */
const FIRST = ["ava", "leo", "mia", "kai", "nora", "zoe", "milo", "iris", "luca", "noah"];
const LAST = ["lin", "park", "stone", "wren", "chen", "hart", "song", "west", "reed", "lee"];
const FUNCTIONAL = ["hello", "updates", "contact", "support", "alerts", "notify", "status", "careers", "billing", "press", "product", "welcome"];
const SUFFIXES = ["-team", "-desk", "-ops"];
const SUB_SINGLE = ["mail", "relay", "desk", "hub", "post", "inbox", "notify", "status", "support", "letters"];
const SUB_MULTI = ["desk.hub", "ops.alpha", "team.hub", "desk.mail", "relay.ops", "support.desk", "status.mail", "inbox.team", "post.hub"];

export const MAX_ATTEMPTS = 8;

type Rand = () => number;
const pick = <T>(items: readonly T[], rand: Rand): T => items[Math.floor(rand() * items.length)]!;
const digits = (n: number, rand: Rand) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join("");

export function randomLocalPart(rand: Rand = Math.random, attempt = 0): string {
  let base: string;
  if (rand() < 0.6) {
    const first = pick(FIRST, rand);
    const last = pick(LAST, rand);
    base = pick([`${first}-${last}`, `${first}${last}`, `${first}${digits(2, rand)}`, `${first}${last[0]}${digits(2, rand)}`], rand);
  } else {
    const word = pick(FUNCTIONAL, rand);
    const r = rand();
    base = r < 0.4 ? word : r < 0.7 ? `${word}${digits(2, rand)}` : `${word}${pick(SUFFIXES, rand)}`;
  }
  if (attempt > 0) base += digits(attempt === MAX_ATTEMPTS - 1 ? 4 : 2, rand);
  return base.slice(0, 32).replace(/-+$/, "");
}

export function randomSubdomain(rand: Rand = Math.random, attempt = 0): string {
  const base = rand() < 0.5 ? pick(SUB_SINGLE, rand) : pick(SUB_MULTI, rand);
  if (attempt === 0) return base;
  const labels = base.split(".");
  labels[0] = `${labels[0]}${digits(attempt === MAX_ATTEMPTS - 1 ? 4 : 2, rand)}`;
  return labels.join(".");
}
