import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { createServer } from "node:net";
import { defineConfig } from "vitest/config";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Two projects:
 *  - "workers": code that runs in Workers, tested inside workerd with real D1, R2 and Durable
 *    Objects. The local Cloudflare simulator is started by globalSetup and reached over HTTP,
 *    exactly as production reaches api.cloudflare.com.
 *  - "node": the simulator itself, pure modules, the official SDK against the simulator, and the
 *    browser tests.
 */
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  process.env.SIM_TEST_PORT ??= String(await freePort());
  const simUrl = `http://127.0.0.1:${process.env.SIM_TEST_PORT}`;
  process.env.WEBHOOK_RECEIVER_PORT ??= String(await freePort());
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              remoteBindings: false,
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  // wrangler.toml says production; the tests run as `npm start` does (auth tests opt in to production).
                  APP_ENV: "development",
                  SIM_URL: simUrl,
                  // The webhook receiver of test/webhook-receiver.ts; plain http on loopback needs
                  // WEBHOOK_ALLOW_HTTP (production allows only https:// to public hosts).
                  WEBHOOK_RECEIVER_URL: `http://127.0.0.1:${process.env.WEBHOOK_RECEIVER_PORT}`,
                  WEBHOOK_ALLOW_HTTP: "true",
                  CLOUDFLARE_API_BASE_URL: `${simUrl}/client/v4`,
                  DOMAIN_RETRY_BASE_SECONDS: "60",
                  SESSION_SECRET: "test-session-secret-0123456789",
                  CLOUDFLARE_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
                  CLOUDFLARE_RUNTIME_API_TOKEN: "sim-full-access-token-0000000000000000000000",
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/worker/**/*.test.ts"],
            setupFiles: ["./test/worker/setup.ts"],
            globalSetup: ["./test/global-sim.ts", "./test/webhook-receiver.ts"],
            testTimeout: 30_000,
            // The simulator is one shared HTTP service: files run one after another so each can
            // reset it and read its request log without another file's traffic mixed in.
            fileParallelism: false,
          },
        },
        {
          test: {
            name: "node",
            environment: "node",
            include: ["test/node/**/*.test.ts", "test/sim/**/*.test.ts", "test/browser/**/*.test.ts"],
            testTimeout: 30_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  };
});
