import { ContainerNats } from './container-nats.js';
import { isDockerReachable } from './docker-probe.js';
import { ExternalNats } from './external-nats.js';
import { findNatsServerBinary, NATS_INSTALL_HINT } from './nats-binary.js';
import type { NatsEndpoint } from './nats-endpoint.js';
import { NatsServer, type NatsServerOptions } from './nats-server.js';

export interface StartNatsOptions extends NatsServerOptions {
  /** Environment to read NATS_URL, NATS_SERVER_BIN, PATH and DOCKER_HOST from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Image for the Docker fallback (default `NATS_IMAGE` or `nats:2.9.10`). */
  image?: string;
}

/**
 * Obtains a NATS server for a test file, in this order:
 * 1. `NATS_URL` set: that server, wrapped (it cannot be killed or restarted);
 * 2. a local `nats-server` binary: a private server (see {@link NatsServer});
 * 3. a reachable Docker engine: a testcontainers NATS container;
 * otherwise it throws with installation instructions.
 */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsEndpoint> {
  const { env = process.env, image, ...serverOptions } = options;
  const natsUrl = env['NATS_URL'];
  if (natsUrl !== undefined && natsUrl.trim() !== '') return new ExternalNats(natsUrl);

  const binary = serverOptions.binary ?? findNatsServerBinary(env);
  if (binary !== undefined) return NatsServer.start({ ...serverOptions, binary });

  if (await isDockerReachable(env)) {
    return ContainerNats.start({
      ...(serverOptions.jetstream !== undefined ? { jetstream: serverOptions.jetstream } : {}),
      ...(serverOptions.args !== undefined ? { args: serverOptions.args } : {}),
      ...(serverOptions.logLines !== undefined ? { logLines: serverOptions.logLines } : {}),
      ...(image !== undefined ? { image } : {}),
    });
  }

  throw new Error(
    `No NATS server available: NATS_URL is not set, no nats-server binary was found and no Docker engine answered. ${NATS_INSTALL_HINT}`,
  );
}
