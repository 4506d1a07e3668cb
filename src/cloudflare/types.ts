/** The subset of Cloudflare's v4 API shapes KaisouMail reads (official field names). */
export interface CfEnvelope<T> {
  result: T | null;
  result_info?: CfResultInfo;
  success: boolean;
  errors: CfMessage[];
  messages: CfMessage[];
}
export interface CfMessage {
  code: number;
  message: string;
  error_chain?: CfMessage[];
}
export interface CfResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages?: number;
}
export type ZoneStatus = "initializing" | "pending" | "active" | "moved" | "deleted" | "deactivated";
export interface CfZone {
  id: string;
  name: string;
  status: ZoneStatus;
  paused?: boolean;
  type?: string;
  name_servers: string[];
  original_name_servers?: string[] | null;
  created_on?: string;
  modified_on?: string;
  activated_on?: string | null;
  account: { id: string; name?: string };
}
export interface CfEmailRoutingSettings {
  id: string;
  name: string;
  enabled: boolean;
  status: string;
  subdomains?: Array<{ id?: string; name: string; enabled: boolean; status?: string }>;
}
export interface CfRuleMatcher {
  type: "literal" | "all";
  field?: "to";
  value?: string;
}
export interface CfRuleAction {
  type: "forward" | "worker" | "drop";
  value?: string[];
}
export interface CfRoutingRule {
  id: string;
  tag?: string;
  name: string;
  enabled: boolean;
  priority?: number;
  matchers: CfRuleMatcher[];
  actions: CfRuleAction[];
}
export interface CfCatchAllRule {
  id?: string;
  tag?: string;
  name?: string;
  enabled: boolean;
  matchers: CfRuleMatcher[];
  actions: CfRuleAction[];
}
export interface CfTokenVerify {
  id: string;
  status: string;
}
