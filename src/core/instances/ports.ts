import { ApiError, badParam } from "../../domain/errors.js";
import type { InstancePorts } from "../../domain/records.js";
import { defineOperation } from "./operation.js";

/** At most this many ports per list; the docs give no number, so this bound is ours. */
export const MAX_PORTS = 10;

/** The SSH port every instance publishes on its own (SshLoginCommand). */
export const SSH_PORT = 22;

/**
 * Checks a complete replacement of an instance's published ports: integers in 1-65535, none
 * twice (in a list or across the two), not SSH's 22, at most {@link MAX_PORTS} per list.
 */
export function checkPorts(ports: InstancePorts): InstancePorts {
  const seen = new Map<number, string>();
  for (const [list, param] of [
    [ports.http, "HttpPorts"],
    [ports.tcp, "TcpPorts"],
  ] as const) {
    if (list.length > MAX_PORTS) throw badParam(param, `at most ${MAX_PORTS} ports, got ${list.length}`);
    list.forEach((port, i) => {
      const name = `${param}.${i}`;
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw badParam(name, "must be a port in 1-65535");
      if (port === SSH_PORT)
        throw badParam(name, "22 is the SSH port, which every instance publishes already (SshLoginCommand)");
      const other = seen.get(port);
      if (other) throw badParam(name, `port ${port} is listed twice (also in ${other})`);
      seen.set(port, param);
    });
  }
  return { http: [...ports.http], tcp: [...ports.tcp] };
}

/**
 * UpdateCompShareInstancePorts: a complete replacement of what a container instance publishes,
 * with the lock held so two updates cannot interleave; the state stays. The runtime publishes
 * ports when it starts the instance, so the new set takes effect at the next start (README).
 */
export const updatePorts = defineOperation<InstancePorts>({
  action: "UpdateCompShareInstancePorts",
  from: ["Running", "Stopped"],
  keepsState: true,
  check(inst) {
    if (inst.instanceType !== "Container") throw new ApiError("PortsNotSupported", { uhostId: inst.id });
  },
  begin: (_inst, input) => ({ ports: input }),
  // Nothing to do now: a running container cannot take new published ports (see README).
  drive: async () => undefined,
});
