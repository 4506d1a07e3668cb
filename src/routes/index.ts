import type { RouteDef } from "./define";
import { adminRoutes } from "./admin";
import { authRoutes } from "./auth";
import { docsRoutes } from "./docs";
import { domainRoutes } from "./domains";
import { mailboxRoutes } from "./mailboxes";
import { mcpRoutes } from "./mcp";
import { messageRoutes } from "./messages";
import { metaRoutes } from "./meta";
import { pushRoutes } from "./push";
import { userRoutes } from "./users";
import { webhookRoutes } from "./webhooks";

/** The route table: every route with its access level, in one place. */
export const routes: RouteDef[] = [...metaRoutes, ...docsRoutes, ...authRoutes, ...userRoutes, ...webhookRoutes, ...domainRoutes, ...mailboxRoutes, ...pushRoutes, ...messageRoutes, ...adminRoutes, ...mcpRoutes];
