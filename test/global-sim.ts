import type { TestProject } from "vitest/node";

/**
 * Starts the local Cloudflare simulator for the "workers" project on the port chosen in
 * vitest.config.ts (handed over in SIM_TEST_PORT) and stops it after the run.
 */
export default async function setup(_project: TestProject) {
  const port = Number(process.env.SIM_TEST_PORT);
  const { startSimulator } = await import("../sim/server");
  const sim = await startSimulator({ port });
  return async () => {
    await sim.close();
  };
}
