import type { DomainContext, MachineState } from "./machine";

import type { DomainDTO } from "../api/dto";

/** The response shape is defined once, as a zod schema, in src/api/dto.ts. */
export type { DomainDTO };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toDomainDTO(state: MachineState, ctx: DomainContext): DomainDTO | null {
  if (state === "none" || !ctx.domainId) return null;
  return {
    id: ctx.domainId,
    mailDomain: ctx.rootDomain,
    rootDomain: ctx.rootDomain,
    zoneId: ctx.zoneId,
    bindingSource: ctx.bindingSource ?? "catalog",
    status: state,
    catchAllEnabled: ctx.catchAll.enabled,
    nameServers: ctx.nameServers,
    cloudflareStatus: ctx.cloudflareStatus,
    lastProvisionError: ctx.lastError?.message ?? null,
    lastProvisionErrorCode: ctx.lastError?.code ?? null,
    lastProvisionErrorHint: ctx.lastError?.hint ?? null,
    nextRetryAt: iso(ctx.nextRetryAt),
    retryCount: ctx.retryCount,
    createdAt: iso(ctx.createdAt ?? ctx.updatedAt ?? 0)!,
    updatedAt: iso(ctx.updatedAt ?? ctx.createdAt ?? 0)!,
    lastProvisionedAt: iso(ctx.lastProvisionedAt),
    disabledAt: iso(ctx.disabledAt),
  };
}

/** D1 row → DTO, for reads that do not need the object (lists, catalog, meta). */
export interface DomainRow {
  id: string;
  root_domain: string;
  zone_id: string | null;
  binding_source: "catalog" | "project_bind";
  status: DomainDTO["status"];
  cloudflare_status: string | null;
  name_servers: string;
  catch_all_enabled: number;
  catch_all_owner_user_id: string | null;
  last_provision_error: string | null;
  last_error_code: string | null;
  last_error_hint: string | null;
  next_retry_at: string | null;
  retry_count: number;
  created_at: string;
  updated_at: string;
  last_provisioned_at: string | null;
  disabled_at: string | null;
  deleted_at: string | null;
}

export function rowToDomainDTO(r: DomainRow): DomainDTO {
  let nameServers: string[] = [];
  try {
    nameServers = JSON.parse(r.name_servers) as string[];
  } catch {
    nameServers = [];
  }
  return {
    id: r.id,
    mailDomain: r.root_domain,
    rootDomain: r.root_domain,
    zoneId: r.zone_id,
    bindingSource: r.binding_source,
    status: r.status,
    catchAllEnabled: r.catch_all_enabled === 1,
    nameServers,
    cloudflareStatus: r.cloudflare_status,
    lastProvisionError: r.last_provision_error,
    lastProvisionErrorCode: r.last_error_code,
    lastProvisionErrorHint: r.last_error_hint,
    nextRetryAt: r.next_retry_at,
    retryCount: r.retry_count,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastProvisionedAt: r.last_provisioned_at,
    disabledAt: r.disabled_at,
  };
}
