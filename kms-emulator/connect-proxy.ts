import * as http from "node:http";
import * as net from "node:net";

/** Where a CONNECT for an authority ("host:port", lower case) is tunnelled. */
export type Routes = Record<string, { host: string; port: number }>;

/** How to run {@link startConnectProxy}. */
export interface ConnectProxyOptions {
    routes: Routes;
    /** Interface to listen on; default 127.0.0.1. */
    host?: string;
    /** Port; 0 (the default) picks a free one. */
    port?: number;
    /** Told of every CONNECT: the authority asked for and whether it was tunnelled (else refused). */
    onConnect?: (authority: string, tunnelled: boolean) => void;
}

/** A running proxy. */
export interface ConnectProxy {
    /** `http://host:port`: the value for HTTPS_PROXY. */
    readonly url: string;
    readonly port: number;
    /** Closes the listener and every tunnel. */
    stop(): Promise<void>;
}

/**
 * A minimal HTTP CONNECT proxy: how an unmodified Cloud KMS client reaches the emulator. step-ca (gRPC-Go) has no
 * endpoint setting but honours HTTPS_PROXY and sends `CONNECT cloudkms.googleapis.com:443`; the proxy tunnels the
 * authorities in `routes` (the emulator's TLS port) and refuses everything else, so nothing leaks to the real
 * Google. It only moves bytes: TLS is end to end between the client and the emulator.
 */
export async function startConnectProxy(options: ConnectProxyOptions): Promise<ConnectProxy> {
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
        const target = Object.hasOwn(options.routes, authority) ? options.routes[authority] : undefined;
        options.onConnect?.(authority, target !== undefined);
        if (!target) {
            client.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
            return;
        }
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

    const host = options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    return {
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        port,
        stop: () =>
            new Promise<void>((resolve) => {
                for (const s of sockets) s.destroy();
                server.close(() => resolve());
            }),
    };
}
