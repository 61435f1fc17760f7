/**
 * STAND-INS for the two Google endpoints a gce VM talks to at boot, on 127.0.0.1 only: the Compute Engine metadata
 * server (the attached service account's access token) and Secret Manager's `versions/*:access`. They answer as
 * Google documents (https://cloud.google.com/compute/docs/metadata/querying-metadata,
 * https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access): the metadata
 * server wants `Metadata-Flavor: Google` and answers with it; Secret Manager wants the token as a Bearer and
 * returns the payload base64 in pretty-printed JSON. Every request is recorded for the test.
 */
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
    readonly method: string;
    readonly url: string;
    readonly headers: http.IncomingHttpHeaders;
    readonly status: number;
}

export interface StandIn {
    /** `127.0.0.1:<port>`. */
    readonly host: string;
    readonly requests: RecordedRequest[];
    stop(): Promise<void>;
}

async function serve(handle: (req: http.IncomingMessage) => { status: number; body: string; headers?: Record<string, string> }): Promise<StandIn> {
    const requests: RecordedRequest[] = [];
    const server = http.createServer((req, res) => {
        const answer = handle(req);
        requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, status: answer.status });
        res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", ...answer.headers });
        res.end(answer.body);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    return {
        host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        stop: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

function googleError(status: number, message: string, reason: string): { status: number; body: string } {
    return { status, body: `${JSON.stringify({ error: { code: status, message, status: reason } }, null, 2)}\n` };
}

export interface MetadataStandIn extends StandIn {
    /** The access token it hands out (what the VM's service account would get). */
    readonly token: string;
    /** Without a service account (false), token requests are answered 404, as on a VM that has none attached. */
    attachServiceAccount(attached: boolean): void;
}

/** The metadata server of a VM running as `email` in `project`. */
export async function startMetadataStandIn(o: { project: string; email: string }): Promise<MetadataStandIn> {
    const token = `standin-${randomBytes(24).toString("base64url")}`;
    let attached = true;
    const flavor = { "metadata-flavor": "Google" };
    const standIn = await serve((req) => {
        if (req.headers["metadata-flavor"] !== "Google" || req.headers["x-forwarded-for"]) {
            return { ...googleError(403, "Missing Metadata-Flavor:Google header.", "FORBIDDEN"), headers: flavor };
        }
        const path = (req.url ?? "").split("?")[0];
        const sa = "/computeMetadata/v1/instance/service-accounts/default";
        const text = (body: string) => ({ status: 200, body, headers: { ...flavor, "content-type": "application/text" } });
        if (path === "/" || path === "/computeMetadata/v1/") return text("computeMetadata/\n");
        if (path === "/computeMetadata/v1/project/project-id") return text(o.project);
        if (path === "/computeMetadata/v1/universe/universe-domain") return text("googleapis.com");
        if (attached && path === `${sa}/email`) return text(o.email);
        if (attached && path === `${sa}/scopes`) return text("https://www.googleapis.com/auth/cloud-platform\n");
        if (attached && path === `${sa}/token`) {
            return { status: 200, body: JSON.stringify({ access_token: token, expires_in: 3599, token_type: "Bearer" }), headers: flavor };
        }
        return { status: 404, body: "Not Found\n", headers: { ...flavor, "content-type": "text/html" } };
    });
    return {
        ...standIn,
        token,
        attachServiceAccount: (value) => {
            attached = value;
        },
    };
}

/** Secret Manager holding `secrets` (version name → value), readable with `token` only. */
export async function startSecretManagerStandIn(o: { token: string; secrets: Readonly<Record<string, string>> }): Promise<StandIn> {
    return serve((req) => {
        if (req.headers.authorization !== `Bearer ${o.token}`) {
            return googleError(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED");
        }
        const match = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/:]+):access$/.exec(req.url ?? "");
        if (req.method !== "GET" || !match) return googleError(404, "Not found.", "NOT_FOUND");
        const value = o.secrets[match[1]];
        if (value === undefined) return googleError(404, `Secret Version [${match[1]}] not found.`, "NOT_FOUND");
        const payload = { name: match[1], payload: { data: Buffer.from(value).toString("base64") } };
        return { status: 200, body: `${JSON.stringify(payload, null, 2)}\n` };
    });
}
