import * as http from "node:http";
import * as net from "node:net";

/**
 * A minimal HTTP CONNECT proxy for the interop test. step-ca (gRPC-Go) honours HTTPS_PROXY and sends
 * `CONNECT cloudkms.googleapis.com:443`; the proxy tunnels that one authority to the local KMS emulator's TLS port
 * and refuses everything else (so nothing can leak to the real Google, and an unexpected destination shows up in
 * `refused`). The proxy only moves bytes: TLS is end to end between step-ca and the emulator.
 */
export interface ConnectProxy {
    /** `http://127.0.0.1:<port>`: the value for HTTPS_PROXY. */
    url: string;
    port: number;
    /** Authorities ("host:port") tunnelled so far, in order. */
    tunnelled: string[];
    /** Authorities refused (not in the route table). */
    refused: string[];
    stop(): Promise<void>;
}

export type Routes = Record<string, { host: string; port: number }>;

export async function startConnectProxy(routes: Routes): Promise<ConnectProxy> {
    const tunnelled: string[] = [];
    const refused: string[] = [];
    const sockets = new Set<net.Socket>();
    const track = (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    };

    const server = http.createServer((_req, res) => {
        res.writeHead(405, { "content-type": "text/plain" }).end("only CONNECT is supported\n");
    });
    server.on("connection", track);
    server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
        const authority = (req.url ?? "").toLowerCase();
        const target = routes[authority];
        if (!target) {
            refused.push(authority);
            client.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
            return;
        }
        tunnelled.push(authority);
        const upstream = net.connect(target.port, target.host);
        track(upstream);
        upstream.once("connect", () => {
            client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
            if (head.length) upstream.write(head);
            upstream.pipe(client);
            client.pipe(upstream);
        });
        const fail = () => {
            upstream.destroy();
            client.destroy();
        };
        upstream.on("error", () => {
            if (!client.destroyed && upstream.connecting) {
                client.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
            }
            fail();
        });
        client.on("error", fail);
    });

    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}`,
        port,
        tunnelled,
        refused,
        stop: () =>
            new Promise<void>((resolve) => {
                for (const s of sockets) s.destroy();
                server.close(() => resolve());
            }),
    };
}
