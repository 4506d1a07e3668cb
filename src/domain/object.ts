import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/** Placeholder until the domain lifecycle lands (issue 4). */
export class DomainObject extends DurableObject<Env> {}
