import * as pulumi from "@pulumi/pulumi";
import { type ContainerInspect, isStopped, lastHealthOutput, startVerdict } from "../../lib/docker/container-start";
import { type EngineAddress, engineAddress } from "../../lib/docker/engine-address";
import { demultiplexLogs } from "../../lib/docker/log-stream";
import { DynamicResource } from "../dynamic-resource";

/** Inputs of {@link ContainerHealth}. */
export interface ContainerHealthArgs {
    /** The container (its id changes with every replacement, and so this resource is replaced too). */
    containerId: pulumi.Input<string>;
    /** What runs in it, for the error message ("step-ca"). */
    service: string;
    /** How long to wait for healthy before giving up, in seconds. */
    timeoutSeconds: number;
    /** How many of its last log lines a failure quotes. */
    logLines?: number;
}

interface HealthInputs {
    containerId: string;
    service: string;
    timeoutSeconds: number;
    logLines?: number;
}

interface HealthState extends HealthInputs {
    /** Seconds from the container's start to the poll that saw it healthy. */
    secondsToHealthy: number;
}

/** One request to the engine's API (GET, or POST without a body); resolves with the status and body. */
function engineRequest(address: EngineAddress, method: "GET" | "POST", path: string): Promise<{ status: number; body: Buffer }> {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    const tls = address.kind === "tcp" && address.tlsCertPath !== undefined;
    const client = (tls ? require("node:https") : require("node:http")) as typeof import("node:https");
    const where =
        address.kind === "unix"
            ? { socketPath: address.socketPath }
            : {
                  host: address.host,
                  port: address.port,
                  ...(address.tlsCertPath
                      ? {
                            ca: fs.readFileSync(nodePath.join(address.tlsCertPath, "ca.pem")),
                            cert: fs.readFileSync(nodePath.join(address.tlsCertPath, "cert.pem")),
                            key: fs.readFileSync(nodePath.join(address.tlsCertPath, "key.pem")),
                        }
                      : {}),
              };
    return new Promise((resolve, reject) => {
        const request = client.request({ ...where, method, path, timeout: 10_000 }, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
            response.on("error", reject);
        });
        request.on("timeout", () => request.destroy(new Error(`the Docker engine did not answer ${path} within 10 s`)));
        request.on("error", reject);
        request.end();
    });
}

async function waitHealthy(inputs: HealthInputs): Promise<HealthState> {
    const address = engineAddress(process.env);
    const id = encodeURIComponent(inputs.containerId);
    const inspect = async (): Promise<ContainerInspect> => {
        const { status, body } = await engineRequest(address, "GET", `/containers/${id}/json`);
        if (status !== 200) throw new Error(`docker inspect ${inputs.containerId}: HTTP ${status} ${body.toString("utf8").trim()}`);
        return JSON.parse(body.toString("utf8")) as ContainerInspect;
    };
    const logs = async (): Promise<string> => {
        const lines = inputs.logLines ?? 40;
        const { status, body } = await engineRequest(address, "GET", `/containers/${id}/logs?stdout=1&stderr=1&tail=${lines}`);
        return status === 200 ? demultiplexLogs(body).trimEnd() : `(its logs could not be read: HTTP ${status})`;
    };
    const post = async (action: string) => {
        const { status, body } = await engineRequest(address, "POST", `/containers/${id}/${action}`);
        // 304: already in that state.
        if (status !== 204 && status !== 304) {
            throw new Error(`docker ${action} ${inputs.containerId}: HTTP ${status} ${body.toString("utf8").trim()}`);
        }
    };
    const fail = async (reason: string): Promise<never> => {
        const tail = await logs().catch((e: unknown) => `(its logs could not be read: ${e})`);
        // Stopped rather than left restarting over and over; the next `up` starts it again.
        const stopped = await post("stop?t=10").then(
            () => "The container is stopped; fix the cause and run `pulumi up` again, which starts it and waits again.",
            (e: unknown) => `Stopping it failed too: ${e}`,
        );
        throw new Error(
            `${inputs.service} (container ${inputs.containerId.slice(0, 12)}) did not become healthy: ${reason}. ${stopped}\n` +
                `${inputs.service}'s last log lines:\n${tail || "(none)"}`,
        );
    };

    let first = await inspect();
    if (isStopped(first)) {
        await post("start");
        first = await inspect();
    }
    const restartsBefore = first.RestartCount ?? 0;
    const deadline = Date.now() + inputs.timeoutSeconds * 1000;
    for (;;) {
        const state = await inspect();
        const verdict = startVerdict(state, restartsBefore);
        if (verdict.kind === "healthy") {
            const started = Date.parse(state.State?.StartedAt ?? "");
            const secondsToHealthy = Number.isFinite(started) ? Math.round((Date.now() - started) / 100) / 10 : -1;
            return { ...inputs, secondsToHealthy };
        }
        if (verdict.kind === "failed") return await fail(verdict.reason);
        if (Date.now() >= deadline) {
            const check = lastHealthOutput(state);
            return await fail(`not healthy within ${inputs.timeoutSeconds} s${check ? ` (last health check: ${check})` : ""}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

/**
 * Waits for a just-created container to be healthy, and fails as soon as it is clearly not: the process exited, or
 * the health check gave up. The failure quotes the container's last log lines, so `pulumi up` shows the service's
 * own error (e.g. step-ca refusing its key) instead of the docker provider's bare timeout. Reads the engine from
 * DOCKER_HOST like the provider does. A container that does not come up is stopped (not left in a restart loop);
 * a stopped one is started before waiting, so `up` after fixing the cause tries again. Nothing to delete: the
 * container is the docker provider's.
 */
export const containerHealthProvider: pulumi.dynamic.ResourceProvider<HealthInputs, HealthState> = {
    async create(inputs) {
        const outs = await waitHealthy(inputs);
        return { id: inputs.containerId, outs };
    },

    async diff(_id, olds, news) {
        const replaces = olds.containerId !== news.containerId ? ["containerId"] : [];
        const changes = replaces.length > 0 || olds.service !== news.service || olds.timeoutSeconds !== news.timeoutSeconds || olds.logLines !== news.logLines;
        return { changes, replaces };
    },

    async update(_id, olds, news) {
        return { outs: { ...news, secondsToHealthy: olds.secondsToHealthy } };
    },
};

/** A container that has become healthy: `pulumi up` fails, with the service's log, when it does not. */
export class ContainerHealth extends DynamicResource {
    declare readonly containerId: pulumi.Output<string>;
    declare readonly secondsToHealthy: pulumi.Output<number>;

    constructor(name: string, args: ContainerHealthArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            containerHealthProvider,
            name,
            { ...args, logLines: args.logLines ?? 40, secondsToHealthy: undefined },
            opts,
            "stepca",
            "ContainerHealth",
        );
    }
}
