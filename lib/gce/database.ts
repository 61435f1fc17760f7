/**
 * How step-ca replicas reach their shared PostgreSQL database: the DSN ca.json carries (no password in it) and the
 * PGPASSFILE line that holds the password. On a VM the address is the Cloud SQL Auth Proxy on loopback; the HA test
 * renders the same two for its local PostgreSQL server.
 */
import type { PostgresDatabase } from "../step-ca/ca-json";
import { PROXY_ADDRESS } from "./vm-boot";

/** The database user and database step-ca uses. */
export const DATABASE_USER = "step-ca";
export const DATABASE_NAME = "stepca";

/** Where the database answers step-ca. */
export interface DatabaseAddress {
    readonly host: string;
    readonly port: number;
}

/**
 * ca.json `db` for a database at `address`. The proxy speaks TLS to Cloud SQL, so the loopback hop is plaintext
 * (`sslmode=disable`).
 */
export function stepCaDatabase(address: DatabaseAddress = PROXY_ADDRESS): PostgresDatabase {
    return {
        dataSource: `postgresql://${DATABASE_USER}@${address.host}:${address.port}/?sslmode=disable`,
        database: DATABASE_NAME,
    };
}

/** The start of step-ca's PGPASSFILE line (`host:port:database:user:`, any database); the password follows. */
export function pgpassLine(address: DatabaseAddress = PROXY_ADDRESS): string {
    return `${address.host}:${address.port}:*:${DATABASE_USER}:`;
}
