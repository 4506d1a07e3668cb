// Types for test code: the Worker's Env plus test-only bindings, and the main module's exports.
import type { D1Migration } from "cloudflare:test";
import type { Env as AppEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends AppEnv {
      TEST_MIGRATIONS: D1Migration[];
      SIM_URL: string;
      WEBHOOK_RECEIVER_URL: string;
    }
    interface GlobalProps {
      mainModule: typeof import("../src/index");
      durableNamespaces: "DomainObject" | "CloudflareGate";
    }
  }
}
