import { z } from "zod";
import { createUserWithKey, listUsers } from "../db/users";
import { ApiError } from "../lib/errors";
import { json, readJson } from "../lib/http";
import { route } from "./define";

export const userRoutes = [
  route({
    method: "GET",
    path: "/api/users",
    access: "admin",
    handler: async (_req, c) => json({ users: await listUsers(c.env.DB) }),
  }),
  route({
    method: "POST",
    path: "/api/users",
    access: "admin",
    handler: async (request, c) => {
      const body = await readJson(
        request,
        z.object({
          email: z.string().trim().toLowerCase().pipe(z.email().max(254)),
          name: z.string().trim().min(1).max(64),
          role: z.enum(["admin", "member"]).default("member"),
        }),
      );
      const created = await createUserWithKey(c.env.DB, body, { name: "Initial API Key" });
      if (!created) throw new ApiError(409, "User already exists", { email: body.email });
      return json({ user: created.user, initialKey: { apiKey: created.apiKey, apiKeyRecord: created.apiKeyRecord } }, { status: 201 });
    },
  }),
];
