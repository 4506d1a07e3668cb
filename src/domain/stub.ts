import type { Env } from "../env";
import { normalizeDomain } from "./names";

/** The domain's Durable Object, addressed by its normalised root (so Example.com = example.com). */
export function domainStub(env: Env, rootDomain: string) {
  return env.DOMAINS.get(env.DOMAINS.idFromName(normalizeDomain(rootDomain)));
}
